"""The template read the way an attacker or an auditor reads it: every Allow that reaches a
role, from its own policies (inline, customer-managed, attached to it) and from every
resource policy of the stack (bucket, key, queue, file system) that names it or everyone;
each resource resolved through Ref, Fn::GetAtt, Fn::Join and Fn::Sub to the logical ids it
refers to.

The reading is generous, never charitable: a condition does not narrow a grant, NotAction
and NotResource grant everything, an intrinsic it cannot read is `*`, and a resource that
names no resource of the stack but has a wildcard may be any of them. A template that passes
this reading passes the real one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

REFERENCE = re.compile(r"<([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?>")
"""`<LogicalId>` (a Ref) or `<LogicalId.Attribute>` (a GetAtt) in resolved text; pseudo
parameters (`<AWS::Region>`) are not logical ids."""
SUBSTITUTION = re.compile(r"\$\{([^}!][^}]*)\}")

S3_READS = (
    "s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTorrent", "s3:GetObjectVersionTorrent",
    "s3:GetObjectAttributes", "s3:GetObjectVersionAttributes", "s3:ListBucket", "s3:ListBucketVersions",
)  # fmt: skip
"""Reading a bucket: its objects, and the names of its objects (a listing shows tables, files, practices)."""
S3_WRITES = (
    "s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectVersionAcl", "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging", "s3:PutObjectRetention", "s3:PutObjectLegalHold", "s3:DeleteObject",
    "s3:DeleteObjectVersion", "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging",
    "s3:AbortMultipartUpload", "s3:RestoreObject", "s3:ReplicateObject", "s3:ReplicateDelete",
    "s3:ReplicateTags", "s3:BypassGovernanceRetention", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl", "s3:PutBucketVersioning", "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration", "s3:PutBucketObjectLockConfiguration", "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketLogging", "s3:PutBucketNotification", "s3:PutReplicationConfiguration",
    "s3:PutBucketOwnershipControls", "s3:PutBucketCORS", "s3:PutBucketTagging", "s3:DeleteBucket",
)  # fmt: skip
"""Changing a bucket: its objects, their versions, locks and tags, or the bucket's own settings."""
KMS_DECRYPT = ("kms:Decrypt", "kms:ReEncryptFrom")
KMS_ENCRYPT = (
    "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext", "kms:ReEncryptTo",
)  # fmt: skip
KMS_ADMIN = (
    "kms:CreateGrant", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey",
    "kms:DisableKeyRotation", "kms:UpdateKeyDescription", "kms:DescribeKey",
)  # fmt: skip
KMS_ANY = KMS_DECRYPT + KMS_ENCRYPT + KMS_ADMIN
GLUE_WRITES = (
    "glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable", "glue:BatchDeleteTable", "glue:DeleteTableVersion",
    "glue:CreateDatabase", "glue:UpdateDatabase", "glue:DeleteDatabase", "glue:CreatePartition",
    "glue:BatchCreatePartition", "glue:UpdatePartition", "glue:DeletePartition", "glue:BatchDeletePartition",
)  # fmt: skip
EFS_MOUNT, EFS_WRITE = "elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"

RESOURCE_POLICIES = {
    # type: (property holding the policy, whether "*" in its Resource means the resource itself)
    "AWS::S3::BucketPolicy": ("PolicyDocument", False),
    "AWS::SQS::QueuePolicy": ("PolicyDocument", False),
    "AWS::KMS::Key": ("KeyPolicy", True),
    "AWS::EFS::FileSystem": ("FileSystemPolicy", True),
}
IDENTITY_POLICIES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def resolved(value: Any) -> str:
    """A CloudFormation value as text: `<Id>` for a Ref, `<Id.Attribute>` for a GetAtt,
    `<AWS::Region>` for a pseudo parameter; `*` for an intrinsic it does not read (Fn::If,
    Fn::Select, Fn::ImportValue...): that could be anything."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            return f"<{argument}>"
        if function == "Fn::GetAtt":
            logical_id, attribute = argument if isinstance(argument, list) else str(argument).split(".", 1)
            return f"<{logical_id}.{attribute}>"
        if function == "Fn::Join":
            delimiter, items = argument
            return str(delimiter).join(resolved(item) for item in items)
        if function == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            return SUBSTITUTION.sub(
                lambda m: resolved(variables[m[1]]) if m[1] in variables else f"<{m[1]}>", str(text)
            )
    return "*"


def references(value: Any) -> set[str]:
    """The logical ids a value refers to, however deep in Fn::Join or Fn::Sub."""
    return set(REFERENCE.findall(resolved(value)))


def may_be(resource: str, logical_id: str) -> bool:
    """Whether a resolved resource may be (or be inside) `logical_id`: it names it, or it names
    nothing of the stack and has a wildcard (`*`, `arn:aws:s3:::*`, `arn:aws:kms:*:*:key/*`)."""
    named = REFERENCE.findall(resource)
    if named:
        return logical_id in named
    return "*" in resource or "?" in resource


@dataclass(frozen=True)
class Grant:
    """One Allow statement as it reaches a principal."""

    source: str
    """The logical id of what holds the statement: a policy, a role, a bucket policy, a key."""
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    """Resolved (see `resolved`)."""
    condition: Mapping[str, Any] = field(default_factory=dict)

    def allows(self, *actions: str) -> bool:
        """Whether it allows any of `actions` (IAM matches wildcards, case-insensitively)."""
        return any(fnmatchcase(a.lower(), p.lower()) for a in actions for p in self.actions)

    def on(self, logical_id: str) -> bool:
        return any(may_be(resource, logical_id) for resource in self.resources)

    def names_nothing(self) -> bool:
        """Whether some resource of it names no resource of the stack (`*`, a literal ARN)."""
        return any(not REFERENCE.search(resource) for resource in self.resources)


def grant(source: str, statement: Mapping[str, Any], itself: str | None = None) -> Grant:
    actions = ("*",) if "NotAction" in statement else tuple(str(a) for a in listed(statement.get("Action", [])))
    if "NotResource" in statement:
        resources: tuple[str, ...] = ("*",)
    else:
        resources = tuple(resolved(r) for r in listed(statement.get("Resource", "*")))
        if itself is not None:
            resources = tuple(itself if r == "*" else r for r in resources)
    return Grant(source, actions, resources, statement.get("Condition", {}))


def _allows(source: str, document: Mapping[str, Any], itself: str | None = None) -> list[Grant]:
    return [grant(source, s, itself) for s in listed(document.get("Statement", [])) if s.get("Effect") == "Allow"]


def identity_grants(resources: Mapping[str, Any], role: str) -> tuple[list[Grant], list[str]]:
    """The Allows of `role`'s own policies, and the ARNs of managed policies attached to it
    that the template does not hold (AWS-managed ones: their text is not in the template)."""
    properties = resources[role]["Properties"]
    found = [g for policy in properties.get("Policies", []) for g in _allows(role, policy["PolicyDocument"])]
    attached: set[str] = set()
    opaque: list[str] = []
    for arn in properties.get("ManagedPolicyArns", []):
        held = {r for r in references(arn) if resources.get(r, {}).get("Type") == "AWS::IAM::ManagedPolicy"}
        attached |= held
        if not held:
            opaque.append(resolved(arn))
    for name, resource in resources.items():
        if resource["Type"] not in IDENTITY_POLICIES:
            continue
        roles = {r for entry in resource["Properties"].get("Roles", []) for r in references(entry)}
        if name in attached or role in roles:
            found += _allows(name, resource["Properties"]["PolicyDocument"])
    return found, opaque


def resource_statements(resources: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    """(holder, statement, what "*" means in it) for every statement of every resource policy."""
    for name, resource in resources.items():
        if resource["Type"] not in RESOURCE_POLICIES:
            continue
        key, self_scoped = RESOURCE_POLICIES[resource["Type"]]
        document = resource.get("Properties", {}).get(key) or {}
        itself = f"<{name}.Arn>" if self_scoped else None
        for statement in listed(document.get("Statement", [])):
            yield name, statement, itself


def names(principal: Any, role: str) -> bool:
    """Whether a resource policy's Principal includes `role`: everyone, the role itself, or an
    AWS principal the template does not resolve (it may be this role). An account's root
    leaves the decision to that account's IAM policies; a service is not a role."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return True
    for kind, values in principal.items():
        if kind != "AWS":
            continue
        for value in listed(values):
            named = references(value)
            if named:
                if role in named:
                    return True
                continue
            text = resolved(value)
            if not (text.endswith(":root") or re.fullmatch(r"\d{12}", text)):
                return True
    return False


def grants(resources: Mapping[str, Any], role: str) -> list[Grant]:
    """Every Allow that reaches `role`."""
    found, _ = identity_grants(resources, role)
    for holder, statement, itself in resource_statements(resources):
        if statement.get("Effect") != "Allow":
            continue
        principal = "*" if "NotPrincipal" in statement else statement.get("Principal", {})
        if names(principal, role):
            found.append(grant(holder, statement, itself))
    return found
