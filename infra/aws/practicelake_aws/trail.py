"""CloudTrail: every management event of the account, in every region, and every data event
(object reads and writes) of the zone buckets, into the audit bucket, encrypted with its key,
each file's digest signed (log file validation), and a copy in CloudWatch Logs.

This is the AWS side of the audit: who read which raw file, which key unwrapped which
practice's keys (the KMS encryption context names the practice). practicelake's own audit
log (on EFS) records who read what through the query service. The audit bucket itself is
left out of the data events: logging the trail's own deliveries would log itself.
"""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_s3 as s3
from constructs import Construct

from practicelake_aws.config import Deployment
from practicelake_aws.findings import redundant_depends_on
from practicelake_aws.logs import Logs
from practicelake_aws.storage import Storage, service_may_use

TRAILED = ("landing", "raw", "cleaned", "curated", "ops", "athena")


class Trail(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, deployment: Deployment, storage: Storage, logs: Logs
    ) -> None:
        super().__init__(scope, construct_id)
        name = f"{deployment.name}-trail"
        trail_arn = f"arn:{Aws.PARTITION}:cloudtrail:{Aws.REGION}:{Aws.ACCOUNT_ID}:trail/{name}"
        key = storage.keys["audit"]
        any_trail = f"arn:{Aws.PARTITION}:cloudtrail:*:{Aws.ACCOUNT_ID}:trail/*"
        service_may_use(
            key,
            "cloudtrail.amazonaws.com",
            ["kms:GenerateDataKey*"],
            {
                "StringEquals": {"aws:SourceArn": trail_arn},
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": any_trail},
            },
        )
        service_may_use(
            key, "cloudtrail.amazonaws.com", ["kms:DescribeKey"], {"StringEquals": {"aws:SourceArn": trail_arn}}
        )
        self.trail = cloudtrail.Trail(
            self,
            "Trail",
            trail_name=name,
            bucket=storage.buckets["audit"],
            s3_key_prefix="cloudtrail",
            encryption_key=key,
            enable_file_validation=True,
            include_global_service_events=True,
            is_multi_region_trail=True,  # management events of every region: activity where none is expected
            send_to_cloud_watch_logs=True,
            cloud_watch_log_group=logs.group(self, "TrailLogs", "cloudtrail"),
            management_events=cloudtrail.ReadWriteType.ALL,
        )
        redundant_depends_on(self.trail)
        selected: list[s3.IBucket] = [storage.buckets[zone] for zone in TRAILED]
        self.trail.add_s3_event_selector(
            [cloudtrail.S3EventSelector(bucket=bucket) for bucket in selected],
            include_management_events=False,
            read_write_type=cloudtrail.ReadWriteType.ALL,
        )
