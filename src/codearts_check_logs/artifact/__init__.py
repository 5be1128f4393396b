"""Workflow artifacts: the runner environment, the results service, blob storage, the upload."""
