"""The Fargate task definitions: one per component, each with its own role (roles.py), the
practicelake image, the settings it runs with, and only the EFS folders it uses.

The settings are practicelake's own, as PRACTICELAKE_* environment variables (settings.py in
the package): each zone at its bucket, the Glue catalog, the key store wrapped by KMS, the
local state on EFS. None is a secret: the secrets are the key store's keys, wrapped by KMS on
EFS, and the users' passwords, hashed in the users database.

Every container runs as practicelake's user (10001, the EFS access points' owner) on a
read-only root file system; what it may write is its EFS folders and a scratch volume of the
task's own storage (state_dir for the commands that keep nothing: DuckDB spills there).
"""

from __future__ import annotations

import json

from aws_cdk import Aws, Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs_
from constructs import Construct

from practicelake_aws.access import COMPONENTS
from practicelake_aws.config import Deployment
from practicelake_aws.findings import acknowledge
from practicelake_aws.logs import Logs
from practicelake_aws.state import MOUNTED_AT, UID, State
from practicelake_aws.storage import Storage, zone_key

SCRATCH = f"{MOUNTED_AT}/scratch"
WEB_PORT = 8443
ARRIVAL = ["python", "/opt/practicelake/arrival.py"]
"""The ingest's entry point in the image (infra/aws/image/arrival.py): fetch one arrived export, ingest it."""
COMMANDS = {
    "ingest": ARRIVAL,
    "transform": ["practicelake", "transform"],
    "curate": ["practicelake", "curate"],
    "web": ["practicelake", "serve"],
    "console": ["sleep", "3600"],  # a shell to `ecs execute-command` into, for an hour at most
}
SIZES = {  # (vCPU units, MiB)
    "ingest": (1024, 4096),
    "transform": (2048, 8192),
    "curate": (2048, 8192),
    "web": (2048, 4096),
    "console": (256, 512),
}
STATE_DIRS = {"ingest": f"{MOUNTED_AT}/ingest", "web": f"{MOUNTED_AT}/web"}
"""state_dir of the components whose state must outlive the task; the others use scratch."""


def settings_environment(
    deployment: Deployment, storage: Storage, keystore: kms.IKey, component: str
) -> dict[str, str]:
    """The PRACTICELAKE_* settings of `component`'s container."""
    zone = {name: f"s3://{storage.buckets[name].bucket_name}" for name in ("raw", "cleaned", "curated", "ops")}
    environment = {
        "PRACTICELAKE_WAREHOUSE_URI": zone["ops"],  # holds nothing a zone does not; the catalog's default root
        "PRACTICELAKE_RAW_URI": zone["raw"],
        "PRACTICELAKE_CLEANED_URI": zone["cleaned"],
        "PRACTICELAKE_CURATED_URI": zone["curated"],
        "PRACTICELAKE_OPS_URI": zone["ops"],
        "PRACTICELAKE_CATALOG_URI": "glue://",
        "PRACTICELAKE_S3_REGION": Aws.REGION,
        "PRACTICELAKE_KEY_PROVIDER": "aws-kms",
        "PRACTICELAKE_KMS_KEY_ID": keystore.key_arn,
        "PRACTICELAKE_KEY_FILE": f"{MOUNTED_AT}/keys/keys.json",
        "PRACTICELAKE_AUDIT_LOG": f"{MOUNTED_AT}/audit/audit.log",
        "PRACTICELAKE_USERS_DB": f"{MOUNTED_AT}/users/users.db",
        "PRACTICELAKE_STATE_DIR": STATE_DIRS.get(component, SCRATCH),
        "PRACTICELAKE_PRACTICES": json.dumps(deployment.practices, sort_keys=True),
        "HOME": SCRATCH,
    }
    if component == "web":
        environment |= {"PRACTICELAKE_WEB_HOST": "0.0.0.0", "PRACTICELAKE_WEB_PORT": str(WEB_PORT)}  # noqa: S104
    if component == "ingest":
        environment["LANDING_BUCKET"] = storage.buckets["landing"].bucket_name
    return environment


class Tasks(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        deployment: Deployment,
        storage: Storage,
        state: State,
        logs: Logs,
        keystore: kms.IKey,
        roles: dict[str, iam.Role],
    ) -> None:
        super().__init__(scope, construct_id)
        repository = ecr.Repository.from_repository_name(self, "Repository", deployment.image_repository)
        self.image = ecs.ContainerImage.from_ecr_repository(repository, deployment.image_tag)
        self.definitions: dict[str, ecs.FargateTaskDefinition] = {}
        self.containers: dict[str, ecs.ContainerDefinition] = {}
        for component in COMPONENTS:
            self._define(component, deployment, storage, state, logs, keystore, roles[component])

    def _define(
        self,
        component: str,
        deployment: Deployment,
        storage: Storage,
        state: State,
        logs: Logs,
        keystore: kms.IKey,
        role: iam.Role,
    ) -> None:
        cpu, memory = SIZES[component]
        definition = ecs.FargateTaskDefinition(
            self,
            component.capitalize(),
            family=f"{deployment.name}-{component}",
            cpu=cpu,
            memory_limit_mib=memory,
            task_role=role,
            ephemeral_storage_gib=50 if component == "transform" else None,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64, operating_system_family=ecs.OperatingSystemFamily.LINUX
            ),
        )
        container = definition.add_container(
            component,
            container_name=component,
            image=self.image,
            command=COMMANDS[component],
            environment=settings_environment(deployment, storage, keystore, component),
            user=f"{UID}:{UID}",
            readonly_root_filesystem=True,
            linux_parameters=ecs.LinuxParameters(self, f"{component.capitalize()}Linux", init_process_enabled=True),
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix=component, log_group=logs.group(self, f"{component.capitalize()}Logs", component)
            ),
            stop_timeout=Duration.seconds(120),
            port_mappings=[ecs.PortMapping(container_port=WEB_PORT)] if component == "web" else None,
        )
        for volume, path in (("scratch", SCRATCH), ("tmp", "/tmp")):  # noqa: S108 - the task's own storage
            definition.add_volume(name=volume)
            container.add_mount_points(ecs.MountPoint(source_volume=volume, container_path=path, read_only=False))
        for folder, writable in sorted(COMPONENTS[component].state.items()):
            definition.add_volume(
                name=folder,
                efs_volume_configuration=ecs.EfsVolumeConfiguration(
                    file_system_id=state.file_system.file_system_id,
                    transit_encryption="ENABLED",
                    authorization_config=ecs.AuthorizationConfig(
                        access_point_id=state.access_points[folder].access_point_id, iam="ENABLED"
                    ),
                ),
            )
            container.add_mount_points(
                ecs.MountPoint(source_volume=folder, container_path=f"{MOUNTED_AT}/{folder}", read_only=not writable)
            )
        acknowledge(
            definition,
            "AwsSolutions-ECS2",
            "The environment holds practicelake's settings (bucket names, the key store's KMS key id, "
            "paths, the practices' time zones), none of them secret: the secrets are the key store's keys, "
            "wrapped by KMS on EFS, and the users' password hashes, on EFS.",
        )
        self.definitions[component] = definition
        self.containers[component] = container


def cluster(
    scope: Construct, deployment: Deployment, vpc: ec2.IVpc, logs: Logs
) -> tuple[ecs.Cluster, kms.Key, logs_.LogGroup]:
    """The ECS cluster, Container Insights on; the operator's console sessions (ECS Exec)
    encrypted with a key of their own and logged in full."""
    exec_key = zone_key(scope, "console", deployment.name, "ECS Exec sessions of the operator's console")
    sessions = logs.group(scope, "ConsoleSessions", "console-sessions")
    found = ecs.Cluster(
        scope,
        "Cluster",
        vpc=vpc,
        cluster_name=deployment.name,
        container_insights_v2=ecs.ContainerInsights.ENHANCED,
        execute_command_configuration=ecs.ExecuteCommandConfiguration(
            kms_key=exec_key,
            logging=ecs.ExecuteCommandLogging.OVERRIDE,
            log_configuration=ecs.ExecuteCommandLogConfiguration(
                cloud_watch_log_group=sessions,
                cloud_watch_encryption_enabled=True,
            ),
        ),
    )
    return found, exec_key, sessions
