"""Development-only helpers (tests and `make demo`): local stand-ins for GitHub's services.

Not part of the wheel; nothing here is used by the action at run time.
"""
