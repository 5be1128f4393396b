"""GitHub Actions runner channels: file commands (outputs, summary) and workflow commands."""
