"""The AWS stack, synthesised once for every infra test, offline, with cdk-nag's AWS
Solutions and HIPAA Security packs; and the template read back the way an attacker reads it:
which bucket, key and role each logical id is, and what each role's policies allow.

infra/aws is a CDK app, not an installed package, hence the sys.path entry.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra" / "aws"
sys.path.insert(0, str(INFRA))

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
        """The logical id of the resource CDK made at construct path `path` (below the stack)."""
        wanted = f"{self.stack_name}/{path}"
        found = [n for n, r in self.resources.items() if r.get("Metadata", {}).get("aws:cdk:path") == wanted]
        assert len(found) == 1, f"no single resource at {wanted}: {found}"
        return found[0]

    def bucket(self, zone: str) -> str:
        return self.at(f"Storage/{zone.capitalize()}/Resource")

    def bucket_key(self, bucket: str) -> str:
        """The logical id of the KMS key that encrypts `bucket` by default."""
        rule = self.resources[bucket]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        return referenced(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]).pop()

    def task_role(self, component: str) -> str:
        """The role the component's task runs as: read from its task definition, not from a name."""
        definitions = [
            d
            for d in self.of_type("AWS::ECS::TaskDefinition").values()
            if d["Properties"]["Family"].endswith(f"-{component}")
        ]
        assert len(definitions) == 1, component
        return referenced(definitions[0]["Properties"]["TaskRoleArn"]).pop()

    def allowed(self, role: str) -> list[dict[str, Any]]:
        """Every Allow statement that applies to `role`: its inline policies, the managed and
        inline policies attached to it."""
        found: list[dict[str, Any]] = []
        properties = self.resources[role]["Properties"]
        assert not properties.get("ManagedPolicyArns"), f"{role} has managed policies by ARN"
        for policy in properties.get("Policies", []):
            found += policy["PolicyDocument"]["Statement"]
        for resource in self.resources.values():
            if resource["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
                attached = {ref for entry in resource["Properties"].get("Roles", []) for ref in referenced(entry)}
                if role in attached:
                    found += resource["Properties"]["PolicyDocument"]["Statement"]
        for statement in found:
            assert "NotAction" not in statement and "NotResource" not in statement, statement
        return [s for s in found if s["Effect"] == "Allow"]


def referenced(value: Any) -> set[str]:
    """The logical ids a CloudFormation value refers to (Ref, Fn::GetAtt, nested in Fn::Join...)."""
    if isinstance(value, dict):
        if "Ref" in value:
            return {value["Ref"]}
        if "Fn::GetAtt" in value:
            return {value["Fn::GetAtt"][0]}
        return set().union(*(referenced(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(referenced(v) for v in value)) if value else set()
    return set()


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allows(statement: dict[str, Any], action: str) -> bool:
    """Whether the statement's actions (wildcards included, IAM matches case-insensitively) cover `action`."""
    return any(fnmatchcase(action.lower(), str(pattern).lower()) for pattern in listed(statement["Action"]))


def touches(statement: dict[str, Any], logical_id: str) -> bool:
    """Whether the statement's resources include `logical_id`'s ARN, or every resource."""
    resources = listed(statement["Resource"])
    return "*" in resources or any(logical_id in referenced(r) for r in resources)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
        from practicelake_aws.assembly import build_app

        defaults = json.loads((INFRA / "cdk.json").read_text())["context"]
        outdir = tmp_path_factory.mktemp("cdk") / "cdk.out"
        app, stack = build_app(defaults | CONTEXT, outdir=str(outdir))
        app.synth()  # raises ValidationFailed on any unacknowledged cdk-nag finding
        name = stack.artifact_id
        yield Synthesized(
            outdir=outdir,
            template=json.loads((outdir / f"{name}.template.json").read_text()),
            metadata=json.loads((outdir / f"{name}.metadata.json").read_text()),
            stack_name=name,
        )
