"""The cdk-nag findings the stack acknowledges across many constructs, each for one reason
written here once: wildcards that cannot be narrowed, and inline policies that CDK writes.

Wildcards (AwsSolutions-IAM5). Every policy of the stack is read as CloudFormation will see
it; each resource with a `*` must match one of WILDCARDS, and a policy that allows an action
on every resource (`*`) must allow only actions of ANY_RESOURCE, for which AWS offers no
narrower resource. Anything else stays unacknowledged and fails the synthesis: a new
wildcard is seen, and needs its reason written here. A wildcard *action* is never
acknowledged.

Inline policies (HIPAA.Security-IAMNoInlinePolicy). The components' roles use
customer-managed policies (roles.py); the roles CDK makes for its own constructs (task
execution, flow logs, the trail's log delivery, the state machines' logging) get the
permissions CDK derives in an inline policy, bound to that one role.

cfn-lint's one warning (W3005, a redundant DependsOn CDK adds) is silenced on the three
resources it is about, in their Metadata.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from aws_cdk import aws_iam as iam
from constructs import IConstruct

WILDCARDS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"<Storage\w+\.Arn>/([a-z_]+/)*\*"),
        "Objects under one prefix of one zone's bucket: their names are made at run time (keyed "
        "hashes of received files, Iceberg data and metadata files, run ids), so the prefix is the narrowest "
        "scope there is. The prefixes are those practicelake writes (access.py).",
    ),
    (
        re.compile(r"arn:<AWS::Partition>:glue:[^:]+:<AWS::AccountId>:table/(cleaned|curated)/\*"),
        "The tables of one Glue database: the pipeline creates one per entity and per model as they are "
        "added, so the database is the narrowest scope; no other database's tables are included.",
    ),
    (
        re.compile(r"arn:<AWS::Partition>:ecs:[^:]+:<AWS::AccountId>:task/[a-z0-9-]+/\*"),
        "The tasks of this deployment's cluster: a task's id is made when it starts.",
    ),
]

ANY_RESOURCE = {
    "ecr:GetAuthorizationToken": "ECR's registry token is account-wide (AWS: no resource-level permission)",
    "ssmmessages:CreateControlChannel": "the ECS Exec channel has no resource-level permissions",
    "ssmmessages:CreateDataChannel": "the ECS Exec channel has no resource-level permissions",
    "ssmmessages:OpenControlChannel": "the ECS Exec channel has no resource-level permissions",
    "ssmmessages:OpenDataChannel": "the ECS Exec channel has no resource-level permissions",
    "logs:DescribeLogGroups": "lists log groups; AWS grants it on every resource only",
    "logs:CreateLogDelivery": "CloudWatch Logs' delivery APIs used by Step Functions logging: AWS requires '*'",
    "logs:GetLogDelivery": "CloudWatch Logs' delivery APIs used by Step Functions logging: AWS requires '*'",
    "logs:UpdateLogDelivery": "CloudWatch Logs' delivery APIs used by Step Functions logging: AWS requires '*'",
    "logs:DeleteLogDelivery": "CloudWatch Logs' delivery APIs used by Step Functions logging: AWS requires '*'",
    "logs:ListLogDeliveries": "CloudWatch Logs' delivery APIs used by Step Functions logging: AWS requires '*'",
    "logs:PutResourcePolicy": "CloudWatch Logs' delivery APIs used by Step Functions logging: AWS requires '*'",
    "logs:DescribeResourcePolicies": "CloudWatch Logs' delivery APIs used by Step Functions logging: AWS requires '*'",
    "xray:PutTraceSegments": "X-Ray tracing of the state machines: X-Ray has no resource-level permissions",
    "xray:PutTelemetryRecords": "X-Ray tracing of the state machines: X-Ray has no resource-level permissions",
    "xray:GetSamplingRules": "X-Ray tracing of the state machines: X-Ray has no resource-level permissions",
    "xray:GetSamplingTargets": "X-Ray tracing of the state machines: X-Ray has no resource-level permissions",
}

INLINE_REASON = (
    "CDK writes the permissions it derives for a role it makes (task execution: pull the image, write the "
    "task's log; flow logs; the trail's log copy; the state machines' logging) into that role's inline "
    "policy, bound to that one role and to the resources it names. The components' own roles use "
    "customer-managed policies."
)


def redundant_depends_on(construct: IConstruct) -> None:
    """Tell cfn-lint that the resource's DependsOn on its role, which CDK adds at the construct
    level (it cannot be taken out of the template), repeats what the role's GetAtt already
    orders (W3005): harmless, and the only warning it has."""
    resource = construct.node.default_child
    assert isinstance(resource, CfnResource)
    resource.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})


def flattened(reference: Any) -> str:
    """A resource as cdk-nag names it in a finding (its flattenCfnReference)."""
    if isinstance(reference, str):
        return reference.replace("${", "<").replace("}", ">")
    if isinstance(reference, dict) and "Fn::Join" in reference:
        delimiter, items = reference["Fn::Join"]
        return str(delimiter).join(flattened(item) for item in items)
    if isinstance(reference, dict) and "Fn::GetAtt" in reference:
        resource, attribute = reference["Fn::GetAtt"]
        return f"<{flattened(resource)}.{flattened(attribute)}>"
    if isinstance(reference, dict) and "Ref" in reference:
        return f"<{flattened(reference['Ref'])}>"
    return json.dumps(reference, separators=(",", ":"))


def acknowledge_policies(stack: Stack) -> None:
    """Acknowledge the wildcards of every policy in `stack` that WILDCARDS or ANY_RESOURCE
    explain, and the inline policies CDK made."""
    for construct in stack.node.find_all():
        if isinstance(construct, iam.CfnManagedPolicy | iam.CfnPolicy):
            _wildcards(construct, stack.resolve(construct.policy_document))
        scope = construct.node.scope
        if isinstance(construct, iam.CfnPolicy) and scope is not None and scope.node.id == "DefaultPolicy":
            acknowledge(construct, "HIPAA.Security-IAMNoInlinePolicy", INLINE_REASON)


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))


def _wildcards(policy: IConstruct, document: dict[str, Any]) -> None:
    on_any: set[str] = set()
    for statement in document.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        actions = _listed(statement.get("Action"))
        for resource in map(flattened, _listed(statement.get("Resource"))):
            if resource == "*":
                on_any |= set(actions)
            elif "*" in resource:
                reason = next((why for pattern, why in WILDCARDS if pattern.fullmatch(resource)), None)
                if reason is not None:
                    acknowledge(policy, f"AwsSolutions-IAM5[Resource::{resource}]", reason)
    if on_any and on_any <= set(ANY_RESOURCE):
        reasons = "; ".join(sorted({f"{action}: {ANY_RESOURCE[action]}" for action in on_any}))
        acknowledge(policy, "AwsSolutions-IAM5[Resource::*]", "Actions AWS grants on every resource only. " + reasons)


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
