"""The webhook re-check never falls back to "permitted" (issue 15: fail closed)."""

from __future__ import annotations

import ast
from pathlib import Path

from gateway.policy.service import recheck_delivery
from gateway.subscriptions import policy


def test_without_a_component_the_policy_part_decides() -> None:
    assert policy.resolve_delivery_policy() is recheck_delivery
    assert policy.resolve_delivery_policy({}) is recheck_delivery
    assert policy.resolve_delivery_policy({policy.COMPONENT: None}) is recheck_delivery


def test_a_configured_component_is_used() -> None:
    sentinel = policy.as_routed
    assert policy.resolve_delivery_policy({policy.COMPONENT: sentinel}) is sentinel


def test_no_dynamic_import_on_the_policy_path() -> None:
    tree = ast.parse(Path(policy.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "importlib" not in imported
    assert "importlib" not in modules
    resolve = next(
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef) and n.name == "resolve_delivery_policy"
    )
    returned = [n.value for n in ast.walk(resolve) if isinstance(n, ast.Return)]
    assert all(
        not (isinstance(value, ast.Name) and value.id == "as_routed") for value in returned
    ), "resolve_delivery_policy must never fall back to the permitting as_routed"
