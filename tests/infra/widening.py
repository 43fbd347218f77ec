"""Deliberate widenings of a copy of the template (conftest.widened): what an attacker, or a
careless change, would add. Each check of the infra suite is run against at least one of
them, to show that it would fail."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from conftest import Synthesized, widened

Widening = Callable[[Synthesized], object]
Check = Callable[[Synthesized], Iterator[str]]


class Rules:
    """Checks of a template, each yielding one finding per breach, each registered with the
    widenings it must catch (at least one: a check never shown to fail proves nothing)."""

    def __init__(self) -> None:
        self.checks: dict[str, Check] = {}
        self.widenings: dict[str, dict[str, Widening]] = {}

    def __call__(self, *widenings: tuple[str, Widening]) -> Callable[[Check], Check]:
        assert widenings, "a rule needs a widening it catches"

        def register(check: Check) -> Check:
            self.checks[check.__name__] = check
            self.widenings[check.__name__] = dict(widenings)
            return check

        return register

    def cases(self) -> list[tuple[str, str]]:
        return [(name, label) for name, found in self.widenings.items() for label in found]

    def findings(self, s: Synthesized, name: str, widened_by: str | None = None) -> list[str]:
        """What the check finds in `s`, or in a copy of it widened by `widened_by`."""
        if widened_by is not None:
            s = widened(s)
            self.widenings[name][widened_by](s)
        return list(self.checks[name](s))


def expect(what: str, found: set[str], wanted: set[str]) -> Iterator[str]:
    if found != wanted:
        yield f"{what}: {sorted(found)}, not {sorted(wanted)}"


def arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def objects(s: Synthesized, zone: str, prefix: str = "") -> dict[str, Any]:
    """`<bucket ARN>/<prefix>*`, as CDK writes it (Fn::Join over Fn::GetAtt)."""
    return {"Fn::Join": ["", [arn(s.buckets[zone]), f"/{prefix}*"]]}


def objects_by_sub(s: Synthesized, zone: str) -> dict[str, Any]:
    return {"Fn::Sub": f"${{{s.buckets[zone]}.Arn}}/*"}


def objects_by_name(s: Synthesized, zone: str) -> dict[str, Any]:
    """`arn:aws:s3:::<bucket name>/*`, built from the bucket's Ref."""
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": s.buckets[zone]}, "/*"]]}


def zone_key(s: Synthesized, zone: str) -> dict[str, Any]:
    return arn(s.bucket_key(s.buckets[zone]))


def policy_of(s: Synthesized, component: str) -> dict[str, Any]:
    """The customer-managed policy attached to the component's role."""
    role = s.components[component]
    (found,) = [
        r
        for r in s.of_type("AWS::IAM::ManagedPolicy").values()
        if any(entry == {"Ref": role} for entry in r["Properties"].get("Roles", []))
    ]
    return found


def statement(s: Synthesized, component: str, sid: str) -> dict[str, Any]:
    matching: list[dict[str, Any]] = [
        x for x in policy_of(s, component)["Properties"]["PolicyDocument"]["Statement"] if x.get("Sid") == sid
    ]
    (found,) = matching
    return found


def extend(s: Synthesized, component: str, sid: str, *actions: str) -> None:
    """Add actions to one statement of the component's policy."""
    found = statement(s, component, sid)
    found["Action"] = [*(found["Action"] if isinstance(found["Action"], list) else [found["Action"]]), *actions]


def add_resource(s: Synthesized, component: str, sid: str, resource: Any) -> None:
    found = statement(s, component, sid)
    found["Resource"] = [*(found["Resource"] if isinstance(found["Resource"], list) else [found["Resource"]]), resource]


def attach(s: Synthesized, component: str, actions: list[str], resources: Any, how: str = "policy") -> None:
    attach_statement(s, component, {"Effect": "Allow", "Action": actions, "Resource": resources}, how)


def attach_statement(s: Synthesized, component: str, added: dict[str, Any], how: str = "policy") -> None:
    """Give the component's role a new statement, the way `how` says: a separate inline
    policy (AWS::IAM::Policy), an inline policy in the role itself, or a new managed policy
    that the role lists by ARN."""
    role = s.components[component]
    document = {"Version": "2012-10-17", "Statement": [added]}
    if how == "policy":
        s.resources["Widened"] = {
            "Type": "AWS::IAM::Policy",
            "Properties": {"PolicyName": "widened", "PolicyDocument": document, "Roles": [{"Ref": role}]},
        }
    elif how == "inline":
        s.resources[role]["Properties"].setdefault("Policies", []).append(
            {"PolicyName": "widened", "PolicyDocument": document}
        )
    else:
        s.resources["Widened"] = {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": document}}
        s.resources[role]["Properties"].setdefault("ManagedPolicyArns", []).append({"Ref": "Widened"})


def bucket_grant(s: Synthesized, zone: str, principal: Any, actions: list[str], resource: Any = None) -> None:
    """An Allow added to the zone bucket's own policy."""
    (policy,) = [
        r for r in s.of_type("AWS::S3::BucketPolicy").values() if r["Properties"]["Bucket"] == {"Ref": s.buckets[zone]}
    ]
    policy["Properties"]["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Principal": principal, "Action": actions, "Resource": resource or objects(s, zone)}
    )


def key_grant(s: Synthesized, zone: str, principal: Any, actions: list[str]) -> None:
    """An Allow added to the zone key's key policy."""
    key = s.resources[s.bucket_key(s.buckets[zone])]
    key["Properties"]["KeyPolicy"]["Statement"].append(
        {"Effect": "Allow", "Principal": principal, "Action": actions, "Resource": "*"}
    )


def role_principal(s: Synthesized, component: str) -> dict[str, Any]:
    return {"AWS": arn(s.components[component])}


def condition(s: Synthesized, component: str, sid: str) -> dict[str, Any]:
    """The StringEquals condition of one statement of the component's policy."""
    found: dict[str, Any] = statement(s, component, sid)["Condition"]["StringEquals"]
    return found


def add_purpose(s: Synthesized, component: str, sid: str, purpose: str) -> None:
    condition(s, component, sid)["kms:EncryptionContext:practicelake:purpose"].append(purpose)


def execution_role_gets(s: Synthesized, actions: list[str], resource: object) -> None:
    """An inline policy for the web task's execution role (a role CDK makes, not a component's)."""
    s.resources["Widened"] = {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "widened",
            "Roles": [{"Ref": s.at("Tasks/Web/ExecutionRole/Resource")}],
            "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]},
        },
    }


def file_system_allows(s: Synthesized, principal: object, actions: list[str]) -> None:
    file_system = s.resources[s.at("State/FileSystem/Resource")]
    file_system["Properties"]["FileSystemPolicy"]["Statement"].append(
        {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": actions}
    )


def trust(s: Synthesized, component: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = s.resources[s.components[component]]["Properties"]["AssumeRolePolicyDocument"][
        "Statement"
    ]
    return found
