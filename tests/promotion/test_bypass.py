"""Table-driven bypass attempts (issue 6, "Done when"): every one is refused with a clear
message naming the rule, AND leaves a ``gate_denied`` event in the audit log."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest
from promotion_world import MODEL, SHIPPED_CHECKS, World, make_verdict, sbom

from canarykit.errors import GateDeniedError
from canarykit.promotion.clock import FixedClock, parse_instant


def _staged(w: World, version: str = "v1") -> None:
    w.submit(version)
    w.to_staging(version)


def _approved_in_production(w: World, version: str = "v1") -> None:
    w.approved(version)
    w.promotion.set_alias(
        MODEL,
        version,
        expected=None,
        actor="olga",
        chg_id=w.chg(f"CHG-P{version[1:]}", [version], type="Standard"),
    )


def submitter_approves(w: World) -> None:
    w.submit("v1")
    w.promotion.approve(MODEL, "v1", role="product", actor="ann")


def one_person_both_roles(w: World) -> None:
    _staged(w)
    verdict = w.signed(make_verdict("v1", w.policy_digest))
    w.promotion.approve(MODEL, "v1", role="security", actor="max", verdict=verdict)
    w.promotion.approve(MODEL, "v1", role="product", actor="max", verdict=verdict)


def one_role_missing(w: World) -> None:
    _staged(w)
    w.promotion.approve(
        MODEL,
        "v1",
        role="security",
        actor="sue",
        verdict=w.signed(make_verdict("v1", w.policy_digest)),
    )
    w.to_approved("v1", w.chg("CHG-1", ["v1"]))


def approvals_of_another_verdict(w: World) -> None:
    _staged(w)
    w.approvals("v1")
    other = make_verdict("v1", w.policy_digest)
    other["data_digest"] = "sha256:" + "9" * 64  # a PROCEED nobody reviewed
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=other)


def approval_without_verdict(w: World) -> None:
    _staged(w)
    w.promotion.approve(MODEL, "v1", role="security", actor="sue")


def role_not_on_roster(w: World) -> None:
    _staged(w)
    w.promotion.approve(MODEL, "v1", role="security", actor="pat")


def expired_waiver(w: World) -> None:
    w.submit("v1")
    w.promotion.waive(
        MODEL,
        version="v1",
        waiver_id="SCDR-1",
        check="CVE-2026-9999",
        reason="not reachable",
        owner="sec",
        expires="2026-11-26T00:00:00Z",
        actor="sue",
    )
    w.clock.set(parse_instant("2026-11-26T10:00:00Z"))
    w.to_staging("v1", sbom=sbom(("CVE-2026-9999", "critical", None)))


def waiver_for_another_check(w: World) -> None:
    w.submit("v1")
    w.promotion.waive(
        MODEL,
        version="v1",
        waiver_id="SCDR-2",
        check="CVE-2026-0001",
        reason="not reachable",
        owner="sec",
        expires="2026-12-01T00:00:00Z",
        actor="sue",
    )
    w.to_staging("v1", sbom=sbom(("CVE-2026-9999", "critical", None)))


def submitter_waives_own_check(w: World) -> None:
    w.submit("v1")
    w.promotion.waive(
        MODEL,
        version="v1",
        waiver_id="SCDR-3",
        check="CVE-2026-9999",
        reason="trust me",
        owner="ann",
        expires="2026-12-01T00:00:00Z",
        actor="ann",
    )


def change_in_freeze(w: World) -> None:
    w.approved("v1")
    chg = w.chg("CHG-F", ["v1"], type="Standard")
    w.clock.set(parse_instant("2026-11-30T10:00:00Z"))  # Monday, month-end close
    w.promotion.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=chg)


def emergency_without_executive(w: World) -> None:
    w.approved("v1")
    chg = w.chg("CHG-E", ["v1"], type="Emergency")
    w.clock.set(parse_instant("2026-11-28T22:00:00Z"))  # Saturday night, and frozen
    w.promotion.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=chg)


def outside_window(w: World) -> None:
    w.approved("v1")
    chg = w.chg("CHG-W", ["v1"], type="Standard")
    w.clock.set(parse_instant("2026-11-25T21:00:00Z"))  # Wednesday evening
    w.promotion.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=chg)


def normal_change_without_cab(w: World) -> None:
    _staged(w)
    w.approvals("v1")
    w.to_approved("v1", w.chg("CHG-N", ["v1"], approve=False))


def requester_approves_change(w: World) -> None:
    w.chg("CHG-R", ["v1"], approve=False)
    w.promotion.approve_change("CHG-R", actor="olga", role="operations")


def change_out_of_scope(w: World) -> None:
    _staged(w)
    w.approvals("v1")
    w.to_approved("v1", w.chg("CHG-S", ["v7"]))


def no_change_ticket(w: World) -> None:
    _staged(w)
    w.approvals("v1")
    w.to_approved("v1", None)


def approved_without_proceed(w: World) -> None:
    _staged(w)
    w.approvals("v1")
    checks = [{"name": "latency_p99", "status": "fail"}, {"name": "error_rate", "status": "pass"}]
    w.to_approved(
        "v1",
        w.chg("CHG-1", ["v1"]),
        verdict=make_verdict("v1", w.policy_digest, decision="STOP", checks=checks),
    )


def approved_without_verdict(w: World) -> None:
    _staged(w)
    w.approvals("v1")
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=None, guardrails=["latency_p95"])


def verdict_for_another_version(w: World) -> None:
    _staged(w)
    w.approvals("v1")
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=make_verdict("v9", w.policy_digest))


def verdict_for_another_policy(w: World) -> None:
    _staged(w)
    w.approvals("v1")
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=make_verdict("v1", "sha256:" + "e" * 64))


def revalidate_by_missing(w: World) -> None:
    _staged(w)
    w.approvals("v1")
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), revalidate_by=None)


def skip_staging(w: World) -> None:
    w.submit("v1")
    w.approvals("v1")
    w.to_approved("v1", w.chg("CHG-1", ["v1"]))


def revoked_to_production(w: World) -> None:
    w.approved("v1")
    w.promotion.revoke(MODEL, "v1", actor="sam", reason="leak")
    w.promotion.set_alias(
        MODEL, "v1", expected=None, actor="olga", chg_id=w.chg("CHG-X", ["v1"], type="Standard")
    )


def staging_version_to_production(w: World) -> None:
    _staged(w)
    w.promotion.set_alias(
        MODEL, "v1", expected=None, actor="olga", chg_id=w.chg("CHG-X", ["v1"], type="Standard")
    )


def stale_compare_and_set(w: World) -> None:
    _approved_in_production(w, "v1")
    w.approved("v2")
    w.promotion.set_alias(
        MODEL, "v2", expected=None, actor="olga", chg_id=w.chg("CHG-X", ["v2"], type="Standard")
    )


def _tamper(w: World, sql: str) -> None:
    _approved_in_production(w, "v1")
    conn = sqlite3.connect(w.tmp / "registry.sqlite")
    conn.executescript(
        "DROP TRIGGER events_append_only_update; DROP TRIGGER events_append_only_delete;" + sql
    )
    conn.close()
    w.approved("v2")  # any gated action now fails on the audit check


def tampered_audit_row(w: World) -> None:
    _tamper(w, "UPDATE events SET actor = 'mallory' WHERE seq = 5;")


def deleted_audit_row(w: World) -> None:
    _tamper(w, "DELETE FROM events WHERE seq = 6;")


def deleted_last_audit_row(w: World) -> None:
    _tamper(w, "DELETE FROM events WHERE seq = (SELECT MAX(seq) FROM events);")


def reordered_audit_rows(w: World) -> None:
    _tamper(
        w,
        "UPDATE events SET seq = -6 WHERE seq = 6; UPDATE events SET seq = 6 WHERE seq = 7;"
        " UPDATE events SET seq = 7 WHERE seq = -6;",
    )


def missing_signature(w: World) -> None:
    w.submit("v1")
    w.to_staging("v1", signatures=[])


def signature_by_untrusted_key(w: World) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    w.submit("v1")
    w.to_staging("v1", signatures=w.signatures("v1", key=Ed25519PrivateKey.generate()))


def attestation_for_another_artifact(w: World) -> None:
    w.submit("v1")
    w.to_staging("v1", attestation=w.envelope("v1", subject_digest="f" * 64))


def sbom_with_critical_cve(w: World) -> None:
    w.submit("v1")
    w.to_staging("v1", sbom=sbom(("CVE-2026-4242", "critical", None)))


def sbom_missing(w: World) -> None:
    w.submit("v1")
    w.to_staging("v1", sbom=None)


def no_security_decision(w: World) -> None:
    w.submit("v1")
    w.promotion.promote(
        MODEL,
        "v1",
        to="Staging",
        actor="olga",
        signatures=w.signatures("v1"),
        sbom=sbom(),
        policy=w.policy_dir,
    )


def standard_change_for_new_version(w: World) -> None:
    _staged(w)
    w.approvals("v1")
    w.to_approved("v1", w.chg("CHG-1", ["v1"], type="Standard"))


def clock_moved_backwards(w: World) -> None:
    _staged(w)
    w.approvals("v1")
    chg = w.chg("CHG-1", ["v1"])
    # An injected clock behind the system clock (which stays at the world's time): a registry
    # that is not a drill takes the system clock, so the action is refused before any gate.
    w.promotion.clock = FixedClock(parse_instant("2026-11-20T10:00:00Z"))
    w.to_approved("v1", chg)


def stranger_changes_trust(w: World) -> None:
    w.promotion.configure(actor="pat", trust={"keys": [{"id": "k", "public_key": "A" * 43 + "="}]})


def unauthorised_revocation(w: World) -> None:
    w.approved("v1")
    w.promotion.revoke(MODEL, "v1", actor="pat", reason="dislike")


BYPASSES: list[tuple[str, Callable[[World], None], str]] = [
    ("submitter approves", submitter_approves, "four-eyes: ann submitted risk-default v1"),
    ("one person in both roles", one_person_both_roles, "one person cannot also approve"),
    ("one role missing", one_role_missing, "four-eyes: needs Security and Product"),
    (
        "approvals of another verdict",
        approvals_of_another_verdict,
        "four-eyes: needs Security and Product approvals of this verdict",
    ),
    (
        "approval naming no verdict",
        approval_without_verdict,
        "verdict: an approval for Approved names the canary verdict",
    ),
    ("role not held", role_not_on_roster, "roster: pat does not hold the security role"),
    ("expired waiver", expired_waiver, "sbom: CVE-2026-9999 is critical"),
    ("waiver for another check", waiver_for_another_check, "sbom: CVE-2026-9999 is critical"),
    ("submitter waives", submitter_waives_own_check, "separation of duties: ann submitted"),
    ("change in a freeze", change_in_freeze, "the calendar is frozen (month-end close)"),
    ("emergency without executive", emergency_without_executive, "needs an executive approver"),
    ("change outside window", outside_window, "outside every change window"),
    ("normal change without CAB", normal_change_without_cab, "needs CAB approvals"),
    ("requester approves change", requester_approves_change, "olga requested CHG-R"),
    ("change out of scope", change_out_of_scope, "does not cover risk-default v1"),
    ("no change ticket", no_change_ticket, "a change ticket (CHG-ID)"),
    ("Approved without PROCEED", approved_without_proceed, "verdict: decision is STOP"),
    ("Approved without verdict", approved_without_verdict, "verdict: no canary verdict"),
    (
        "verdict for another version",
        verdict_for_another_version,
        "verdict: statement.subject risk-default@v9 is neither the artifact of risk-default v1",
    ),
    ("verdict for another policy", verdict_for_another_policy, "verdict: it is for"),
    ("revalidate_by missing", revalidate_by_missing, "revalidate_by: must be set"),
    ("Candidate straight to Approved", skip_staging, "not in the transition table"),
    ("revoked version to production", revoked_to_production, "is Revoked"),
    ("Staging version to production", staging_version_to_production, "is Staging"),
    ("stale compare-and-set", stale_compare_and_set, "compare-and-set: production is v1"),
    ("tampered audit row", tampered_audit_row, "hash does not match the row's contents"),
    ("deleted audit row", deleted_audit_row, "prev_hash does not link"),
    ("deleted last audit row", deleted_last_audit_row, "a row was deleted"),
    ("reordered audit rows", reordered_audit_rows, "prev_hash does not link"),
    ("missing signature", missing_signature, "no signature supplied although trust"),
    ("untrusted signing key", signature_by_untrusted_key, "does not verify"),
    ("attestation subject mismatch", attestation_for_another_artifact, "statement.subject"),
    ("SBOM with a critical CVE", sbom_with_critical_cve, "sbom: CVE-2026-4242 is critical"),
    ("SBOM missing", sbom_missing, "sbom: no SBOM supplied"),
    ("no security decision", no_security_decision, "security decision: no PASS"),
    (
        "Standard change for a new version",
        standard_change_for_new_version,
        "a Standard change only moves the alias",
    ),
    ("clock moved backwards", clock_moved_backwards, "5 days behind the system clock"),
    ("stranger changes trust", stranger_changes_trust, "roster: pat holds none of the roles"),
    ("unauthorised revocation", unauthorised_revocation, "roster: pat holds none of the roles"),
]


@pytest.mark.parametrize(
    ("attempt", "expected"), [pytest.param(f, e, id=i) for i, f, e in BYPASSES]
)
def test_bypass_is_denied_and_audited(
    world: World, attempt: Callable[[World], None], expected: str
) -> None:
    with pytest.raises(GateDeniedError) as caught:
        attempt(world)
    assert expected in str(caught.value)
    last = world.promotion.events()[-1]
    assert last.kind == "gate_denied"
    assert any(expected in reason for reason in last.payload["reasons"])


def test_denied_action_changes_nothing_but_the_audit_log(world: World) -> None:
    world.submit("v1")
    before = world.promotion.version("v1" and MODEL, "v1")
    with pytest.raises(GateDeniedError):
        world.to_staging("v1", signatures=[])
    after = world.promotion.version(MODEL, "v1")
    assert (after.stage, after.policy_digest) == (before.stage, None)
    assert world.promotion.audit_verify().ok


def test_emergency_with_executive_may_act_in_a_freeze(world: World) -> None:
    world.approved("v1")
    chg = world.chg("CHG-E", ["v1"], type="Emergency")
    world.promotion.approve_change(chg, actor="eve", role="executive")
    world.clock.set(parse_instant("2026-11-28T22:00:00Z"))
    state = world.promotion.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=chg)
    assert state.version == "v1"


def test_unexpired_waiver_lifts_exactly_its_check(world: World) -> None:
    world.submit("v1")
    world.promotion.waive(
        MODEL,
        version="v1",
        waiver_id="SCDR-9",
        check="CVE-2026-9999",
        reason="not reachable from the scoring path",
        owner="sec-team",
        expires="2026-12-01T00:00:00Z",
        actor="sue",
    )
    bom = sbom(("CVE-2026-9999", "critical", None), ("CVE-2026-7777", "high", "not_affected"))
    # issue 12: the SBOM's own not_affected on a high CVE counts with a security approval of it
    world.promotion.approve_vex(MODEL, "v1", vulnerability="CVE-2026-7777", sbom=bom, actor="sam")
    result = world.to_staging("v1", sbom=bom)
    assert result.to_stage == "Staging"


def test_a_waived_check_never_lets_a_continue_verdict_through(world: World) -> None:
    # issue 12: a STOP or CONTINUE verdict never opens the gate, whatever is waived
    _staged(world)
    checks = [
        {"name": "latency_p95", "status": "pass"},
        {"name": "auc_delta", "status": "inconclusive"},
    ]
    verdict = make_verdict("v1", world.policy_digest, decision="CONTINUE", checks=checks)
    world.approvals("v1", verdict)
    world.promotion.waive(
        MODEL,
        version="v1",
        waiver_id="SCDR-5",
        check="auc_delta",
        reason="labels mature in 30 days",
        owner="pat",
        expires="2026-12-20T00:00:00Z",
        actor="sue",
    )
    with pytest.raises(GateDeniedError, match="verdict: decision is CONTINUE, not PROCEED"):
        world.to_approved("v1", world.chg("CHG-1", ["v1"]), verdict=verdict)
    assert world.promotion.events()[-1].kind == "gate_denied"


def test_quality_gate_cannot_be_waived(world: World) -> None:
    _staged(world)
    checks = [
        {"name": name, "status": "inconclusive" if name == "sample_ratio" else "pass"}
        for name in SHIPPED_CHECKS
    ]
    verdict = make_verdict("v1", world.policy_digest, decision="PROCEED", checks=checks)
    world.approvals("v1", verdict)
    world.promotion.waive(
        MODEL,
        version="v1",
        waiver_id="SCDR-6",
        check="sample_ratio",
        reason="traffic split was misconfigured",
        owner="pat",
        expires="2026-12-20T00:00:00Z",
        actor="sue",
    )
    with pytest.raises(GateDeniedError, match="re-derives CONTINUE, not PROCEED") as caught:
        world.to_approved("v1", world.chg("CHG-1", ["v1"]), verdict=verdict)
    assert "sample_ratio: sample_ratio inconclusive" in str(caught.value)
