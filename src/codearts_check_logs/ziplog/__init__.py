"""The log package: verify the ZIP, list it, and triage the logs inside."""
