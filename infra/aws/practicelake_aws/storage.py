"""The buckets: one per zone (landing, raw, cleaned, curated, ops), the audit bucket
(CloudTrail), the Athena results, and the access logs of all of them.

Each data bucket is encrypted with a KMS key of its own (rotated yearly, bucket keys on so
that a table scan is not a KMS call per object), refuses any request not over TLS 1.2+,
keeps every version, blocks public access and logs every request to the access-logs bucket.
A key per zone means a grant on one zone's key opens no other zone, and CloudTrail shows
which zone each decrypt was for.

Object Lock (default retention) is on the raw bucket, so that nothing deletes a received
file before its retention ends, and on the audit bucket, so that nobody rewrites the trail.
Offboarding crypto-shreds a practice (its keys are destroyed), which Object Lock does not
hinder: the locked objects stay, unreadable.

The access-logs bucket is the exception: S3 server access logging and load balancer access
logs deliver only to a bucket encrypted with S3-managed keys (SSE-S3), so it cannot use KMS.
It holds request metadata, not data.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from practicelake_aws.config import Deployment

ZONES = ("landing", "raw", "cleaned", "curated", "ops")
LOCKED = ("raw", "audit")
PURPOSES = {
    "landing": "exports as practices deliver them, before ingest",
    "raw": "the raw zone: received files (encrypted per practice) and their manifest",
    "cleaned": "the cleaned zone: cleaned tables, loads, quarantine, duplicates",
    "curated": "the curated zone: KPI tables and the snapshots readers are pinned to",
    "ops": "run bookkeeping: the run journal, the writer lock, ops.runs",
    "audit": "CloudTrail: management and data events of every bucket",
    "athena": "Athena query results",
}
REPLICATION_REASON = (
    "Cross-region replication doubles where PHI is kept and needs a second region's keys and "
    "bucket; recovery here rests on versioning, Object Lock (raw, audit) and re-ingesting from raw. "
    "A deployment that must survive a region's loss adds replication with its second region."
)


class Storage(Construct):
    """The keys and buckets of one deployment, by zone (ZONES, plus `audit` and `athena`)."""

    def __init__(self, scope: Construct, construct_id: str, deployment: Deployment) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = self._access_logs_bucket()
        self.keys: dict[str, kms.Key] = {}
        self.buckets: dict[str, s3.Bucket] = {}
        for zone in (*ZONES, "audit", "athena"):
            self.keys[zone] = zone_key(self, zone, deployment.name, PURPOSES[zone])
            self.buckets[zone] = self._bucket(zone, deployment)
        # Exports arrive as EventBridge events (schedule.py), set on the bucket itself: CDK's
        # notification resource would add a Lambda function to the stack to do the same.
        landing = self.buckets["landing"].node.default_child
        assert isinstance(landing, s3.CfnBucket)
        landing.add_property_override("NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True)

    def _bucket(self, zone: str, deployment: Deployment) -> s3.Bucket:
        lock_days = {"raw": deployment.raw_retention_days, "audit": deployment.audit_retention_days}.get(zone)
        bucket = s3.Bucket(
            self,
            zone.capitalize(),
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.keys[zone],
            bucket_key_enabled=True,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"s3/{zone}/",
            object_lock_enabled=lock_days is not None or None,
            object_lock_default_retention=_retention(lock_days, deployment.lock_mode),
            lifecycle_rules=_lifecycle(zone),
            removal_policy=RemovalPolicy.RETAIN,
        )
        Validations.of(bucket).acknowledge(
            Acknowledgment(id="HIPAA.Security-S3BucketReplicationEnabled", reason=REPLICATION_REASON)
        )
        return bucket

    def _access_logs_bucket(self) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=Duration.days(90))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        why_sse_s3 = (
            "S3 server access logs and load balancer access logs are delivered only to a bucket "
            "encrypted with S3-managed keys (SSE-S3); the bucket holds request metadata, not data."
        )
        for rule in ("HIPAA.Security-S3DefaultEncryptionKMS",):
            Validations.of(bucket).acknowledge(Acknowledgment(id=rule, reason=why_sse_s3))
        why_not_logged = "The access-logs bucket is where every other bucket logs; logging it into itself would loop."
        for rule in ("AwsSolutions-S1", "HIPAA.Security-S3BucketLoggingEnabled"):
            Validations.of(bucket).acknowledge(Acknowledgment(id=rule, reason=why_not_logged))
        resource = bucket.node.default_child
        assert isinstance(resource, s3.CfnBucket)
        resource.add_metadata("checkov", {"skip": [{"id": "CKV_AWS_18", "comment": why_not_logged}]})
        Validations.of(bucket).acknowledge(
            Acknowledgment(id="HIPAA.Security-S3BucketReplicationEnabled", reason=REPLICATION_REASON)
        )
        return bucket


def zone_key(scope: Construct, zone: str, name: str, purpose: str) -> kms.Key:
    """A symmetric KMS key of its own for `zone`, rotated yearly. Its key policy is CDK's
    default (the account's IAM administers it); no component is named in it: each one's
    use of the key is in its own role's policy (roles.py)."""
    return kms.Key(
        scope,
        f"{zone.capitalize()}Key",
        alias=f"alias/{name}/{zone}",
        description=f"practicelake {name}: {purpose}",
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.RETAIN,
    )


def _retention(days: int | None, mode: str) -> s3.ObjectLockRetention | None:
    if days is None:
        return None
    if mode == "COMPLIANCE":
        return s3.ObjectLockRetention.compliance(Duration.days(days))
    return s3.ObjectLockRetention.governance(Duration.days(days))


def _lifecycle(zone: str) -> list[s3.LifecycleRule]:
    """Old versions: the lock object is replaced at every heartbeat (ops); an export replaced
    by a newer upload (landing) was ingested or is in raw. Raw and the tables keep theirs."""
    if zone == "ops":
        return [s3.LifecycleRule(prefix="locks/", noncurrent_version_expiration=Duration.days(7))]
    if zone == "landing":
        return [
            s3.LifecycleRule(
                expiration=Duration.days(90),
                noncurrent_version_expiration=Duration.days(30),
                abort_incomplete_multipart_upload_after=Duration.days(7),
            )
        ]
    return [s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(7))]


def service_may_use(key: kms.Key, principal: str, actions: list[str], conditions: dict[str, object]) -> None:
    """Let an AWS service (not a component) use `key`, under `conditions`."""
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(principal)],
            actions=actions,
            resources=["*"],  # in a key policy, "*" is the key itself
            conditions=conditions,
        )
    )
