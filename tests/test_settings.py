"""Settings refuse what would weaken the deployment: S3 without TLS outside a loopback test."""

from __future__ import annotations

import pytest

from practicelake.errors import SettingsError
from practicelake.settings import load_settings


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://10.0.0.5:9000",
        "HTTP://10.0.0.5",
        "http://127.0.0.1.evil.example",
        "http://localhost.evil.example",
        "http://127.0.0.1@evil.example/",
        "https://user:pass@s3.example.com",
        "ftp://127.0.0.1",
    ],
)
def test_plain_or_odd_s3_endpoints_are_refused(endpoint: str) -> None:
    with pytest.raises(SettingsError):
        load_settings(s3_endpoint_url=endpoint, s3_allow_http=True)


def test_loopback_http_needs_the_explicit_setting() -> None:
    with pytest.raises(SettingsError, match="s3_allow_http"):
        load_settings(s3_endpoint_url="http://127.0.0.1:9000")
    assert load_settings(s3_endpoint_url="http://127.0.0.1:9000", s3_allow_http=True).s3_allow_http
    assert load_settings(s3_endpoint_url="https://s3.eu-west-1.amazonaws.com").s3_endpoint_url
