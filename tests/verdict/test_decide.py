"""The Rego decision: the rule of DESIGN.md §4, organisation rules, and failing closed."""

from __future__ import annotations

import dataclasses

import pytest

from canarykit.errors import PolicyError
from canarykit.verdict.decide import decide
from canarykit.verdict.policy import load_policy

POLICY = load_policy()
CTX = {"model": "risk-default", "mode": "canary", "baseline": "a", "candidate": "b"}


def _check(name: str, status: str, required: bool = True, kind: str = "error_rate") -> dict:
    return {
        "name": name,
        "kind": kind,
        "status": status,
        "required": required,
        "summary": f"{name} is {status}",
    }


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([("a", "pass", True), ("b", "pass", True)], "PROCEED"),
        ([("a", "pass", True), ("b", "inconclusive", False)], "PROCEED"),
        ([("a", "pass", True), ("b", "inconclusive", True)], "CONTINUE"),
        ([("a", "fail", False), ("b", "pass", True)], "STOP"),
        ([("a", "fail", True), ("b", "inconclusive", True)], "STOP"),
        ([], "CONTINUE"),
    ],
)
def test_decision_rule(statuses, expected):
    decision, reasons = decide([_check(*s) for s in statuses], policy=POLICY, context=CTX)
    assert decision == expected
    assert reasons


def test_stop_reasons_quote_failing_checks():
    _, reasons = decide(
        [_check("latency_p99", "fail"), _check("x", "pass")], policy=POLICY, context=CTX
    )
    assert reasons == ("latency_p99: latency_p99 is fail",)


def _with_module(name: str, text: str):
    return dataclasses.replace(POLICY, rego_modules=(*POLICY.rego_modules, (name, text)))


CREDIT_RULE = """package canarykit.decision
import rego.v1
hold_reasons contains "credit models need a passing fairness check" if {
    startswith(input.model, "credit-")
    not fairness_passes
}
fairness_passes if {
    some c in input.checks
    c.kind == "fairness_gap_delta"
    c.status == "pass"
}
"""


def test_organisation_rule_credit_models_need_passing_fairness():
    policy = _with_module("credit.rego", CREDIT_RULE)
    checks = [
        _check("error_rate", "pass"),
        _check("fairness_tpr", "inconclusive", required=False, kind="fairness_gap_delta"),
    ]
    assert decide(checks, policy=policy, context=CTX)[0] == "PROCEED"
    decision, reasons = decide(checks, policy=policy, context={**CTX, "model": "credit-limit"})
    assert decision == "CONTINUE"
    assert "credit models need a passing fairness check" in reasons


@pytest.mark.parametrize(
    "module",
    [
        "package canarykit.decision\nimport rego.v1\nthis is not rego",  # syntax error
        # a second, conflicting definition of result: regopy returns <error>
        'package canarykit.decision\nimport rego.v1\nresult := {"decision": "STOP", "reasons": []}',
        'package canarykit.decision\nimport rego.v1\nresult := {"decision": "MAYBE", "reasons": []}',
    ],
)
def test_broken_policy_is_a_policy_error_never_a_decision(module, capfd):
    """A policy the engine cannot evaluate is exit 2 (PolicyError), never CONTINUE or PROCEED;
    the message says what the checks alone would give, and nothing reaches stdout."""
    policy = _with_module("broken.rego", module)
    with pytest.raises(PolicyError, match="the checks alone would give PROCEED"):
        decide([_check("a", "pass")], policy=policy, context=CTX)
    with pytest.raises(PolicyError, match="the checks alone would give STOP"):
        decide([_check("a", "fail")], policy=policy, context=CTX)
    assert capfd.readouterr().out == ""


def test_undefined_result_is_a_policy_error():
    policy = dataclasses.replace(
        POLICY, rego_modules=(("other.rego", "package somewhere.else\nimport rego.v1\nx := 1"),)
    )
    with pytest.raises(PolicyError, match="undefined"):
        decide([_check("a", "pass")], policy=policy, context=CTX)


def test_a_rego_syntax_error_is_refused_when_the_policy_loads(tmp_path, capfd):
    from canarykit.verdict.policy import default_policy_path

    folder = tmp_path / "policy"
    folder.mkdir()
    for f in default_policy_path().glob("*.yaml"):
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "decision.rego").write_text("package canarykit.decision\nthis is not rego\n")
    with pytest.raises(PolicyError, match=r"decision\.rego: not valid Rego"):
        load_policy(folder)
    (folder / "decision.rego").write_bytes(b"package canarykit.decision\n\xff\xfe")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_policy(folder)
    assert capfd.readouterr().out == ""


def test_rules_cannot_loosen_the_decision():
    permissive = dataclasses.replace(
        POLICY,
        rego_modules=(
            (
                "yes.rego",
                'package canarykit.decision\nimport rego.v1\nresult := {"decision": "PROCEED", "reasons": ["ok"]}',
            ),
        ),
    )
    decision, reasons = decide([_check("a", "inconclusive")], policy=permissive, context=CTX)
    assert decision == "CONTINUE"
    assert any("do not allow" in r for r in reasons)
    assert decide([_check("a", "fail")], policy=permissive, context=CTX)[0] == "STOP"


def test_quotes_and_backslashes_in_names_do_not_break_the_engine():
    checks = [_check('lat"ency\\p95', "fail"), _check("ok", "pass")]
    decision, reasons = decide(checks, policy=POLICY, context=CTX)
    assert decision == "STOP"
    assert "could not be evaluated" not in " ".join(reasons)
    assert reasons[0].startswith("lat")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("package canarykit.decision\n\nx if { input.x == }\n", "(line 3, column 16)"),
        ("package canarykit.decision\nthis is not rego\n", "(line 2,"),
    ],
)
def test_a_rego_syntax_error_says_what_and_where(tmp_path, text, where, capfd):
    """The engine's message and position, not its S-expression (``(rego-errorseq``): found
    by a README walk-through with an extra module holding ``input.x ==``."""
    from canarykit.verdict.policy import default_policy_path

    folder = tmp_path / "policy"
    folder.mkdir()
    for f in default_policy_path().iterdir():
        if f.is_file():
            (folder / f.name).write_bytes(f.read_bytes())
    (folder / "org.rego").write_text(text)
    with pytest.raises(PolicyError) as caught:
        load_policy(folder)
    message = str(caught.value)
    assert message.startswith("org.rego: not valid Rego: ")
    assert "rego-errorseq" not in message
    assert where in message
    assert capfd.readouterr().out == ""
