"""The dashboard and API: `practicelake serve` as an ECS service behind an internet-facing
Application Load Balancer, HTTPS end to end.

The balancer terminates TLS with the deployment's ACM certificate (TLS 1.2+ policy), has no
plain-HTTP listener at all (practicelake serves HTTPS only, here as on one machine), drops
invalid headers, logs every request to the
access-logs bucket, and talks HTTPS to the containers on 8443: practicelake serves HTTPS
only, with its own certificate (settings tls_cert_file, or one it generates into its state
folder), which the balancer does not need to trust for the hop inside the VPC. A container
receives readers only once GET /ready answers 200, that is once its read path is warm.

The tasks sit in the isolated subnets; their security group admits the balancer alone, on 8443.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from practicelake_aws.config import Deployment
from practicelake_aws.network import Network
from practicelake_aws.tasks import WEB_PORT

READY = "/ready"


class Web(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        deployment: Deployment,
        network: Network,
        cluster: ecs.ICluster,
        definition: ecs.FargateTaskDefinition,
        security_group: ec2.ISecurityGroup,
        access_logs: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        balancer_group = ec2.SecurityGroup(
            self, "BalancerGroup", vpc=network.vpc, description="practicelake dashboard load balancer",
            allow_all_outbound=False,
        )  # fmt: skip
        balancer_group.add_ingress_rule(
            ec2.Peer.ipv4(deployment.ingress_cidr), ec2.Port.tcp(443), f"dashboard from {deployment.ingress_cidr}"
        )
        if deployment.public_ingress:
            Validations.of(balancer_group).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-EC23",
                    reason="The dashboard is for practice staff wherever they work, so its load balancer "
                    "is open to the internet on 443; set the ingress_cidr "
                    "context to narrow it. The tasks behind it admit the balancer alone.",
                )
            )
        self.balancer = elbv2.ApplicationLoadBalancer(
            self,
            "Balancer",
            vpc=network.vpc,
            internet_facing=True,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            security_group=balancer_group,
            drop_invalid_header_fields=True,
            deletion_protection=True,
            desync_mitigation_mode=elbv2.DesyncMitigationMode.STRICTEST,
        )
        self.balancer.log_access_logs(access_logs, "alb")
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=definition,
            desired_count=deployment.web_tasks,
            vpc_subnets=network.tasks,
            security_groups=[security_group],
            assign_public_ip=False,
            health_check_grace_period=Duration.minutes(5),  # warming the read path takes a while
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            min_healthy_percent=100,
            max_healthy_percent=200,
            enable_execute_command=False,
        )
        targets = elbv2.ApplicationTargetGroup(
            self,
            "Targets",
            vpc=network.vpc,
            port=WEB_PORT,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            target_type=elbv2.TargetType.IP,
            deregistration_delay=Duration.seconds(30),
            health_check=elbv2.HealthCheck(
                path=READY,
                protocol=elbv2.Protocol.HTTPS,
                port=str(WEB_PORT),
                healthy_http_codes="200",
                interval=Duration.seconds(15),
                timeout=Duration.seconds(5),
                healthy_threshold_count=2,
                unhealthy_threshold_count=3,
            ),
        )
        self.service.attach_to_application_target_group(targets)
        self.balancer.add_listener(
            "Https",
            port=443,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_arn(deployment.certificate_arn)],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            default_target_groups=[targets],
            open=False,
        )
