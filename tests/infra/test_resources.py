"""The other resources' settings, read from the synthesised template: the Athena workgroup
enforced, encrypted and bounded; the Glue databases at their zones; the schedule and the
arrival rule starting the pipeline; the dashboard HTTPS-only; the trail's data events. As in
test_least_privilege.py, each rule must also report the widenings listed with it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import widening as w
from auditor import listed, references, resolved

from conftest import DEFAULTS, Synthesized, widened

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("cdk")]

RULES = w.Rules()
MODERN_TLS = ("ELBSecurityPolicy-TLS13-1-2-", "ELBSecurityPolicy-TLS13-1-3-")
"""ELB policies that offer TLS 1.3 and accept nothing below TLS 1.2."""
RUN_TASK = "arn:<AWS::Partition>:states:::ecs:runTask.sync"


def definition(s: Synthesized, machine: str) -> dict[str, Any]:
    """A state machine's definition, references resolved (`<LogicalId>` inside its strings)."""
    parsed: dict[str, Any] = json.loads(resolved(s.props(machine)["DefinitionString"]))
    return parsed


def task_definition(s: Synthesized, component: str) -> str:
    (found,) = [
        n
        for n, r in s.of_type("AWS::ECS::TaskDefinition").items()
        if r["Properties"]["Family"].endswith(f"-{component}")
    ]
    return found


def runs(s: Synthesized, machine: str) -> dict[str, str]:
    """The machine's ECS task states: state name -> the component whose task definition it runs."""
    definitions = {f"<{task_definition(s, c)}>": c for c in s.components}
    return {
        name: definitions.get(state["Parameters"].get("TaskDefinition"), "?")
        for name, state in definition(s, machine)["States"].items()
        if state["Type"] == "Task" and state["Resource"] == RUN_TASK
    }


def target(s: Synthesized, rule: str) -> str:
    (found,) = [t for t in s.props(rule).get("Targets", [])]
    (machine,) = references(found["Arn"])
    return machine


def workgroup(s: Synthesized) -> dict[str, Any]:
    (found,) = s.of_type("AWS::Athena::WorkGroup")
    configuration: dict[str, Any] = s.props(found)["WorkGroupConfiguration"]
    return configuration


@RULES(
    ("configuration not enforced", lambda s: workgroup(s).update(EnforceWorkGroupConfiguration=False)),
    (
        "results with S3-managed keys",
        lambda s: workgroup(s)["ResultConfiguration"].update(EncryptionConfiguration={"EncryptionOption": "SSE_S3"}),
    ),
    (
        "results under raw's key",
        lambda s: workgroup(s)["ResultConfiguration"]["EncryptionConfiguration"].update(KmsKey=w.zone_key(s, "raw")),
    ),
    ("no scan cutoff", lambda s: workgroup(s).pop("BytesScannedCutoffPerQuery")),
)
def athena_is_enforced_encrypted_and_bounded(s: Synthesized) -> Iterator[str]:
    found = workgroup(s)
    results = found.get("ResultConfiguration", {})
    encryption = results.get("EncryptionConfiguration", {})
    athena = s.buckets["athena"]
    if found.get("EnforceWorkGroupConfiguration") is not True:
        yield "the workgroup lets a query override its settings"
    if encryption.get("EncryptionOption") != "SSE_KMS" or references(encryption.get("KmsKey", "")) != {
        s.bucket_key(athena)
    }:
        yield f"results are not encrypted with the athena bucket's key: {encryption}"
    if not resolved(results.get("OutputLocation", "")).startswith(f"s3://<{athena}>/"):
        yield "results go elsewhere than the athena bucket"
    if found.get("BytesScannedCutoffPerQuery") != DEFAULTS["athena_bytes_per_query"]:
        yield f"scan cutoff {found.get('BytesScannedCutoffPerQuery')}, not {DEFAULTS['athena_bytes_per_query']}"


@RULES(
    ("curated's database missing", lambda s: s.resources.pop(s.at("Catalog/Curated"))),
    (
        "ops located in raw",
        lambda s: s.props(s.at("Catalog/Ops"))["DatabaseInput"].update(
            LocationUri={"Fn::Join": ["", ["s3://", {"Ref": s.buckets["raw"]}, "/iceberg/ops"]]}
        ),
    ),
)
def glue_databases_sit_in_their_zones(s: Synthesized) -> Iterator[str]:
    found = {
        r["Properties"]["DatabaseInput"]["Name"]: resolved(r["Properties"]["DatabaseInput"].get("LocationUri"))
        for r in s.of_type("AWS::Glue::Database").values()
    }
    wanted = {
        namespace: f"s3://<{s.buckets[namespace]}>/iceberg/{namespace}" for namespace in ("cleaned", "curated", "ops")
    }
    yield from w.expect(
        "Glue databases", {f"{n} at {at}" for n, at in found.items()}, {f"{n} at {at}" for n, at in wanted.items()}
    )


def scheduled(s: Synthesized, path: str) -> str:
    return s.at(f"Schedule/{path}/Resource")


@RULES(
    ("the timer disabled", lambda s: s.props(scheduled(s, "Timer")).update(State="DISABLED")),
    (
        "the timer starts the arrival machine",
        lambda s: s.props(scheduled(s, "Timer"))["Targets"][0].update(Arn={"Ref": scheduled(s, "Arrival")}),
    ),
    (
        "curate left out",
        lambda s: _replace_in_definition(s, "Pipeline", task_definition(s, "curate"), task_definition(s, "transform")),
    ),
)
def the_schedule_runs_transform_then_curate(s: Synthesized) -> Iterator[str]:
    timer = s.props(scheduled(s, "Timer"))
    if timer.get("ScheduleExpression") != DEFAULTS["schedule"] or timer.get("State") != "ENABLED":
        yield f"the timer is not on {DEFAULTS['schedule']}"
        return
    machine = target(s, scheduled(s, "Timer"))
    states = definition(s, machine)["States"]
    tasks = runs(s, machine)
    order = {component: name for name, component in tasks.items()}
    if sorted(tasks.values()) != ["curate", "transform"]:
        yield f"the scheduled machine runs {sorted(tasks.values())}"
        return
    transform = states[order["transform"]]
    if definition(s, machine)["StartAt"] != order["transform"] or transform.get("Next") != order["curate"]:
        yield "transform does not run first, then curate"
    if [c["Next"] for c in transform.get("Catch", [])] != [order["curate"]]:
        yield "curate does not run after a failed transform (it recovers its own dead runs)"


@RULES(
    ("landing sends no events", lambda s: s.bucket_props("landing").pop("NotificationConfiguration")),
    (
        "the rule watches raw",
        lambda s: s.props(scheduled(s, "Arrived"))["EventPattern"]["detail"]["bucket"].update(
            name=[{"Ref": s.buckets["raw"]}]
        ),
    ),
    ("the ingest loses the key", lambda s: _replace_in_definition(s, "Arrival", "$.key", "'landing'")),
)
def an_arrival_starts_its_ingest(s: Synthesized) -> Iterator[str]:
    if s.bucket_props("landing").get("NotificationConfiguration") != {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }:
        yield "the landing bucket does not send its events to EventBridge"
    arrived = s.props(scheduled(s, "Arrived"))
    pattern = arrived["EventPattern"]
    wanted = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [{"Ref": s.buckets["landing"]}]}},
    }
    if pattern != wanted or arrived.get("State") != "ENABLED":
        yield f"the arrival rule matches {pattern}"
    (passed,) = arrived["Targets"]
    paths = passed.get("InputTransformer", {}).get("InputPathsMap", {})
    if sorted(paths.values()) != ["$.detail.object.key", "$.detail.object.version-id"]:
        yield f"the arrival passes {paths}"
    machine = target(s, scheduled(s, "Arrived"))
    if sorted(runs(s, machine).values()) != ["ingest"]:
        yield f"the arrival machine runs {runs(s, machine)}"
        return
    (state,) = (definition(s, machine)["States"][name] for name in runs(s, machine))
    (override,) = state["Parameters"]["Overrides"]["ContainerOverrides"]
    command = override.get("Command.$", "")
    if not all(part in command for part in ("/opt/practicelake/arrival.py", "$.key", "--version-id", "$.version")):
        yield f"the ingest runs {command!r}"


def _replace_in_definition(s: Synthesized, machine: str, old: str, new: str) -> None:
    logical_id = s.at(f"Schedule/{machine}/Resource")
    text = json.dumps(s.props(logical_id)["DefinitionString"]).replace(old, new)
    s.props(logical_id)["DefinitionString"] = json.loads(text)


def listener(port: int, protocol: str, action: dict[str, Any], policy: str | None = None) -> Any:
    found: dict[str, Any] = {
        "Port": port,
        "Protocol": protocol,
        "DefaultActions": [action],
        "LoadBalancerArn": {"Ref": "B"},
    }
    if policy:
        found["SslPolicy"] = policy
    return {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": found}


FORWARD = {"Type": "forward", "TargetGroupArn": {"Ref": "T"}}
REDIRECT = {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}


@RULES(
    ("a plain-HTTP listener forwarding", lambda s: s.resources.update(Plain=listener(80, "HTTP", FORWARD))),
    (
        "an old TLS policy",
        lambda s: s.props(s.at("Web/Balancer/Https/Resource")).update(SslPolicy="ELBSecurityPolicy-2016-08"),
    ),
    (
        "the balancer open on 8080",
        lambda s: s.props(s.at("Web/BalancerGroup/Resource"))["SecurityGroupIngress"].append(
            {"CidrIp": "0.0.0.0/0", "FromPort": 8080, "ToPort": 8080, "IpProtocol": "tcp"}
        ),
    ),
)
def the_dashboard_is_https_only(s: Synthesized) -> Iterator[str]:
    """HTTPS with a TLS 1.3 policy; plain HTTP only as a redirect to HTTPS, if at all."""
    ports = set()
    for name, found in s.of_type("AWS::ElasticLoadBalancingV2::Listener").items():
        p = found["Properties"]
        ports.add(p["Port"])
        actions = p.get("DefaultActions", [])
        if p.get("Protocol") == "HTTPS":
            if not str(p.get("SslPolicy", "")).startswith(MODERN_TLS):
                yield f"{name} allows {p.get('SslPolicy')}"
        elif not actions or any(
            a.get("Type") != "redirect" or a.get("RedirectConfig", {}).get("Protocol") != "HTTPS" for a in actions
        ):
            yield f"{name} serves {p.get('Protocol')} on {p.get('Port')}"
    for rule in s.of_type("AWS::ElasticLoadBalancingV2::ListenerRule").values():
        (held,) = references(rule["Properties"]["ListenerArn"])
        if s.props(held).get("Protocol") != "HTTPS":
            yield f"a rule of {held} serves plain HTTP"
    balancer = s.props(s.at("Web/BalancerGroup/Resource"))
    for entry in balancer.get("SecurityGroupIngress", []):
        if (entry["FromPort"], entry["ToPort"]) not in {(port, port) for port in ports}:
            yield f"the balancer admits ports {entry['FromPort']}-{entry['ToPort']}"


def test_a_redirect_from_plain_http_is_fine(synthesized: Synthesized) -> None:
    copy = widened(synthesized)
    copy.resources["Plain"] = listener(80, "HTTP", REDIRECT)
    assert list(RULES.checks["the_dashboard_is_https_only"](copy)) == []


def trail(s: Synthesized) -> dict[str, Any]:
    return s.props(s.at("Audit/Trail/Resource"))


@RULES(
    ("raw left out of the data events", lambda s: trail(s)["EventSelectors"][1]["DataResources"][0]["Values"].pop(1)),
    ("writes only", lambda s: trail(s)["EventSelectors"][1].update(ReadWriteType="WriteOnly")),
    ("no log file validation", lambda s: trail(s).update(EnableLogFileValidation=False)),
)
def the_trail_records_every_object_read_and_write(s: Synthesized) -> Iterator[str]:
    found = trail(s)
    if not (found.get("EnableLogFileValidation") and found.get("IsMultiRegionTrail") and found.get("IsLogging")):
        yield "the trail is not validated, multi-region and logging"
    if references(found.get("KMSKeyId", "")) != {s.bucket_key(s.buckets["audit"])}:
        yield "the trail is not encrypted with the audit key"
    logged = {
        resolved(value)
        for selector in found.get("EventSelectors", [])
        if selector.get("ReadWriteType") == "All"
        for resource in selector.get("DataResources", [])
        if resource["Type"] == "AWS::S3::Object"
        for value in listed(resource["Values"])
    }
    for zone in ("landing", "raw", "cleaned", "curated", "ops"):
        if f"<{s.buckets[zone]}.Arn>/" not in logged:
            yield f"the trail does not record {zone}'s object reads and writes"
