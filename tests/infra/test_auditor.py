"""The auditor's reading of CloudFormation (auditor.py): references resolved to logical ids
through every intrinsic CDK writes, and read generously where they cannot be."""

from __future__ import annotations

import pytest
from auditor import grant, may_be, names, references, resolved


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"Ref": "Raw"}, "<Raw>"),
        ({"Fn::GetAtt": ["Raw", "Arn"]}, "<Raw.Arn>"),
        ({"Fn::GetAtt": "Raw.Arn"}, "<Raw.Arn>"),
        ({"Fn::Join": ["", [{"Fn::GetAtt": ["Raw", "Arn"]}, "/raw/*"]]}, "<Raw.Arn>/raw/*"),
        ({"Fn::Sub": "arn:${AWS::Partition}:s3:::${Raw}/*"}, "arn:<AWS::Partition>:s3:::<Raw>/*"),
        ({"Fn::Sub": ["${Bucket}/*", {"Bucket": {"Ref": "Curated"}}]}, "<Curated>/*"),
        ({"Fn::If": ["Cond", "a", "b"]}, "*"),
    ],
)
def test_a_value_resolves_to_what_it_refers_to(value: object, text: str) -> None:
    assert resolved(value) == text


def test_pseudo_parameters_are_not_logical_ids() -> None:
    assert references({"Fn::Sub": "${AWS::AccountId}:${Raw.Arn}"}) == {"Raw"}


@pytest.mark.parametrize(
    ("resource", "raw", "curated"),
    [
        ("<Raw.Arn>/*", True, False),
        ("*", True, True),
        ("arn:aws:s3:::*", True, True),
        ("arn:aws:s3:::named", False, False),
    ],
)
def test_a_resource_that_names_nothing_but_has_a_wildcard_may_be_anything(
    resource: str, raw: bool, curated: bool
) -> None:
    assert (may_be(resource, "Raw"), may_be(resource, "Curated")) == (raw, curated)


def test_not_action_and_not_resource_grant_everything() -> None:
    widened = grant("P", {"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::x"})
    assert widened.allows("s3:PutObject") and widened.on("Raw")


@pytest.mark.parametrize(
    ("principal", "reaches"),
    [
        ("*", True),
        ({"AWS": "*"}, True),
        ({"AWS": {"Fn::GetAtt": ["WebRole", "Arn"]}}, True),
        ({"AWS": {"Fn::GetAtt": ["OtherRole", "Arn"]}}, False),
        ({"AWS": "arn:aws:iam::210987654321:role/unknown"}, True),
        (
            {
                "AWS": {
                    "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"]]
                }
            },
            False,
        ),
        ({"Service": "logging.s3.amazonaws.com"}, False),
    ],
)
def test_a_resource_policy_reaches_a_role_it_may_name(principal: object, reaches: bool) -> None:
    assert names(principal, "WebRole") is reaches
