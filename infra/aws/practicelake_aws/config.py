"""A deployment of practicelake on AWS, read from the CDK context: what differs between one
operator's deployment and another's, and nothing that is a secret.

Every value comes from the context (`cdk.json`, `cdk synth -c key=value`, or `python app.py
-c key=value`), so the code holds no account id, certificate or image of its own.
A value that cannot be right is refused here, with the key named,
rather than deep inside CloudFormation an hour into a deployment.

The account may be left out (the stack is then account-agnostic: CloudFormation fills it in);
the region is the certificate's unless given, and must be: load balancer access logging is
set up per region, and the dashboard's certificate is of the balancer's region anyway.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any
from zoneinfo import available_timezones

NAME = re.compile(r"[a-z][a-z0-9-]{1,23}")
ACCOUNT = re.compile(r"\d{12}")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
CERTIFICATE = re.compile(r"arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[A-Za-z0-9-]+")
REPOSITORY = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*")
IMAGE_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
PRACTICE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")  # as practicelake's settings define it
SCHEDULE = re.compile(r"rate\((1 (minute|hour|day)|([2-9]|[1-9]\d+) (minutes|hours|days))\)|cron\((\S+ ){5}\S+\)")
"""EventBridge's two forms: rate(1 hour), rate(15 minutes) (singular only for 1), or cron( with six fields)."""
CIDR = re.compile(r"\d{1,3}(\.\d{1,3}){3}/\d{1,2}")
CURRENCY = re.compile(r"[A-Z]{3}")
LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")
LOG_RETENTION_DAYS = (30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
"""The retention periods CloudWatch Logs accepts."""

REQUIRED = ("certificate_arn", "image_repository", "image_tag")
EXPECTED = {
    "name": "2 to 24 lower-case letters, digits or '-', starting with a letter",
    "account": "a 12-digit AWS account id",
    "region": "an AWS region such as eu-west-1",
    "certificate_arn": "an ACM certificate ARN, arn:aws:acm:<region>:<account>:certificate/<id>",
    "image_repository": "an ECR repository name such as practicelake",
    "image_tag": "an image tag: up to 128 letters, digits, '_', '.' or '-'",
    "schedule": "an EventBridge schedule: rate(1 hour), rate(15 minutes) or cron(0 2 * * ? *)",
    "ingress_cidr": "an IPv4 network such as 203.0.113.0/24",
}
"""What a valid value of each checked key looks like, as an error message says it."""


class DeploymentError(ValueError):
    """A context value that cannot make a deployment; the message names the key."""


@dataclass(frozen=True)
class Deployment:
    """One deployment's choices. Defaults are in cdk.json as well, so that `cdk context` shows them."""

    name: str
    """Prefix of every name the stack gives (aliases, log groups, the Athena workgroup)."""
    certificate_arn: str
    """ACM certificate of the dashboard's HTTPS listener (same region as the stack)."""
    image_repository: str
    """ECR repository (in the stack's account and region) holding the practicelake image."""
    image_tag: str
    """Tag of the image to run; an immutable tag (a release or a digest-like label) is best."""
    practices: Mapping[str, Mapping[str, str]]
    """The practices served, as practicelake.toml's [practices] (time_zone, currency, name, locale)."""
    account: str | None = None
    """Unset: the stack is account-agnostic, CloudFormation fills in the account it is deployed to."""
    region: str | None = None
    """Unset: the certificate's region (the load balancer's certificate is of the stack's region)."""
    schedule: str = "rate(1 hour)"
    """When transform and curate run (an EventBridge schedule expression)."""
    ingress_cidr: str = "0.0.0.0/0"
    """Who may reach the dashboard's load balancer."""
    web_tasks: int = 2
    raw_retention_days: int = 365
    """Object Lock retention of every raw object: nothing deletes a received file sooner."""
    audit_retention_days: int = 2192
    """Object Lock retention of the audit bucket (CloudTrail): six years, as HIPAA keeps documentation."""
    lock_mode: str = "GOVERNANCE"
    """GOVERNANCE: an administrator holding s3:BypassGovernanceRetention may still delete; COMPLIANCE: nobody."""
    log_retention_days: int = 365
    athena_bytes_per_query: int = 10 * 1024**3
    """Athena stops a query of the workgroup that would scan more than this."""

    @property
    def public_ingress(self) -> bool:
        return self.ingress_cidr == "0.0.0.0/0"


CONTEXT_KEYS = tuple(f.name for f in fields(Deployment))


def deployment_from(context: Mapping[str, Any]) -> Deployment:
    """The deployment the context describes; DeploymentError naming the first key that is wrong."""
    context = {key: value for key, value in context.items() if value is not None}
    missing = [key for key in REQUIRED if not context.get(key)]
    if missing:
        raise DeploymentError(
            "missing context: " + ", ".join(missing) + " (give each with -c key=value; docs/aws.md lists them)"
        )
    certificate = _matching(context, "certificate_arn", CERTIFICATE)
    certificate_region = CERTIFICATE.fullmatch(certificate)["region"]  # type: ignore[index]
    region = _optional(context, "region", REGION) or certificate_region
    if region != certificate_region:
        raise DeploymentError(
            f"context region {region} differs from the certificate's ({certificate_region}): a load "
            "balancer uses a certificate of its own region"
        )
    values = {
        "name": _matching(context, "name", NAME, "practicelake"),
        "certificate_arn": certificate,
        "image_repository": _matching(context, "image_repository", REPOSITORY),
        "image_tag": _matching(context, "image_tag", IMAGE_TAG),
        "practices": _practices(context.get("practices", {})),
        "account": _optional(context, "account", ACCOUNT),
        "region": region,
        "schedule": _matching(context, "schedule", SCHEDULE, "rate(1 hour)"),
        "ingress_cidr": _network(context),
        "web_tasks": _number(context, "web_tasks", 2, 1, 20),
        "raw_retention_days": _number(context, "raw_retention_days", 365, 1, 36500),
        "audit_retention_days": _number(context, "audit_retention_days", 2192, 1, 36500),
        "lock_mode": _choice(context, "lock_mode", LOCK_MODES, "GOVERNANCE"),
        "log_retention_days": _choice(context, "log_retention_days", LOG_RETENTION_DAYS, 365),
        "athena_bytes_per_query": _number(context, "athena_bytes_per_query", 10 * 1024**3, 10 * 1024**2, 2**50),
    }
    return Deployment(**values)


def _matching(context: Mapping[str, Any], key: str, pattern: re.Pattern[str], default: str | None = None) -> str:
    value = str(context.get(key) or default or "")
    if not pattern.fullmatch(value):
        raise DeploymentError(
            f"context {key}: {value[:80]!r} is not valid (expected {EXPECTED.get(key, pattern.pattern)})"
        )
    return value


def _network(context: Mapping[str, Any]) -> str:
    value = _matching(context, "ingress_cidr", CIDR, "0.0.0.0/0")
    try:
        ipaddress.IPv4Network(value)
    except ValueError as exc:
        raise DeploymentError(f"context ingress_cidr: {value!r} is not an IPv4 network ({exc})") from None
    return value


def _optional(context: Mapping[str, Any], key: str, pattern: re.Pattern[str]) -> str | None:
    return _matching(context, key, pattern) if context.get(key) else None


def _number(context: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    raw = context.get(key, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise DeploymentError(f"context {key}: {str(raw)[:40]!r} is not a whole number") from None
    if not low <= value <= high:
        raise DeploymentError(f"context {key}: {value} is not between {low} and {high}")
    return value


def _choice(context: Mapping[str, Any], key: str, choices: tuple[Any, ...], default: Any) -> Any:
    raw = context.get(key, default)
    value = int(raw) if isinstance(default, int) and str(raw).isdigit() else raw
    if value not in choices:
        raise DeploymentError(f"context {key}: {str(raw)[:40]!r} is not one of {', '.join(map(str, choices))}")
    return value


def _practices(raw: Any) -> dict[str, dict[str, str]]:
    """`-c practices=...` arrives as JSON text; cdk.json gives an object."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw or "{}")
        except ValueError:
            raise DeploymentError("context practices: not JSON (an object of practice id to settings)") from None
    if not isinstance(raw, dict):
        raise DeploymentError("context practices: an object of practice id to {time_zone, currency, ...}")
    practices: dict[str, dict[str, str]] = {}
    for practice_id, settings in raw.items():
        if not PRACTICE_ID.fullmatch(str(practice_id)):
            raise DeploymentError(f"context practices: {str(practice_id)[:70]!r} is not a practice id")
        if not isinstance(settings, dict) or not {"time_zone", "currency"} <= set(settings):
            raise DeploymentError(f"context practices.{practice_id}: needs time_zone and currency")
        practices[str(practice_id)] = {str(k): str(v) for k, v in settings.items()}
        _practice_settings(str(practice_id), practices[str(practice_id)])
    return practices


def _practice_settings(practice_id: str, settings: Mapping[str, str]) -> None:
    """What practicelake itself would refuse at the first start of every task, refused here."""
    zones = available_timezones()  # empty where the system has no time zone database: then unchecked
    if zones and settings["time_zone"] not in zones:
        raise DeploymentError(
            f"context practices.{practice_id}.time_zone: {settings['time_zone'][:40]!r} is not an IANA time zone"
        )
    if not CURRENCY.fullmatch(settings["currency"]):
        raise DeploymentError(
            f"context practices.{practice_id}.currency: {settings['currency'][:40]!r} is not a currency code "
            "(ISO 4217, such as GBP)"
        )
