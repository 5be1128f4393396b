"""Test doubles: local stand-ins for CodeArts Check, Huawei Cloud's credential services and GitHub's services, for tests and the demo."""
