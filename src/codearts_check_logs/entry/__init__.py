"""The two ways in: the container action inside GitHub Actions, and the command line."""
