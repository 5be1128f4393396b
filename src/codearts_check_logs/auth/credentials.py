"""Credentials as `requests` auth hooks: each prepares requests for one origin and no other.

`requests` calls the hook on every prepared request, so the CodeArts client and the credential
exchanges attach credentials the same way, and a request bound for any other origin (a redirect
to a download host, say) goes out bare.
"""

from __future__ import annotations

import requests

from .. import secrets
from .transport import origin

TOKEN_HEADER = "X-Auth-Token"


class Credentials(requests.auth.AuthBase):
    """Prepares requests for the service at `trusted_url`; leaves every other request alone."""

    def __init__(self, trusted_url: str) -> None:
        self._origin = origin(trusted_url)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if request.url is not None and origin(request.url) == self._origin:
            self.prepare(request)
        return request

    def prepare(self, request: requests.PreparedRequest) -> None:
        """Attach the credential (the request is known to be for the trusted origin)."""
        raise NotImplementedError


class TokenCredentials(Credentials):
    """An IAM token, sent as `X-Auth-Token`."""

    def __init__(self, token: str, trusted_url: str) -> None:
        super().__init__(trusted_url)
        secrets.register(token)  # scrubbed from anything a service echoes, even in library use
        self._token = token

    def __repr__(self) -> str:
        return f"TokenCredentials(origin={self._origin!r}, token=<hidden>)"

    def prepare(self, request: requests.PreparedRequest) -> None:
        request.headers[TOKEN_HEADER] = self._token
