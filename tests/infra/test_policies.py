"""Least privilege, continued: the keys each role may use, the shape of every grant (no
wildcard action, no S3 or KMS grant on `*`), the resource policies and the roles' trust;
read and widened as in test_least_privilege.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import widening as w
from auditor import (
    KMS_ANY,
    KMS_DECRYPT,
    KMS_ENCRYPT,
    S3_READS,
    S3_WRITES,
    Grant,
    identity_grants,
    names,
    references,
    resolved,
    resource_statements,
)

from conftest import ZONES_OF, Synthesized

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("cdk")]

RULES = w.Rules()
KMS_ADMIN_ONLY = tuple(a for a in KMS_ANY if a not in KMS_DECRYPT + KMS_ENCRYPT)


@RULES(
    ("s3:* for the curate", lambda s: w.extend(s, "curate", "ReadObjects", "s3:*")),
    ("kms:* for the transform", lambda s: w.extend(s, "transform", "RawKey", "kms:*")),
    ("* for the web app", lambda s: w.attach(s, "web", ["*"], w.objects(s, "curated"), "inline")),
    ("s3:Get* for the ingest", lambda s: w.extend(s, "ingest", "ReadObjects", "s3:Get*")),
    ("glue:* for an execution role", lambda s: w.execution_role_gets(s, ["glue:*"], "*")),
)
def no_wildcard_actions(s: Synthesized) -> Iterator[str]:
    """No role may do everything, or everything of a service; and no S3 or KMS action of
    any role is a pattern."""
    for role in s.of_type("AWS::IAM::Role"):
        for g in s.grants(role):
            for action in g.actions:
                service, _, name = action.partition(":")
                if action == "*" or name == "*" or (service.lower() in ("s3", "kms") and "*" in action):
                    yield f"{s.who(role)} may do {action} ({g.source})"


@RULES(
    ("kms:Decrypt on every key", lambda s: w.attach(s, "curate", ["kms:Decrypt"], "*")),
    (
        "GetObject on a literal bucket",
        lambda s: w.attach(s, "web", ["s3:GetObject"], "arn:aws:s3:::practice-exports/*"),
    ),
    ("a KMS key by wildcard ARN", lambda s: w.attach(s, "ingest", ["kms:Decrypt"], "arn:aws:kms:*:*:key/*")),
)
def s3_and_kms_name_their_resources(s: Synthesized) -> Iterator[str]:
    """Every S3 or KMS grant of every role names buckets and keys of this stack: never `*`,
    never a literal ARN that could be any bucket or key."""
    for role in s.of_type("AWS::IAM::Role"):
        for g in s.grants(role):
            if g.allows(*S3_READS, *S3_WRITES, *KMS_ANY) and g.names_nothing():
                yield f"{s.who(role)}: {g.actions} on {g.resources} ({g.source})"


@RULES(
    (
        "transform may decrypt curated's key",
        lambda s: w.attach(s, "transform", ["kms:Decrypt"], w.zone_key(s, "curated")),
    ),
    ("ingest may encrypt with landing's key", lambda s: w.extend(s, "ingest", "LandingKey", "kms:GenerateDataKey")),
    (
        "raw's key outside S3",
        lambda s: w.statement(s, "ingest", "RawKey")["Condition"]["StringEquals"].pop("kms:ViaService"),
    ),
    (
        "curated's key for another bucket",
        lambda s: w.condition(s, "curate", "CuratedKey").update(
            {"kms:EncryptionContext:aws:s3:arn": w.arn(s.buckets["raw"])}
        ),
    ),
    (
        "raw's key policy names the curate role",
        lambda s: w.key_grant(s, "raw", w.role_principal(s, "curate"), ["kms:Decrypt"]),
    ),
    (
        "the logs key for the web app",
        lambda s: w.attach(s, "web", ["kms:Decrypt"], w.arn(s.at("Logs/LogsKey/Resource"))),
    ),
)
def zone_keys_follow_their_buckets(s: Synthesized) -> Iterator[str]:
    """A component may decrypt a zone's key only if it reads that zone, encrypt with it only
    if it writes it, and either only through S3 for that zone's bucket. Other keys: the key
    store's (every component, under its purposes) and the console's session key."""
    zone_keys = {s.bucket_key(b): zone for zone, b in s.buckets.items() if zone != "access-logs"}
    other = {s.at("KeystoreKey/Resource"): set(ZONES_OF), s.at("ConsoleKey/Resource"): {"console"}}
    for component, role in s.components.items():
        reads, writes = ZONES_OF[component]
        for g in s.grants(role):
            if not g.allows(*KMS_ANY):
                continue
            for key in (k for k in s.of_type("AWS::KMS::Key") if g.on(k)):
                if key in zone_keys:
                    zone = zone_keys[key]
                    yield from _zone_key_grant(s, component, zone, g, reads, writes)
                elif component not in other.get(key, set()):
                    yield f"{component} may use {key} ({g.source})"


def _zone_key_grant(
    s: Synthesized, component: str, zone: str, g: Grant, reads: set[str], writes: set[str]
) -> Iterator[str]:
    if zone not in reads | writes or (g.allows(*KMS_ENCRYPT) and zone not in writes):
        yield f"{component} may use {zone}'s key: {g.actions} ({g.source})"
    if g.allows(*KMS_ADMIN_ONLY):
        yield f"{component} may administer {zone}'s key ({g.source})"
    equals = g.condition.get("StringEquals", {})
    if resolved(equals.get("kms:ViaService", "")) != "s3.<AWS::Region>.amazonaws.com":
        yield f"{component} may use {zone}'s key other than through S3 ({g.source})"
    if references(equals.get("kms:EncryptionContext:aws:s3:arn", "")) != {s.buckets[zone]}:
        yield f"{component} may use {zone}'s key for objects of another bucket ({g.source})"


@RULES(
    (
        "the curate may decrypt raw's key",
        lambda s: w.add_resource(s, "curate", "CuratedKey", w.zone_key(s, "raw")),
    ),
    (
        "a state machine may decrypt raw's key",
        lambda s: w.execution_role_gets(s, ["kms:Decrypt"], w.zone_key(s, "raw")),
    ),
)
def only_raw_readers_decrypt_raw(s: Synthesized) -> Iterator[str]:
    raw_key = s.bucket_key(s.buckets["raw"])
    decrypting = {s.who(role) for role in s.of_type("AWS::IAM::Role") if s.may(role, KMS_DECRYPT, raw_key)}
    yield from w.expect("raw's key decrypted by", decrypting, {"ingest", "transform"})


UNWRAPS = {
    "ingest": {"data_key", "file_hash_secret", "audit_key"},  # never the pseudonymisation secret
    "transform": {"data_key", "pseudonym_secret", "file_hash_secret"},
    "curate": {"audit_key"},
    "web": {"audit_key"},  # no practice's keys
    "console": {"audit_key", "init-check"},
}


@RULES(
    (
        "the ingest may unwrap the pseudonymisation secret",
        lambda s: w.add_purpose(s, "ingest", "UnwrapKeys", "pseudonym_secret"),
    ),
    ("the curate's purpose condition dropped", lambda s: w.statement(s, "curate", "UnwrapKeys").pop("Condition")),
)
def key_store_purposes(s: Synthesized) -> Iterator[str]:
    for component, role in s.components.items():
        yield from w.expect(f"{component} unwraps", s.purposes(role, "kms:Decrypt"), UNWRAPS[component])


@RULES(
    (
        "AmazonS3ReadOnlyAccess on the curate",
        lambda s: (
            s.resources[s.components["curate"]]["Properties"]
            .setdefault("ManagedPolicyArns", [])
            .append("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        ),
    ),
)
def no_policy_outside_the_template(s: Synthesized) -> Iterator[str]:
    """Every policy of every role is in the template, where this suite reads it, but one:
    AWS Backup's own service-role policy, on the role only AWS Backup assumes."""
    backup = "arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
    for role, resource in s.of_type("AWS::IAM::Role").items():
        _, opaque = identity_grants(s.resources, role)
        trusted = [x.get("Principal") for x in resource["Properties"]["AssumeRolePolicyDocument"]["Statement"]]
        if opaque and (opaque != [backup] or trusted != [{"Service": "backup.amazonaws.com"}]):
            yield f"{s.who(role)} has policies the template does not hold: {opaque}"


@RULES(
    ("a key policy for everyone", lambda s: w.key_grant(s, "curated", {"AWS": "*"}, ["kms:Decrypt"])),
    (
        "a bucket policy for another account",
        lambda s: w.bucket_grant(s, "cleaned", {"AWS": "arn:aws:iam::210987654321:role/x"}, ["s3:GetObject"]),
    ),
    (
        "a bucket policy naming a component",
        lambda s: w.bucket_grant(s, "ops", w.role_principal(s, "transform"), ["s3:GetObject"]),
    ),
)
def resource_policies_grant_only_services(s: Synthesized) -> Iterator[str]:
    """Bucket, key, queue and file system policies allow only AWS services (log delivery,
    CloudTrail, EventBridge) and the account's own IAM: never everyone, another principal,
    or a component (whose grants belong in its own policy, where the rules above read them)."""
    for holder, statement, _ in resource_statements(s.resources):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal", {})
        if "NotPrincipal" in statement or not isinstance(principal, dict) or set(principal) - {"AWS", "Service"}:
            yield f"{holder} allows {principal or 'NotPrincipal'}"
            continue
        for value in principal.get("AWS", []) if isinstance(principal.get("AWS"), list) else [principal.get("AWS")]:
            if value is None:
                continue
            text = resolved(value)
            own_root = text == "arn:<AWS::Partition>:iam::<AWS::AccountId>:root"
            log_delivery = holder == s.at("Storage/AccessLogs/Policy/Resource") and text.endswith(":root")
            if not (own_root or log_delivery) or any(names(value, r) for r in s.components.values()):
                yield f"{holder} allows {text}"


@RULES(
    (
        "the web role trusts another account",
        lambda s: s.resources[s.components["web"]]["Properties"]["AssumeRolePolicyDocument"]["Statement"].append(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::210987654321:root"}}
        ),
    ),
    (
        "the source-account condition dropped",
        lambda s: s.resources[s.components["ingest"]]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0].pop(
            "Condition"
        ),
    ),
)
def task_roles_trust_only_this_accounts_tasks(s: Synthesized) -> Iterator[str]:
    for component, role in s.components.items():
        trust = s.resources[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        principals = [x.get("Principal") for x in trust]
        accounts = [x.get("Condition", {}).get("StringEquals", {}).get("aws:SourceAccount") for x in trust]
        if principals != [{"Service": "ecs-tasks.amazonaws.com"}] or accounts != [{"Ref": "AWS::AccountId"}]:
            yield f"{component}'s role trusts {principals} under {accounts}"
