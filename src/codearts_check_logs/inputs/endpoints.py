"""Service URLs: an endpoint input, else the region's public host; https only (plain http only
to loopback, `net.transport`). Pure."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from ..errors import InvalidInput
from ..net.transport import check_transport
from .values import CONTROL, DEFAULT_REGION, REGION, shown

CODEARTS_ENDPOINT = "https://codearts-check.{region}.myhuaweicloud.com"
IAM_ENDPOINT = "https://iam.{region}.myhuaweicloud.com"
STS_ENDPOINT = "https://sts.{region}.myhuaweicloud.com"


def parse_service_url(name: str, template: str, region: str | None, endpoint: str) -> str:
    """The `name` input's URL, checked for transport; `InvalidInput` naming the input."""
    if region is None and not endpoint:
        return ""  # the region's own problem is already listed
    try:
        url = service_url(name, template, region or DEFAULT_REGION, endpoint)
        check_transport(url)
    except ValueError as exc:
        text = str(exc)
        raise InvalidInput(text if text.startswith(name) else f"{name}: {text}") from None
    return url


def service_url(name: str, template: str, region: str, endpoint: str) -> str:
    """A service's base URL: the `name` input when given, else `template` for the region."""
    if endpoint:
        if any(ch.isspace() or unicodedata.category(ch) in CONTROL for ch in endpoint):
            # urlsplit silently drops tabs and line breaks; the raw text would still be used.
            raise ValueError(
                f"{name} must be a URL without spaces or control characters, got {shown(endpoint)}"
            )
        parts = urlsplit(endpoint)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"{name} must be a full http(s) URL, got {endpoint!r}")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ValueError(f"{name} must not carry credentials, a query or a fragment")
        try:
            parts.port  # noqa: B018 - raises ValueError for a malformed port
        except ValueError:
            raise ValueError(f"{name} has an invalid port: {endpoint!r}") from None
        return endpoint.rstrip("/")
    if not REGION.fullmatch(region):
        raise ValueError(f"region must look like cn-north-4, got {region!r}")
    return template.format(region=region)
