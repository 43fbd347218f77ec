"""Every rule of the template's checks (test_buckets, test_least_privilege, test_policies,
test_resources) holds on the synthesised stack, and sees each wider setting registered with it:
a check that cannot fail is no check."""

from __future__ import annotations

import pytest
import test_buckets
import test_least_privilege
import test_policies
import test_resources
import widening as w

from conftest import Synthesized

REGISTRIES = {
    module.__name__: module.RULES for module in (test_buckets, test_least_privilege, test_policies, test_resources)
}
CHECKS = [(module, name) for module, rules in REGISTRIES.items() for name in rules.checks]
CASES = [(module, name, widened) for module, rules in REGISTRIES.items() for name, widened in rules.cases()]


def rules(module: str) -> w.Rules:
    return REGISTRIES[module]


@pytest.mark.parametrize(("module", "name"), CHECKS)
def test_the_stack_keeps_the_rule(synthesized: Synthesized, module: str, name: str) -> None:
    assert rules(module).findings(synthesized, name) == []


@pytest.mark.parametrize(("module", "name", "widened_by"), CASES)
def test_the_rule_catches_a_wider_setting(synthesized: Synthesized, module: str, name: str, widened_by: str) -> None:
    assert rules(module).findings(synthesized, name, widened_by), f"{name} did not see: {widened_by}"
