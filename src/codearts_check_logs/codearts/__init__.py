"""The CodeArts Check log-file API: the request, its answers, and the download to disk."""
