"""Fetch Huawei Cloud CodeArts Check log packages and publish them where CI users look."""

__version__ = "1.0.0"
