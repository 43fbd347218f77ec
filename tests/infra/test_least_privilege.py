"""Least privilege, asserted on the synthesised template itself: what each component's task
role may do to each bucket and EFS folder, counting every Allow that reaches it (its inline
and managed policies, and every bucket, key, queue and file system policy that names it or
everyone; auditor.py). Each rule is also run against the widenings listed with it, copies of
the template with a deliberately wider grant, and must report every one of them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import widening as w
from auditor import GLUE_WRITES, KMS_ENCRYPT

from conftest import ZONES_OF, Synthesized

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("cdk")]

RULES = w.Rules()


@RULES(
    ("GetObject on raw, by a policy of its own", lambda s: w.attach(s, "web", ["s3:GetObject"], w.objects(s, "raw"))),
    (
        "cleaned's bucket policy names the web role",
        lambda s: w.bucket_grant(s, "cleaned", w.role_principal(s, "web"), ["s3:GetObject"]),
    ),
    (
        "a listing of cleaned, inline in the role",
        lambda s: w.attach(s, "web", ["s3:List*"], w.arn(s.buckets["cleaned"]), "inline"),
    ),
    ("raw's bucket policy opened to everyone", lambda s: w.bucket_grant(s, "raw", "*", ["s3:GetObject"])),
    (
        "NotAction in a managed policy",
        lambda s: w.attach_statement(s, "web", {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, "managed"),
    ),
)
def web_reads_curated_only(s: Synthesized) -> Iterator[str]:
    yield from w.expect("web reads", s.zones_read(s.components["web"]), ZONES_OF["web"][0])


@RULES(
    ("PutObject added to its read statement", lambda s: w.extend(s, "web", "ReadObjects", "s3:PutObject")),
    ("Delete* on curated, inline", lambda s: w.attach(s, "web", ["s3:Delete*"], w.objects(s, "curated"), "inline")),
    (
        "curated's policy lets it write",
        lambda s: w.bucket_grant(s, "curated", w.role_principal(s, "web"), ["s3:PutObject"]),
    ),
    ("s3:* on the access logs", lambda s: w.attach(s, "web", ["s3:*"], w.objects(s, "access-logs"))),
    ("UpdateTable in the catalog", lambda s: w.extend(s, "web", "ReadTables", "glue:UpdateTable")),
    ("GenerateDataKey on curated's key", lambda s: w.extend(s, "web", "CuratedKey", "kms:GenerateDataKey")),
)
def web_never_writes(s: Synthesized) -> Iterator[str]:
    role = s.components["web"]
    yield from w.expect("web writes", s.zones_written(role), set())
    for g in s.grants(role):
        if g.allows(*GLUE_WRITES):
            yield f"web may change the catalog ({g.source})"
        if g.allows(*KMS_ENCRYPT) and any(g.on(s.bucket_key(b)) for z, b in s.buckets.items() if z != "access-logs"):
            yield f"web may encrypt with a zone key ({g.source})"


@RULES(
    ("a mount through any access point", lambda s: w.statement(s, "web", "MountAudit").pop("Condition")),
    ("a practice's data key unwrapped", lambda s: w.add_purpose(s, "web", "UnwrapKeys", "data_key")),
    ("a key-store grant without its purpose", lambda s: w.statement(s, "web", "WrapKeys").pop("Condition")),
)
def web_keeps_to_its_stores(s: Synthesized) -> Iterator[str]:
    """The web app signs people in (users), records every read (audit, and the audit key in
    the key store, which it may create), and keeps its own sign-in state (web)."""
    role = s.components["web"]
    stores = {"users", "audit", "keys", "web"}
    yield from w.expect("web mounts", s.mounts(role, "elasticfilesystem:ClientMount"), stores)
    yield from w.expect("web writes on EFS", s.mounts(role, "elasticfilesystem:ClientWrite"), stores)
    yield from w.expect("web unwraps", s.purposes(role, "kms:Decrypt"), {"audit_key"})
    yield from w.expect("web wraps", s.purposes(role, "kms:Encrypt"), {"audit_key"})


@RULES(
    (
        "GetObject on cleaned, by Fn::Sub",
        lambda s: w.attach(s, "ingest", ["s3:GetObject"], w.objects_by_sub(s, "cleaned")),
    ),
    ("PutObject on curated", lambda s: w.add_resource(s, "ingest", "WriteObjects", w.objects(s, "curated"))),
    (
        "curated listed, by the bucket's name",
        lambda s: w.attach(s, "ingest", ["s3:ListBucket"], w.objects_by_name(s, "curated")),
    ),
    ("every bucket, by a literal ARN", lambda s: w.attach(s, "ingest", ["s3:GetObject"], "arn:aws:s3:::*/*")),
)
def ingest_writes_raw_only(s: Synthesized) -> Iterator[str]:
    role = s.components["ingest"]
    yield from w.expect("ingest reads", s.zones_read(role), ZONES_OF["ingest"][0])
    yield from w.expect("ingest writes", s.zones_written(role), ZONES_OF["ingest"][1])


@RULES(
    (
        "PutObject on curated, by the bucket's name",
        lambda s: w.add_resource(s, "transform", "WriteObjects", w.objects_by_name(s, "curated")),
    ),
    ("DeleteObject on raw", lambda s: w.attach(s, "transform", ["s3:DeleteObject"], w.objects(s, "raw", "raw/"))),
    (
        "curated's bucket policy lets it write",
        lambda s: w.bucket_grant(s, "curated", w.role_principal(s, "transform"), ["s3:PutObject"]),
    ),
)
def transform_reads_raw_writes_cleaned(s: Synthesized) -> Iterator[str]:
    role = s.components["transform"]
    yield from w.expect("transform reads", s.zones_read(role), ZONES_OF["transform"][0])
    yield from w.expect("transform writes", s.zones_written(role), ZONES_OF["transform"][1])


@RULES(
    ("GetObject on raw", lambda s: w.add_resource(s, "curate", "ReadObjects", w.objects(s, "raw", "raw/"))),
    ("raw/ by a wildcard ARN", lambda s: w.attach(s, "curate", ["s3:GetObject"], "arn:aws:s3:::*")),
    (
        "PutObject on cleaned, inline",
        lambda s: w.attach(s, "curate", ["s3:PutObject"], w.objects(s, "cleaned"), "inline"),
    ),
)
def curate_reads_cleaned_writes_curated(s: Synthesized) -> Iterator[str]:
    role = s.components["curate"]
    yield from w.expect("curate reads", s.zones_read(role), ZONES_OF["curate"][0])
    yield from w.expect("curate writes", s.zones_written(role), ZONES_OF["curate"][1])


@RULES(
    ("the console may read curated", lambda s: w.attach(s, "console", ["s3:GetObject"], w.objects(s, "curated"))),
    ("an execution role may write raw", lambda s: w.execution_role_gets(s, ["s3:PutObject"], w.objects(s, "raw"))),
)
def each_zone_has_its_writers_only(s: Synthesized) -> Iterator[str]:
    """Across every role of the stack, not only the components': who may write each bucket."""
    writers: dict[str, set[str]] = {zone: set() for zone in s.buckets}
    readers: dict[str, set[str]] = {zone: set() for zone in s.buckets}
    for role in s.of_type("AWS::IAM::Role"):
        for zone in s.zones_written(role):
            writers[zone].add(s.who(role))
        for zone in s.zones_read(role):
            readers[zone].add(s.who(role))
    for zone in s.buckets:
        yield from w.expect(f"{zone} written by", writers[zone], {c for c, (_, wr) in ZONES_OF.items() if zone in wr})
        yield from w.expect(f"{zone} read by", readers[zone], {c for c, (rd, _) in ZONES_OF.items() if zone in rd})


@RULES(
    (
        "the transform may write the key store",
        lambda s: w.extend(s, "transform", "MountKeys", "elasticfilesystem:ClientWrite"),
    ),
    ("the file system lets everyone write", lambda s: w.file_system_allows(s, "*", ["elasticfilesystem:ClientWrite"])),
)
def pipeline_reads_the_key_store_only(s: Synthesized) -> Iterator[str]:
    """Transform and curate read the key store and keep no other state on EFS."""
    for component in ("transform", "curate"):
        role = s.components[component]
        yield from w.expect(f"{component} mounts", s.mounts(role, "elasticfilesystem:ClientMount"), {"keys"})
        yield from w.expect(f"{component} writes on EFS", s.mounts(role, "elasticfilesystem:ClientWrite"), set())
