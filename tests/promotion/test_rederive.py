"""Re-deriving a verdict's decision under the bound policy (``canarykit.promotion.rederive``)
and opening signed verdicts (``canarykit.promotion.verdict_attestation``), unit by unit."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from canarykit.promotion.evidence import TrustStore, public_key_text, sign_statement
from canarykit.promotion.rederive import UNWAIVABLE_CHECKS, active_waived_checks, rederive
from canarykit.promotion.verdict_attestation import (
    PLAIN_VERDICT_HINT,
    attest_verdict,
    open_verdict,
    plain_verdicts_allowed,
)
from canarykit.promotion.waivers import Waiver
from canarykit.verdict.policy import load_policy, policy_from_files

POLICY = load_policy()
CANARY = [s.name for s in POLICY.checks.values() if s.applies_to("canary")]
KEY = Ed25519PrivateKey.generate()
TRUST = TrustStore.from_dict(
    {"keys": [{"id": "v", "public_key": public_key_text(KEY), "purposes": ["verdict"]}]}
)
ARTIFACT = "sha256:" + "ab" * 32


def verdict(decision: str = "PROCEED", **statuses: str) -> dict[str, Any]:
    checks = [
        {
            "name": n,
            "status": statuses.get(n, "pass"),
            "ci_low": 0.0,
            "ci_high": 0.0,
            "summary": f"{n} {statuses.get(n, 'pass')}",
        }
        for n in CANARY
    ]
    return {
        "schema": "canarykit.verdict/1",
        "decision": decision,
        "model": "m",
        "baseline": "v1",
        "candidate": "v2",
        "mode": "canary",
        "policy_digest": POLICY.digest,
        "checks": checks,
        "reasons": [],
    }


def test_a_clean_proceed_is_rederived_as_proceed() -> None:
    r = rederive(verdict(), POLICY, waived=())
    assert (r.decision, r.plain_decision, r.problems, r.missing, r.waived) == (
        "PROCEED",
        "PROCEED",
        (),
        (),
        (),
    )


def test_kind_and_required_come_from_the_policy_not_the_verdict() -> None:
    v = verdict(error_rate="inconclusive")
    for c in v["checks"]:
        c.update(required=False, kind="sample_ratio")
    r = rederive(v, POLICY, waived=())
    assert r.decision == "CONTINUE"
    assert r.reasons == ("error_rate: error_rate inconclusive",)


def test_waivers_lift_holds_but_never_sample_ratio_or_a_stop() -> None:
    held = verdict(latency_p95="inconclusive", sample_ratio="inconclusive")
    r = rederive(held, POLICY, waived=("latency_p95", "sample_ratio"))
    assert r.waived == ("latency_p95",)
    assert r.decision == "CONTINUE"
    assert r.reasons == ("sample_ratio: sample_ratio inconclusive",)
    assert "sample_ratio" in UNWAIVABLE_CHECKS
    stopped = verdict("STOP", latency_p99="fail")
    r = rederive(stopped, POLICY, waived=("latency_p99",))
    assert (r.plain_decision, r.decision) == ("STOP", "PROCEED")  # the gate denies on plain STOP


def test_an_organisation_stop_rule_applies_to_the_waived_checks_too() -> None:
    org = (
        "package canarykit.decision\n\nimport rego.v1\n\n"
        'stop_reasons contains "org: no waived latency" if {\n'
        '\tsome c in input.checks\n\tc.waived\n\tc.name == "latency_p95"\n}\n'
    )
    policy = policy_from_files({**POLICY.files, "org.rego": org.encode()})
    r = rederive(verdict(latency_p95="inconclusive"), policy, waived=("latency_p95",))
    assert (r.plain_decision, r.decision) == ("CONTINUE", "STOP")
    assert r.reasons == ("org: no waived latency",)


def test_contradictions_are_listed() -> None:
    v = verdict(latency_p99="fail")
    v["checks"][0].update(ci_low=None, ci_high=None)  # latency_p95 "pass" without an interval
    v["checks"].append(dict(v["checks"][1]))  # latency_p99 twice
    v["checks"].append({"name": "shadow_agreement", "status": "pass"})  # shadow only
    r = rederive(v, POLICY, waived=())
    assert r.problems == (
        "latency_p95: status pass, but its interval None...None does not pass the bound"
        " policy's max 120",
        "latency_p99: status fail under decision PROCEED",
        "latency_p99: listed twice",
        "shadow_agreement: not a check of the bound policy in canary mode",
    )
    assert rederive({**v, "checks": []}, POLICY, waived=()).problems == (
        "the verdict has no checks",
    )
    assert rederive({**v, "mode": "dark"}, POLICY, waived=()).problems == (
        "mode: 'dark' is not one of canary, shadow",
    )


def test_a_look_at_a_100_percent_step_requires_only_its_checks() -> None:
    plan = [{"share": 0.05, "window_minutes": 30}, {"share": 1.0, "window_minutes": 30}]
    rollout = {"rollout_id": 7, "step": 2, "steps": 2, "planned_split": 1.0, "plan": plan}
    absolute = {"latency_p95", "error_rate"}
    v = verdict()
    v["checks"] = [c for c in v["checks"] if c["name"] in absolute]
    r = rederive({**v, "rollout": rollout}, POLICY, waived=())
    assert (r.decision, r.missing) == ("PROCEED", ())
    assert set(rederive(v, POLICY, waived=()).missing) == {"latency_p99", "sample_ratio"}
    broken = {**rollout, "step": 5}
    assert (
        "rollout: the look's step is not a step of its plan"
        in rederive({**v, "rollout": broken}, POLICY, waived=()).problems
    )


def test_a_policy_the_engine_cannot_run_is_an_error_not_a_decision() -> None:
    undefined = (
        "package canarykit.decision\n\nimport rego.v1\n\n"
        'decision := "CONTINUE" if { input.mode == "canary" }\n'
    )
    policy = policy_from_files({**POLICY.files, "clash.rego": undefined.encode()})
    r = rederive(verdict(), policy, waived=())
    assert r.decision is None
    assert r.error is not None


def test_active_waivers_follow_the_gate_rule() -> None:
    def waiver(check: str, **kw: Any) -> Waiver:
        base = dict(
            waiver_id="W",
            model="m",
            version=None,
            check=check,
            reason="r",
            owner="o",
            expires_ns=100,
            created_by="sue",
            created_at_ns=0,
        )
        return Waiver(**{**base, **kw})

    waivers = [
        waiver("a"),
        waiver("b", expires_ns=50),
        waiver("c", version="v9"),
        waiver("d", created_by="ANN"),
        waiver("e", version="v2"),
    ]
    assert active_waived_checks(waivers, now_ns=50, version="v2", submitter="ann") == ("a", "e")


# -- opening verdicts ---------------------------------------------------------------------------
def test_open_verdict_accepts_either_subject_and_names_what_is_wrong() -> None:
    v = verdict()
    for envelope in (
        attest_verdict(v, KEY, "v"),
        attest_verdict(v, KEY, "v", artifact_digest=ARTIFACT),
    ):
        opened = open_verdict(envelope, TRUST, model="m", version="v2", artifact_digest=ARTIFACT)
        assert opened.accepted, opened.problems
        assert opened.key_ids == ("v",)
    other = open_verdict(
        attest_verdict(v, KEY, "v"), TRUST, model="m", version="v3", artifact_digest=ARTIFACT
    )
    assert not other.accepted
    assert other.problems[0].startswith("statement.subject m@v2 is neither the artifact of m v3")
    untrusted = open_verdict(
        attest_verdict(v, KEY, "v"), None, model="m", version="v2", artifact_digest=ARTIFACT
    )
    assert untrusted.problems == (
        "envelope: no trust file configured: the envelope cannot be verified",
    )


def test_a_signed_statement_must_hold_a_verdict() -> None:
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "m@v2", "digest": {"sha256": ARTIFACT[7:]}}],
        "predicateType": "https://canarykit.dev/verdict/v1",
        "predicate": {"verdict": {"schema": "canarykit.verdict/1"}},
    }
    envelope = sign_statement(statement, purpose="verdict", private_key=KEY, key_id="v")
    opened = open_verdict(envelope, TRUST, model="m", version="v2", artifact_digest=ARTIFACT)
    assert not opened.accepted
    assert opened.problems[0].startswith("predicate.verdict is not a verdict (verdict: decision:")
    digest_lie = json.loads(base64.b64decode(attest_verdict(verdict(), KEY, "v")["payload"]))
    digest_lie["predicate"]["verdict_digest"] = "sha256:" + "0" * 64
    envelope = sign_statement(digest_lie, purpose="verdict", private_key=KEY, key_id="v")
    opened = open_verdict(envelope, TRUST, model="m", version="v2", artifact_digest=ARTIFACT)
    assert "predicate.verdict_digest is not the digest of predicate.verdict" in opened.problems


def test_plain_verdicts_only_where_the_registry_allows_them() -> None:
    assert plain_verdicts_allowed(None) is False
    refused = open_verdict(verdict(), TRUST, model="m", version="v2", artifact_digest=ARTIFACT)
    assert refused.problems == (PLAIN_VERDICT_HINT,)
    drill = open_verdict(
        verdict(), TRUST, model="m", version="v2", artifact_digest=ARTIFACT, plain_allowed=True
    )
    assert drill.accepted
    assert not drill.signed


@pytest.mark.parametrize("document", [[], "PROCEED", {"payloadType": 1, "payload": "%%%"}])
def test_junk_is_never_a_verdict(document: Any) -> None:
    opened = open_verdict(document, TRUST, model="m", version="v2", artifact_digest=ARTIFACT)
    assert not opened.accepted
    assert opened.problems
