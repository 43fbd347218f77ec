"""When the pipeline runs: an export's arrival starts its ingest, and a schedule starts
transform then curate. Both are Step Functions state machines, so that every run, its
retries and its failure are on record in one place.

Arrival. The landing bucket sends S3's "Object Created" events to EventBridge; a rule starts
the arrival state machine with the object's key and version, which runs one ingest task
(image/arrival.py fetches exactly that version and runs `practicelake ingest`). Ingests take
no writer lock and may run side by side; a file ingested twice is recorded once (the raw
zone is content-addressed).

Schedule. The pipeline state machine runs transform, then curate, each retried with backoff
while the writer lock is held by a run still going. Curate runs even when transform failed:
it recovers a dead curate's run, which a transform may not (access.py), and it publishes
whatever the cleaned zone holds; the execution then fails, so that the transform's failure
is seen. One run at a time is what the writer lock enforces.

Each task state is written out (`ecs:runTask.sync`: the state waits for the task and fails if
it exits non-zero) rather than taken from CDK's EcsRunTask, so that the state machines' role
may run exactly these task definitions in this cluster, stop and describe only this
cluster's tasks, and pass only the components' roles to ECS. An event that cannot start its
execution is retried for a day, then kept in an encrypted queue.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from practicelake_aws.config import Deployment
from practicelake_aws.findings import acknowledge, redundant_depends_on
from practicelake_aws.logs import Logs
from practicelake_aws.storage import zone_key
from practicelake_aws.tasks import ARRIVAL

# The rule Step Functions itself keeps to learn that a task stopped (AWS's documented name).
SYNC_RULE = "StepFunctionsGetEventsForECSTaskRule"
RUN_TIMEOUT = Duration.hours(6)


class Schedule(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        deployment: Deployment,
        cluster: ecs.Cluster,
        definitions: dict[str, ecs.FargateTaskDefinition],
        subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        landing: s3.IBucket,
        logs: Logs,
    ) -> None:
        super().__init__(scope, construct_id)
        self.cluster = cluster
        self.network = {
            "AwsvpcConfiguration": {
                "Subnets": cluster.vpc.select_subnets(subnet_type=subnets.subnet_type).subnet_ids,
                "SecurityGroups": [security_group.security_group_id],
                "AssignPublicIp": "DISABLED",
            }
        }
        self.role = iam.Role(
            self,
            "Role",
            description="practicelake: the state machines that run the pipeline's tasks",
            assumed_by=iam.ServicePrincipal(
                "states.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
        )
        run = [definitions[name] for name in ("ingest", "transform", "curate")]
        self.policy = iam.ManagedPolicy(
            self,
            "RunTasks",
            description="practicelake: run the ingest, transform and curate tasks, and nothing else",
            statements=run_task_statements(cluster, deployment.name, run),
            roles=[self.role],
        )
        key = zone_key(self, "events", deployment.name, "undelivered pipeline events")
        self.undelivered = sqs.Queue(
            self,
            "Undelivered",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.undelivered,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the EventBridge targets (EventBridge's kind, "
            "which cdk-nag cannot see as SQS redrive); a queue behind it would only move the same messages.",
        )
        self.arrival = self._machine(deployment, logs, "arrival", self._ingest(definitions["ingest"]))
        self.pipeline = self._machine(deployment, logs, "pipeline", self._transform_then_curate(definitions))
        rule = events.Rule(
            self,
            "Arrived",
            description="practicelake: ingest each export that arrives in the landing bucket",
            event_pattern=events.EventPattern(
                source=["aws.s3"], detail_type=["Object Created"], detail={"bucket": {"name": [landing.bucket_name]}}
            ),
        )
        arrived = events.RuleTargetInput.from_object(
            {
                "key": events.EventField.from_path("$.detail.object.key"),
                "version": events.EventField.from_path("$.detail.object.version-id"),
            }
        )
        rule.add_target(self._target(self.arrival, arrived))
        timer = events.Rule(
            self,
            "Timer",
            description="practicelake: transform, then curate",
            schedule=events.Schedule.expression(deployment.schedule),
        )
        timer.add_target(self._target(self.pipeline, events.RuleTargetInput.from_object({})))

    def _target(self, machine: sfn.StateMachine, payload: events.RuleTargetInput) -> targets.SfnStateMachine:
        return targets.SfnStateMachine(
            machine,
            input=payload,
            dead_letter_queue=self.undelivered,
            retry_attempts=10,
            max_event_age=Duration.hours(24),
        )

    def _task(
        self, construct_id: str, definition: ecs.FargateTaskDefinition, command: str | None = None
    ) -> sfn.CustomState:
        container = definition.default_container
        assert container is not None
        overrides: dict[str, Any] = {}
        if command is not None:
            overrides = {"ContainerOverrides": [{"Name": container.container_name, "Command.$": command}]}
        return sfn.CustomState(
            self,
            construct_id,
            state_json={
                "Type": "Task",
                "Resource": f"arn:{Aws.PARTITION}:states:::ecs:runTask.sync",
                "Parameters": {
                    "Cluster": self.cluster.cluster_arn,
                    "TaskDefinition": definition.task_definition_arn,
                    "LaunchType": "FARGATE",
                    "PlatformVersion": "LATEST",
                    "NetworkConfiguration": self.network,
                    "Overrides": overrides,
                },
                "TimeoutSeconds": int(RUN_TIMEOUT.to_seconds()),
                "ResultPath": None,
                # A run already holding the writer lock ends within its lease; then the next one gets it.
                "Retry": [
                    {"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 120, "MaxAttempts": 2, "BackoffRate": 3}
                ],
            },
        )

    def _ingest(self, definition: ecs.FargateTaskDefinition) -> sfn.IChainable:
        quoted = ", ".join(f"'{part}'" for part in ARRIVAL)
        return self._task("Ingest", definition, f"States.Array({quoted}, $.key, '--version-id', $.version)")

    def _transform_then_curate(self, definitions: dict[str, ecs.FargateTaskDefinition]) -> sfn.IChainable:
        transform = self._task("Transform", definitions["transform"])
        curate = self._task("Curate", definitions["curate"])
        failed = sfn.Fail(self, "TransformFailed", cause="transform failed; curate ran on what the cleaned zone holds")
        verdict = (
            sfn.Choice(self, "TransformOk")
            .when(sfn.Condition.is_present("$.transform_error"), failed)
            .otherwise(sfn.Succeed(self, "Done"))
        )
        transform.add_catch(curate, errors=["States.ALL"], result_path="$.transform_error")
        curate.next(verdict)
        return transform.next(curate)

    def _machine(self, deployment: Deployment, logs: Logs, name: str, body: sfn.IChainable) -> sfn.StateMachine:
        machine = sfn.StateMachine(
            self,
            name.capitalize(),
            state_machine_name=f"{deployment.name}-{name}",
            definition_body=sfn.DefinitionBody.from_chainable(body),
            role=self.role,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=logs.group(self, f"{name.capitalize()}Logs", name),
                level=sfn.LogLevel.ALL,
                include_execution_data=False,  # an execution's input names an export's key
            ),
        )
        machine.node.add_dependency(self.policy)  # its tasks run only once it may run them
        redundant_depends_on(machine)
        return machine


def run_task_statements(
    cluster: ecs.Cluster, cluster_name: str, definitions: list[ecs.FargateTaskDefinition]
) -> list[iam.PolicyStatement]:
    """What `ecs:runTask.sync` needs, and no more."""
    stack = Stack.of(cluster)
    in_cluster = {"ArnEquals": {"ecs:cluster": cluster.cluster_arn}}
    tasks = stack.format_arn(service="ecs", resource="task", resource_name=f"{cluster_name}/*")
    passed = [role.role_arn for d in definitions for role in (d.task_role, d.obtain_execution_role())]
    return [
        iam.PolicyStatement(
            sid="RunTasks",
            actions=["ecs:RunTask"],
            resources=[d.task_definition_arn for d in definitions],
            conditions=in_cluster,
        ),
        iam.PolicyStatement(sid="FollowTasks", actions=["ecs:StopTask", "ecs:DescribeTasks"], resources=[tasks]),
        iam.PolicyStatement(
            sid="HearTasksStop",
            actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            resources=[stack.format_arn(service="events", resource="rule", resource_name=SYNC_RULE)],
        ),
        iam.PolicyStatement(
            sid="PassTaskRoles",
            actions=["iam:PassRole"],
            resources=passed,
            conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        ),
    ]
