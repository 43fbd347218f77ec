"""practicelake on AWS, as one CloudFormation stack: storage, catalog, network, state, roles,
tasks, the web service, the schedule and the trail.

One stack rather than one per part: the bucket policies, key policies and roles refer to each
other (a role names a zone's key and bucket; the trail's key policy names the trail), and
across stacks such references become exports that pin each resource and form cycles. The
parts are constructs, one module each, and the stack only wires them.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from practicelake_aws.catalog import Catalog
from practicelake_aws.config import Deployment
from practicelake_aws.findings import acknowledge_policies
from practicelake_aws.logs import Logs
from practicelake_aws.network import Network
from practicelake_aws.roles import component_roles
from practicelake_aws.schedule import Schedule
from practicelake_aws.state import State
from practicelake_aws.storage import Storage, zone_key
from practicelake_aws.tasks import Tasks, cluster
from practicelake_aws.trail import Trail
from practicelake_aws.web import Web


class PracticelakeStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, deployment: Deployment, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        storage = Storage(self, "Storage", deployment)
        catalog = Catalog(self, "Catalog", deployment, storage)
        logs = Logs(self, "Logs", deployment)
        network = Network(self, "Network", logs)
        state = State(self, "State", deployment, network.vpc)
        keystore = zone_key(self, "keystore", deployment.name, "wraps each practice's keys and the audit key")
        ecs_cluster, exec_key, sessions = cluster(self, deployment, network.vpc, logs)
        roles = component_roles(self, storage, catalog, state, keystore, (exec_key, sessions))
        tasks = Tasks(
            self,
            "Tasks",
            deployment=deployment,
            storage=storage,
            state=state,
            logs=logs,
            keystore=keystore,
            roles=roles,
        )
        pipeline_group = _task_group(self, "PipelineTasks", network.vpc, "practicelake pipeline and console tasks")
        web_group = _task_group(self, "WebTasks", network.vpc, "practicelake web tasks")
        for group in (pipeline_group, web_group):
            state.allow_from(group)
            network.allow_from(group)
            group.add_egress_rule(state.security_group, ec2.Port.tcp(2049), "NFS to the state file system")
        web = Web(
            self,
            "Web",
            deployment=deployment,
            network=network,
            cluster=ecs_cluster,
            definition=tasks.definitions["web"],
            security_group=web_group,
            access_logs=storage.access_logs,
        )
        schedule = Schedule(
            self,
            "Schedule",
            deployment=deployment,
            cluster=ecs_cluster,
            definitions=tasks.definitions,
            subnets=network.tasks,
            security_group=pipeline_group,
            landing=storage.buckets["landing"],
            logs=logs,
        )
        Trail(self, "Audit", deployment, storage, logs)
        acknowledge_policies(self)
        CfnOutput(self, "DashboardAddress", value=f"https://{web.balancer.load_balancer_dns_name}")
        CfnOutput(self, "LandingBucket", value=storage.buckets["landing"].bucket_name)
        CfnOutput(self, "PipelineStateMachine", value=schedule.pipeline.state_machine_arn)
        CfnOutput(self, "ConsoleTaskDefinition", value=tasks.definitions["console"].task_definition_arn)
        CfnOutput(self, "AthenaWorkgroup", value=catalog.workgroup.ref)


def _task_group(scope: Construct, construct_id: str, vpc: ec2.IVpc, description: str) -> ec2.SecurityGroup:
    """Tasks reach only HTTPS (the VPC endpoints: the subnets have no other way out) and the
    file system; nothing reaches them but what Web allows."""
    group = ec2.SecurityGroup(scope, construct_id, vpc=vpc, description=description, allow_all_outbound=False)
    group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "AWS APIs through the VPC endpoints and S3's")
    return group
