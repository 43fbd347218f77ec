"""One IAM role per component, its policy derived from what the component does (access.py)
and nothing else: no managed policy, no wildcard action, every resource a bucket, a prefix,
a key, a Glue table or an access point of this deployment.

- S3: GetObject on the prefixes it reads, PutObject (and AbortMultipartUpload, for a large
  file's upload that fails) on those it writes, DeleteObject only on the writer lock;
  ListBucket on the buckets it reads or writes (S3 answers 404 for a missing key only to a
  principal that may list, and practicelake reads 404 as "absent").
- KMS, per zone key: Decrypt where it reads, GenerateDataKey and Decrypt where it writes,
  only through S3 and only for that zone's bucket (the bucket key's encryption context).
- The key store's KMS key: Encrypt and Decrypt only for the purposes it uses (the
  `practicelake:purpose` encryption context).
- Glue: GetDatabase on the three databases (every start checks where they are), GetTable on
  the tables it reads, CreateTable and UpdateTable on those it writes, GetTables only where
  it lists a database, DeleteTable only where curate replaces a table whose columns changed.
- EFS: ClientMount through its own access points, ClientWrite only where it writes.
"""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from practicelake_aws.access import COMPONENTS, DATABASES, Access, Objects
from practicelake_aws.catalog import Catalog
from practicelake_aws.state import State
from practicelake_aws.storage import Storage

PURPOSE = "kms:EncryptionContext:practicelake:purpose"
Console = tuple[kms.IKey, logs.ILogGroup]
"""The console's session key and session log (tasks.cluster)."""
CONTEXT_KEYS = ["practicelake:purpose", "practicelake:practice_id"]


def component_roles(
    scope: Construct, storage: Storage, catalog: Catalog, state: State, keystore: kms.IKey, console: Console
) -> dict[str, iam.Role]:
    """The task role of every component, by name, each with one customer-managed policy of its own."""
    roles = {}
    for name, access in COMPONENTS.items():
        found = statements(access, storage, catalog, state, keystore)
        if name == "console":
            found += console_sessions(*console)
        roles[name] = _role(scope, name, found)
    return roles


def _role(scope: Construct, name: str, found: list[iam.PolicyStatement]) -> iam.Role:
    role = iam.Role(
        scope,
        f"{name.capitalize()}Role",
        description=f"practicelake {name}: its task role (infra/aws/practicelake_aws/access.py)",
        assumed_by=iam.ServicePrincipal(
            "ecs-tasks.amazonaws.com",
            conditions={
                "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                "ArnLike": {"aws:SourceArn": f"arn:{Aws.PARTITION}:ecs:{Aws.REGION}:{Aws.ACCOUNT_ID}:*"},
            },
        ),
    )
    iam.ManagedPolicy(
        scope,
        f"{name.capitalize()}Policy",
        description=f"practicelake {name}: what it may read and write (access.py)",
        statements=found,
        roles=[role],
    )
    return role


def statements(
    access: Access, storage: Storage, catalog: Catalog, state: State, keystore: kms.IKey
) -> list[iam.PolicyStatement]:
    found = _objects(access, storage)
    found += _zone_keys(access, storage)
    found += _keystore(access, keystore)
    found += _glue(access, catalog)
    found += _mounts(access, state)
    return found


def _arns(bucket: s3.IBucket, objects: Objects) -> list[str]:
    return [bucket.arn_for_objects(prefix + "*") for prefix in objects.prefixes]


def _objects(access: Access, storage: Storage) -> list[iam.PolicyStatement]:
    found = []
    b = storage.buckets
    if access.reads or access.writes:
        read = [arn for objects in (*access.reads, *access.writes) for arn in _arns(b[objects.zone], objects)]
        found.append(iam.PolicyStatement(sid="ReadObjects", actions=["s3:GetObject"], resources=read))
    if access.reads_exports:
        exports = [b["landing"].arn_for_objects("*")]
        found.append(iam.PolicyStatement(sid="ReadExportVersions", actions=["s3:GetObjectVersion"], resources=exports))
    if access.writes:
        written = [arn for objects in access.writes for arn in _arns(b[objects.zone], objects)]
        found.append(
            iam.PolicyStatement(
                sid="WriteObjects", actions=["s3:PutObject", "s3:AbortMultipartUpload"], resources=written
            )
        )
    if access.deletes:
        deleted = [arn for objects in access.deletes for arn in _arns(b[objects.zone], objects)]
        found.append(iam.PolicyStatement(sid="DeleteObjects", actions=["s3:DeleteObject"], resources=deleted))
    if access.zones:
        buckets = [b[zone].bucket_arn for zone in sorted(access.zones)]
        found.append(iam.PolicyStatement(sid="ListBuckets", actions=["s3:ListBucket"], resources=buckets))
    return found


def _zone_keys(access: Access, storage: Storage) -> list[iam.PolicyStatement]:
    written = {objects.zone for objects in access.writes}
    found = []
    for zone in sorted(access.zones):
        actions = ["kms:Decrypt", "kms:GenerateDataKey"] if zone in written else ["kms:Decrypt"]
        found.append(
            iam.PolicyStatement(
                sid=f"{zone.capitalize()}Key",
                actions=actions,
                resources=[storage.keys[zone].key_arn],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": f"s3.{Aws.REGION}.amazonaws.com",
                        "kms:EncryptionContext:aws:s3:arn": storage.buckets[zone].bucket_arn,
                    }
                },
            )
        )
    return found


def _keystore(access: Access, keystore: kms.IKey) -> list[iam.PolicyStatement]:
    found = []
    for sid, action, purposes in (
        ("WrapKeys", "kms:Encrypt", access.wraps),
        ("UnwrapKeys", "kms:Decrypt", access.unwraps),
    ):
        if purposes:
            found.append(
                iam.PolicyStatement(
                    sid=sid,
                    actions=[action],
                    resources=[keystore.key_arn],
                    conditions={
                        "StringEquals": {PURPOSE: list(purposes)},
                        "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": CONTEXT_KEYS},
                    },
                )
            )
    return found


def _glue(access: Access, catalog: Catalog) -> list[iam.PolicyStatement]:
    databases = [catalog.database_arn(namespace) for namespace in DATABASES]
    found = [
        iam.PolicyStatement(
            sid="FindDatabases", actions=["glue:GetDatabase"], resources=[catalog.catalog_arn, *databases]
        )
    ]
    for sid, actions, tables in (
        ("ReadTables", ["glue:GetTable"], access.tables_read),
        ("WriteTables", ["glue:GetTable", "glue:CreateTable", "glue:UpdateTable"], access.tables_written),
        ("DropTables", ["glue:DeleteTable"], access.tables_dropped),
    ):
        if tables:
            arns = [catalog.catalog_arn, *_databases_of(catalog, tables), *map(catalog.table_arn, tables)]
            found.append(iam.PolicyStatement(sid=sid, actions=actions, resources=arns))
    if access.databases_listed:
        listed = [catalog.table_arn(f"{namespace}.*") for namespace in access.databases_listed]
        arns = [catalog.catalog_arn, *map(catalog.database_arn, access.databases_listed), *listed]
        found.append(iam.PolicyStatement(sid="ListTables", actions=["glue:GetTables"], resources=arns))
    return found


def _databases_of(catalog: Catalog, tables: tuple[str, ...]) -> list[str]:
    return [catalog.database_arn(namespace) for namespace in sorted({t.partition(".")[0] for t in tables})]


def _mounts(access: Access, state: State) -> list[iam.PolicyStatement]:
    found = []
    for folder, writable in sorted(access.state.items()):
        point: efs.AccessPoint = state.access_points[folder]
        actions = (
            ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
            if writable
            else ["elasticfilesystem:ClientMount"]
        )
        found.append(
            iam.PolicyStatement(
                sid=f"Mount{folder.capitalize()}",
                actions=actions,
                resources=[state.file_system.file_system_arn],
                conditions={"StringEquals": {"elasticfilesystem:AccessPointArn": point.access_point_arn}},
            )
        )
    return found


def console_sessions(exec_key: kms.IKey, sessions: logs.ILogGroup) -> list[iam.PolicyStatement]:
    """What ECS Exec needs of the console's task role: the SSM channel (which has no
    resource-level permissions), the session key, and the session log."""
    channel = ["CreateControlChannel", "CreateDataChannel", "OpenControlChannel", "OpenDataChannel"]
    return [
        iam.PolicyStatement(
            sid="ConsoleChannel", actions=[f"ssmmessages:{action}" for action in channel], resources=["*"]
        ),
        iam.PolicyStatement(sid="ConsoleSessionKey", actions=["kms:Decrypt"], resources=[exec_key.key_arn]),
        iam.PolicyStatement(
            sid="ConsoleSessionLog",
            actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            resources=[sessions.log_group_arn],  # CDK's ARN ends in ":*": the group's streams
        ),
        iam.PolicyStatement(sid="ConsoleSessionLogGroups", actions=["logs:DescribeLogGroups"], resources=["*"]),
    ]
