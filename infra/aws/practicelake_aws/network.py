"""The network: a VPC whose tasks have no way to the internet at all.

Two kinds of subnet in two availability zones: public ones for the load balancer alone, and
isolated ones (no NAT, no route out) for the tasks, the file system and the endpoints. The
tasks reach AWS only through VPC endpoints: S3 (a gateway endpoint), and interface endpoints
for ECR (the image), CloudWatch Logs, KMS, Glue and the SSM channel of the operator's
console. So a compromised task cannot send data anywhere but to the AWS services it is
allowed, and an export never crosses the internet inside AWS. Every flow is logged.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from practicelake_aws.findings import acknowledge
from practicelake_aws.logs import Logs

INTERFACE_ENDPOINTS = {
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
    "Glue": ec2.InterfaceVpcEndpointAwsService.GLUE,
    "SsmMessages": ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
}


class Network(Construct):
    """The VPC; `endpoints` admits only the task groups given to `allow_from`."""

    def __init__(self, scope: Construct, construct_id: str, logs: Logs) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="balancer", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24, map_public_ip_on_launch=False
                ),
                ec2.SubnetConfiguration(name="tasks", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22),
            ],
            flow_logs={
                "all": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(logs.group(self, "FlowLogs", "vpc-flows")),
                    traffic_type=ec2.FlowLogTrafficType.ALL,
                )
            },
        )
        self.tasks = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[self.tasks])
        self.endpoints = ec2.SecurityGroup(
            self, "Endpoints", vpc=self.vpc, description="practicelake VPC endpoints", allow_all_outbound=False
        )
        for name, service in INTERFACE_ENDPOINTS.items():
            self.vpc.add_interface_endpoint(
                name, service=service, subnets=self.tasks, private_dns_enabled=True, security_groups=[self.endpoints],
                open=False,
            )  # fmt: skip
        self._public_route_acknowledged()
        acknowledge(
            self.vpc,
            "HIPAA.Security-VPCDefaultSecurityGroupClosed",
            "Nothing uses the default security group: the balancer, every task, the endpoints and the mount "
            "targets have groups of their own. CloudFormation cannot empty the default group's rules; CDK "
            "would do it with a custom resource, a Lambda function that brings findings of its own.",
        )

    def allow_from(self, peer: ec2.ISecurityGroup) -> None:
        """HTTPS to the interface endpoints from the tasks of `peer`."""
        self.endpoints.add_ingress_rule(peer, ec2.Port.tcp(443), "AWS APIs from practicelake tasks")

    def _public_route_acknowledged(self) -> None:
        for subnet in self.vpc.public_subnets:
            Validations.of(subnet).acknowledge(
                Acknowledgment(
                    id="HIPAA.Security-VPCNoUnrestrictedRouteToIGW",
                    reason="The public subnets hold only the internet-facing load balancer of the dashboard, "
                    "which needs a route to the internet gateway; the tasks' subnets have no route out.",
                )
            )
