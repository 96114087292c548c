"""Policy loading: schema validation with path-qualified, collected errors; snapshot digest."""

from __future__ import annotations

import shutil

import pytest
import yaml

from canarykit.errors import PolicyError
from canarykit.verdict.policy import default_policy_path, load_policy, parse_policy


def test_default_policy_has_the_standard_checks():
    policy = load_policy()
    c = policy.checks
    assert c["latency_p95"].threshold == 120.0
    assert c["latency_p95"].quantile == 0.95
    assert c["latency_p99"].threshold == 1.10
    assert c["latency_p99"].quantile == 0.99
    assert c["error_rate"].threshold == 0.005
    assert c["error_rate_delta"].threshold == 1.25
    assert c["auc_delta"].threshold == -0.01
    assert c["auc_delta"].bound == "min"
    assert c["fairness_selection_rate"].threshold == 0.02
    assert c["fairness_selection_rate"].features == ("group",)
    assert c["shadow_agreement"].threshold == 0.98
    assert c["shadow_agreement"].modes == ("shadow",)
    assert c["sample_ratio"].modes == ("canary",)
    assert [s.share for s in policy.rollout] == [0.05, 0.25, 1.0]
    assert all(s.window_minutes == 30 for s in policy.rollout)
    assert policy.decision_threshold == 0.5
    assert policy.alpha == 0.05
    assert any(name.endswith(".rego") for name, _ in policy.rego_modules)


def _doc() -> dict:
    return yaml.safe_load((default_policy_path() / "canary.yaml").read_text())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["checks"]["latency_p95"].update(max="fast"),
            "checks.latency_p95.max: must be a number, got 'fast'",
        ),
        (lambda d: d["checks"]["latency_p95"].pop("max"), "checks.latency_p95.max: required"),
        (lambda d: d["checks"]["auc_delta"].update(max=0.1), "checks.auc_delta.max: not allowed"),
        (
            lambda d: d["checks"]["latency_p99"].update(quantile=1.5),
            "checks.latency_p99.quantile: must be in",
        ),
        (
            lambda d: d["checks"]["fairness_tpr"].update(metric="accuracy"),
            "checks.fairness_tpr.metric: must be one of",
        ),
        (
            lambda d: d["checks"]["error_rate"].update(kind="magic"),
            "checks.error_rate.kind: must be one of",
        ),
        (
            lambda d: d["checks"]["error_rate"].update(required="yes"),
            "checks.error_rate.required: must be true or false",
        ),
        (
            lambda d: d["checks"]["error_rate"].update(modes=["prod"]),
            "checks.error_rate.modes: 'prod' is not one of",
        ),
        (
            lambda d: d["checks"]["error_rate"].update(colour="red"),
            "checks.error_rate.colour: unknown field",
        ),
        (
            lambda d: d["checks"]["error_rate"].update(evaluation="once"),
            "checks.error_rate.evaluation: 'once' is not available for kind error_rate",
        ),
        (lambda d: d.update(alpha=0.9), "alpha: must be in (0, 0.5]"),
        (lambda d: d.update(schema="v0"), "schema: must be 'canarykit.policy/1'"),
        (
            lambda d: d["rollout"]["steps"][1].update(share=0.01),
            "rollout.steps: shares must not decrease",
        ),
        (
            lambda d: d["rollout"]["steps"][0].pop("window_minutes"),
            "rollout.steps[0].window_minutes: required",
        ),
        (
            lambda d: d["min_samples"].update(control=-1),
            "min_samples.control: must be a non-negative integer",
        ),
    ],
)
def test_schema_errors_are_path_qualified(edit, message):
    doc = _doc()
    edit(doc)
    with pytest.raises(PolicyError) as info:
        parse_policy(doc)
    assert message in str(info.value)


def test_all_errors_are_collected_together():
    doc = _doc()
    doc["alpha"] = "high"
    doc["checks"]["latency_p95"]["max"] = None
    with pytest.raises(PolicyError) as info:
        parse_policy(doc)
    assert "alpha: must be a number" in str(info.value)
    assert "checks.latency_p95.max" in str(info.value)


def test_user_policy_folder_and_digest(tmp_path):
    folder = tmp_path / "policy"
    shutil.copytree(default_policy_path(), folder, ignore=shutil.ignore_patterns("promotion"))
    same = load_policy(folder)
    assert same.digest == load_policy().digest
    text = (folder / "canary.yaml").read_text().replace("max: 120.0", "max: 150.0")
    (folder / "canary.yaml").write_text(text)
    changed = load_policy(folder)
    assert changed.checks["latency_p95"].threshold == 150.0
    assert changed.digest != same.digest


def test_single_yaml_file_uses_shipped_rules(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text((default_policy_path() / "canary.yaml").read_text())
    policy = load_policy(path)
    assert {n for n, _ in policy.rego_modules} == {"decision.rego"}
    assert "mine.yaml" in policy.files


def test_unreadable_policy_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("checks: [unclosed")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(bad)
    with pytest.raises(PolicyError, match="does not exist"):
        load_policy(tmp_path / "missing")
    (tmp_path / "two").mkdir()
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / "two" / name).write_text("schema: canarykit.policy/1")
    with pytest.raises(PolicyError, match="exactly one YAML file"):
        load_policy(tmp_path / "two")


def test_a_policy_nested_thousands_deep_is_one_policy_error():
    from canarykit.errors import PolicyError
    from canarykit.verdict.policy import policy_from_files

    deep = ("checks: " + "[" * 5000 + "]" * 5000).encode()
    with pytest.raises(PolicyError, match="nested too deeply"):
        policy_from_files({"canary.yaml": deep})
