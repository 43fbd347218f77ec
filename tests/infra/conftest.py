"""The AWS stack, synthesised once for every infra test, offline, with cdk-nag's AWS
Solutions and HIPAA Security packs; and the template read back the way an attacker reads it:
which bucket, key and role each logical id is, and every Allow that reaches each role
(auditor.py), by zone, key, EFS folder and key-store purpose.

infra/aws is a CDK app, not an installed package, hence the sys.path entry.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from auditor import S3_READS, S3_WRITES, Grant, grants, references

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra" / "aws"
sys.path.insert(0, str(INFRA))

from practicelake_aws.access import COMPONENTS  # noqa: E402 - infra/aws is on the path only now

ZONES = ("landing", "raw", "cleaned", "curated", "ops", "audit", "athena")
"""The buckets encrypted with a KMS key of their own (Storage/<Zone> in the stack)."""

ZONES_OF: dict[str, tuple[set[str], set[str]]] = {
    "ingest": ({"landing", "raw"}, {"raw"}),
    "transform": ({"raw", "cleaned", "ops"}, {"cleaned", "ops"}),
    "curate": ({"cleaned", "curated", "ops"}, {"curated", "ops"}),
    "web": ({"curated"}, set()),
    "console": (set(), set()),
}
"""What each component may read and write, bucket by bucket, as the least-privilege tests
expect it (writing includes reading back: pyiceberg reads the metadata it commits)."""

DEFAULTS: dict[str, Any] = json.loads((INFRA / "cdk.json").read_text())["context"]
"""cdk.json's context: the defaults of every deployment."""

CONTEXT = {
    "certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
    "image_repository": "practicelake",
    "image_tag": "1.0.0",
    "practices": {"acme": {"time_zone": "Europe/London", "currency": "GBP"}},
}
"""What an operator must add to cdk.json's defaults: the certificate, the image, the practices."""


@dataclass(frozen=True)
class Synthesized:
    outdir: Path
    template: dict[str, Any]
    metadata: dict[str, list[dict[str, Any]]]
    """Practicelake.metadata.json: construct path -> its metadata entries (acknowledgments among them)."""
    stack_name: str

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    @property
    def template_file(self) -> Path:
        return self.outdir / f"{self.stack_name}.template.json"

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources.items() if r["Type"] == kind}

    def at(self, path: str) -> str:
        """The logical id of the resource CDK made at construct path `path` (below the stack),
        from the cloud assembly's metadata (the template carries no paths)."""
        entries = self.metadata.get(f"/{self.stack_name}/{path}", [])
        found = [entry["data"] for entry in entries if entry["type"] == "aws:cdk:logicalId"]
        assert len(found) == 1, f"no single resource at {path}: {found}"
        assert found[0] in self.resources, f"{path}: {found[0]} is not in the template"
        return str(found[0])

    def bucket(self, zone: str) -> str:
        return self.at(f"Storage/{zone.capitalize()}/Resource")

    @property
    def buckets(self) -> dict[str, str]:
        """Every bucket of the stack by zone: the five zones, audit, athena and access-logs."""
        found = {zone: self.bucket(zone) for zone in ZONES}
        found["access-logs"] = self.at("Storage/AccessLogs/Resource")
        return found

    def props(self, logical_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.resources[logical_id].setdefault("Properties", {})
        return found

    def bucket_props(self, zone: str) -> dict[str, Any]:
        return self.props(self.buckets[zone])

    def bucket_policy(self, zone: str) -> list[dict[str, Any]]:
        """The statements of the zone bucket's policy."""
        for policy in self.of_type("AWS::S3::BucketPolicy").values():
            if references(policy["Properties"]["Bucket"]) == {self.buckets[zone]}:
                found: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
                return found
        return []

    def bucket_key(self, bucket: str) -> str:
        """The logical id of the KMS key that encrypts `bucket` by default."""
        rule = self.resources[bucket]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        (key,) = references(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"])
        return key

    def task_role(self, component: str) -> str:
        """The role the component's task runs as: read from its task definition, not from a name."""
        definitions = [
            d
            for d in self.of_type("AWS::ECS::TaskDefinition").values()
            if d["Properties"]["Family"].endswith(f"-{component}")
        ]
        assert len(definitions) == 1, component
        (role,) = references(definitions[0]["Properties"]["TaskRoleArn"])
        return role

    @property
    def components(self) -> dict[str, str]:
        """Each component's task role, by component."""
        return {component: self.task_role(component) for component in COMPONENTS}

    def who(self, role: str) -> str:
        """A role as a finding names it: its component, or its logical id."""
        return next((c for c, r in self.components.items() if r == role), role)

    def grants(self, role: str) -> list[Grant]:
        """Every Allow that reaches `role` (auditor.grants)."""
        return grants(self.resources, role)

    def may(self, role: str, actions: tuple[str, ...], logical_id: str) -> list[Grant]:
        """The grants that let `role` do any of `actions` to (something in) `logical_id`."""
        return [g for g in self.grants(role) if g.allows(*actions) and g.on(logical_id)]

    def zones_read(self, role: str) -> set[str]:
        return {zone for zone, bucket in self.buckets.items() if self.may(role, S3_READS, bucket)}

    def zones_written(self, role: str) -> set[str]:
        return {zone for zone, bucket in self.buckets.items() if self.may(role, S3_WRITES, bucket)}

    @property
    def access_points(self) -> dict[str, str]:
        """The EFS access points' logical ids, by the folder each is rooted at."""
        return {
            r["Properties"]["RootDirectory"]["Path"].strip("/"): name
            for name, r in self.of_type("AWS::EFS::AccessPoint").items()
        }

    def purposes(self, role: str, action: str) -> set[str]:
        """The key-store purposes `role` may use `action` for; `*` for a grant without one."""
        found: set[str] = set()
        for g in self.may(role, (action,), self.at("KeystoreKey/Resource")):
            purpose = g.condition.get("StringEquals", {}).get("kms:EncryptionContext:practicelake:purpose")
            found |= set(purpose if isinstance(purpose, list) else [purpose]) if purpose else {"*"}
        return found

    def mounts(self, role: str, action: str) -> set[str]:
        """The EFS folders `role` may mount (ClientMount) or write (ClientWrite); `*` if it may
        do so through any access point (a grant that names none)."""
        found = set()
        points = self.access_points
        for g in self.grants(role):
            if not g.allows(action):
                continue
            named = references(g.condition.get("StringEquals", {}).get("elasticfilesystem:AccessPointArn", ""))
            folders = {folder for folder, point in points.items() if point in named}
            found |= folders or {"*"}
        return found


def widened(synthesized: Synthesized) -> Synthesized:
    """A copy of the synthesis whose template a test may change (to show that a check fails)."""
    return replace(synthesized, template=copy.deepcopy(synthesized.template))


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
        from practicelake_aws.assembly import build_app

        outdir = tmp_path_factory.mktemp("cdk") / "cdk.out"
        app, stack = build_app(DEFAULTS | CONTEXT, outdir=str(outdir))
        app.synth()  # raises ValidationFailed on any unacknowledged cdk-nag finding
        name = stack.artifact_id
        yield Synthesized(
            outdir=outdir,
            template=json.loads((outdir / f"{name}.template.json").read_text()),
            metadata=json.loads((outdir / f"{name}.metadata.json").read_text()),
            stack_name=name,
        )
