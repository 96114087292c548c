"""Signed verdicts and re-derived decisions at the Approved gate (issue 12).

The gate takes a verdict only as a DSSE envelope signed for purpose ``verdict`` about this
version, and re-runs the bound, sanctioned policy's own decision over its checks. Every refused
attempt is: attempt → the expected denial message → a ``gate_denied`` audit event carrying it.
The table in ``docs/security.md`` ("Evidence: verdicts and policies") lists them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from promotion_world import (
    MODEL,
    SHIPPED_CHECKS,
    World,
    make_verdict,
    pem,
    shipped_policy,
    sign_policy_folder,
)

from canarykit.cli.main import main
from canarykit.errors import GateDeniedError
from canarykit.promotion.evidence import digest_file, sign_statement
from canarykit.promotion.verdict_attestation import (
    VERDICT_PREDICATE_TYPE,
    attest_verdict,
    signed_verdict,
    verdict_statement,
)
from canarykit.promotion.verdicts import verdict_digest
from canarykit.verdict import evaluate

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
VERSION = "v2.3.0"  # the candidate of the clean_canary sample
ORG_RULE = """package canarykit.decision

import rego.v1

# The organisation's release line: no candidate whose p95 latency estimate exceeds 90 ms.
stop_reasons contains sprintf("org hold: latency_p95 estimate %v ms is above the 90 ms release line", [c.estimate]) if {
	some c in input.checks
	c.name == "latency_p95"
	c.estimate > 90
}
"""


@pytest.fixture(scope="module")
def clean_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clean_canary sample as traces of ``risk-default`` (the world's model)."""
    table = pq.read_table(SAMPLES / "clean_canary.parquet")
    models = pa.array([MODEL] * table.num_rows)
    table = table.set_column(table.schema.get_field_index("model"), "model", models)
    path = tmp_path_factory.mktemp("samples") / "risk_default_clean.parquet"
    pq.write_table(table, path)
    return path


def _staged(w: World, version: str = "v1", **overrides: Any) -> None:
    w.submit(version)
    w.to_staging(version, **overrides)


def _denied(w: World, attempt: Callable[[], Any], expected: str) -> str:
    with pytest.raises(GateDeniedError) as caught:
        attempt()
    assert expected in str(caught.value)
    last = w.promotion.events()[-1]
    assert last.kind == "gate_denied"
    assert any(expected in reason for reason in last.payload["reasons"])
    return str(caught.value)


def _promote(w: World, verdict: Any, version: str = "v1") -> Any:
    """Promote with exactly ``verdict`` (no helper signing), approvals of the same verdict."""
    return w.promotion.promote(
        MODEL,
        version,
        to="Approved",
        actor="olga",
        verdict=verdict,
        revalidate_by="2027-02-25T00:00:00Z",
        chg_id=w.chg(f"CHG-{version.replace('.', '')}", [version]),
    )


def _checks(**statuses: str) -> list[dict[str, Any]]:
    return [{"name": n, "status": statuses.get(n, "pass")} for n in SHIPPED_CHECKS]


# -- verdicts that are not evidence -----------------------------------------------------------
def plain_json_verdict(w: World) -> None:
    _staged(w)
    w.approvals("v1")
    _promote(w, make_verdict("v1", w.policy_digest))


def plain_json_verdict_approved(w: World) -> None:
    _staged(w)
    w.promotion.approve(
        MODEL, "v1", role="security", actor="sue", verdict=make_verdict("v1", w.policy_digest)
    )


def plain_json_verdict_file(w: World) -> None:
    _staged(w)
    w.approvals("v1")
    path = w.tmp / "verdict.json"
    path.write_text(json.dumps(make_verdict("v1", w.policy_digest)))
    _promote(w, path)


def signed_by_an_artifact_key(w: World) -> None:
    _staged(w)
    verdict = make_verdict("v1", w.policy_digest)
    w.approvals("v1", verdict)
    _promote(w, w.signed(verdict, key=w.artifact_key, key_id="artifact-key"))


def signed_by_a_policy_key(w: World) -> None:
    _staged(w)
    verdict = make_verdict("v1", w.policy_digest)
    w.approvals("v1", verdict)
    _promote(w, w.signed(verdict, key=w.policy_key, key_id="policy-key"))


def signed_by_an_unknown_key(w: World) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    _staged(w)
    verdict = make_verdict("v1", w.policy_digest)
    w.approvals("v1", verdict)
    _promote(w, w.signed(verdict, key=Ed25519PrivateKey.generate()))


def with_a_policy_payload_type(w: World) -> None:
    _staged(w)
    verdict = make_verdict("v1", w.policy_digest)
    w.approvals("v1", verdict)
    envelope = sign_statement(
        verdict_statement(verdict),
        purpose="policy",
        private_key=w.verdict_key,
        key_id="verdict-key",
    )
    _promote(w, envelope)


def with_another_predicate_type(w: World) -> None:
    _staged(w)
    verdict = make_verdict("v1", w.policy_digest)
    w.approvals("v1", verdict)
    statement = {**verdict_statement(verdict), "predicateType": "https://slsa.dev/provenance/v1"}
    envelope = sign_statement(
        statement, purpose="verdict", private_key=w.verdict_key, key_id="verdict-key"
    )
    _promote(w, envelope)


def for_another_version(w: World) -> None:
    _staged(w)
    w.approvals("v1")
    _promote(w, w.signed(make_verdict("v9", w.policy_digest)))


def about_another_artifact(w: World) -> None:
    _staged(w)
    verdict = make_verdict("v1", w.policy_digest)
    w.approvals("v1", verdict)
    _promote(w, w.signed(verdict, artifact_digest=digest_file(w.artifact("v7"))))


def edited_after_signing(w: World) -> None:
    _staged(w)
    w.approvals("v1")
    envelope = w.signed(make_verdict("v1", w.policy_digest, decision="STOP"))
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["verdict"]["decision"] = "PROCEED"
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    _promote(w, envelope)


# -- signed verdicts whose decision does not hold under the bound policy ----------------------
def proceed_with_every_check_failing(w: World) -> None:
    _staged(w)
    verdict = make_verdict(
        "v1", w.policy_digest, checks=[{"name": n, "status": "fail"} for n in SHIPPED_CHECKS]
    )
    w.approvals("v1", verdict)
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=verdict)


def proceed_with_sample_ratio_failing(w: World) -> None:
    _staged(w)
    verdict = make_verdict("v1", w.policy_digest, checks=_checks(sample_ratio="fail"))
    w.approvals("v1", verdict)
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=verdict)


def proceed_with_no_checks(w: World) -> None:
    _staged(w)
    verdict = make_verdict("v1", w.policy_digest, checks=[])
    w.approvals("v1", verdict)
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=verdict)


def proceed_missing_a_required_check(w: World) -> None:
    _staged(w)
    checks = [c for c in _checks() if c["name"] != "sample_ratio"]
    verdict = make_verdict("v1", w.policy_digest, checks=checks)
    w.approvals("v1", verdict)
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=verdict)


def proceed_whose_pass_contradicts_its_interval(w: World) -> None:
    _staged(w)
    checks = _checks()
    checks[0].update(ci_low=130.0, ci_high=150.0, estimate=140.0)  # latency_p95, max 120 ms
    verdict = make_verdict("v1", w.policy_digest, checks=checks)
    w.approvals("v1", verdict)
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=verdict)


def proceed_that_makes_a_required_check_optional(w: World) -> None:
    _staged(w)
    checks = _checks(error_rate="inconclusive")
    next(c for c in checks if c["name"] == "error_rate")["required"] = False
    verdict = make_verdict("v1", w.policy_digest, checks=checks)
    w.approvals("v1", verdict)
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=verdict)


def proceed_with_a_check_the_policy_lacks(w: World) -> None:
    _staged(w)
    checks = [*_checks(), {"name": "vibes", "status": "pass"}]
    verdict = make_verdict("v1", w.policy_digest, checks=checks)
    w.approvals("v1", verdict)
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=verdict)


def continue_verdict_with_its_hold_waived(w: World) -> None:
    _staged(w)
    verdict = make_verdict(
        "v1", w.policy_digest, decision="CONTINUE", checks=_checks(latency_p95="inconclusive")
    )
    w.approvals("v1", verdict)
    _waive(w, "latency_p95")
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=verdict)


def latched_proceed_with_sample_ratio_waived(w: World) -> None:
    _staged(w)
    verdict = make_verdict("v1", w.policy_digest, checks=_checks(sample_ratio="inconclusive"))
    w.approvals("v1", verdict)
    _waive(w, "sample_ratio")
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=verdict)


def _waive(w: World, check: str, version: str = "v1") -> None:
    w.promotion.waive(
        MODEL,
        version=version,
        waiver_id=f"SCDR-{check}",
        check=check,
        reason="reviewed",
        owner="risk-team",
        expires="2026-12-20T00:00:00Z",
        actor="sue",
    )


ATTEMPTS: list[tuple[str, Callable[[World], None], str]] = [
    (
        "plain JSON verdict",
        plain_json_verdict,
        "verdict: a plain JSON verdict is not evidence: sign it with `canarykit attest VERDICT.json",
    ),
    (
        "plain JSON verdict file",
        plain_json_verdict_file,
        "verdict: a plain JSON verdict is not evidence",
    ),
    (
        "approval of a plain JSON verdict",
        plain_json_verdict_approved,
        "verdict: a plain JSON verdict is not evidence",
    ),
    (
        "verdict signed by an artifact-only key",
        signed_by_an_artifact_key,
        "key 'artifact-key' is not trusted for verdict signatures (it signs: artifact)",
    ),
    (
        "verdict signed by a policy key",
        signed_by_a_policy_key,
        "key 'policy-key' is not trusted for verdict signatures (it signs: policy)",
    ),
    (
        "verdict signed by an unknown key under the verdict key's id",
        signed_by_an_unknown_key,
        "signature by 'verdict-key' does not verify",
    ),
    (
        "verdict envelope with a policy payload type",
        with_a_policy_payload_type,
        "payloadType: 'application/vnd.canarykit.policy-snapshot.v1+json' is not the verdict type",
    ),
    (
        "verdict envelope with another predicate type",
        with_another_predicate_type,
        "statement.predicateType: 'https://slsa.dev/provenance/v1' is not the canarykit verdict",
    ),
    (
        "signed verdict for another version",
        for_another_version,
        "statement.subject risk-default@v9 is neither the artifact of risk-default v1",
    ),
    (
        "signed verdict about another artifact",
        about_another_artifact,
        "statement.subject risk-default@v1 is neither the artifact of risk-default v1",
    ),
    (
        "signed STOP verdict edited to PROCEED",
        edited_after_signing,
        "signature by 'verdict-key' does not verify",
    ),
    (
        "hand-written PROCEED whose checks all fail",
        proceed_with_every_check_failing,
        "verdict: its checks contradict it: sample_ratio: status fail under decision PROCEED",
    ),
    (
        "hand-written PROCEED with sample_ratio failing",
        proceed_with_sample_ratio_failing,
        "(stop reasons are never waived): sample_ratio: sample_ratio fail",
    ),
    (
        "hand-written PROCEED with no checks",
        proceed_with_no_checks,
        "verdict: it has no checks, so nothing supports its decision",
    ),
    (
        "PROCEED without a required check",
        proceed_missing_a_required_check,
        "verdict: required checks of the bound policy are missing from it: sample_ratio",
    ),
    (
        "PROCEED whose pass contradicts its interval",
        proceed_whose_pass_contradicts_its_interval,
        "latency_p95: status pass, but its interval 130.0...150.0 does not pass the bound"
        " policy's max 120",
    ),
    (
        "PROCEED that marks a required check optional",
        proceed_that_makes_a_required_check_optional,
        "re-derives CONTINUE, not PROCEED, over its checks (waived: ): error_rate:",
    ),
    (
        "PROCEED with a check the bound policy lacks",
        proceed_with_a_check_the_policy_lacks,
        "verdict: its checks contradict it: vibes: not a check of the bound policy in canary mode",
    ),
    (
        "CONTINUE verdict with its hold waived",
        continue_verdict_with_its_hold_waived,
        "verdict: decision is CONTINUE, not PROCEED (a STOP or CONTINUE verdict never opens the"
        " gate; checks not passed: latency_p95)",
    ),
    (
        "PROCEED with sample_ratio inconclusive and waived",
        latched_proceed_with_sample_ratio_waived,
        "re-derives CONTINUE, not PROCEED, over its checks (waived: ): sample_ratio:",
    ),
]


@pytest.mark.parametrize(
    ("attempt", "expected"), [pytest.param(f, e, id=i) for i, f, e in ATTEMPTS]
)
def test_a_verdict_that_is_not_evidence_is_refused(
    world: World, attempt: Callable[[World], None], expected: str
) -> None:
    _denied(world, lambda: attempt(world), expected)
    assert world.promotion.version(MODEL, "v1").stage in ("Staging", "Candidate")
    assert signed_verdict(world.promotion.store.conn, MODEL, "v1") is None


# -- real verdicts under an organisation's rule -----------------------------------------------
def _org_policy(w: World) -> Path:
    folder = shipped_policy(w.tmp / "org-policy")
    (folder / "org.rego").write_text(ORG_RULE)
    sign_policy_folder(folder, w.policy_key, name="org-policy")
    return folder


def test_an_org_hold_rule_stop_with_two_optional_checks_waived_is_denied(
    world: World, clean_sample: Path
) -> None:
    """The issue's finding: a real STOP made by the organisation's rule; the two unrelated
    optional checks that did not pass (error_rate_delta, fairness_tpr) waived; the old gate
    opened, the alias moved and check-startup said 0."""
    policy = _org_policy(world)
    verdict = evaluate(clean_sample, policy=policy, log=False).to_dict()
    assert verdict["decision"] == "STOP"
    assert verdict["reasons"][0].startswith("org hold: latency_p95 estimate")
    not_passed = sorted(c["name"] for c in verdict["checks"] if c["status"] != "pass")
    assert not_passed == ["error_rate_delta", "fairness_tpr"]
    _staged(world, VERSION, policy=policy)
    for check in not_passed:
        _waive(world, check, VERSION)
    world.approvals(VERSION, verdict)
    chg = world.chg("CHG-ORG", [VERSION])
    _denied(
        world,
        lambda: world.to_approved(VERSION, chg, verdict=verdict),
        "verdict: decision is STOP, not PROCEED (a STOP or CONTINUE verdict never opens the gate;"
        " checks not passed: error_rate_delta, fairness_tpr)",
    )
    # the same checks re-signed as a PROCEED: the bound policy's own rule still says STOP
    edited = {**verdict, "decision": "PROCEED", "reasons": []}
    world.approvals(VERSION, edited)
    message = _denied(
        world,
        lambda: world.to_approved(VERSION, chg, verdict=edited),
        "verdict: the bound policy org-policy re-derives STOP over its checks (stop reasons are"
        " never waived): org hold: latency_p95 estimate",
    )
    assert "re-derives CONTINUE" not in message
    assert world.promotion.version(MODEL, VERSION).stage == "Staging"


def test_a_signed_proceed_from_evaluate_reaches_approved(
    world: World, clean_sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The happy path: sanctioned policy, a PROCEED signed by ``evaluate --sign-key``,
    four-eyes approvals of that envelope, Approved; the registry keeps the envelope."""
    key = pem(world.verdict_key, world.tmp / "verdict.pem")
    out = world.tmp / "verdict.json"
    argv = ["evaluate", str(clean_sample), "--policy", str(world.policy_dir), "--out", str(out)]
    code = main([*argv, "--no-log", "--sign-key", str(key), "--key-id", "verdict-key"])
    _, err = capsys.readouterr()
    assert code == 0, err
    signed = world.tmp / "verdict.dsse.json"
    assert err == f"canarykit: signed verdict (key verdict-key) → {signed}\n"
    envelope = json.loads(signed.read_text())
    assert envelope["payloadType"] == "application/vnd.canarykit.verdict.v1+json"
    statement = json.loads(base64.b64decode(envelope["payload"]))
    verdict = json.loads(out.read_text())
    assert statement["predicateType"] == VERDICT_PREDICATE_TYPE
    assert statement["subject"] == [
        {"name": f"{MODEL}@{VERSION}", "digest": {"sha256": verdict_digest(verdict)[7:]}}
    ]
    assert statement["predicate"]["verdict"] == verdict
    assert statement["predicate"]["rollout"] == verdict["rollout"]
    assert set(statement["predicate"]["engines"]) == {"canarykit", "duckdb", "regopy"}
    _staged(world, VERSION)
    world.approvals(VERSION, envelope)
    result = world.to_approved(VERSION, world.chg("CHG-OK", [VERSION]), verdict=envelope)
    assert result.to_stage == "Approved"
    record = world.promotion.version(MODEL, VERSION)
    assert record.verdict == verdict
    event = world.promotion.events(MODEL, kind="promotion")[-1]
    assert event.payload["verdict_digest"] == verdict_digest(verdict)
    assert event.payload["verdict_signed_by"] == ["verdict-key"]
    assert event.payload["rederived_decision"] == "PROCEED"
    assert signed_verdict(world.promotion.store.conn, MODEL, VERSION) == envelope


def test_approvals_bind_the_verdict_not_its_envelope(world: World) -> None:
    """An approval of the verdict signed about the artifact counts for the same verdict signed
    about model@version; an approval of another verdict does not count."""
    _staged(world)
    verdict = make_verdict("v1", world.policy_digest)
    about_artifact = world.signed(verdict, artifact_digest=digest_file(world.artifact("v1")))
    world.approvals("v1", about_artifact)
    assert world.to_approved("v1", world.chg("CHG-1", ["v1"]), verdict=world.signed(verdict))


def test_a_waiver_lifts_a_hold_of_a_latched_proceed(world: World) -> None:
    """A look that PROCEEDed earlier in its step stays PROCEED while a required check is
    inconclusive now: the re-derivation says CONTINUE unless a waiver names that check."""
    _staged(world)
    verdict = make_verdict("v1", world.policy_digest, checks=_checks(latency_p95="inconclusive"))
    world.approvals("v1", verdict)
    chg = world.chg("CHG-1", ["v1"])
    _denied(
        world,
        lambda: world.to_approved("v1", chg, verdict=verdict),
        "re-derives CONTINUE, not PROCEED, over its checks (waived: ): latency_p95:",
    )
    _waive(world, "latency_p95")
    assert world.to_approved("v1", chg, verdict=verdict).to_stage == "Approved"


def test_attest_on_the_command_line(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    verdict = world.tmp / "v.json"
    verdict.write_text(json.dumps(make_verdict("v1", world.policy_digest)))
    key = str(pem(world.verdict_key, world.tmp / "verdict.pem"))
    digest = digest_file(world.artifact("v1"))
    out = world.tmp / "v.dsse.json"
    argv = ["attest", str(verdict), "--key", key, "--key-id", "verdict-key", "--out", str(out)]
    assert main([*argv, "--artifact-digest", digest]) == 0
    assert capsys.readouterr().out == f"signed verdict {verdict} with key verdict-key → {out}\n"
    envelope = json.loads(out.read_text())
    assert envelope == attest_verdict(
        verdict, world.verdict_key, "verdict-key", artifact_digest=digest
    )  # Ed25519 is deterministic
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["subject"] == [{"name": "risk-default@v1", "digest": {"sha256": digest[7:]}}]
    assert statement["predicate"]["subject"] == "artifact"
    _staged(world)
    world.approvals("v1", envelope)
    assert world.to_approved("v1", world.chg("CHG-1", ["v1"]), verdict=str(out)).to_stage == (
        "Approved"
    )
    # bad input: one line, exit 2
    for extra, message in (
        (["--artifact-digest", "sha256:abc"], "--artifact-digest: 'sha256:abc' is not sha256:"),
        (["--key-id", ""], "key id: '' must be non-empty text"),
    ):
        assert main([*argv, *extra]) == 2
        err = capsys.readouterr().err
        assert message in err
        assert err.count("\n") == 1
    not_a_verdict = world.tmp / "x.json"
    not_a_verdict.write_text('{"schema": "x"}')
    assert main(["attest", str(not_a_verdict), "--key", key, "--key-id", "k", "--out", "-"]) == 2
    assert "schema: 'x' is not 'canarykit.verdict/1'" in capsys.readouterr().err


def test_evaluate_refuses_bad_signing_options_before_evaluating(
    world: World, clean_sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = str(pem(world.verdict_key, world.tmp / "verdict.pem"))
    base = ["evaluate", str(clean_sample), "--no-log"]
    for extra, message in (
        (["--sign-key", key, "--key-id", "verdict-key"], "--attest-out: say where"),
        (["--sign-key", key, "--out", "v.json"], "--key-id: required with --sign-key"),
        (["--key-id", "verdict-key"], "--key-id: only with --sign-key"),
        (["--attest-out", "x.dsse.json"], "--attest-out: only with --sign-key"),
        (["--sign-key", str(clean_sample), "--key-id", "k", "--out", "v.json"], "not a PEM"),
        (
            ["--sign-key", key, "--key-id", "k", "--out", "v.json", "--artifact-digest", "x"],
            "--artifact-digest: 'x' is not sha256:",
        ),
    ):
        assert main([*base, *extra]) == 2
        out, err = capsys.readouterr()
        assert message in err
        assert (out, err.count("\n")) == ("", 1)
    assert not (Path.cwd() / "v.json").exists()
    attest_out = world.tmp / "elsewhere.dsse.json"
    argv = [*base, "--sign-key", key, "--key-id", "verdict-key", "--attest-out", str(attest_out)]
    assert main([*argv, "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    envelope = json.loads(attest_out.read_text())
    assert json.loads(base64.b64decode(envelope["payload"]))["predicate"]["verdict"] == printed


@pytest.mark.parametrize(
    ("gate", "path", "value"),
    [
        ("staging", ("policy_snapshot", "verified"), "true"),
        ("staging", ("policy_snapshot", "present"), None),
        ("staging", ("policy_snapshot", "problems"), None),
        ("staging", ("policy_snapshot", "digest"), "sha256:" + "0" * 64),
        ("approved", ("verdict", "signed"), "true"),
        ("approved", ("verdict", "verified"), 1),
        ("approved", ("verdict", "subject_matches"), None),
        ("approved", ("verdict", "evidence_problems"), "x"),
        ("approved", ("verdict", "rederived", "decision"), "proceed"),
        ("approved", ("verdict", "rederived", "plain_decision"), "STOP"),
        ("approved", ("verdict", "rederived", "problems"), ["the verdict has no checks"]),
        ("approved", ("verdict", "rederived", "missing"), None),
        ("approved", ("verdict", "rederived", "waived"), ["sample_ratio"]),
        ("approved", ("verdict", "rederived"), None),
        ("approved", ("bound_policy", "ok"), "true"),
        ("approved", ("bound_policy", "digest"), None),
    ],
)
def test_breaking_an_evidence_fact_denies(gate: str, path: tuple, value: Any) -> None:
    """Fail closed on the facts this issue adds (the gate fuzzing's recorded allowed inputs)."""
    import copy

    from test_gate_fuzz import allowed_inputs

    from canarykit.promotion.gates import evaluate_gate

    facts = copy.deepcopy(next(f for g, f in allowed_inputs() if g == gate))
    assert evaluate_gate(gate, facts).allow
    target = facts
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    decision = evaluate_gate(gate, facts)
    assert not decision.allow
    assert decision.reasons
    assert not any("not readable" in r or "policy evaluation failed" in r for r in decision.reasons)
