"""A deployment's context is checked before anything is synthesised: a missing or wrong value
is refused with a DeploymentError that names the setting and says what it should be, and
app.py prints it as one line and exits 1."""

from __future__ import annotations

import json
from typing import Any

import pytest
from practicelake_aws.config import Deployment, DeploymentError, deployment_from

from conftest import CONTEXT, DEFAULTS, INFRA

GOOD = DEFAULTS | CONTEXT


def refused(**changes: Any) -> str:
    context = {key: value for key, value in (GOOD | changes).items() if value is not ...}
    with pytest.raises(DeploymentError) as caught:
        deployment_from(context)
    return str(caught.value)


def test_the_defaults_with_the_operators_values_make_a_deployment() -> None:
    deployment = deployment_from(GOOD)
    assert isinstance(deployment, Deployment)
    assert deployment.region == "eu-west-1"  # the certificate's
    assert deployment.practices == {"acme": {"time_zone": "Europe/London", "currency": "GBP"}}
    assert deployment.account is None  # account-agnostic unless given


def test_every_missing_required_setting_is_named_at_once() -> None:
    message = refused(certificate_arn=..., image_repository="", image_tag=None)
    assert message.startswith("missing context: certificate_arn, image_repository, image_tag")
    assert "-c key=value" in message


@pytest.mark.parametrize(
    ("changes", "named", "says"),
    [
        ({"certificate_arn": "arn:aws:iam::123456789012:server-certificate/x"}, "certificate_arn", "ACM certificate"),
        ({"region": "us-east-1"}, "region", "differs from the certificate's (eu-west-1)"),
        ({"region": "Ireland"}, "region", "such as eu-west-1"),
        ({"account": "12345"}, "account", "12-digit"),
        ({"name": "Practice Lake"}, "name", "lower-case"),
        ({"image_repository": "Practicelake!"}, "image_repository", "ECR repository"),
        ({"image_tag": "latest please"}, "image_tag", "image tag"),
        ({"schedule": "every hour"}, "schedule", "rate(1 hour)"),
        ({"schedule": "rate(1 hours)"}, "schedule", "EventBridge schedule"),
        ({"schedule": "cron(0 2 * *)"}, "schedule", "EventBridge schedule"),
        ({"ingress_cidr": "10.0.0.0"}, "ingress_cidr", "IPv4 network"),
        ({"ingress_cidr": "999.0.0.0/8"}, "ingress_cidr", "is not an IPv4 network"),
        ({"ingress_cidr": "10.0.0.1/8"}, "ingress_cidr", "host bits set"),
        ({"web_tasks": "two"}, "web_tasks", "not a whole number"),
        ({"web_tasks": 0}, "web_tasks", "between 1 and 20"),
        ({"raw_retention_days": 0}, "raw_retention_days", "between 1 and 36500"),
        ({"lock_mode": "governance"}, "lock_mode", "GOVERNANCE, COMPLIANCE"),
        ({"log_retention_days": 100}, "log_retention_days", "one of 30, 60"),
        ({"athena_bytes_per_query": 1024}, "athena_bytes_per_query", "between"),
        ({"practices": "{acme"}, "practices", "not JSON"),
        ({"practices": ["acme"]}, "practices", "an object of practice id"),
        ({"practices": {"../acme": {"time_zone": "UTC", "currency": "GBP"}}}, "practices", "not a practice id"),
        ({"practices": {"acme": {"time_zone": "UTC"}}}, "practices.acme", "needs time_zone and currency"),
        ({"practices": {"acme": {"time_zone": "Europe/Londn", "currency": "GBP"}}}, "practices.acme.time_zone", "IANA"),
        ({"practices": {"acme": {"time_zone": "UTC", "currency": "pounds"}}}, "practices.acme.currency", "ISO 4217"),
    ],
)
def test_a_wrong_value_is_refused_naming_its_setting(changes: dict[str, Any], named: str, says: str) -> None:
    message = refused(**changes)
    assert message.startswith(f"context {named}"), message
    assert says in message, message


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"schedule": "rate(15 minutes)"}, "rate(15 minutes)"),
        ({"schedule": "cron(0 2 * * ? *)"}, "cron(0 2 * * ? *)"),
        ({"ingress_cidr": "203.0.113.0/24"}, "203.0.113.0/24"),
        ({"practices": json.dumps({"acme": {"time_zone": "America/Chicago", "currency": "USD"}})}, "acme"),
    ],
)
def test_what_is_right_is_taken(changes: dict[str, Any], expected: str) -> None:
    deployment = deployment_from(GOOD | changes)
    assert expected in (deployment.schedule, deployment.ingress_cidr, *deployment.practices)


@pytest.mark.slow
@pytest.mark.xdist_group("cdk")
def test_the_app_prints_the_error_and_exits_1(
    synthesized: object, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """cdk.json alone lacks the operator's three values (the stack's synthesis, done first,
    has set up jsii's environment)."""
    import app

    monkeypatch.chdir(INFRA)
    assert app.main(["-c", "web_tasks=0"]) == 1
    error = capsys.readouterr().err
    assert error == "error: missing context: certificate_arn, image_repository, image_tag " + (
        "(give each with -c key=value; docs/aws.md lists them)\n"
    )
    given = [f"{key}={value}" for key, value in CONTEXT.items() if isinstance(value, str)]
    assert app.main([*[x for pair in given for x in ("-c", pair)], "-c", "web_tasks=0"]) == 1
    assert capsys.readouterr().err == "error: context web_tasks: 0 is not between 1 and 20\n"
    with pytest.raises(SystemExit):
        app.main(["-c", "web_tasks"])
    assert "expected KEY=VALUE" in capsys.readouterr().err
