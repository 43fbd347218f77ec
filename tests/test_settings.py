"""Settings refuse what would weaken the deployment (S3 without TLS outside a loopback test) or
fail later (a time zone the transform cannot convert), and say why in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from practicelake.errors import SettingsError
from practicelake.settings import load_settings, time_zones


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


ZONES_REFUSED = ["Mars/Base", "Factory", "posixrules", "localtime", "europe/london", "utc", "Etc/Unknown", "right/UTC"]


@pytest.mark.parametrize("zone", ZONES_REFUSED)
def test_a_zone_the_transform_cannot_convert_is_refused_in_one_line(zone: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(practices={"P001": {"time_zone": zone, "currency": "ZAR"}})
    assert str(refused.value) == (
        f"invalid settings: practices.P001.time_zone: unknown time zone {zone!r} (an IANA name such as 'Europe/London')"
    )


def test_every_zone_accepted_converts_in_duckdb_and_pyarrow() -> None:
    import duckdb

    accepted = time_zones()
    assert {"Africa/Johannesburg", "America/New_York", "UTC"} <= accepted
    with duckdb.connect() as connection:
        known = {row[0] for row in connection.execute("select name from pg_timezone_names()").fetchall()}
        assert accepted <= known, sorted(accepted - known)
        for zone in sorted(accepted)[::50]:
            converted = connection.execute("select timezone(?, timestamp '2024-03-10 02:30')::varchar", [zone])
            assert converted.fetchone() is not None
    for zone in accepted:
        assert load_settings(practices={"P001": {"time_zone": zone, "currency": "ZAR"}}).practices["P001"]


def test_several_problems_are_one_line_and_never_echo_a_secret() -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(
            s3_secret_access_key="hunter2-not-shown",
            s3_region=["hunter2-not-shown"],
            practices={"P001": {"time_zone": "Mars/Base", "currency": "rand"}},
        )
    message = str(refused.value)
    assert message == (
        "invalid settings: practices.P001.time_zone: unknown time zone 'Mars/Base' (an IANA name such as "
        "'Europe/London'); practices.P001.currency: String should match pattern '^[A-Z]{3}$'; "
        "s3_region: Input should be a valid string"
    )


def test_a_settings_file_that_is_not_toml_is_named(tmp_path: Path) -> None:
    config = tmp_path / "practicelake.toml"
    config.write_text('s3_secret_access_key = "hunter2\n', encoding="utf-8")
    with pytest.raises(SettingsError) as refused:
        load_settings(config)
    message = str(refused.value)
    assert message.startswith(f"invalid settings: {config}: ") and "line 1" in message
    assert "hunter2" not in message and "\n" not in message
