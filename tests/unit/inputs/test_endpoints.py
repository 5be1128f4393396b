"""Service URLs: endpoint inputs, the region's hosts, https only."""

from __future__ import annotations

from pathlib import Path

import pytest

from codearts_check_logs.errors import InvalidInput
from codearts_check_logs.inputs.settings import parse_settings
from tests.samples import raw_inputs as raw


@pytest.mark.parametrize(
    ("region", "endpoint", "url"),
    [
        ("ap-southeast-3", "", "https://codearts-check.ap-southeast-3.myhuaweicloud.com"),
        ("cn-north-4", "https://check.example.com/", "https://check.example.com"),
        (
            "cn-north-4",
            "https://check.example.com:8443/base",
            "https://check.example.com:8443/base",
        ),
        ("cn-north-4", "http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("cn-north-4", "http://127.5.6.7:8080", "http://127.5.6.7:8080"),
        ("cn-north-4", "http://localhost:9000", "http://localhost:9000"),
        ("cn-north-4", "http://[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_endpoints(tmp_path: Path, region: str, endpoint: str, url: str) -> None:
    settings = parse_settings(raw(region=region, endpoint=endpoint), tmp_path)
    assert settings.base_url == url


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://check.example.com",
        "http://10.0.0.1",
        "http://localhost.example.com",
        "http://no-such-host.invalid",
        "http://127.0.0.1:8080/\n::error::x",
        "https://check.example.com/a b",
        "https://check.exa\tmple.com",
        "check.example.com",
        "https://user:pw@check.example.com",
        "https://check.example.com/?x=1",
        "https://check.example.com:99999",
        "file:///etc/passwd",
    ],
)
def test_endpoints_refused(tmp_path: Path, endpoint: str) -> None:
    with pytest.raises(InvalidInput):
        parse_settings(raw(endpoint=endpoint), tmp_path)


@pytest.mark.parametrize("region", ["CN-NORTH-4", "cn-north", "cn north 4", "../x", "cn-north-4/"])
def test_regions_refused(tmp_path: Path, region: str) -> None:
    with pytest.raises(InvalidInput, match="region"):
        parse_settings(raw(region=region), tmp_path)


@pytest.mark.parametrize("name", ["iam-endpoint", "sts-endpoint"])
def test_credential_endpoints_override_the_region_and_must_be_https(
    tmp_path: Path, name: str
) -> None:
    settings = parse_settings(raw(**{name: "http://127.0.0.1:9/"}), tmp_path)
    assert getattr(settings, name.replace("-endpoint", "_url")) == "http://127.0.0.1:9"
    for bad in ("http://iam.example.com", "https://u:p@iam.example.com", "iam.example.com"):
        with pytest.raises(InvalidInput, match=name):
            parse_settings(raw(**{name: bad}), tmp_path)
