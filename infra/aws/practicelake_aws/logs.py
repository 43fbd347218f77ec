"""CloudWatch log groups, all encrypted with one KMS key of their own and kept for the
deployment's retention: the tasks' output, the state machine's history, the VPC flow logs,
the trail's copy and the console's sessions.

The tasks' logs hold what practicelake prints (counts, file names, errors, never rows or
secrets), so one key serves them all; CloudWatch Logs may use it only for log groups of this
account and region (the encryption context condition AWS documents for it).
"""

from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from practicelake_aws.config import Deployment
from practicelake_aws.storage import service_may_use, zone_key

RETENTION = {days: getattr(logs.RetentionDays, name) for name, days in (
    ("ONE_MONTH", 30), ("TWO_MONTHS", 60), ("THREE_MONTHS", 90), ("FOUR_MONTHS", 120), ("FIVE_MONTHS", 150),
    ("SIX_MONTHS", 180), ("ONE_YEAR", 365), ("THIRTEEN_MONTHS", 400), ("EIGHTEEN_MONTHS", 545),
    ("TWO_YEARS", 731), ("THREE_YEARS", 1096), ("FIVE_YEARS", 1827), ("SIX_YEARS", 2192),
    ("SEVEN_YEARS", 2557), ("EIGHT_YEARS", 2922), ("NINE_YEARS", 3288), ("TEN_YEARS", 3653),
)}  # fmt: skip


class Logs(Construct):
    def __init__(self, scope: Construct, construct_id: str, deployment: Deployment) -> None:
        super().__init__(scope, construct_id)
        self.deployment = deployment
        self.key: kms.Key = zone_key(self, "logs", deployment.name, "CloudWatch log groups")
        service_may_use(
            self.key,
            f"logs.{Aws.REGION}.amazonaws.com",
            ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            {
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:*"
                }
            },
        )

    def group(self, scope: Construct, construct_id: str, name: str) -> logs.LogGroup:
        """A log group `/<deployment>/<name>`, encrypted with the logs key."""
        return logs.LogGroup(
            scope,
            construct_id,
            log_group_name=f"/{self.deployment.name}/{name}",
            encryption_key=self.key,
            retention=RETENTION[self.deployment.log_retention_days],
            removal_policy=RemovalPolicy.RETAIN,
        )
