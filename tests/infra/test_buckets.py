"""The buckets' own settings, read from the synthesised template: a KMS key of its own for
each zone, rotated; every bucket TLS-only, versioned, logged to the access-logs bucket and
closed to the public; Object Lock on raw and audit. As in test_least_privilege.py, each rule
must also report the widenings listed with it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import widening as w
from auditor import grant, references

from conftest import DEFAULTS, Synthesized

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("cdk")]

RULES = w.Rules()
KMS_ZONES = ("landing", "raw", "cleaned", "curated", "ops", "audit", "athena")


@RULES(
    (
        "cleaned encrypted with raw's key",
        lambda s: s.bucket_props("cleaned")["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ].update(KMSMasterKeyID=w.zone_key(s, "raw")),
    ),
    (
        "curated's key not rotated",
        lambda s: s.props(s.bucket_key(s.buckets["curated"])).update(EnableKeyRotation=False),
    ),
    (
        "landing with S3-managed keys",
        lambda s: s.bucket_props("landing")["BucketEncryption"]["ServerSideEncryptionConfiguration"][0].update(
            ServerSideEncryptionByDefault={"SSEAlgorithm": "AES256"}
        ),
    ),
)
def each_zone_has_a_rotated_key_of_its_own(s: Synthesized) -> Iterator[str]:
    keys: dict[str, str] = {}
    for zone in KMS_ZONES:
        (rule,) = s.bucket_props(zone)["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        default = rule["ServerSideEncryptionByDefault"]
        named = references(default.get("KMSMasterKeyID", ""))
        if (
            default["SSEAlgorithm"] != "aws:kms"
            or len(named) != 1
            or s.resources[min(named)]["Type"] != "AWS::KMS::Key"
        ):
            yield f"{zone} is not encrypted with a KMS key of the stack: {default}"
            continue
        keys[zone] = min(named)
        if s.props(keys[zone]).get("EnableKeyRotation") is not True:
            yield f"{zone}'s key is not rotated"
    shared = {key for key in keys.values() if list(keys.values()).count(key) > 1}
    if shared:
        yield f"zones share keys: {sorted(z for z, k in keys.items() if k in shared)}"


@RULES(
    ("curated's TLS deny removed", lambda s: s.bucket_policy("curated").pop(0)),
    (
        "raw's deny on TLS requests instead",
        lambda s: s.bucket_policy("raw")[0]["Condition"]["Bool"].update({"aws:SecureTransport": "true"}),
    ),
    (
        "ops' deny on the bucket, not its objects",
        lambda s: s.bucket_policy("ops")[0].update(Resource=w.arn(s.buckets["ops"])),
    ),
)
def buckets_refuse_plain_http(s: Synthesized) -> Iterator[str]:
    for zone, bucket in s.buckets.items():
        refusing = [
            grant(bucket, x)
            for x in s.bucket_policy(zone)
            if x["Effect"] == "Deny"
            and x.get("Principal") in ("*", {"AWS": "*"})
            and x.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        whole = {f"<{bucket}.Arn>", f"<{bucket}.Arn>/*"}
        if not any(
            g.allows("s3:GetObject", "s3:PutObject", "s3:ListBucket") and whole <= set(g.resources) for g in refusing
        ):
            yield f"{zone} does not refuse every request made without TLS"


@RULES(
    (
        "raw's versioning suspended",
        lambda s: s.bucket_props("raw").update(VersioningConfiguration={"Status": "Suspended"}),
    ),
    ("ops unversioned", lambda s: s.bucket_props("ops").pop("VersioningConfiguration")),
)
def buckets_keep_every_version(s: Synthesized) -> Iterator[str]:
    for zone in s.buckets:
        if s.bucket_props(zone).get("VersioningConfiguration") != {"Status": "Enabled"}:
            yield f"{zone} is not versioned"


@RULES(
    (
        "audit without Object Lock",
        lambda s: [s.bucket_props("audit").pop(k) for k in ("ObjectLockEnabled", "ObjectLockConfiguration")],
    ),
    (
        "raw's retention cut to a day",
        lambda s: s.bucket_props("raw")["ObjectLockConfiguration"]["Rule"]["DefaultRetention"].update(Days=1),
    ),
)
def raw_and_audit_are_locked(s: Synthesized) -> Iterator[str]:
    for zone, days in (("raw", DEFAULTS["raw_retention_days"]), ("audit", DEFAULTS["audit_retention_days"])):
        found = s.bucket_props(zone)
        retention = {"Days": days, "Mode": DEFAULTS["lock_mode"]}
        if found.get("ObjectLockEnabled") is not True or found.get("ObjectLockConfiguration") != {
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": retention},
        }:
            yield f"{zone} is not locked for {retention}: {found.get('ObjectLockConfiguration')}"


@RULES(
    ("cleaned not logged", lambda s: s.bucket_props("cleaned").pop("LoggingConfiguration")),
    (
        "raw logged into itself",
        lambda s: s.bucket_props("raw")["LoggingConfiguration"].update(DestinationBucketName={"Ref": s.buckets["raw"]}),
    ),
    ("raw's log delivery not allowed", lambda s: _drop_delivery(s, "raw")),
)
def buckets_log_every_request(s: Synthesized) -> Iterator[str]:
    logs = s.buckets["access-logs"]
    delivered = {
        ref
        for x in s.bucket_policy("access-logs")
        if x["Effect"] == "Allow" and x.get("Principal") == {"Service": "logging.s3.amazonaws.com"}
        for ref in references(x.get("Condition", {}).get("ArnLike", {}).get("aws:SourceArn", ""))
    }
    for zone, bucket in s.buckets.items():
        if zone == "access-logs":
            continue
        logging = s.bucket_props(zone).get("LoggingConfiguration", {})
        if references(logging.get("DestinationBucketName", "")) != {logs} or bucket not in delivered:
            yield f"{zone} does not log its requests to the access-logs bucket"


def _drop_delivery(s: Synthesized, zone: str) -> None:
    statements = s.bucket_policy("access-logs")
    statements[:] = [x for x in statements if s.buckets[zone] not in json.dumps(x.get("Condition", {}))]


@RULES(
    (
        "curated may be made public",
        lambda s: s.bucket_props("curated")["PublicAccessBlockConfiguration"].update(RestrictPublicBuckets=False),
    ),
    ("athena without a block", lambda s: s.bucket_props("athena").pop("PublicAccessBlockConfiguration")),
)
def buckets_block_public_access(s: Synthesized) -> Iterator[str]:
    blocked = dict.fromkeys(("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True)
    for zone in s.buckets:
        if s.bucket_props(zone).get("PublicAccessBlockConfiguration") != blocked:
            yield f"{zone} does not block all public access"
