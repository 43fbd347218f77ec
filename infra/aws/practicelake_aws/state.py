"""The local state practicelake keeps outside object storage, on an encrypted EFS file system
so that it outlives every task: the key store (keys.json, its keys wrapped by KMS), the audit
log and its anchor, the users database, the ingest's journal and the web app's sign-in state
(sessions, throttling, its TLS certificate for the load balancer).

Why EFS: these are files practicelake opens with POSIX semantics (flock on the key store and
the audit log, SQLite on the users and sessions), shared by tasks that come and go; EFS gives
that, encrypted at rest with a key of its own, TLS in transit and IAM authorisation of every
mount. What is on it is small; the data stays in the buckets.

One access point per folder, each rooted at its own directory, owned by practicelake's user
(uid 10001) with mode 0700, so that the key store and the audit log keep the owner-only
modes practicelake checks for. A task mounts only the folders its component uses (access.py),
read-only where it only reads (the transform's and the curate's key store): the file system
policy refuses a mount that is not through an access point or not over TLS and allows
nothing itself, so each role may mount only its own access points, writing only where its
own policy lets it write.

The key store and the audit log are one each for the deployment (one chain of audit
records, one key per practice), hence folders shared between components rather than one
folder per component; the ingest's journal and the web app's state are each their own.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_backup as backup
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from constructs import Construct

from practicelake_aws.config import Deployment
from practicelake_aws.findings import acknowledge
from practicelake_aws.storage import zone_key

UID = "10001"
FOLDERS = ("keys", "audit", "users", "ingest", "web")
MOUNTED_AT = "/var/lib/practicelake"
"""Where a task sees the folders: MOUNTED_AT/<folder>."""


class State(Construct):
    def __init__(self, scope: Construct, construct_id: str, deployment: Deployment, vpc: ec2.IVpc) -> None:
        super().__init__(scope, construct_id)
        self.key = zone_key(self, "state", deployment.name, "EFS: key store, audit log, users, sign-in state")
        self.security_group = ec2.SecurityGroup(
            self, "MountTargets", vpc=vpc, description="practicelake EFS mount targets", allow_all_outbound=False
        )
        self.file_system = efs.FileSystem(
            self,
            "FileSystem",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_group=self.security_group,
            encrypted=True,
            kms_key=self.key,
            performance_mode=efs.PerformanceMode.GENERAL_PURPOSE,
            throughput_mode=efs.ThroughputMode.ELASTIC,
            enable_automatic_backups=False,  # the backup plan below keeps them, encrypted, for 35 days
            # Not CDK's default policy, which allows ClientWrite and ClientRootAccess to every
            # principal through a mount target, so that a role allowed only to mount (the
            # transform's key store) could write too. The policy below allows nothing: each
            # role's own policy grants its mounts and writes, and an anonymous client (no IAM)
            # is granted nothing, so it cannot mount at all.
            allow_anonymous_access=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.file_system.add_to_resource_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["*"],
                resources=["*"],  # in a file system policy, "*" is the file system itself
                conditions={"Bool": {"aws:SecureTransport": "false"}},
            )
        )
        self.file_system.add_to_resource_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                resources=["*"],
                conditions={"Null": {"elasticfilesystem:AccessPointArn": "true"}},
            )
        )
        self.access_points = {folder: self._access_point(folder) for folder in FOLDERS}
        self._backups(deployment)

    def _access_point(self, folder: str) -> efs.AccessPoint:
        return self.file_system.add_access_point(
            folder.capitalize(),
            path=f"/{folder}",
            create_acl=efs.Acl(owner_uid=UID, owner_gid=UID, permissions="700"),
            posix_user=efs.PosixUser(uid=UID, gid=UID),
        )

    def _backups(self, deployment: Deployment) -> None:
        vault_key = zone_key(self, "backup", deployment.name, "AWS Backup vault of the EFS state")
        vault = backup.BackupVault(
            self, "Vault", backup_vault_name=f"{deployment.name}-state", encryption_key=vault_key,
            removal_policy=RemovalPolicy.RETAIN,
        )  # fmt: skip
        plan = backup.BackupPlan.daily35_day_retention(self, "Plan", vault)
        selection = plan.add_selection(
            "FileSystem", resources=[backup.BackupResource.from_efs_file_system(self.file_system)]
        )
        acknowledge(
            selection.grant_principal,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]",
            "AWS Backup's own service-role policy for taking backups, maintained by AWS as the services it "
            "backs up change; the role is assumable by AWS Backup alone and backs up this file system only.",
        )

    def allow_from(self, peer: ec2.ISecurityGroup) -> None:
        """NFS (TLS inside, by the mount) from the tasks of `peer`."""
        self.security_group.add_ingress_rule(peer, ec2.Port.tcp(2049), "NFS from practicelake tasks")
