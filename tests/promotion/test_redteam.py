"""The red-team table of issues 12 and 13: every attack we know of, in one place.

Each row of :data:`ATTACKS` performs one attack — through the Python API of the test world (a
:class:`~promotion_world.SignedPromotion` signing each person's acts with their test key), the
CLI (``main([...])``), or ``sqlite3`` directly on the registry file — and states what must
happen:

- ``DENIED``: a :class:`~canarykit.errors.GateDeniedError` whose message holds the expected
  reason, and the audit log's last event is a ``gate_denied`` event with that reason;
- ``TAMPERED``: the attack rewrites the registry file; ``canarykit audit verify`` (with the
  signed checkpoints the attack kept outside the registry, under the trust file held outside
  it) must fail and name the expected problem;
- ``REFUSED``: the input is refused before anything is acted on (an
  :class:`~canarykit.errors.InvalidInputError` with the expected message); the attack function
  also checks that nothing was written (e.g. a symbolic link's target is untouched);
- ``STARTUP``: ``check-startup`` refuses with the expected exit status and reason, recorded as a
  ``gate_denied`` event;
- ``VERIFY``: ``canarykit release verify`` fails (exit 6) naming the expected problem;
- ``HELD``: the attack's own assertions (an attack that is neither refused nor a tampering,
  e.g. a lock-out that must not happen, or release notes that must not be forged).

The table is also ``docs/security.md`` → "Red-team table (issues 12 and 13)", one row per
test id. Other test files prove each control in depth; this one enumerates the attacks.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import promotion_world as pw
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from promotion_world import (
    MODEL,
    PEOPLE_KEYS,
    ROSTER,
    SHIPPED_CHECKS,
    World,
    make_verdict,
    make_world,
    pem,
    sbom,
    sign_policy_folder,
)

from canarykit.cli.main import main
from canarykit.errors import CanaryError, GateDeniedError, InvalidInputError
from canarykit.promotion import acts
from canarykit.promotion.audit import GENESIS_HASH, AuditEvent, canonical_json, verify_chain
from canarykit.promotion.checkpoints import write_checkpoint
from canarykit.promotion.clock import FixedClock, parse_instant
from canarykit.promotion.evidence import TrustStore, public_key_text, sign_digest
from canarykit.promotion.startup import EXIT_CODES, StartupCheck
from canarykit.promotion.verified_state import verify_log

DENIED, TAMPERED, REFUSED, STARTUP, VERIFY, HELD = (
    "denied",
    "tampered",
    "refused",
    "startup",
    "verify",
    "held",
)


# -- shared helpers --------------------------------------------------------------------------------
def registry_file(w: World) -> Path:
    return w.tmp / "registry.sqlite"


UNLOCK = (
    "DROP TRIGGER IF EXISTS events_append_only_update;"
    " DROP TRIGGER IF EXISTS events_append_only_delete;"
)


def sql(w: World, script: str, *params: Any) -> None:
    """Run SQL on the registry file as someone holding it (a second connection, no canarykit)."""
    conn = sqlite3.connect(registry_file(w))
    try:
        if params:
            conn.execute(script, params)
        else:
            conn.executescript(script)
        conn.commit()
    finally:
        conn.close()


def rechain(w: World, edit: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
    """Rewrite the audit log as an attacker with the file would: drop the append-only
    triggers, let ``edit`` change the events (rows as dicts, ``payload`` decoded), then renumber
    them and recompute every hash and ``audit_head`` so that the hash chain verifies again."""
    conn = sqlite3.connect(registry_file(w))
    conn.row_factory = sqlite3.Row
    rows = [dict(r) for r in conn.execute("SELECT * FROM events ORDER BY seq")]
    for row in rows:
        row["payload"] = json.loads(row.pop("payload_json"))
    rows = edit(rows)
    conn.executescript(UNLOCK + "DELETE FROM events;")
    prev = GENESIS_HASH
    for seq, row in enumerate(rows, 1):
        event = AuditEvent(
            seq=seq,
            time_ns=row["time_ns"],
            kind=row["kind"],
            actor=row["actor"],
            model=row["model"],
            version=row["version"],
            chg_id=row["chg_id"],
            payload=row["payload"],
            prev_hash=prev,
            hash="",
        )
        prev = event.computed_hash()
        conn.execute(
            "INSERT INTO events (seq, time_ns, kind, model, version, chg_id, actor, payload_json,"
            " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                seq,
                event.time_ns,
                event.kind,
                event.model,
                event.version,
                event.chg_id,
                event.actor,
                canonical_json(dict(event.payload)),
                event.prev_hash,
                prev,
            ),
        )
    conn.execute("DELETE FROM audit_head")
    if rows:
        conn.execute("INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)", (len(rows), prev))
    conn.commit()
    conn.close()


def outside_trust(w: World) -> TrustStore:
    """The trust file as kept outside the registry (before any tampering)."""
    document = w.promotion.config_document("trust")
    assert document is not None
    return TrustStore.from_dict(document)


def checkpoint(w: World) -> dict[str, Any]:
    """``canarykit audit checkpoint``: a signed checkpoint, handed to an external store."""
    return dict(
        write_checkpoint(w.promotion, signing_key=w.key, key_id="release-key", actor="sam").envelope
    )


def in_production(w: World, version: str = "v1", chg: str | None = None) -> None:
    """``version`` Approved and behind the production alias (a Standard change)."""
    w.approved(version)
    current = w.promotion.show_alias(MODEL)
    w.promotion.set_alias(
        MODEL,
        version,
        expected=None if current is None else current.version,
        actor="olga",
        chg_id=w.chg(chg or f"CHG-P{version[1:]}", [version], type="Standard"),
    )


def staged_with_approvals(w: World, version: str = "v1") -> None:
    w.submit(version)
    w.to_staging(version)
    w.approvals(version)


def startup(w: World, version: str = "v1") -> StartupCheck:
    return w.promotion.check_startup(
        MODEL, policy_digest=w.policy_digest, artifact=w.artifact(version)
    )


def propose_roster(w: World, people: dict[str, Any], *, actor: str) -> str:
    return w.promotion.propose_config("roster", {"people": people}, actor=actor).proposal_id


def roster_without(*names: str) -> dict[str, Any]:
    return {p: e for p, e in ROSTER["people"].items() if p not in names}


def cli(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run ``canarykit ARGV`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(argv))
            except SystemExit as exit_:
                code = int(exit_.code or 0)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return code, out.getvalue(), err.getvalue()


def key_file(w: World, person: str) -> str:
    return str(pem(PEOPLE_KEYS[person], w.tmp / f"{person}.pem"))


def event_count(w: World) -> int:
    return len(w.promotion.events())


# -- issue 13: people (signed acts, roster, four eyes) ---------------------------------------------
def _approve_own_submission_as(w: World, alias: str, key: Any = None) -> None:
    """ann submits v1; a product approval for Approved arrives under ``alias`` (signed by
    ann's key: she is the one attempting it)."""
    w.promotion.submit(MODEL, "v1", artifact=w.artifact("v1"), actor="ANN")
    w.to_staging("v1")
    w.promotion.approve(
        MODEL,
        "v1",
        role="product",
        actor=alias,
        verdict=w.signed(make_verdict("v1", w.policy_digest)),
        key=PEOPLE_KEYS["ann"] if key is None else key,
    )


def submit_as_ANN_approve_as_ann(w: World) -> None:
    _approve_own_submission_as(w, "ann")


def submit_as_ann_approve_as_email(w: World) -> None:
    _approve_own_submission_as(w, "ann@corp.example")


def submit_as_ann_approve_as_fullwidth(w: World) -> None:
    _approve_own_submission_as(w, "\uff41\uff4e\uff4e")


def submit_as_ann_approve_as_Ann_with_a_second_key(w: World) -> None:
    """The same, under a name that differs in case, signed by a key ann made for it."""
    _approve_own_submission_as(w, "Ann", key=Ed25519PrivateKey.generate())


def submit_by_non_member(w: World) -> None:
    w.promotion.submit(
        MODEL, "v1", artifact=w.artifact("v1"), actor="mallory", key=Ed25519PrivateKey.generate()
    )


def second_identity_approved_by_its_owner(w: World) -> None:
    people = dict(ROSTER["people"])
    people["sam2"] = {
        "roles": ["security"],
        "keys": [public_key_text(Ed25519PrivateKey.generate())],
    }
    proposal = propose_roster(w, people, actor="sam")
    w.promotion.approve_config(proposal, actor="sam")


def second_identity_with_the_same_key(w: World) -> None:
    people = dict(ROSTER["people"])
    people["sam2"] = {"roles": ["security"], "keys": list(ROSTER["people"]["sam"]["keys"])}
    w.promotion.propose_config("roster", {"people": people}, actor="sam")


def second_identity_by_a_second_bootstrap(w: World) -> None:
    people = dict(ROSTER["people"])
    people["sam2"] = {
        "roles": ["security"],
        "keys": [public_key_text(Ed25519PrivateKey.generate())],
    }
    w.promotion.bootstrap(actor="sam", roster={"people": people})


def approver_whose_own_identity_changes(w: World) -> None:
    people = dict(ROSTER["people"])
    extra = public_key_text(Ed25519PrivateKey.generate())
    people["sue"] = {"roles": ["security"], "keys": [*ROSTER["people"]["sue"]["keys"], extra]}
    proposal = propose_roster(w, people, actor="sam")
    w.promotion.approve_config(proposal, actor="sue")


def same_person_twice_in_a_roster(w: World) -> None:
    people = dict(ROSTER["people"])
    people["SAM"] = {"roles": ["product"], "keys": [public_key_text(Ed25519PrivateKey.generate())]}
    w.promotion.propose_config("roster", {"people": people}, actor="sam")


def freeze_deleted_by_one_operations_member(w: World) -> None:
    calendar = {**pw.CALENDAR, "freezes": []}
    proposal = w.promotion.propose_config("calendar", calendar, actor="olga").proposal_id
    w.promotion.approve_config(proposal, actor="olga")


def freeze_deleted_with_a_product_approver(w: World) -> None:
    calendar = {**pw.CALENDAR, "freezes": []}
    proposal = w.promotion.propose_config("calendar", calendar, actor="olga").proposal_id
    w.promotion.approve_config(proposal, actor="pat")


def config_proposal_approved_twice(w: World) -> None:
    calendar = {**pw.CALENDAR, "freezes": []}
    proposal = w.promotion.propose_config("calendar", calendar, actor="olga").proposal_id
    w.promotion.approve_config(proposal, actor="otto")
    w.promotion.approve_config(proposal, actor="otto")


def stale_config_proposal(w: World) -> None:
    first = w.promotion.propose_config("calendar", {**pw.CALENDAR, "freezes": []}, actor="olga")
    looser = {**pw.CALENDAR, "freezes": pw.CALENDAR["freezes"][:1]}
    second = w.promotion.propose_config("calendar", looser, actor="olga")
    w.promotion.approve_config(second.proposal_id, actor="otto")
    w.promotion.approve_config(first.proposal_id, actor="otto")


def approvals_of_a_removed_person(w: World) -> None:
    staged_with_approvals(w)  # sue (security) and pat (product) approve
    chg = w.chg("CHG-1", ["v1"])
    proposal = propose_roster(w, roster_without("sue"), actor="sam")
    w.promotion.approve_config(proposal, actor="max")
    w.to_approved("v1", chg)


def approvals_signed_with_a_removed_key(w: World) -> None:
    staged_with_approvals(w)
    chg = w.chg("CHG-1", ["v1"])
    people = dict(ROSTER["people"])  # sue's key rotated: the old one no longer signs for her
    people["sue"] = {"roles": ["security"], "keys": [public_key_text(Ed25519PrivateKey.generate())]}
    proposal = propose_roster(w, people, actor="sam")
    w.promotion.approve_config(proposal, actor="max")
    w.to_approved("v1", chg)


def cab_approval_of_a_removed_person(w: World) -> None:
    staged_with_approvals(w)
    chg = w.chg("CHG-1", ["v1"])  # otto (operations) and sam (security) approve
    proposal = propose_roster(w, roster_without("otto"), actor="sue")
    w.promotion.approve_config(proposal, actor="max")
    w.to_approved("v1", chg)


def approval_by_someone_who_lost_the_role(w: World) -> None:
    staged_with_approvals(w)
    chg = w.chg("CHG-1", ["v1"])
    people = dict(ROSTER["people"])
    people["pat"] = {"roles": ["operations"], "keys": list(ROSTER["people"]["pat"]["keys"])}
    proposal = propose_roster(w, people, actor="sam")
    w.promotion.approve_config(proposal, actor="max")
    w.to_approved("v1", chg)


# -- signed acts: forgery and replay ---------------------------------------------------------------
def unsigned_act(w: World) -> None:
    w.submit("v1")
    w.promotion.approve(MODEL, "v1", role="security", actor="sam", stage="Staging", key=None)


def act_signed_with_another_persons_key(w: World) -> None:
    w.submit("v1")
    w.promotion.approve(
        MODEL, "v1", role="security", actor="sam", stage="Staging", key=PEOPLE_KEYS["sue"]
    )


def act_signed_with_a_key_not_on_the_roster(w: World) -> None:
    w.submit("v1")
    w.promotion.approve(
        MODEL, "v1", role="security", actor="sam", stage="Staging", key=Ed25519PrivateKey.generate()
    )


def _captured_envelope(w: World, run: Callable[[Any], None]) -> dict[str, Any]:
    """The envelope sam's signer produced for one act (what an eavesdropper keeps)."""
    seen: list[dict[str, Any]] = []

    class Spy:
        def sign_act(self, statement: Any) -> Any:
            envelope = acts.sign_act(statement, PEOPLE_KEYS["sam"])
            seen.append(envelope)
            return envelope

    run(Spy())
    return seen[-1]


def replayed_signature_of_another_version(w: World) -> None:
    w.submit("v1")
    w.submit("v2")
    envelope = _captured_envelope(
        w,
        lambda spy: w.promotion.approve(
            MODEL, "v1", role="security", actor="sam", stage="Staging", key=spy
        ),
    )
    w.promotion.approve(MODEL, "v2", role="security", actor="sam", stage="Staging", key=envelope)


def replayed_signature_of_another_act(w: World) -> None:
    w.approved("v1")
    envelope = _captured_envelope(
        w,
        lambda spy: w.promotion.waive(
            MODEL,
            version="v1",
            waiver_id="SCDR-1",
            check="CVE-2026-1",
            reason="x",
            owner="sec",
            expires="2026-11-27T00:00:00Z",
            actor="sam",
            key=spy,
        ),
    )
    w.promotion.revoke(MODEL, "v1", actor="sam", reason="leak", key=envelope)


def replayed_signature_from_another_registry(w: World) -> None:
    with make_world(w.tmp / "other") as other:
        other.submit("v1")
        envelope = _captured_envelope(
            other,
            lambda spy: other.promotion.approve(
                MODEL, "v1", role="security", actor="sam", stage="Staging", key=spy
            ),
        )
    w.submit("v1")
    w.promotion.approve(MODEL, "v1", role="security", actor="sam", stage="Staging", key=envelope)


def replayed_signature_at_another_time(w: World) -> None:
    w.submit("v1")
    envelope = _captured_envelope(
        w,
        lambda spy: w.promotion.approve(
            MODEL, "v1", role="security", actor="sam", stage="Staging", note="first", key=spy
        ),
    )
    w.clock.advance(hours=1)
    w.promotion.approve(
        MODEL, "v1", role="security", actor="sam", stage="Staging", note="first", key=envelope
    )


def name_with_control_characters(w: World) -> None:
    before = event_count(w)
    try:
        w.promotion.submit(MODEL, "v1", artifact=w.artifact("v1"), actor="ann\u202e")
    finally:
        assert event_count(w) == before


# -- issue 13: time --------------------------------------------------------------------------------
def clock_past_the_freeze_via_the_api(w: World) -> None:
    in_production(w, "v1")
    w.approved("v2")
    chg = w.chg("CHG-D", ["v2"], type="Standard", end="2026-12-02T08:00:00Z")
    w.promotion.clock = FixedClock(parse_instant("2026-12-01T10:00:00Z"))
    w.promotion.set_alias(MODEL, "v2", expected="v1", actor="olga", chg_id=chg)


def clock_override_env_and_clock_on_the_cli(w: World) -> None:
    in_production(w, "v1")
    w.approved("v2")
    chg = w.chg("CHG-D", ["v2"], type="Standard")
    before = event_count(w)
    code, _, err = cli(
        "alias",
        "set",
        MODEL,
        "v2",
        "--expect",
        "v1",
        "--chg",
        chg,
        "--actor",
        "olga",
        "--registry",
        str(registry_file(w)),
        "--clock",
        "2026-12-01T10:00:00Z",
        env={"CANARYKIT_ALLOW_CLOCK_OVERRIDE": "1"},
    )
    assert code == 2, err
    assert "--clock: only for drill registries" in err
    assert event_count(w) == before
    assert w.promotion.show_alias(MODEL).version == "v1"  # type: ignore[union-attr]


def clock_2100_on_an_ungated_action(w: World) -> None:
    w.promotion.clock = FixedClock(parse_instant("2100-01-01T00:00:00Z"))
    w.chg("CHG-2100", ["v1"], approve=False)


def event_dated_2100_does_not_lock_out(w: World) -> None:
    conn = w.promotion.store.conn  # an older canarykit wrote an event with --clock 2100
    with w.promotion.store.transaction() as tx:
        from canarykit.promotion.audit import append_event

        append_event(tx, kind="change", actor="olga", time_ns=parse_instant("2100-01-01T00:00:00Z"))
    assert conn is not None
    in_production(w, "v1")  # the gates still run at the system clock
    assert w.promotion.show_alias(MODEL).version == "v1"  # type: ignore[union-attr]
    report = verify_log(w.promotion.store.conn, wall_ns=w.clock.now_ns())
    assert any("written with a future clock" in p for p in report.problems)


def clock_moved_backwards(w: World) -> None:
    staged_with_approvals(w)
    chg = w.chg("CHG-1", ["v1"])
    w.promotion.clock = FixedClock(parse_instant("2026-11-20T10:00:00Z"))
    w.to_approved("v1", chg)


def drill_flag_forged_by_sql(w: World) -> list[dict[str, Any]]:
    """Rewrite the first event (the bootstrap) to say drill: true and recompute every hash.
    The first event is not a registry_init event, so the registry stays a production one, and
    the checkpoint kept outside catches the rewrite."""

    def edit(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows[0]["payload"] = {**rows[0]["payload"], "drill": True}
        return rows

    w.submit("v1")
    cp = checkpoint(w)
    rechain(w, edit)
    assert not w.promotion.drill
    return [cp]


# -- issue 13: change control ----------------------------------------------------------------------
def emergency_without_approval_inside_a_window(w: World) -> None:
    w.approved("v1")
    chg = w.chg("CHG-E", ["v1"], type="Emergency")
    w.promotion.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=chg)


def submitter_on_the_cab_of_her_change(w: World) -> None:
    w.submit("v1")  # ann
    chg = w.chg("CHG-N", ["v1"], approve=False)
    w.promotion.approve_change(chg, actor="ann", role="product")


def submitter_is_the_executive_of_her_emergency(w: World) -> None:
    w.submit("v1", actor="eve")
    chg = w.chg("CHG-E", ["v1"], type="Emergency")
    w.promotion.approve_change(chg, actor="eve", role="executive")


def requester_is_the_executive_of_her_emergency(w: World) -> None:
    w.submit("v1")
    chg = w.chg("CHG-E", ["v1"], type="Emergency", requester="eve")
    w.promotion.approve_change(chg, actor="eve", role="executive")


def cab_rows_of_the_submitter_inserted_by_sql(w: World) -> None:
    """The submitter's and requester's CAB approvals written straight into the table."""
    staged_with_approvals(w)
    chg = w.chg("CHG-N", ["v1"], approve=False)
    for actor, role in (("ann", "product"), ("olga", "operations")):
        sql(
            w,
            "INSERT INTO change_approvals (chg_id, actor, role, time_ns) VALUES (?, ?, ?, ?)",
            chg,
            actor,
            role,
            w.clock.now_ns(),
        )
    w.to_approved("v1", chg)


def unbounded_ticket_window(w: World) -> None:
    w.chg("CHG-LONG", ["v1"], approve=False, end="2027-11-25T08:00:00Z")


def ticket_window_widened_by_sql(w: World) -> None:
    in_production(w, "v1")
    w.approved("v2")
    chg = w.chg("CHG-S", ["v2"], type="Standard", end="2026-11-25T09:00:00Z")
    row = w.promotion.store.conn.execute(
        "SELECT body_json FROM changes WHERE chg_id = ?", (chg,)
    ).fetchone()
    body = json.loads(row[0])
    body["window"]["end"] = "2027-11-25T08:00:00+00:00"
    sql(w, "UPDATE changes SET body_json = ? WHERE chg_id = ?", canonical_json(body), chg)
    w.promotion.set_alias(MODEL, "v2", expected="v1", actor="olga", chg_id=chg)


def ticket_reused(w: World) -> None:
    w.approved("v1")
    w.approved("v2")
    std = w.chg("CHG-S", ["v1", "v2"], type="Standard")
    w.promotion.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=std)
    w.promotion.set_alias(MODEL, "v2", expected="v1", actor="olga", chg_id=std)
    w.promotion.set_alias(MODEL, "v1", expected="v2", actor="olga", chg_id=std)


def double_rollback_with_one_ticket(w: World) -> None:
    in_production(w, "v1")
    in_production(w, "v2")
    in_production(w, "v3")
    std = w.chg("CHG-RB", ["v1", "v2", "v3"], type="Standard")
    w.promotion.rollback(MODEL, actor="olga", chg_id=std)
    w.promotion.rollback(MODEL, actor="olga", chg_id=std)


def double_rollback_at_once(w: World) -> None:
    in_production(w, "v1")
    in_production(w, "v2")
    first = w.chg("CHG-RB1", ["v1", "v2"], type="Standard")
    second = w.chg("CHG-RB2", ["v1", "v2"], type="Standard")
    # two operators read "production is v2" and both roll back
    w.promotion.rollback(MODEL, actor="olga", chg_id=first, expected="v2")
    w.promotion.rollback(MODEL, actor="otto", chg_id=second, expected="v2")


def change_during_the_freeze(w: World) -> None:
    w.approved("v1")
    chg = w.chg("CHG-F", ["v1"], type="Standard")
    w.clock.set(parse_instant("2026-11-30T10:00:00Z"))  # month-end close
    w.promotion.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=chg)


def freeze_deleted_from_the_config_table(w: World) -> None:
    w.approved("v1")
    chg = w.chg("CHG-F", ["v1"], type="Standard")
    calendar = {**pw.CALENDAR, "freezes": []}
    sql(w, "UPDATE config SET value = ? WHERE key = 'calendar'", canonical_json(calendar))
    w.clock.set(parse_instant("2026-11-30T10:00:00Z"))
    w.promotion.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=chg)


# -- issue 13: SQL access --------------------------------------------------------------------------
def approval_rows_inserted_by_sql(w: World) -> None:
    w.submit("v1")
    w.to_staging("v1")
    from canarykit.promotion.verdict_attestation import load_verdict_document, open_verdict

    verdict = w.signed(make_verdict("v1", w.policy_digest))
    opened = open_verdict(
        load_verdict_document(verdict),
        outside_trust(w),
        model=MODEL,
        version="v1",
        artifact_digest=w.promotion.version(MODEL, "v1").artifact_digest,
        plain_allowed=False,
    )
    assert opened.accepted
    digest = opened.digest  # the rows name the very verdict promoted
    for actor, role in (("sue", "security"), ("pat", "product")):
        sql(
            w,
            "INSERT INTO approvals (model, version, stage, role, actor, time_ns, note,"
            " verdict_digest) VALUES (?, ?, 'Approved', ?, ?, ?, '', ?)",
            MODEL,
            "v1",
            role,
            actor,
            w.clock.now_ns(),
            digest,
        )
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=verdict)


def cab_approval_rows_inserted_by_sql(w: World) -> None:
    staged_with_approvals(w)
    chg = w.chg("CHG-N", ["v1"], approve=False)
    for actor, role in (("otto", "operations"), ("sam", "security")):
        sql(
            w,
            "INSERT INTO change_approvals (chg_id, actor, role, time_ns) VALUES (?, ?, ?, ?)",
            chg,
            actor,
            role,
            w.clock.now_ns(),
        )
    w.to_approved("v1", chg)


def waiver_row_inserted_by_sql(w: World) -> None:
    w.submit("v1")
    sql(
        w,
        "INSERT INTO waivers (waiver_id, model, version, check_name, reason, owner, expires_ns,"
        " created_by, created_at_ns) VALUES ('SCDR-X', ?, 'v1', 'CVE-2026-9999', 'trust me',"
        " 'sec', ?, 'sue', ?)",
        MODEL,
        parse_instant("2026-12-20T00:00:00Z"),
        w.clock.now_ns(),
    )
    w.to_staging("v1", sbom=sbom(("CVE-2026-9999", "critical", None)))


def roster_row_rewritten_by_sql(w: World) -> None:
    people = dict(ROSTER["people"])
    mallory = Ed25519PrivateKey.generate()
    people["mallory"] = {"roles": ["security"], "keys": [public_key_text(mallory)]}
    sql(w, "UPDATE config SET value = ? WHERE key = 'roster'", canonical_json({"people": people}))
    w.submit("v1")
    w.promotion.approve(MODEL, "v1", role="security", actor="mallory", stage="Staging", key=mallory)


def stage_edited_by_sql_passes_no_alias_gate(w: World) -> None:
    w.submit("v1")
    w.to_staging("v1")
    sql(w, "UPDATE versions SET stage = 'Approved' WHERE model = ? AND version = 'v1'", MODEL)
    chg = w.chg("CHG-S", ["v1"], type="Standard")
    w.promotion.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=chg)


def revocation_rows_deleted_startup(w: World) -> StartupCheck:
    in_production(w, "v1")
    w.promotion.revoke(MODEL, "v1", actor="sam", reason="leak")
    sql(
        w,
        "UPDATE versions SET stage = 'Approved', stage_before_revocation = NULL"
        " WHERE version = 'v1';"
        " UPDATE aliases SET version = 'v1' WHERE alias = 'production';",
    )
    return startup(w)


def revocation_events_deleted_and_head_fixed(w: World) -> list[dict[str, Any]]:
    """Drop the triggers, delete the revocation (and what followed it), fix audit_head: the
    chain alone says intact; the checkpoint taken after the revocation does not."""
    in_production(w, "v1")
    w.promotion.revoke(MODEL, "v1", actor="sam", reason="leak")
    cp = checkpoint(w)
    revoked_at = next(e.seq for e in w.promotion.events() if e.kind == "revocation")
    sql(
        w,
        UNLOCK + f"DELETE FROM events WHERE seq >= {revoked_at};"
        f" UPDATE audit_head SET seq = {revoked_at - 1},"
        f" hash = (SELECT hash FROM events WHERE seq = {revoked_at - 1});"
        " UPDATE versions SET stage = 'Approved', stage_before_revocation = NULL"
        " WHERE version = 'v1';"
        " UPDATE aliases SET version = 'v1' WHERE alias = 'production';",
    )
    assert verify_chain(w.promotion.store.conn).ok  # the hash chain alone is fooled
    return [cp]


def every_event_deleted(w: World) -> list[dict[str, Any]]:
    in_production(w, "v1")
    sql(w, UNLOCK + "DELETE FROM events; DELETE FROM audit_head;")
    return []


def every_event_deleted_then_act(w: World) -> None:
    in_production(w, "v1")
    sql(w, UNLOCK + "DELETE FROM events; DELETE FROM audit_head;")
    w.promotion.revoke(MODEL, "v1", actor="sam", reason="tidy up")


def forged_event_with_recomputed_hashes(w: World) -> list[dict[str, Any]]:
    """Rewrite an old approval's actor (an unsigned field of the row) and recompute the chain."""
    staged_with_approvals(w)
    cp = checkpoint(w)

    def edit(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for row in rows:
            if row["kind"] == "promotion":
                row["payload"] = {**row["payload"], "policy_name": "forged"}
        return rows

    rechain(w, edit)
    assert verify_chain(w.promotion.store.conn).ok  # the hash chain alone is fooled
    return [cp]


def forged_approval_event_copying_a_signature(w: World) -> list[dict[str, Any]]:
    """Insert a product approval 'by max' carrying pat's signed act (chain recomputed)."""
    staged_with_approvals(w)

    def edit(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        pat = next(r for r in rows if r["kind"] == "approval" and r["actor"] == "pat")
        forged = {**pat, "actor": "max", "payload": {**pat["payload"], "actor": "max"}}
        return [*rows, forged]

    rechain(w, edit)
    return []


def log_truncated_before_the_checkpoint(w: World) -> list[dict[str, Any]]:
    staged_with_approvals(w)
    cp = checkpoint(w)
    last = w.promotion.events()[-1].seq
    sql(
        w,
        UNLOCK + f"DELETE FROM events WHERE seq >= {last - 3};"
        f" UPDATE audit_head SET seq = {last - 4},"
        f" hash = (SELECT hash FROM events WHERE seq = {last - 4});",
    )
    return [cp]


def checkpoint_of_another_registry(w: World) -> list[dict[str, Any]]:
    with make_world(w.tmp / "other") as other:
        other.submit("v1")
        foreign = dict(
            write_checkpoint(
                other.promotion, signing_key=other.key, key_id="release-key", actor="sam"
            ).envelope
        )
    w.submit("v1")
    return [foreign]


def checkpoint_signed_by_a_wrong_purpose_key(w: World) -> None:
    w.submit("v1")
    write_checkpoint(w.promotion, signing_key=w.verdict_key, key_id="verdict-key", actor="sam")


def rows_without_events_reported(w: World) -> list[dict[str, Any]]:
    w.submit("v1")
    sql(
        w,
        "INSERT INTO approvals (model, version, stage, role, actor, time_ns) VALUES"
        f" ('{MODEL}', 'v1', 'Staging', 'security', 'sam', 0);",
    )
    return []


def waiver_rows_without_events_reported(w: World) -> list[dict[str, Any]]:
    waiver_row_inserted_by_sql_quiet(w)
    return []


def waiver_row_inserted_by_sql_quiet(w: World) -> None:
    w.submit("v1")
    sql(
        w,
        "INSERT INTO waivers (waiver_id, model, version, check_name, reason, owner, expires_ns,"
        " created_by, created_at_ns) VALUES ('SCDR-X', ?, 'v1', 'CVE-2026-9999', 'trust me',"
        " 'sec', 0, 'sue', 0)",
        MODEL,
    )


def cab_rows_without_events_reported(w: World) -> list[dict[str, Any]]:
    w.submit("v1")
    chg = w.chg("CHG-N", ["v1"], approve=False)
    sql(
        w,
        "INSERT INTO change_approvals (chg_id, actor, role, time_ns) VALUES (?, 'otto',"
        " 'operations', 0)",
        chg,
    )
    return []


def roster_row_without_event_reported(w: World) -> list[dict[str, Any]]:
    people = {**ROSTER["people"], "mallory": ["security"]}
    sql(w, "UPDATE config SET value = ? WHERE key = 'roster'", canonical_json({"people": people}))
    return []


def stage_edit_reported(w: World) -> list[dict[str, Any]]:
    w.submit("v1")
    sql(w, "UPDATE versions SET stage = 'Approved' WHERE version = 'v1'")
    return []


def revocation_rows_deleted_then_released(w: World) -> None:
    """Revoke v1, then put its row back to Approved by SQL and release it."""
    in_production(w, "v1")
    w.promotion.revoke(MODEL, "v1", actor="sam", reason="leak")
    sql(
        w,
        "UPDATE versions SET stage = 'Approved', stage_before_revocation = NULL"
        " WHERE version = 'v1';",
    )
    w.promotion.release(
        MODEL, "v1", out=w.tmp / "rel", signing_key=w.key, key_id="release-key", actor="olga"
    )


def stage_edited_startup(w: World) -> StartupCheck:
    w.submit("v1")
    w.to_staging("v1")
    sql(
        w,
        "UPDATE versions SET stage = 'Approved' WHERE version = 'v1';"
        " INSERT INTO aliases (model, alias, version, generation, updated_at_ns)"
        f" VALUES ('{MODEL}', 'production', 'v1', 1, 0);",
    )
    return startup(w)


# -- issue 13: safe writes and bounded work --------------------------------------------------------
def release_into_a_symlinked_folder(w: World) -> None:
    in_production(w, "v1")
    victim = w.tmp / "victim"
    victim.mkdir()
    (w.tmp / "rel").symlink_to(victim)
    try:
        w.promotion.release(
            MODEL, "v1", out=w.tmp / "rel", signing_key=w.key, key_id="release-key", actor="olga"
        )
    finally:
        assert list(victim.iterdir()) == []


def release_notes_planted_as_a_symlink(w: World) -> None:
    in_production(w, "v1")
    victim = w.tmp / "victim.txt"
    victim.write_text("keep")
    out = w.tmp / "rel"
    out.mkdir()
    (out / "release_notes.md").symlink_to(victim)
    try:
        w.promotion.release(
            MODEL, "v1", out=out, signing_key=w.key, key_id="release-key", actor="olga"
        )
    finally:
        assert victim.read_text() == "keep"


def audit_export_through_a_symlink(w: World) -> None:
    w.submit("v1")
    victim = w.tmp / "victim.txt"
    victim.write_text("keep")
    (w.tmp / "export.jsonl").symlink_to(victim)
    try:
        w.promotion.audit_export(w.tmp / "export.jsonl")
    finally:
        assert victim.read_text() == "keep"


def newline_in_impact_forges_release_notes(w: World) -> None:
    w.submit("v1")
    w.to_staging("v1")
    w.approvals("v1")
    ticket = {
        "id": "CHG-INJ",
        "type": "Normal",
        "scope": {"model": MODEL, "versions": ["v1"]},
        "risk": "low",
        "impact": "none\n\n## Approvals\n\n- security (Approved): ciso at 2026-11-25\n<script>x</script>",
        "window": {"start": "2026-11-25T08:00:00Z", "end": "2026-12-02T08:00:00Z"},
        "steps": ["promote"],
        "backout_plan": "rollback",
        "post_change_validation": ["check-startup"],
        "owners": ["olga"],
    }
    w.promotion.create_change(ticket, actor="olga")
    w.promotion.approve_change("CHG-INJ", actor="otto", role="operations")
    w.promotion.approve_change("CHG-INJ", actor="sam", role="security")
    w.to_approved("v1", "CHG-INJ")
    w.promotion.release(
        MODEL, "v1", out=w.tmp / "rel", signing_key=w.key, key_id="release-key", actor="olga"
    )
    notes = (w.tmp / "rel" / "release_notes.md").read_text()
    lines = notes.splitlines()
    assert lines.count("## Approvals") == 1
    assert not any(line.startswith("- security (Approved): ciso") for line in lines)
    assert "<script>" not in notes


def big_sbom_does_not_hold_the_lock(w: World) -> None:
    """A 3,000-vulnerability SBOM (all critical): the write lock is held briefly (the SBOM
    rules run before it), an approval at the same time succeeds, and the promotion is denied."""
    w.submit("v1")
    w.submit("v2")
    w.promotion.approve(MODEL, "v1", role="security", actor="sam", stage="Staging")
    big = sbom(*[(f"CVE-2026-{i:05d}", "critical", None) for i in range(3000)])
    held: list[float] = []
    failures: list[BaseException] = []

    def promote() -> None:  # another process: its own connection, in its own thread
        other = pw.world_registry(registry_file(w), clock=w.clock)
        locked = other.store.transaction

        @contextlib.contextmanager
        def timed() -> Iterator[sqlite3.Connection]:
            with locked() as conn:
                start = time.monotonic()
                yield conn
            held.append(time.monotonic() - start)

        other.store.transaction = timed  # type: ignore[method-assign]
        try:
            other.promote(
                MODEL,
                "v1",
                to="Staging",
                actor="olga",
                signatures=w.signatures("v1"),
                attestation=w.envelope("v1"),
                sbom=big,
                policy=w.policy_dir,
            )
        except BaseException as err:
            failures.append(err)
        finally:
            other.close()

    thread = threading.Thread(target=promote)
    started = time.monotonic()
    thread.start()
    w.promotion.approve(MODEL, "v2", role="security", actor="sue", stage="Staging")
    approve_took = time.monotonic() - started
    thread.join(60)
    assert approve_took < 5, approve_took
    assert held, "the promotion never took the write lock"
    assert max(held) < 2, held
    assert len(failures) == 1
    assert isinstance(failures[0], GateDeniedError)
    assert "sbom: CVE-2026-00000 is critical" in str(failures[0])
    assert w.promotion.events()[-1].kind in ("gate_denied", "approval")


def oversized_sbom(w: World) -> None:
    from canarykit.promotion.sbom import MAX_VULNERABILITIES

    w.submit("v1")
    big = sbom(*[(f"CVE-2026-{i:06d}", "low", None) for i in range(MAX_VULNERABILITIES + 1)])
    w.to_staging("v1", sbom=big)


# -- issue 12: verdicts, policies, SBOMs, releases, startup -----------------------------------------
def waived_checks_open_a_stop_verdict(w: World) -> None:
    staged_with_approvals(w)
    checks = [
        {"name": n, "status": "fail" if n in ("latency_p99", "auc_delta") else "pass"}
        for n in SHIPPED_CHECKS
    ]
    verdict = make_verdict("v1", w.policy_digest, decision="STOP", checks=checks)
    w.approvals("v1", verdict)
    for i, check in enumerate(("latency_p99", "auc_delta")):
        w.promotion.waive(
            MODEL,
            version="v1",
            waiver_id=f"SCDR-{i}",
            check=check,
            reason="unrelated",
            owner="sec",
            expires="2026-12-20T00:00:00Z",
            actor="sue",
        )
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=verdict)


def _proceed_with(w: World, checks: list[dict[str, Any]]) -> None:
    staged_with_approvals(w)
    verdict = make_verdict("v1", w.policy_digest, checks=checks)
    w.approvals("v1", verdict)
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=verdict)


def proceed_whose_checks_all_fail(w: World) -> None:
    _proceed_with(w, [{"name": n, "status": "fail"} for n in SHIPPED_CHECKS])


def proceed_with_sample_ratio_failing(w: World) -> None:
    _proceed_with(
        w,
        [{"name": n, "status": "fail" if n == "sample_ratio" else "pass"} for n in SHIPPED_CHECKS],
    )


def proceed_with_no_checks(w: World) -> None:
    _proceed_with(w, [])


def plain_json_verdict_outside_drill(w: World) -> None:
    staged_with_approvals(w)
    verdict = make_verdict("v1", w.policy_digest)
    w.documents("v1", verdict)
    w.promotion.promote(
        MODEL,
        "v1",
        to="Approved",
        actor="olga",
        verdict=verdict,
        revalidate_by="2027-02-25T00:00:00Z",
        chg_id=w.chg("CHG-1", ["v1"]),
    )


def verdict_signed_by_a_wrong_purpose_key(w: World) -> None:
    staged_with_approvals(w)
    verdict = w.signed(
        make_verdict("v1", w.policy_digest), key=w.artifact_key, key_id="artifact-key"
    )
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=verdict)


def verdict_signed_by_an_own_key_under_a_trusted_id(w: World) -> None:
    staged_with_approvals(w)
    verdict = w.signed(make_verdict("v1", w.policy_digest), key=Ed25519PrivateKey.generate())
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=verdict)


def signed_verdict_of_another_version(w: World) -> None:
    staged_with_approvals(w)
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=make_verdict("v9", w.policy_digest))


def signed_stop_edited_to_proceed(w: World) -> None:
    staged_with_approvals(w)
    envelope = w.signed(make_verdict("v1", w.policy_digest, decision="STOP"))
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["verdict"]["decision"] = "PROCEED"
    envelope = {**envelope, "payload": base64.b64encode(json.dumps(statement).encode()).decode()}
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=envelope)


def unsanctioned_loose_policy(w: World) -> None:
    loose = pw.shipped_policy(w.tmp / "loose")
    (loose / "canary.yaml").write_text((loose / "canary.yaml").read_text() + "\n# looser\n")
    w.submit("v1")
    w.to_staging("v1", policy=loose)


def loose_policy_signed_by_a_verdict_key(w: World) -> None:
    loose = pw.shipped_policy(w.tmp / "loose")
    sign_policy_folder(loose, w.verdict_key, "verdict-key")
    w.submit("v1")
    w.to_staging("v1", policy=loose)


def extra_rego_in_a_sanctioned_folder(w: World) -> None:
    (w.policy_dir / "zz_allow.rego").write_text(
        'package canarykit.verdict.decision\nimport rego.v1\ndecision := "PROCEED"\n'
    )
    w.submit("v1")
    w.to_staging("v1")


def another_releases_snapshot(w: World) -> None:
    other = pw.shipped_policy(w.tmp / "other-policy")
    (other / "canary.yaml").write_text((other / "canary.yaml").read_text() + "\n# weaker\n")
    sign_policy_folder(other, w.policy_key, name="other-release")
    w.submit("v1")
    w.to_staging("v1", policy_signature=json.loads((other / "policy.dsse.json").read_text()))


def snapshot_signature_as_artifact_signature(w: World) -> None:
    from canarykit.verdict.snapshot import load_snapshot_files, snapshot_digest

    digest = snapshot_digest(load_snapshot_files(w.policy_dir))
    w.promotion.submit(MODEL, "v1", artifact_digest=digest, actor="ann")
    w.to_staging(
        "v1",
        signatures=[sign_digest(w.policy_key, "policy-key", digest)],
        attestation=w.envelope("v1", subject_digest=digest.removeprefix("sha256:")),
        artifact=None,
    )


def self_declared_not_affected(w: World) -> None:
    w.submit("v1")
    w.to_staging("v1", sbom=sbom(("CVE-2026-4242", "critical", "not_affected")))


def empty_sbom(w: World) -> None:
    w.submit("v1")
    w.to_staging("v1", sbom={**sbom(), "components": []})


def sbom_without_analysis(w: World) -> None:
    w.submit("v1")
    document = sbom()
    del document["vulnerabilities"]
    w.to_staging("v1", sbom=document)


def low_9_8_rating(w: World) -> None:
    w.submit("v1")
    document = sbom(("CVE-2026-9800", "low", None))
    document["vulnerabilities"][0]["ratings"] = [{"severity": "low"}, {"score": 9.8}]
    w.to_staging("v1", sbom=document)


def provenance_with_another_predicate(w: World) -> None:
    w.submit("v1")
    envelope = w.envelope("v1")
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicateType"] = "https://example.com/anything/v0"
    w.to_staging("v1", attestation=_resign(w, statement))


def provenance_from_another_builder(w: World) -> None:
    w.submit("v1")
    envelope = w.envelope("v1")
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["runDetails"]["builder"]["id"] = "https://laptop.example/mallory"
    w.to_staging("v1", attestation=_resign(w, statement))


def _resign(w: World, statement: dict[str, Any]) -> dict[str, Any]:
    from canarykit.promotion.evidence import dsse_pae

    payload = json.dumps(statement).encode()
    kind = "application/vnd.in-toto+json"
    sig = w.builder_key.sign(dsse_pae(kind, payload))
    return {
        "payloadType": kind,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": "ci-builder", "sig": base64.b64encode(sig).decode()}],
    }


def check_startup_without_artifact(w: World) -> None:
    in_production(w, "v1")
    before = event_count(w)
    try:
        w.promotion.check_startup(MODEL, policy_digest=w.policy_digest)
    finally:
        assert event_count(w) == before


def replaced_artifact_starts(w: World) -> StartupCheck:
    in_production(w, "v1")
    w.artifact("v1").write_bytes(b"weights somebody swapped in")
    return startup(w)


def revoked_version_starts(w: World) -> StartupCheck:
    in_production(w, "v1")
    w.promotion.revoke(MODEL, "v1", actor="sam", reason="leak")
    return w.promotion.check_startup(
        MODEL, version="v1", alias=None, policy_digest=w.policy_digest, artifact=w.artifact("v1")
    )


def drill_registry_starts_in_production(w: World) -> None:
    with make_world(w.tmp / "drill", drill=True) as drill:
        assert drill.promotion.drill
        in_production(drill, "v1")
        result = startup(drill)
        assert (result.ok, result.exit_code) == (False, EXIT_CODES["drill"])
        assert result.problems[0].startswith("drill: this is a DRILL registry")
        last = drill.promotion.events()[-1]
        assert last.kind == "gate_denied"
        assert any(r.startswith("drill:") for r in last.payload["reasons"])


def _release(w: World) -> Path:
    in_production(w, "v1")
    out = w.tmp / "rel"
    w.promotion.release(MODEL, "v1", out=out, signing_key=w.key, key_id="release-key", actor="olga")
    return out


def unsigned_manifest(w: World) -> Any:
    out = _release(w)
    (out / "release_manifest.dsse.json").unlink()
    return w.promotion.verify_release(out, artifact=w.artifact("v1"))


def release_of_a_version_revoked_since(w: World) -> Any:
    out = _release(w)
    w.promotion.revoke(MODEL, "v1", actor="sam", reason="leak")
    return w.promotion.verify_release(out, artifact=w.artifact("v1"))


def release_with_an_extra_rego_in_its_snapshot(w: World) -> Any:
    out = _release(w)
    snapshot = next(p for p in out.rglob("*.rego"))
    shutil.copy(snapshot, snapshot.with_name("zz_allow.rego"))
    return w.promotion.verify_release(out, artifact=w.artifact("v1"))


def release_of_another_artifact(w: World) -> Any:
    out = _release(w)
    w.artifact("v1").write_bytes(b"other weights")
    return w.promotion.verify_release(out, artifact=w.artifact("v1"))


def another_releases_snapshot_at_verify(w: World) -> Any:
    """Swap v1's released snapshot for v2's: validly signed, but a looser policy."""
    from canarykit.verdict.snapshot import load_snapshot_files, snapshot_digest

    out = _release(w)
    loose = pw.shipped_policy(w.tmp / "loose")
    yaml_path = loose / "canary.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("max: 120.0", "max: 1200.0", 1))
    sign_policy_folder(loose, w.policy_key, name="loose")
    verdict = make_verdict("v2", snapshot_digest(load_snapshot_files(loose)))
    w.submit("v2")
    w.to_staging("v2", policy=loose)
    w.approvals("v2", verdict)
    w.to_approved("v2", w.chg("CHG-2", ["v2"]), verdict=verdict)
    w.promotion.release(
        MODEL, "v2", out=w.tmp / "rel2", signing_key=w.key, key_id="release-key", actor="olga"
    )
    shutil.rmtree(out / "policy_snapshot")
    shutil.copytree(w.tmp / "rel2" / "policy_snapshot", out / "policy_snapshot")
    return w.promotion.verify_release(out, artifact=w.artifact("v1"))


def release_of_a_lapsed_approval(w: World) -> None:
    in_production(w, "v1")
    w.clock.set(parse_instant("2027-03-01T10:00:00Z"))
    w.promotion.release(
        MODEL, "v1", out=w.tmp / "rel", signing_key=w.key, key_id="release-key", actor="olga"
    )


def release_signed_by_a_policy_key(w: World) -> None:
    in_production(w, "v1")
    w.promotion.release(
        MODEL,
        "v1",
        out=w.tmp / "rel",
        signing_key=w.policy_key,
        key_id="policy-key",
        actor="olga",
    )


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


def revoked_version_to_production(w: World) -> None:
    w.approved("v1")
    w.promotion.revoke(MODEL, "v1", actor="sam", reason="leak")
    w.promotion.set_alias(
        MODEL, "v1", expected=None, actor="olga", chg_id=w.chg("CHG-X", ["v1"], type="Standard")
    )


def revocation_cut_out_of_the_log(w: World) -> None:
    """Cut the revocation (and the alias move it made) out of the log, recompute the chain,
    restore the rows: a checkpoint recorded in the log after it still anchors the old chain."""
    in_production(w, "v1")
    w.promotion.revoke(MODEL, "v1", actor="sam", reason="leak")
    checkpoint(w)

    def edit(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        cut = next(i for i, r in enumerate(rows) if r["kind"] == "revocation")
        return [r for i, r in enumerate(rows) if not (cut - 1 <= i <= cut)]

    rechain(w, edit)
    sql(
        w,
        "UPDATE versions SET stage = 'Approved', stage_before_revocation = NULL"
        " WHERE version = 'v1'; UPDATE aliases SET version = 'v1' WHERE alias = 'production';",
    )
    assert verify_chain(w.promotion.store.conn).ok  # the hash chain alone is fooled


def revocation_cut_out_startup(w: World) -> StartupCheck:
    revocation_cut_out_of_the_log(w)
    return startup(w)


def revocation_cut_out_then_release(w: World) -> None:
    revocation_cut_out_of_the_log(w)
    w.promotion.release(
        MODEL, "v1", out=w.tmp / "rel", signing_key=w.key, key_id="release-key", actor="olga"
    )


def revocation_cut_out_reported(w: World) -> list[dict[str, Any]]:
    revocation_cut_out_of_the_log(w)
    return []


def expect_denied(w: World, expected: str, attempt: Callable[[], Any]) -> None:
    """``attempt`` raises a GateDeniedError naming ``expected``, recorded as ``gate_denied``."""
    with pytest.raises(GateDeniedError) as caught:
        attempt()
    assert expected in str(caught.value)
    last = w.promotion.events()[-1]
    assert last.kind == "gate_denied", last
    assert any(expected in reason for reason in last.payload["reasons"]), last.payload


def _prepend_drill_init(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A forged first event marking the registry a drill registry."""
    init = {
        "time_ns": rows[0]["time_ns"],
        "kind": "registry_init",
        "actor": "canarykit",
        "model": None,
        "version": None,
        "chg_id": None,
        "payload": {"drill": True},
    }
    return [init, *rows]


def drill_mark_prepended_then_clock(w: World) -> None:
    """Prepend a drill registry_init event (chain recomputed) so that a fixed clock is taken,
    then move the alias with a clock past the freeze. A checkpoint recorded in the log holds."""
    in_production(w, "v1")
    w.approved("v2")
    chg = w.chg("CHG-D", ["v2"], type="Standard")
    checkpoint(w)
    rechain(w, _prepend_drill_init)
    assert w.promotion.drill  # the file now claims to be a drill registry
    w.promotion.clock = FixedClock(parse_instant("2026-12-01T10:00:00Z"))
    w.promotion.set_alias(MODEL, "v2", expected="v1", actor="olga", chg_id=chg)


def drill_mark_prepended_reported(w: World) -> list[dict[str, Any]]:
    """The same forgery, no checkpoint anywhere: the signed acts name another first event."""
    w.submit("v1")
    rechain(w, _prepend_drill_init)
    return []


def drill_mark_prepended_outside_checkpoint(w: World) -> list[dict[str, Any]]:
    w.submit("v1")
    cp = checkpoint(w)
    rechain(w, _prepend_drill_init)
    return [cp]


def unsigned_act_in_a_drill_registry(w: World) -> None:
    """A drill registry accepts unsigned acts only of people listed without keys."""
    with make_world(w.tmp / "drill", drill=True) as drill:
        drill.submit("v1")
        expect_denied(
            drill,
            "is not signed; sign it with sam's key",
            lambda: drill.promotion.approve(
                MODEL, "v1", role="security", actor="sam", stage="Staging", key=None
            ),
        )


def cli_key_env_of_another_person(w: World) -> None:
    """sam approves on the command line with $CANARYKIT_KEY pointing at sue's key."""
    w.submit("v1")
    code, _, err = cli(
        "approve",
        MODEL,
        "v1",
        "--role",
        "security",
        "--stage",
        "Staging",
        "--actor",
        "sam",
        "--registry",
        str(registry_file(w)),
        env={"CANARYKIT_KEY": key_file(w, "sue")},
    )
    assert code == 4, err
    assert "is signed with sue's key, not sam's" in err
    last = w.promotion.events()[-1]
    assert last.kind == "gate_denied"
    assert any("signed with sue's key" in r for r in last.payload["reasons"])


def cli_act_without_key(w: World) -> None:
    w.submit("v1")
    before = event_count(w)
    code, _, err = cli(
        "approve",
        MODEL,
        "v1",
        "--role",
        "security",
        "--stage",
        "Staging",
        "--actor",
        "sam",
        "--registry",
        str(registry_file(w)),
        env={"CANARYKIT_KEY": ""},
    )
    assert code == 2, err
    assert "--key: " in err
    assert "is a signed act" in err
    assert event_count(w) == before
    assert w.promotion.status(MODEL).approvals == ()


def cli_actor_case_alias(w: World) -> None:
    """ann submits; on the command line she approves her own version as ``ANN``."""
    w.submit("v1")
    w.to_staging("v1")
    verdict = w.tmp / "verdict.dsse.json"
    verdict.write_text(json.dumps(w.signed(make_verdict("v1", w.policy_digest))))
    code, _, err = cli(
        "approve",
        MODEL,
        "v1",
        "--role",
        "product",
        "--verdict",
        str(verdict),
        "--actor",
        "ANN",
        "--key",
        key_file(w, "ann"),
        "--registry",
        str(registry_file(w)),
    )
    assert code == 4, err
    assert "four-eyes: ann submitted risk-default v1" in err
    assert w.promotion.events()[-1].kind == "gate_denied"


def cli_check_startup_without_artifact(w: World) -> None:
    in_production(w, "v1")
    before = event_count(w)
    code, out, err = cli(
        "check-startup",
        MODEL,
        "--policy-digest",
        w.policy_digest,
        "--registry",
        str(registry_file(w)),
    )
    assert code == 2, (out, err)
    assert "--artifact" in err
    assert event_count(w) == before


def cli_checkpoint_out_through_a_symlink(w: World) -> None:
    w.submit("v1")
    victim = w.tmp / "victim.txt"
    victim.write_text("keep")
    (w.tmp / "cp.json").symlink_to(victim)
    code, _, err = cli(
        "audit",
        "checkpoint",
        "--key",
        str(pem(w.key, w.tmp / "release.pem")),
        "--key-id",
        "release-key",
        "--out",
        str(w.tmp / "cp.json"),
        "--actor",
        "sam",
        "--registry",
        str(registry_file(w)),
    )
    assert code == 2, err
    assert "is a symbolic link" in err
    assert victim.read_text() == "keep"


def forged_event_with_an_invented_signature(w: World) -> list[dict[str, Any]]:
    """Insert a product approval by max whose act statement is right but whose signature is
    made up (chain recomputed)."""
    staged_with_approvals(w)

    def edit(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        pat = next(r for r in rows if r["kind"] == "approval" and r["actor"] == "pat")
        act = dict(pat["payload"]["act"])
        act["statement"] = {**act["statement"], "actor": "max"}
        act["sig"] = base64.b64encode(b"\x00" * 64).decode()
        forged = {**pat, "actor": "max", "payload": {**pat["payload"], "actor": "max", "act": act}}
        return [*rows, forged]

    rechain(w, edit)
    return []


def waiver_expiry_extended_by_sql(w: World) -> None:
    expired_waiver_setup(w)
    sql(
        w,
        "UPDATE waivers SET expires_ns = ? WHERE waiver_id = 'SCDR-1'",
        parse_instant("2027-12-01T00:00:00Z"),
    )
    w.to_staging("v1", sbom=sbom(("CVE-2026-9999", "critical", None)))


def expired_waiver_setup(w: World) -> None:
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


def cab_approval_by_submitter_in_upper_case(w: World) -> None:
    w.submit("v1")
    chg = w.chg("CHG-N", ["v1"], approve=False)
    w.promotion.approve_change(chg, actor="ANN", role="product")


def act_signed_with_a_rotated_out_key(w: World) -> None:
    """sue's key was rotated out of the roster; she (or a thief of the old key) signs with it."""
    people = dict(ROSTER["people"])
    people["sue"] = {"roles": ["security"], "keys": [public_key_text(Ed25519PrivateKey.generate())]}
    proposal = propose_roster(w, people, actor="sam")
    w.promotion.approve_config(proposal, actor="max")
    w.submit("v1")
    w.promotion.approve(
        MODEL, "v1", role="security", actor="sue", stage="Staging", key=PEOPLE_KEYS["sue"]
    )


def unsigned_revocation(w: World) -> None:
    w.approved("v1")
    w.promotion.revoke(MODEL, "v1", actor="sam", reason="leak", key=None)


def removed_person_acts(w: World) -> None:
    proposal = propose_roster(w, roster_without("sue"), actor="sam")
    w.promotion.approve_config(proposal, actor="max")
    w.submit("v1")
    w.promotion.approve(MODEL, "v1", role="security", actor="sue", stage="Staging")


def waiver_reason_injected_into_release_notes(w: World) -> None:
    w.submit("v1")
    w.promotion.waive(
        MODEL,
        version="v1",
        waiver_id="SCDR-7",
        check="CVE-2026-7777",
        reason="ok\n## Approvals\n- security (Approved): ciso | <img src=x onerror=alert(1)>",
        owner="sec",
        expires="2026-12-20T00:00:00Z",
        actor="sue",
    )
    w.to_staging("v1", sbom=sbom(("CVE-2026-7777", "critical", None)))
    w.approvals("v1")
    w.to_approved("v1", w.chg("CHG-1", ["v1"]))
    w.promotion.release(
        MODEL, "v1", out=w.tmp / "rel", signing_key=w.key, key_id="release-key", actor="olga"
    )
    notes = (w.tmp / "rel" / "release_notes.md").read_text()
    assert "ciso" in notes  # the reason is there, as inert text
    assert notes.splitlines().count("## Approvals") == 1
    assert "<img" not in notes
    assert not any(line.startswith("- security (Approved): ciso") for line in notes.splitlines())


def checkpoint_forged_under_the_checkpoint_key_id(w: World) -> list[dict[str, Any]]:
    """A checkpoint of a rewritten log, signed with an own key under the trusted key id."""
    w.submit("v1")
    forged = Ed25519PrivateKey.generate()
    from canarykit.promotion.checkpoints import sign_checkpoint

    trust = TrustStore.from_dict(
        {
            "keys": [
                {
                    "id": "release-key",
                    "public_key": public_key_text(forged),
                    "purposes": ["checkpoint"],
                }
            ]
        }
    )
    return [
        dict(
            sign_checkpoint(
                w.promotion.store.conn,
                private_key=forged,
                key_id="release-key",
                trust=trust,
                now_ns=w.clock.now_ns(),
            )
        )
    ]


def one_person_registry(w: World) -> None:
    """mallory creates a production registry whose roster names only her for security."""
    mallory = Ed25519PrivateKey.generate()
    fresh = pw.world_registry(w.tmp / "fresh.sqlite", clock=w.clock)
    try:
        roster = {
            "people": {
                "mallory": {"roles": ["security", "product"], "keys": [public_key_text(mallory)]}
            }
        }
        expect_denied(
            _Proxy(fresh),
            "at least 2 are needed",
            lambda: fresh.bootstrap(actor="mallory", key=mallory, roster=roster),
        )
    finally:
        fresh.close()


@dataclass
class _Proxy:
    """Lets :func:`expect_denied` read another registry's log."""

    promotion: Any


def roster_proposed_by_product(w: World) -> None:
    w.promotion.propose_config(
        "roster",
        {
            "people": {
                **ROSTER["people"],
                "pat": {"roles": ["product", "security"], "keys": ROSTER["people"]["pat"]["keys"]},
            }
        },
        actor="pat",
    )


def trust_key_added_by_one_person(w: World) -> None:
    """sam adds his own verdict key to the trust file and approves the change himself."""
    trust = w.promotion.config_document("trust")
    assert trust is not None
    keys = [
        *trust["keys"],
        {
            "id": "sams-key",
            "purposes": ["verdict"],
            "public_key": public_key_text(Ed25519PrivateKey.generate()),
        },
    ]
    proposal = w.promotion.propose_config("trust", {"keys": keys}, actor="sam").proposal_id
    w.promotion.approve_config(proposal, actor="sam")


def standard_change_for_a_new_version(w: World) -> None:
    staged_with_approvals(w)
    w.to_approved("v1", w.chg("CHG-1", ["v1"], type="Standard"))


def copy_rows(source: World, w: World, table: str) -> None:
    """Copy every row of ``table`` from another registry into ``w``'s file by SQL (no events):
    rows a genuine canarykit wrote, just not here."""
    conn = sqlite3.connect(registry_file(source))
    conn.row_factory = sqlite3.Row
    rows = [dict(r) for r in conn.execute(f"SELECT * FROM {table}")]
    conn.close()
    assert rows
    for row in rows:
        row.pop("id", None)
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        sql(w, f"INSERT INTO {table} ({names}) VALUES ({marks})", *row.values())


def evidence_rows_inserted_by_sql(w: World) -> None:
    """A model card and ADR for v1, recorded in another registry, copied in by SQL."""
    staged_with_approvals(w)
    with make_world(w.tmp / "other") as other:
        other.submit("v1")
        other.documents("v1")
        copy_rows(other, w, "evidence_documents")
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), documents=False)


def vex_approval_row_inserted_by_sql(w: World) -> None:
    """A security approval of the SBOM's not_affected statement, copied in by SQL."""
    bom = sbom(("CVE-2026-4242", "critical", "not_affected"))
    with make_world(w.tmp / "other") as other:
        other.submit("v1")
        other.promotion.approve_vex(
            MODEL, "v1", vulnerability="CVE-2026-4242", sbom=bom, actor="sam"
        )
        copy_rows(other, w, "vex_approvals")
    w.submit("v1")
    w.to_staging("v1", sbom=bom)


def ticket_row_inserted_by_sql(w: World) -> None:
    """A Standard ticket registered in another registry, copied in by SQL."""
    w.approved("v1")
    with make_world(w.tmp / "other") as other:
        other.chg("CHG-SQL", ["v1"], type="Standard")
        copy_rows(other, w, "changes")
    w.promotion.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id="CHG-SQL")


def evidence_rows_reported(w: World) -> list[dict[str, Any]]:
    with make_world(w.tmp / "other") as other:
        other.submit("v1")
        other.documents("v1")
        copy_rows(other, w, "evidence_documents")
    return []


def approval_row_after_approved_reported(w: World) -> list[dict[str, Any]]:
    """The same inserted approval row, released, then ``audit verify``."""
    approval_row_listed_in_a_release(w)
    return []


def approval_row_after_release_reported(w: World) -> None:
    """The release leaves the inserted row out; ``audit verify`` reports it."""
    approval_row_listed_in_a_release(w)


def approval_row_listed_in_a_release(w: World) -> None:
    """An approval row 'by ciso' inserted after Approved must not appear in the release."""
    in_production(w, "v1")
    sql(
        w,
        "INSERT INTO approvals (model, version, stage, role, actor, time_ns, note,"
        " verdict_digest) VALUES (?, 'v1', 'Approved', 'security', 'ciso', ?, '', ?)",
        MODEL,
        w.clock.now_ns(),
        w.promotion.status(MODEL).approvals[-1].verdict_digest,
    )
    w.promotion.release(
        MODEL, "v1", out=w.tmp / "rel", signing_key=w.key, key_id="release-key", actor="olga"
    )
    manifest = json.loads((w.tmp / "rel" / "release_manifest.json").read_text())
    assert "ciso" not in [a["actor"] for a in manifest["approvals"]]
    assert "ciso" not in (w.tmp / "rel" / "release_notes.md").read_text()


def _says_drill(document: Any) -> bool:
    """Whether a JSON document carries ``"drill": true`` anywhere."""
    if isinstance(document, dict):
        return document.get("drill") is True or any(_says_drill(v) for v in document.values())
    if isinstance(document, list):
        return any(_says_drill(v) for v in document)
    return False


def release_from_a_drill_registry(w: World) -> None:
    """A rehearsal (fixed clock, unsigned list-form acts, plain verdicts allowed) released and
    handed on as if it were production: every output of a drill registry says DRILL."""
    with make_world(w.tmp / "drill", drill=True) as drill:
        in_production(drill, "v1")
        out = drill.tmp / "rel"
        drill.promotion.release(
            MODEL, "v1", out=out, signing_key=drill.key, key_id="release-key", actor="olga"
        )
        assert "DRILL" in (out / "release_notes.md").read_text()
        assert _says_drill(json.loads((out / "release_manifest.json").read_text()))
        verified = drill.promotion.verify_release(out, artifact=drill.artifact("v1"))
        assert "DRILL" in verified.to_text()


def cab_approver_submits_the_version_later(w: World) -> None:
    """otto approves CHG-N as CAB before v1 exists, then submits v1 himself."""
    chg = w.chg("CHG-N", ["v1"], approve=False)
    w.promotion.approve_change(chg, actor="otto", role="operations")
    w.promotion.approve_change(chg, actor="sam", role="security")
    w.submit("v1", actor="otto")
    w.to_staging("v1")
    w.approvals("v1")
    w.to_approved("v1", chg)


def rollback_in_a_freeze_that_is_no_backout(w: World) -> None:
    """Roll back during the freeze under a fresh ticket, claiming the backout exemption."""
    in_production(w, "v1")
    in_production(w, "v2")
    chg = w.chg("CHG-RB", ["v1", "v2"], type="Standard", end="2026-12-01T08:00:00Z")
    w.clock.set(parse_instant("2026-11-30T10:00:00Z"))  # month-end close
    w.promotion.rollback(MODEL, actor="olga", chg_id=chg)


def submitter_waives_her_own_check(w: World) -> None:
    w.submit("v1", actor="max")  # max holds product and security
    w.promotion.waive(
        MODEL,
        version="v1",
        waiver_id="SCDR-3",
        check="CVE-2026-9999",
        reason="trust me",
        owner="max",
        expires="2026-12-01T00:00:00Z",
        actor="max",
    )


def cli_audit_verify_of_a_forged_log(w: World) -> None:
    """Forge an old event, recompute every hash (and swap the registry's own checkpoint key
    for the attacker's); ``audit verify --checkpoint --trust`` with files kept outside fails."""
    staged_with_approvals(w)
    trust_file = w.tmp / "trust.outside.json"
    trust_file.write_text(json.dumps(w.promotion.config_document("trust")))
    cp_file = w.tmp / "cp.outside.json"
    cp_file.write_text(json.dumps(checkpoint(w)))
    attacker = public_key_text(Ed25519PrivateKey.generate())

    def edit(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for row in rows:
            if row["kind"] == "promotion":
                row["payload"] = {**row["payload"], "policy_name": "forged"}
            document = row["payload"].get("document")
            if row["kind"] == "config" and row["payload"].get("key") == "trust":
                for key in document["keys"]:
                    if key["id"] == "release-key":
                        key["public_key"] = attacker
        return rows

    rechain(w, edit)
    code, out, err = cli(
        "audit",
        "verify",
        "--checkpoint",
        str(cp_file),
        "--trust",
        str(trust_file),
        "--registry",
        str(registry_file(w)),
    )
    assert code == 5, (out, err)
    assert "AUDIT LOG TAMPERED" in out
    assert "the log was rewritten at or before the checkpoint" in out


def vex_approved_by_the_submitter(w: World) -> None:
    bom = sbom(("CVE-2026-4242", "critical", "not_affected"))
    w.submit("v1", actor="max")  # max holds product and security
    w.promotion.approve_vex(MODEL, "v1", vulnerability="CVE-2026-4242", sbom=bom, actor="max")


def approvals_of_another_verdict(w: World) -> None:
    staged_with_approvals(w)  # sue and pat reviewed the default PROCEED
    other = make_verdict("v1", w.policy_digest)
    other["data_digest"] = "sha256:" + "9" * 64  # a PROCEED nobody reviewed
    w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=other)


def degraded_startup_check(w: World) -> None:
    """Skip the artifact check on purpose to get a 0 for a replaced file."""
    in_production(w, "v1")
    w.artifact("v1").write_bytes(b"weights somebody swapped in")
    result = w.promotion.check_startup(MODEL, policy_digest=w.policy_digest, no_artifact_check=True)
    assert (result.ok, result.exit_code) == (False, EXIT_CODES["degraded"])
    last = w.promotion.events()[-1]
    assert last.kind == "startup_degraded"
    assert last.payload["artifact_checked"] is False


def revalidate_by_extended_by_sql(w: World) -> None:
    """The approval lapsed; extend ``revalidate_by_ns`` in the versions table."""
    in_production(w, "v1")
    w.clock.set(parse_instant("2027-03-01T10:00:00Z"))  # revalidate_by was 2027-02-25
    sql(
        w,
        "UPDATE versions SET revalidate_by_ns = ? WHERE version = 'v1'",
        parse_instant("2099-01-01T00:00:00Z"),
    )


def revalidate_by_extended_then_released(w: World) -> None:
    revalidate_by_extended_by_sql(w)
    w.promotion.release(
        MODEL, "v1", out=w.tmp / "rel", signing_key=w.key, key_id="release-key", actor="olga"
    )


def revalidate_by_extended_reported(w: World) -> list[dict[str, Any]]:
    revalidate_by_extended_by_sql(w)
    return []


LOOSE_DIGEST = "sha256:" + "ab" * 32


def bound_policy_digest_edited_by_sql(w: World) -> None:
    """The service expects a looser policy; edit v1's bound policy digest to match it."""
    in_production(w, "v1")
    sql(w, "UPDATE versions SET policy_digest = ? WHERE version = 'v1'", LOOSE_DIGEST)


def bound_policy_digest_edited_startup(w: World) -> StartupCheck:
    bound_policy_digest_edited_by_sql(w)
    result = w.promotion.check_startup(MODEL, policy_digest=LOOSE_DIGEST, artifact=w.artifact("v1"))
    assert any(f"bound to {w.policy_digest}" in p for p in result.problems), result.problems
    return result


def bound_policy_digest_edited_reported(w: World) -> list[dict[str, Any]]:
    bound_policy_digest_edited_by_sql(w)
    return []


def artifact_swapped_with_its_digest_edited(w: World) -> StartupCheck:
    """Replace the artifact file and write its digest into the versions table."""
    from canarykit.promotion.evidence import digest_file

    in_production(w, "v1")
    w.artifact("v1").write_bytes(b"weights somebody swapped in")
    sql(
        w,
        "UPDATE versions SET artifact_digest = ? WHERE version = 'v1'",
        digest_file(w.artifact("v1")),
    )
    return startup(w)


def clock_backdated_before_the_freeze(w: World) -> None:
    """It is Monday, in the month-end freeze; a Python caller opens the production registry
    with a clock set to the Wednesday before (after the last event) and moves the alias."""
    in_production(w, "v1")
    w.approved("v2")
    chg = w.chg("CHG-D", ["v2"], type="Standard")
    w.clock.set(parse_instant("2026-11-30T10:00:00Z"))  # the system clock
    w.promotion.clock = FixedClock(parse_instant("2026-11-25T12:00:00Z"))
    w.promotion.set_alias(MODEL, "v2", expected="v1", actor="olga", chg_id=chg)


def _remove_sue(w: World) -> None:
    proposal = propose_roster(w, roster_without("sue"), actor="sam")
    w.promotion.approve_config(proposal, actor="max")


def waiver_of_a_removed_person(w: World) -> None:
    w.submit("v1")
    w.promotion.waive(
        MODEL,
        version="v1",
        waiver_id="SCDR-9",
        check="CVE-2026-9999",
        reason="not reachable",
        owner="sec",
        expires="2026-12-20T00:00:00Z",
        actor="sue",
    )
    _remove_sue(w)
    w.to_staging("v1", sbom=sbom(("CVE-2026-9999", "critical", None)))


def vex_approval_of_a_removed_person(w: World) -> None:
    bom = sbom(("CVE-2026-4242", "critical", "not_affected"))
    w.submit("v1")
    w.promotion.approve_vex(MODEL, "v1", vulnerability="CVE-2026-4242", sbom=bom, actor="sue")
    _remove_sue(w)
    w.to_staging("v1", sbom=bom)


def ticket_nested_too_deep(w: World) -> None:
    ticket = w.tmp / "deep-ticket.json"
    ticket.write_text('{"id": "CHG-1", "impact": ' + "[" * 5000 + "]" * 5000 + "}")
    before = event_count(w)
    try:
        w.promotion.create_change(ticket, actor="olga")
    finally:
        assert event_count(w) == before


def roster_alias_bomb(w: World) -> None:
    """A 'billion laughs' YAML roster proposed for approval."""
    lines = ["a0: &a0 [sam, sam, sam, sam, sam, sam, sam, sam, sam, sam]"]
    lines += [f"a{i}: &a{i} [{', '.join(f'*a{i - 1}' for _ in range(10))}]" for i in range(1, 9)]
    lines.append("people: {sam: *a8}")
    bomb = w.tmp / "roster.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    w.promotion.propose_config("roster", bomb, actor="sam")


def model_card_out_through_a_symlink(w: World) -> None:
    verdict = w.tmp / "verdict.json"
    verdict.write_text(json.dumps(make_verdict("v1", w.policy_digest)))
    victim = w.tmp / "victim.txt"
    victim.write_text("keep")
    (w.tmp / "card.cdx.json").symlink_to(victim)
    code, _, err = cli("model-card", str(verdict), "--out", str(w.tmp / "card.cdx.json"))
    assert code == 2, err
    assert "is a symbolic link" in err
    assert victim.read_text() == "keep"


def _fields(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in AuditEvent.__dataclass_fields__}


def exported_log_rewritten_in_the_external_store(w: World) -> None:
    """``audit export`` went to an external store together with the checkpoint; someone with
    write access there edits an approval in the export and recomputes every hash."""
    from canarykit.promotion.checkpoints import recorded_checkpoints, verify_checkpoints

    staged_with_approvals(w)
    checkpoint(w)
    export = w.tmp / "audit.jsonl"
    w.promotion.audit_export(export)
    events = [AuditEvent.from_dict(json.loads(line)) for line in export.read_text().splitlines()]
    envelopes = [c.envelope for c in recorded_checkpoints(events)]
    assert envelopes, "audit export carries the checkpoints"
    prev, forged = GENESIS_HASH, []
    for event in events:
        payload = dict(event.payload)
        if event.kind == "approval" and event.actor == "pat":
            payload["note"] = "reviewed by the CISO too"
        draft = AuditEvent(**{**_fields(event), "payload": payload, "prev_hash": prev})
        prev = draft.computed_hash()
        forged.append(
            AuditEvent(
                **{**_fields(event), "payload": payload, "prev_hash": draft.prev_hash, "hash": prev}
            )
        )
    checks = verify_checkpoints(forged, envelopes, outside_trust(w))
    assert not any(c.ok for c in checks)
    assert any("rewritten at or before the checkpoint" in p for c in checks for p in c.problems)


def list_form_person_acts_on_production(w: World) -> None:
    """A person the roster lists in the old list form (no key) acts on a production registry."""
    people = {**ROSTER["people"], "bob": ["security"]}
    proposal = propose_roster(w, people, actor="sam")
    w.promotion.approve_config(proposal, actor="max")
    w.submit("v1")
    w.promotion.approve(MODEL, "v1", role="security", actor="bob", stage="Staging", key=None)


def waiver_row_listed_in_a_release(w: World) -> None:
    """A waiver row (sample_ratio 'waived' until 2099) inserted by SQL must not be signed into
    the release manifest and notes."""
    in_production(w, "v1")
    sql(
        w,
        "INSERT INTO waivers (waiver_id, model, version, check_name, reason, owner, expires_ns,"
        " created_by, created_at_ns) VALUES ('SCDR-X', ?, 'v1', 'sample_ratio', 'forged', 'sec',"
        " ?, 'sue', ?)",
        MODEL,
        parse_instant("2099-01-01T00:00:00Z"),
        w.clock.now_ns(),
    )
    w.promotion.release(
        MODEL, "v1", out=w.tmp / "rel", signing_key=w.key, key_id="release-key", actor="olga"
    )
    manifest = json.loads((w.tmp / "rel" / "release_manifest.json").read_text())
    assert "SCDR-X" not in [x["waiver_id"] for x in manifest["waivers"]]
    assert "SCDR-X" not in (w.tmp / "rel" / "release_notes.md").read_text()


def ticket_rows_edited_then_released(w: World) -> None:
    """Edit the tickets' risk and impact in the changes table, then release: the manifest and
    notes carry the tickets as their events record them."""
    in_production(w, "v1")
    rows = w.promotion.store.conn.execute("SELECT chg_id, body_json FROM changes").fetchall()
    for chg_id, body_json in rows:
        body = {**json.loads(body_json), "impact": "nothing at all", "risk": "low"}
        sql(w, "UPDATE changes SET body_json = ? WHERE chg_id = ?", canonical_json(body), chg_id)
    w.promotion.release(
        MODEL, "v1", out=w.tmp / "rel", signing_key=w.key, key_id="release-key", actor="olga"
    )
    assert "nothing at all" not in (w.tmp / "rel" / "release_manifest.json").read_text()
    assert "nothing at all" not in (w.tmp / "rel" / "release_notes.md").read_text()


class _Doctored:
    """A signer that signs the act correctly with sam's key, then doctors the envelope."""

    def __init__(self, doctor: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.doctor = doctor

    def sign_act(self, statement: Any) -> Any:
        return self.doctor(dict(acts.sign_act(statement, PEOPLE_KEYS["sam"])))


def act_with_a_second_signature(w: World) -> None:
    """sam's valid signature plus mallory's: one envelope, two signers."""

    def doctor(envelope: dict[str, Any]) -> dict[str, Any]:
        extra = {"keyid": "sha256:" + "0" * 64, "sig": base64.b64encode(b"\x01" * 64).decode()}
        return {**envelope, "signatures": [*envelope["signatures"], extra]}

    w.submit("v1")
    w.promotion.approve(
        MODEL, "v1", role="security", actor="sam", stage="Staging", key=_Doctored(doctor)
    )


def act_with_another_payload_type(w: World) -> None:
    """sam's act presented under the verdict payload type."""

    def doctor(envelope: dict[str, Any]) -> dict[str, Any]:
        return {**envelope, "payloadType": "application/vnd.in-toto+json"}

    w.submit("v1")
    w.promotion.approve(
        MODEL, "v1", role="security", actor="sam", stage="Staging", key=_Doctored(doctor)
    )


def one_person_as_the_whole_cab(w: World) -> None:
    """max (product and security) approves a Normal change twice, once per role."""
    staged_with_approvals(w)
    chg = w.chg("CHG-N", ["v1"], approve=False)
    w.promotion.approve_change(chg, actor="max", role="product")
    w.promotion.approve_change(chg, actor="max", role="security")
    w.to_approved("v1", chg)


def log_rewritten_after_a_release(w: World) -> list[dict[str, Any]]:
    """Release v1, then forge an older event and recompute the chain: the signed checkpoint
    the release embeds (held by whoever received the release) catches it."""
    in_production(w, "v1")
    w.promotion.release(
        MODEL, "v1", out=w.tmp / "rel", signing_key=w.key, key_id="release-key", actor="olga"
    )
    manifest = json.loads((w.tmp / "rel" / "release_manifest.json").read_text())
    embedded = manifest["audit_checkpoint"]["signed_checkpoint"]["envelope"]

    def edit(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = [r for r in rows if r["kind"] not in ("release", "checkpoint")]
        for row in rows:
            if row["kind"] == "approval" and row["actor"] == "pat":
                row["payload"] = {**row["payload"], "note": "rewritten"}
        return rows

    rechain(w, edit)
    return [embedded]


def oversized_roster_file(w: World) -> None:
    from canarykit.promotion.documents import MAX_BYTES

    big = w.tmp / "roster.json"
    big.write_text('{"people": {"sam": ["security"]}, "pad": "' + "x" * MAX_BYTES + '"}')
    before = event_count(w)
    try:
        w.promotion.propose_config("roster", big, actor="sam")
    finally:
        assert event_count(w) == before


@contextlib.contextmanager
def attacker_transaction(w: World) -> Iterator[sqlite3.Connection]:
    """A write transaction on the registry file through canarykit's own storage layer, as an
    attacker with the file and the library would open it: events appended here chain
    correctly, so the hash chain alone verifies."""
    from canarykit.promotion.registry import RegistryStore

    store = RegistryStore(registry_file(w))
    try:
        with store.transaction() as tx:
            yield tx
    finally:
        store.close()


def _append_unsigned_roster(w: World) -> Ed25519PrivateKey:
    """Append a ``config`` event (no signed act, no proposal, no second person) putting a
    roster with mallory (security) in force, and update the config row to match."""
    from canarykit.promotion.audit import append_event

    mallory = Ed25519PrivateKey.generate()
    people = {
        **ROSTER["people"],
        "mallory": {"roles": ["security", "product"], "keys": [public_key_text(mallory)]},
    }
    with attacker_transaction(w) as tx:
        append_event(
            tx,
            kind="config",
            actor="sam",
            time_ns=w.clock.now_ns(),
            payload={"key": "roster", "document": {"people": people}},
        )
        tx.execute(
            "UPDATE config SET value = ? WHERE key = 'roster'",
            (canonical_json({"people": people}),),
        )
    return mallory


def unsigned_config_event_appended(w: World) -> None:
    w.submit("v1")
    mallory = _append_unsigned_roster(w)
    w.promotion.approve(MODEL, "v1", role="security", actor="mallory", stage="Staging", key=mallory)


def unsigned_config_event_reported(w: World) -> list[dict[str, Any]]:
    w.submit("v1")
    _append_unsigned_roster(w)
    return []


def _append_unsigned_ticket(w: World) -> str:
    from canarykit.promotion.audit import append_event
    from canarykit.promotion.changes import ChangeTicket, record_ticket

    ticket = ChangeTicket.from_dict(
        {
            "id": "CHG-FORGED",
            "type": "Standard",
            "scope": {"model": MODEL, "versions": ["v1"]},
            "risk": "low",
            "impact": "none",
            "window": {"start": "2026-11-25T08:00:00Z", "end": "2026-11-26T08:00:00Z"},
            "steps": ["move the alias"],
            "backout_plan": "rollback",
            "post_change_validation": ["check-startup"],
            "owners": ["olga"],
        }
    )
    with attacker_transaction(w) as tx:
        record_ticket(tx, ticket, created_by="olga", now_ns=w.clock.now_ns())
        append_event(
            tx,
            kind="change",
            actor="olga",
            time_ns=w.clock.now_ns(),
            model=MODEL,
            chg_id=ticket.chg_id,
            payload=ticket.to_dict(),
        )
    return ticket.chg_id


def unsigned_change_event_appended(w: World) -> None:
    w.approved("v1")
    chg = _append_unsigned_ticket(w)
    w.promotion.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=chg)


def unsigned_change_event_reported(w: World) -> list[dict[str, Any]]:
    w.approved("v1")
    _append_unsigned_ticket(w)
    return []


def _append_copied_approvals(w: World) -> dict[str, Any]:
    """v1 was approved by sue and pat; append approval events (and rows) for v2 that carry
    their genuine v1 acts. Returns v2's signed verdict."""
    from canarykit.promotion.approvals import Approval, record_approval
    from canarykit.promotion.audit import append_event
    from canarykit.promotion.verdict_attestation import load_verdict_document, open_verdict

    staged_with_approvals(w, "v1")
    w.submit("v2")
    w.to_staging("v2")
    genuine = {
        e.actor: e.payload["act"]
        for e in w.promotion.events(kind="approval")
        if e.version == "v1" and e.payload.get("stage") == "Approved"
    }
    verdict = w.signed(make_verdict("v2", w.policy_digest))
    opened = open_verdict(
        load_verdict_document(verdict),
        outside_trust(w),
        model=MODEL,
        version="v2",
        artifact_digest=w.promotion.version(MODEL, "v2").artifact_digest,
        plain_allowed=False,
    )
    with attacker_transaction(w) as tx:
        for actor, role in (("sue", "security"), ("pat", "product")):
            approval = Approval(
                model=MODEL,
                version="v2",
                stage="Approved",
                role=role,
                actor=actor,
                time_ns=w.clock.now_ns(),
                verdict_digest=opened.digest,
            )
            record_approval(tx, approval)
            append_event(
                tx,
                kind="approval",
                actor=actor,
                time_ns=w.clock.now_ns(),
                model=MODEL,
                version="v2",
                payload={**approval.to_dict(), "act": genuine[actor]},
            )
    return verdict


def approval_events_with_copied_acts(w: World) -> None:
    verdict = _append_copied_approvals(w)
    w.to_approved("v2", w.chg("CHG-2", ["v2"]), verdict=verdict)


def approval_events_with_copied_acts_reported(w: World) -> list[dict[str, Any]]:
    _append_copied_approvals(w)
    return []


def _append_waiver(w: World, act: Any) -> None:
    """Append a waiver event (and row) lifting critical CVE-2026-9999 for v1 until 2099,
    carrying ``act`` (None: no act)."""
    from canarykit.promotion.audit import append_event
    from canarykit.promotion.waivers import Waiver, record_waiver

    waiver = Waiver(
        waiver_id="SCDR-F",
        model=MODEL,
        version="v1",
        check="CVE-2026-9999",
        reason="forged",
        owner="sec",
        expires_ns=parse_instant("2099-01-01T00:00:00Z"),
        created_by="sue",
        created_at_ns=w.clock.now_ns(),
    )
    payload = waiver.to_dict() if act is None else {**waiver.to_dict(), "act": act}
    with attacker_transaction(w) as tx:
        record_waiver(tx, waiver)
        append_event(
            tx,
            kind="waiver",
            actor="sue",
            time_ns=w.clock.now_ns(),
            model=MODEL,
            version="v1",
            payload=payload,
        )


def unsigned_waiver_event_appended(w: World) -> None:
    w.submit("v1")
    _append_waiver(w, None)
    w.to_staging("v1", sbom=sbom(("CVE-2026-9999", "critical", None)))


def _copied_waiver(w: World) -> None:
    """sue's genuine waiver of a low CVE; its act copied onto a forged waiver of a critical one."""
    w.submit("v1")
    w.promotion.waive(
        MODEL,
        version="v1",
        waiver_id="SCDR-1",
        check="CVE-2026-0001",
        reason="low and unreachable",
        owner="sec",
        expires="2026-11-27T00:00:00Z",
        actor="sue",
    )
    genuine = w.promotion.events(kind="waiver")[-1].payload["act"]
    _append_waiver(w, genuine)


def waiver_event_with_a_copied_act(w: World) -> None:
    _copied_waiver(w)
    w.to_staging("v1", sbom=sbom(("CVE-2026-9999", "critical", None)))


def waiver_event_with_a_copied_act_reported(w: World) -> list[dict[str, Any]]:
    _copied_waiver(w)
    return []


def python_api_audit_verify_of_rows_without_events(w: World) -> None:
    """``Promotion.audit_verify()`` — the Python face of ``canarykit audit verify`` — after an
    approval row was inserted without an event."""
    rows_without_events_reported(w)
    assert not w.promotion.audit_verify().ok


def _reassign_submission(w: World) -> dict[str, Any]:
    """ann submitted v1 and staged it; with the file she appends (chain intact) a second,
    unsigned ``submission`` event naming eve as the submitter and re-appends the Staging
    promotion event. Returns the signed PROCEED of v1."""
    from canarykit.promotion.audit import append_event

    w.submit("v1")  # ann
    w.to_staging("v1")
    staging = [e for e in w.promotion.events(kind="promotion") if e.version == "v1"][-1]
    digest = w.promotion.version(MODEL, "v1").artifact_digest
    with attacker_transaction(w) as tx:
        append_event(
            tx,
            kind="submission",
            actor="eve",
            time_ns=w.clock.now_ns(),
            model=MODEL,
            version="v1",
            payload={"artifact_digest": digest},
        )
        append_event(
            tx,
            kind="promotion",
            actor="olga",
            time_ns=w.clock.now_ns(),
            model=MODEL,
            version="v1",
            payload=dict(staging.payload),
        )
        tx.execute("UPDATE versions SET submitter = 'eve' WHERE version = 'v1'")
    return w.signed(make_verdict("v1", w.policy_digest))


def submission_reassigned_then_self_approved(w: World) -> None:
    """... then ann approves her own version and promotes it: four-eyes holds, at her approval
    or at the Approved gate."""
    verdict = _reassign_submission(w)
    refused: GateDeniedError | None = None
    try:
        w.promotion.approve(MODEL, "v1", role="product", actor="ann", verdict=verdict)
    except GateDeniedError as err:  # refused at once: the verified log names ann
        refused = err
    if refused is not None:
        assert "four-eyes: ann submitted risk-default v1" in str(refused)
        assert w.promotion.events()[-1].kind == "gate_denied"
        return
    w.promotion.approve(MODEL, "v1", role="security", actor="sue", verdict=verdict)
    with pytest.raises(GateDeniedError) as caught:
        w.to_approved("v1", w.chg("CHG-1", ["v1"]), verdict=verdict)
    assert "neither the submitter ann" in str(caught.value)
    assert w.promotion.events()[-1].kind == "gate_denied"
    assert w.promotion.version(MODEL, "v1").stage == "Staging"


def submission_reassigned_approve_time(w: World) -> None:
    """ann's own approval itself is refused (the approve action reads the submitter the
    verified log records)."""
    verdict = _reassign_submission(w)
    w.promotion.approve(MODEL, "v1", role="product", actor="ann", verdict=verdict)


def submission_reassigned_reported(w: World) -> list[dict[str, Any]]:
    _reassign_submission(w)
    return []


def _append_forged_approved_promotion(w: World) -> None:
    """v0 is genuinely Approved; v1 is only staged (no approvals, no verdict). Append
    (chain intact) a promotion event moving v1 to Approved — v0's, copied — and update v1's row."""
    from canarykit.promotion.audit import append_event

    w.approved("v0")
    w.submit("v1")
    w.to_staging("v1")
    genuine = [
        e
        for e in w.promotion.events(kind="promotion")
        if e.version == "v0" and e.payload.get("to") == "Approved"
    ][-1]
    row = w.promotion.store.conn.execute(
        "SELECT verdict_json, revalidate_by_ns, guardrails_json FROM versions WHERE version = 'v0'"
    ).fetchone()
    with attacker_transaction(w) as tx:
        append_event(
            tx,
            kind="promotion",
            actor="olga",
            time_ns=w.clock.now_ns(),
            model=MODEL,
            version="v1",
            chg_id=genuine.chg_id,
            payload=dict(genuine.payload),
        )
        tx.execute(
            "UPDATE versions SET stage = 'Approved', verdict_json = ?, revalidate_by_ns = ?,"
            " guardrails_json = ? WHERE version = 'v1'",
            tuple(row),
        )


def forged_approved_promotion_to_production(w: World) -> None:
    """Then move the alias to v1 (a Standard change) and start it."""
    _append_forged_approved_promotion(w)
    chg = w.chg("CHG-S", ["v1"], type="Standard")
    with pytest.raises(GateDeniedError):
        w.promotion.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=chg)
    assert w.promotion.events()[-1].kind == "gate_denied"


def forged_approved_promotion_startup(w: World) -> None:
    """The same v1 pinned at startup."""
    _append_forged_approved_promotion(w)
    result = w.promotion.check_startup(
        MODEL, version="v1", alias=None, policy_digest=w.policy_digest, artifact=w.artifact("v1")
    )
    assert not result.ok
    assert w.promotion.events()[-1].kind == "gate_denied"


def _append_alias_move(w: World) -> None:
    """v1 is in production, v2 Approved but never released; append (chain intact) an
    alias_update event moving production to v2 — no ticket, no gate — and write the alias row."""
    from canarykit.promotion.alias import write_alias
    from canarykit.promotion.audit import append_event

    in_production(w, "v1")
    w.approved("v2")
    with attacker_transaction(w) as tx:
        moved = write_alias(
            tx,
            model=MODEL,
            alias="production",
            to_version="v2",
            kind="alias_update",
            chg_id=None,
            actor="olga",
            now_ns=w.clock.now_ns(),
        )
        append_event(
            tx,
            kind="alias_update",
            actor="olga",
            time_ns=w.clock.now_ns(),
            model=MODEL,
            version="v2",
            payload={
                "alias": "production",
                "from": "v1",
                "to": "v2",
                "generation": moved.generation,
            },
        )


def alias_move_appended_startup(w: World) -> None:
    _append_alias_move(w)
    result = startup(w, "v2")
    assert not result.ok
    assert w.promotion.events()[-1].kind == "gate_denied"


def alias_move_appended_reported(w: World) -> list[dict[str, Any]]:
    _append_alias_move(w)
    return []


# -- the table -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Attack:
    id: str
    run: Callable[[World], Any]
    mode: str
    expect: str
    control: str
    xfail: str | None = None


A = Attack
# fmt: off
ATTACKS: list[Attack] = [
    # people
    A("actor-case-ANN-vs-ann", submit_as_ANN_approve_as_ann, DENIED,
      "four-eyes: ann submitted risk-default v1",
      "names compared after NFKC + casefold (`person_key`); four-eyes"),
    A("actor-email-alias", submit_as_ann_approve_as_email, DENIED,
      "roster: ann@corp.example is not on the roster",
      "an alias is not on the roster; acts only under a roster name, with that name's key"),
    A("actor-fullwidth-alias", submit_as_ann_approve_as_fullwidth, DENIED,
      "four-eyes: ann submitted risk-default v1",
      "NFKC folds full-width ａｎｎ to ann; four-eyes"),
    A("actor-case-with-second-key", submit_as_ann_approve_as_Ann_with_a_second_key, DENIED,
      "four-eyes: ann submitted risk-default v1",
      "one person, one name after casefold; the key must be the roster's"),
    A("actor-control-characters", name_with_control_characters, REFUSED,
      "must be an identity",
      "identity syntax: no control/format characters"),
    A("submit-by-non-member", submit_by_non_member, DENIED,
      "roster: mallory is not on the roster",
      "`submit` is a signed act of a roster member"),
    A("second-identity-approved-by-its-owner", second_identity_approved_by_its_owner, DENIED,
      "four-eyes: sam proposed",
      "roster changes: proposal + approval by a second security person"),
    A("second-identity-same-key", second_identity_with_the_same_key, REFUSED,
      "one key, one person",
      "roster validation: one key belongs to one person"),
    A("second-identity-by-second-bootstrap", second_identity_by_a_second_bootstrap, DENIED,
      "bootstrap happens once",
      "bootstrap only while no roster with keys is in force"),
    A("approver-own-identity-changed", approver_whose_own_identity_changes, DENIED,
      "changes sue's own identity",
      "nobody approves a change of their own identity"),
    A("same-person-twice-in-roster", same_person_twice_in_a_roster, REFUSED,
      "are the same person",
      "roster validation after NFKC + casefold"),
    A("freeze-deleted-by-one-ops-member", freeze_deleted_by_one_operations_member, DENIED,
      "four-eyes: olga proposed",
      "calendar changes need a second operations person"),
    A("freeze-deleted-product-approver", freeze_deleted_with_a_product_approver, DENIED,
      "roster: pat holds none of the roles operations",
      "the approver holds the calendar role"),
    A("config-proposal-approved-twice", config_proposal_approved_twice, DENIED,
      "a proposal takes effect once",
      "a proposal is applied once"),
    A("config-proposal-stale", stale_config_proposal, DENIED,
      "propose the change again",
      "a proposal applies only to the document it was made against"),
    A("approvals-of-removed-person", approvals_of_a_removed_person, DENIED,
      "four-eyes: approvals that no longer count: sue as security (sue is no longer on the roster)",
      "`act_standing`: approvals count while their signer is on the roster"),
    A("approvals-signed-with-removed-key", approvals_signed_with_a_removed_key, DENIED,
      "the key that signed it is no longer sue's",
      "`act_standing`: the signing key is still theirs"),
    A("approval-after-role-lost", approval_by_someone_who_lost_the_role, DENIED,
      "pat no longer holds the product role",
      "`act_standing`: the role is still held"),
    A("cab-approval-of-removed-person", cab_approval_of_a_removed_person, DENIED,
      "needs CAB approvals from 2 people other than its requester and the version's submitter (has 1)",
      "CAB approvals stand only while their signer is on the roster"),
    # signed acts
    A("act-unsigned", unsigned_act, DENIED,
      "is not signed; sign it with sam's key",
      "every act is signed outside drill registries"),
    A("act-signed-with-another-persons-key", act_signed_with_another_persons_key, DENIED,
      "is signed with sue's key, not sam's",
      "each person signs with their own roster key"),
    A("act-signed-with-unlisted-key", act_signed_with_a_key_not_on_the_roster, DENIED,
      "which the roster does not list for sam",
      "keys come from the roster"),
    A("act-replayed-other-version", replayed_signature_of_another_version, DENIED,
      "the signed act is not this act",
      "the statement names model, version, stage, role"),
    A("act-replayed-other-action", replayed_signature_of_another_act, DENIED,
      "the signed act is not this act",
      "the statement names its action"),
    A("act-replayed-other-registry", replayed_signature_from_another_registry, DENIED,
      "registry: signed",
      "the statement names the registry (hash of its first event)"),
    A("act-replayed-later", replayed_signature_at_another_time, DENIED,
      "time: signed",
      "the statement names the time of the act"),
    # time
    A("clock-past-freeze-api", clock_past_the_freeze_via_the_api, DENIED,
      "ahead of the system clock",
      "outside drill registries the time is the system clock"),
    A("clock-override-env-and-cli-clock", clock_override_env_and_clock_on_the_cli, HELD,
      "--clock: only for drill registries",
      "`--clock` only on drill registries; env var gone"),
    A("clock-2100-ungated-action", clock_2100_on_an_ungated_action, DENIED,
      "days ahead of the system clock",
      "no event dated beyond the skew; denial dated at the wall clock"),
    A("event-dated-2100-lock-out", event_dated_2100_does_not_lock_out, HELD,
      "written with a future clock",
      "future-dated events ignored by the monotonic check, reported"),
    A("clock-moved-backwards", clock_moved_backwards, DENIED,
      "5 days behind the system clock",
      "outside drill registries the time is the system clock (a clock set back is refused)"),
    A("sql-first-event-rewritten-drill", drill_flag_forged_by_sql, TAMPERED,
      "the log was rewritten at or before the checkpoint",
      "the drill mark is hashed into the chain"),
    # change control
    A("emergency-without-approval", emergency_without_approval_inside_a_window, DENIED,
      "an Emergency change always needs an executive approval",
      "change.rego: Emergency approval"),
    A("submitter-on-cab", submitter_on_the_cab_of_her_change, DENIED,
      "four-eyes: ann submitted risk-default v1, which CHG-N changes",
      "CAB independent of the submitter"),
    A("submitter-executive-of-own-emergency", submitter_is_the_executive_of_her_emergency, DENIED,
      "four-eyes: eve submitted risk-default v1",
      "executive independent of the submitter"),
    A("requester-executive-of-own-emergency", requester_is_the_executive_of_her_emergency, DENIED,
      "four-eyes: eve requested CHG-E",
      "executive independent of the requester"),
    A("cab-rows-of-submitter-and-requester", cab_rows_of_the_submitter_inserted_by_sql, DENIED,
      "needs CAB approvals",
      "CAB rows without signed events do not count"),
    A("ticket-window-unbounded", unbounded_ticket_window, DENIED,
      "the window is 365 days long; at most 7 days",
      "max_ticket_window_days"),
    A("ticket-window-widened-by-sql", ticket_window_widened_by_sql, DENIED,
      "now is outside the ticket's window",
      "the ticket is read from its event"),
    A("ticket-reused", ticket_reused, DENIED,
      "was used already to move risk-default production to v1",
      "a ticket covers each transition once"),
    A("double-rollback-one-ticket", double_rollback_with_one_ticket, DENIED,
      "was used already to roll back risk-default production",
      "a ticket rolls back once"),
    A("double-rollback-at-once", double_rollback_at_once, DENIED,
      "compare-and-set: production is v1, not the expected v2",
      "rollback is a compare-and-set"),
    A("change-during-freeze", change_during_the_freeze, DENIED,
      "the calendar is frozen (month-end close)",
      "change.rego freezes"),
    A("freeze-deleted-in-config-table", freeze_deleted_from_the_config_table, DENIED,
      "the calendar is frozen (month-end close)",
      "config read from its last `config` event"),
    # SQL
    A("sql-approval-rows", approval_rows_inserted_by_sql, DENIED,
      "four-eyes: needs Security and Product",
      "approvals count only with their signed events"),
    A("sql-cab-approval-rows", cab_approval_rows_inserted_by_sql, DENIED,
      "needs CAB approvals",
      "CAB approvals count only with their signed events"),
    A("sql-waiver-row", waiver_row_inserted_by_sql, DENIED,
      "sbom: CVE-2026-9999 is critical",
      "waivers count only with their events"),
    A("sql-roster-row", roster_row_rewritten_by_sql, DENIED,
      "roster: mallory is not on the roster",
      "roster read from its `config` event"),
    A("sql-stage-edit-alias-gate", stage_edited_by_sql_passes_no_alias_gate, DENIED,
      "is Staging",
      "the stage is the one the log records"),
    A("sql-revocation-rows-deleted-release", revocation_rows_deleted_then_released, DENIED,
      "revoked",
      "the release gate reads the stage the log records"),
    A("sql-stage-edit-startup", stage_edited_startup, STARTUP,
      "audit",
      "startup: the log records stage and alias"),
    A("sql-revocation-rows-deleted-startup", revocation_rows_deleted_startup, STARTUP,
      "revoked",
      "a revocation in the log wins"),
    A("sql-revocation-events-deleted-head-fixed", revocation_events_deleted_and_head_fixed, TAMPERED,
      "truncated",
      "a signed checkpoint outside the registry"),
    A("sql-revocation-cut-out-startup", revocation_cut_out_startup, STARTUP,
      "audit",
      "startup gate: the log extends the checkpoint recorded in it"),
    A("sql-revocation-cut-out-then-release", revocation_cut_out_then_release, DENIED,
      "checkpoint: the log no longer extends the checkpoint",
      "every gate: the log extends its latest recorded checkpoint"),
    A("sql-revocation-cut-out-reported", revocation_cut_out_reported, TAMPERED,
      "events up to the checkpoint were deleted (truncated)",
      "`audit verify`: recorded checkpoints"),
    A("sql-every-event-deleted", every_event_deleted, TAMPERED,
      "the audit log is empty",
      "`audit verify`: rows but no events"),
    A("sql-every-event-deleted-then-act", every_event_deleted_then_act, DENIED,
      "roster: no roster configured",
      "configuration comes from the log"),
    A("sql-forged-event-recomputed-hash", forged_event_with_recomputed_hashes, TAMPERED,
      "the log was rewritten at or before the checkpoint",
      "signed checkpoint; chain recomputed from genesis"),
    A("sql-forged-event-copied-signature", forged_approval_event_copying_a_signature, TAMPERED,
      "carries the act approve by pat, not this event's",
      "`audit verify` re-checks each signed act"),
    A("sql-log-truncated", log_truncated_before_the_checkpoint, TAMPERED,
      "truncated",
      "signed checkpoint"),
    A("checkpoint-of-another-registry", checkpoint_of_another_registry, TAMPERED,
      "another registry",
      "checkpoint names the registry"),
    A("checkpoint-wrong-purpose-key", checkpoint_signed_by_a_wrong_purpose_key, DENIED,
      "key 'verdict-key' is not trusted for checkpoint signatures",
      "checkpoint key purpose"),
    A("sql-approval-row-reported", rows_without_events_reported, TAMPERED,
      "has no audit event",
      "`audit verify` rows without events"),
    A("sql-waiver-row-reported", waiver_rows_without_events_reported, TAMPERED,
      "has no audit event",
      "`audit verify` rows without events"),
    A("sql-cab-row-reported", cab_rows_without_events_reported, TAMPERED,
      "has no audit event",
      "`audit verify` rows without events"),
    A("sql-roster-row-reported", roster_row_without_event_reported, TAMPERED,
      "config row 1 (roster) differs from the document its last config event put in force",
      "`audit verify` config rows"),
    A("sql-stage-edit-reported", stage_edit_reported, TAMPERED,
      "the table says Approved, the audit log says Candidate",
      "`audit verify` version rows"),
    # safe writes, bounded work
    A("release-into-symlinked-folder", release_into_a_symlinked_folder, REFUSED,
      "is a symbolic link",
      "outputs never follow links"),
    A("release-notes-planted-symlink", release_notes_planted_as_a_symlink, REFUSED,
      "is not empty",
      "a release goes to a new or empty folder"),
    A("audit-export-through-symlink", audit_export_through_a_symlink, REFUSED,
      "is a symbolic link",
      "`safe_io.write_file`"),
    A("impact-newline-forges-notes", newline_in_impact_forges_release_notes, HELD,
      "",
      "`md_text` escapes ticket text"),
    A("sbom-3000-vulns-lock", big_sbom_does_not_hold_the_lock, HELD,
      "",
      "SBOM rules linear, evaluated before the write lock"),
    A("sbom-oversized", oversized_sbom, REFUSED,
      "at most 20000 are accepted",
      "input size limits"),
    # issue 12
    A("stop-verdict-waived-checks", waived_checks_open_a_stop_verdict, DENIED,
      "verdict: decision is STOP, not PROCEED",
      "a STOP verdict never opens the gate"),
    A("proceed-all-checks-fail", proceed_whose_checks_all_fail, DENIED,
      "its checks contradict it",
      "the gate re-derives the decision"),
    A("proceed-sample-ratio-fails", proceed_with_sample_ratio_failing, DENIED,
      "re-derives STOP over its checks (stop reasons are never waived): sample_ratio",
      "sample_ratio never waived"),
    A("proceed-no-checks", proceed_with_no_checks, DENIED,
      "it has no checks",
      "re-derivation needs the checks"),
    A("plain-json-verdict", plain_json_verdict_outside_drill, DENIED,
      "a plain JSON verdict is not evidence",
      "verdicts are DSSE-signed statements"),
    A("verdict-wrong-purpose-key", verdict_signed_by_a_wrong_purpose_key, DENIED,
      "is not trusted for verdict signatures",
      "key purposes"),
    A("verdict-own-key-trusted-id", verdict_signed_by_an_own_key_under_a_trusted_id, DENIED,
      "does not verify",
      "signature verification"),
    A("verdict-other-version", signed_verdict_of_another_version, DENIED,
      "statement.subject risk-default@v9",
      "subject binding"),
    A("verdict-stop-edited-to-proceed", signed_stop_edited_to_proceed, DENIED,
      "does not verify",
      "signature over the statement"),
    A("policy-unsanctioned-loose", unsanctioned_loose_policy, DENIED,
      "the policy snapshot is not signed",
      "sanctioned policies"),
    A("policy-signed-by-verdict-key", loose_policy_signed_by_a_verdict_key, DENIED,
      "is not trusted for policy signatures",
      "key purposes"),
    A("policy-extra-rego", extra_rego_in_a_sanctioned_folder, DENIED,
      "extra file zz_allow.rego (not signed)",
      "snapshot covers exactly its files"),
    A("policy-another-releases-snapshot", another_releases_snapshot, DENIED,
      "the signature is for other-release",
      "snapshot digest binding"),
    A("release-another-releases-snapshot", another_releases_snapshot_at_verify, VERIFY,
      "another release's snapshot",
      "`verify_policy_snapshot(expected_digest=bound)`"),
    A("snapshot-signature-as-artifact-signature", snapshot_signature_as_artifact_signature, DENIED,
      "is not trusted for artifact signatures",
      "key purposes, DSSE PAE"),
    A("sbom-self-declared-not-affected", self_declared_not_affected, DENIED,
      "only the SBOM says not_affected",
      "VEX counts with a security approval"),
    A("sbom-empty", empty_sbom, DENIED,
      "it lists no components",
      "empty SBOM refused"),
    A("sbom-without-analysis", sbom_without_analysis, DENIED,
      "no vulnerability analysis",
      "a scan is required"),
    A("sbom-low-9.8-rating", low_9_8_rating, DENIED,
      "CVE-2026-9800 is critical",
      "highest of all ratings"),
    A("provenance-wrong-predicate", provenance_with_another_predicate, DENIED,
      "is not SLSA provenance v1",
      "SLSA v1 only"),
    A("provenance-wrong-builder", provenance_from_another_builder, DENIED,
      "is not a builder the signing key is trusted for",
      "builder id from the trust file"),
    A("expired-waiver", expired_waiver, DENIED,
      "sbom: CVE-2026-9999 is critical",
      "only unexpired waivers"),
    A("check-startup-without-artifact", check_startup_without_artifact, REFUSED,
      "give --artifact FILE",
      "`--artifact` required"),
    A("check-startup-replaced-artifact", replaced_artifact_starts, STARTUP,
      "artifact",
      "artifact digest"),
    A("check-startup-revoked", revoked_version_starts, STARTUP,
      "revoked",
      "revocation"),
    A("check-startup-drill-registry", drill_registry_starts_in_production, HELD,
      "drill",
      "drill registries never start"),
    A("revoked-version-to-production", revoked_version_to_production, DENIED,
      "is Revoked",
      "alias gate"),
    A("release-unsigned-manifest", unsigned_manifest, VERIFY,
      "the manifest is unsigned",
      "signed manifest"),
    A("release-revoked-since", release_of_a_version_revoked_since, VERIFY,
      "has been revoked",
      "`release verify --registry`"),
    A("release-extra-rego", release_with_an_extra_rego_in_its_snapshot, VERIFY,
      "zz_allow.rego",
      "snapshot files"),
    A("release-other-artifact", release_of_another_artifact, VERIFY,
      "the release is for",
      "artifact digest"),
    A("release-lapsed-approval", release_of_a_lapsed_approval, DENIED,
      "revalidate_by: the approval lapsed at 2027-02-25",
      "release gate"),
    A("release-signed-by-policy-key", release_signed_by_a_policy_key, DENIED,
      "is not trusted for release signatures",
      "key purposes"),
    # added: more of issue 13
    A("drill-mark-prepended-then-clock", drill_mark_prepended_then_clock, DENIED,
      "checkpoint: the log no longer extends the checkpoint",
      "a checkpoint recorded in the log anchors its first event"),
    A("drill-mark-prepended-reported", drill_mark_prepended_reported, TAMPERED,
      "the log's first events were deleted, inserted or rewritten",
      "`audit verify`: signed acts name the registry's first event"),
    A("drill-mark-prepended-outside-checkpoint", drill_mark_prepended_outside_checkpoint, TAMPERED,
      "another registry, or its first events were rewritten or deleted",
      "signed checkpoint names the registry"),
    A("drill-unsigned-act-of-a-key-holder", unsigned_act_in_a_drill_registry, HELD,
      "is not signed",
      "drill registries accept unsigned acts only of list-form people"),
    A("cli-key-env-of-another-person", cli_key_env_of_another_person, HELD,
      "is signed with sue's key, not sam's",
      "the act is checked against the actor's roster keys"),
    A("cli-act-without-key", cli_act_without_key, HELD,
      "is a signed act",
      "`--key`/`$CANARYKIT_KEY` required outside drill registries"),
    A("cli-actor-case-alias", cli_actor_case_alias, HELD,
      "four-eyes: ann submitted risk-default v1",
      "`--actor` folded (NFKC + casefold)"),
    A("cli-check-startup-without-artifact", cli_check_startup_without_artifact, HELD,
      "--artifact",
      "`--artifact` or `--no-artifact-check` required"),
    A("cli-checkpoint-out-symlink", cli_checkpoint_out_through_a_symlink, HELD,
      "is a symbolic link",
      "outputs never follow links"),
    A("sql-forged-event-invented-signature", forged_event_with_an_invented_signature, TAMPERED,
      "(approval by max): its signed act does not verify",
      "`audit verify` re-checks each signed act"),
    A("sql-waiver-expiry-extended", waiver_expiry_extended_by_sql, DENIED,
      "sbom: CVE-2026-9999 is critical",
      "a waiver counts as its event records it"),
    A("cab-approval-by-submitter-upper-case", cab_approval_by_submitter_in_upper_case, DENIED,
      "four-eyes: ann submitted risk-default v1, which CHG-N changes",
      "CAB independence after casefold"),
    A("revocation-unsigned", unsigned_revocation, DENIED,
      "revoke risk-default v1 by sam is not signed",
      "revocation is a signed act"),
    A("act-signed-with-rotated-out-key", act_signed_with_a_rotated_out_key, DENIED,
      "which the roster does not list for sue (an unknown or removed key)",
      "keys come from the roster in force at the time of the act"),
    A("removed-person-acts", removed_person_acts, DENIED,
      "roster: sue is not on the roster",
      "the roster in force at the time of the act"),
    A("waiver-reason-forges-release-notes", waiver_reason_injected_into_release_notes, HELD,
      "",
      "`md_text` escapes waiver reasons"),
    A("checkpoint-forged-under-trusted-id", checkpoint_forged_under_the_checkpoint_key_id, TAMPERED,
      "does not verify",
      "checkpoint signature against the outside trust file"),
    A("one-person-registry", one_person_registry, HELD,
      "at least 2 are needed",
      "bootstrap: two security key holders outside drill registries"),
    A("roster-proposed-by-product", roster_proposed_by_product, DENIED,
      "roster: pat holds none of the roles security",
      "roster changes are proposed by security"),
    A("trust-key-added-by-one-person", trust_key_added_by_one_person, DENIED,
      "four-eyes: sam proposed",
      "trust changes need a second security person"),
    A("standard-change-new-version", standard_change_for_a_new_version, DENIED,
      "a Standard change only moves the alias",
      "change.rego: Standard only moves the alias"),
    A("sql-evidence-rows", evidence_rows_inserted_by_sql, DENIED,
      "model card: none recorded for risk-default v1",
      "evidence documents count only with their events"),
    A("sql-evidence-rows-reported", evidence_rows_reported, TAMPERED,
      "evidence_documents row 1 (model_card card-v1-",
      "`audit verify`: evidence rows without events"),
    A("sql-vex-approval-row", vex_approval_row_inserted_by_sql, DENIED,
      "only the SBOM says not_affected",
      "VEX approvals count only with their signed events"),
    A("sql-ticket-row", ticket_row_inserted_by_sql, DENIED,
      "a change ticket (CHG-ID) of type Standard, Normal or Emergency is required",
      "a ticket counts only with its signed `change` event"),
    A("sql-approval-row-in-release", approval_row_listed_in_a_release, HELD, "ciso",
      "the release lists the approvals the log records"),
    A("sql-approval-row-after-approved-reported", approval_row_after_approved_reported, TAMPERED,
      "(ciso approves risk-default v1 for Approved as security) has no audit event",
      "the release lists only approvals the log records; `audit verify` reports the row"),
    A("release-from-drill-registry", release_from_a_drill_registry, HELD, "DRILL",
      "a release of a drill registry says so: `\"drill\": true` in its signed manifest, DRILL in its notes, and `release verify` fails it (check `drill`)"),
    A("cab-approver-submits-later", cab_approver_submits_the_version_later, DENIED,
      "approvals by the requester or the version's submitter do not count",
      "change.rego: CAB independence is checked at the gate, against the submitter"),
    A("rollback-in-freeze-not-backout", rollback_in_a_freeze_that_is_no_backout, DENIED,
      "the calendar is frozen (month-end close)",
      "only the ticket that moved the alias backs it out during a freeze"),
    A("submitter-waives-own-check", submitter_waives_her_own_check, DENIED,
      "separation of duties: max submitted",
      "waivers: separation of duties"),
    A("cli-audit-verify-forged-log", cli_audit_verify_of_a_forged_log, HELD,
      "the log was rewritten at or before the checkpoint",
      "`audit verify --checkpoint FILE --trust FILE` with both kept outside the registry (exit 5)"),
    A("vex-approved-by-submitter", vex_approved_by_the_submitter, DENIED,
      "four-eyes: max submitted risk-default v1 and cannot approve its VEX statements",
      "VEX approvals: four eyes"),
    A("approvals-of-another-verdict", approvals_of_another_verdict, DENIED,
      "four-eyes: needs Security and Product approvals of this verdict",
      "approvals bind the verdict digest"),
    A("check-startup-degraded", degraded_startup_check, HELD, "startup_degraded",
      "`--no-artifact-check` is never 0: exit 18 and a `startup_degraded` event"),
    A("sql-revalidate-by-extended-release", revalidate_by_extended_then_released, DENIED,
      "revalidate_by: the approval lapsed at 2027-02-25",
      "the release gate reads revalidate_by from the promotion event"),
    A("sql-revalidate-by-extended-reported", revalidate_by_extended_reported, TAMPERED,
      "the table says revalidate_by_ns 4070908800000000000, the audit log says",
      "`audit verify` compares the versions row with its events"),
    A("sql-bound-policy-digest-edited-startup", bound_policy_digest_edited_startup, STARTUP,
      "policy",
      "check-startup reads the bound policy digest from the Staging promotion event"),
    A("sql-bound-policy-digest-edited-reported", bound_policy_digest_edited_reported, TAMPERED,
      "the table says policy_digest sha256:abababab",
      "`audit verify` compares the versions row with its events"),
    A("sql-artifact-swapped-digest-edited", artifact_swapped_with_its_digest_edited, STARTUP,
      "artifact",
      "the registered digest is the one the submission event records"),
    A("clock-backdated-before-freeze-api", clock_backdated_before_the_freeze, DENIED,
      "4 days behind the system clock",
      "outside drill registries the time is the system clock (a fixed clock in either direction is refused)"),
    A("waiver-of-removed-person", waiver_of_a_removed_person, DENIED,
      "sbom: CVE-2026-9999 is critical",
      "acts of people no longer on the roster stop counting"),
    A("vex-approval-of-removed-person", vex_approval_of_a_removed_person, DENIED,
      "only the SBOM says not_affected",
      "VEX approvals stand while their signer is on the roster"),
    A("ticket-nested-too-deep", ticket_nested_too_deep, REFUSED,
      "is nested more than 100 levels deep",
      "input limits: nesting depth checked before parsing"),
    A("roster-yaml-alias-bomb", roster_alias_bomb, REFUSED,
      "once its YAML aliases are",
      "input limits: values after YAML alias expansion"),
    A("model-card-out-symlink", model_card_out_through_a_symlink, HELD,
      "is a symbolic link",
      "outputs never follow links"),
    A("export-rewritten-in-external-store", exported_log_rewritten_in_the_external_store, HELD,
      "rewritten at or before the checkpoint",
      "`audit export` carries the signed checkpoints; they fail on a rewritten export"),
    A("list-form-person-acts-on-production", list_form_person_acts_on_production, DENIED,
      "bob has no key on the roster (the old list form)",
      "only drill registries accept unsigned acts of list-form people"),
    A("sql-waiver-row-in-release", waiver_row_listed_in_a_release, HELD, "SCDR-X",
      "the release lists the waivers the log records"),
    A("sql-ticket-edited-in-release", ticket_rows_edited_then_released, HELD, "nothing at all",
      "the release lists the tickets as their events record them"),
    A("act-with-a-second-signature", act_with_a_second_signature, DENIED,
      "an act carries exactly one signature",
      "an act envelope holds exactly one signature, the actor's"),
    A("act-with-another-payload-type", act_with_another_payload_type, DENIED,
      "is not a canarykit act",
      "act envelopes have their own DSSE payload type"),
    A("one-person-as-the-whole-cab", one_person_as_the_whole_cab, DENIED,
      "needs CAB approvals from 2 people other than its requester and the version's submitter (has 1)",
      "change.rego counts distinct people, not roles"),
    A("log-rewritten-after-a-release", log_rewritten_after_a_release, TAMPERED,
      "the log was rewritten at or before the checkpoint",
      "releases embed a signed checkpoint of the head they were made at"),
    A("roster-file-oversized", oversized_roster_file, REFUSED,
      "bytes (the limit for this document",
      "input limits: bounded reads of document files"),
    A("sql-unsigned-config-event-appended", unsigned_config_event_appended, DENIED,
      "roster: mallory is not on the roster",
      "the roster in force is the last config event carrying a valid signed act (bootstrap or second person's approval)"),
    A("sql-unsigned-config-event-reported", unsigned_config_event_reported, TAMPERED,
      "(config by sam)",
      "`audit verify`: an act-kind event without a signed act"),
    A("sql-unsigned-change-event-appended", unsigned_change_event_appended, DENIED,
      "a change ticket (CHG-ID) of type Standard, Normal or Emergency is required",
      "a ticket counts only with a `change` event carrying the requester's signed act"),
    A("sql-unsigned-change-event-reported", unsigned_change_event_reported, TAMPERED,
      "(change by olga)",
      "`audit verify`: an act-kind event without a signed act"),
    A("sql-approval-events-copied-acts", approval_events_with_copied_acts, DENIED,
      "four-eyes: needs Security and Product approvals of this verdict",
      "an approval counts only when its signed act is this approval"),
    A("sql-approval-events-copied-acts-reported", approval_events_with_copied_acts_reported,
      TAMPERED, "its signed act is about version v1, not v2",
      "`audit verify` re-checks each act against its event"),
    A("sql-unsigned-waiver-event-appended", unsigned_waiver_event_appended, DENIED,
      "sbom: CVE-2026-9999 is critical",
      "a waiver counts only with its grantor's signed act"),
    A("sql-waiver-event-copied-act", waiver_event_with_a_copied_act, DENIED,
      "sbom: CVE-2026-9999 is critical",
      "a waiver counts only when its signed act is this waiver"),
    A("sql-waiver-event-copied-act-reported", waiver_event_with_a_copied_act_reported, TAMPERED,
      "(waiver by sue)",
      "`audit verify` re-checks each act against its event"),
    A("python-api-audit-verify-rows", python_api_audit_verify_of_rows_without_events, HELD,
      "",
      "`Promotion.audit_verify()` checks what `canarykit audit verify` checks"),
    A("sql-submission-reassigned-self-approval", submission_reassigned_then_self_approved, HELD,
      "neither the submitter ann",
      "the submitter is the one whose signed submit act the log records first (Approved gate)"),
    A("sql-submission-reassigned-approve-time", submission_reassigned_approve_time, DENIED,
      "four-eyes: ann submitted risk-default v1",
      "the approve action reads the submitter from the verified log",
      xfail="issue 13: facts from the verified log — the approve action checks four-eyes against the versions table's submitter (an appended submission naming eve lets ann's own approval be recorded; the Approved gate then ignores it)"),
    A("sql-submission-reassigned-reported", submission_reassigned_reported, TAMPERED,
      "(submission by eve)",
      "`audit verify`: an act-kind event without a signed act, a version submitted twice"),
    A("sql-forged-approved-promotion-to-production", forged_approved_promotion_to_production,
      HELD, "gate_denied",
      "an Approved stage counts only with the standing signed approvals of its own verdict",
      xfail="issue 13: facts from the verified log — a promotion event (which carries no signed act) appended with an intact chain makes a version Approved for the alias gate and check-startup, without its signed approvals of a verdict of that version; audit verify does not report it"),
    A("sql-forged-approved-promotion-startup", forged_approved_promotion_startup, HELD,
      "gate_denied",
      "check-startup: an Approved stage counts only with the standing signed approvals of its own verdict",
      xfail="issue 13: facts from the verified log — a promotion event (which carries no signed act) appended with an intact chain makes a version Approved for the alias gate and check-startup, without its signed approvals of a verdict of that version; audit verify does not report it"),
    A("sql-alias-move-appended-startup", alias_move_appended_startup, HELD, "gate_denied",
      "check-startup: the alias target is the last move the log records under a ticket the change gate allowed",
      xfail="issue 13: facts from the verified log — an alias_update event appended with an intact chain (no change ticket, no gate) moves production for check-startup; audit verify does not report it"),
    A("sql-alias-move-appended-reported", alias_move_appended_reported, TAMPERED,
      "alias_update",
      "`audit verify`: an alias move without a change ticket",
      xfail="issue 13: facts from the verified log — an alias_update event appended with an intact chain (no change ticket, no gate) moves production for check-startup; audit verify does not report it"),
]
# fmt: on


def _params() -> list[Any]:
    out = []
    for attack in ATTACKS:
        marks = (
            [pytest.mark.xfail(strict=True, reason=attack.xfail)]
            if attack.xfail is not None
            else []
        )
        out.append(pytest.param(attack, id=attack.id, marks=marks))
    return out


def test_the_table_has_at_least_60_distinct_attacks() -> None:
    ids = [a.id for a in ATTACKS]
    assert len(ids) == len(set(ids)) >= 60
    assert len({a.run for a in ATTACKS}) == len(ATTACKS)


def test_every_attack_is_listed_in_docs_security_md() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    section = doc.split("## Red-team table (issues 12 and 13)", 1)[-1]
    missing = [a.id for a in ATTACKS if f"test_attack[{a.id}]" not in section]
    assert not missing


def _assert_denial_recorded(w: World, expected: str) -> None:
    last = w.promotion.events()[-1]
    assert last.kind == "gate_denied", last
    assert any(expected in reason for reason in last.payload["reasons"]), last.payload


@pytest.mark.parametrize("attack", _params())
def test_attack(world: World, attack: Attack) -> None:
    w = world
    if attack.mode == DENIED:
        with pytest.raises(GateDeniedError) as caught:
            attack.run(w)
        assert attack.expect in str(caught.value)
        _assert_denial_recorded(w, attack.expect)
    elif attack.mode == REFUSED:
        with pytest.raises(CanaryError) as refused:
            attack.run(w)
        assert isinstance(refused.value, InvalidInputError), refused.value
        assert attack.expect in str(refused.value)
    elif attack.mode == TAMPERED:
        trust = outside_trust(w)
        checkpoints = attack.run(w) or []
        report = verify_log(
            w.promotion.store.conn, checkpoints=checkpoints, trust=trust, wall_ns=w.clock.now_ns()
        )
        assert not report.ok
        assert any(attack.expect in p for p in report.problems), report.problems
        assert report.to_text().startswith("AUDIT LOG TAMPERED")
    elif attack.mode == STARTUP:
        result = attack.run(w)
        assert not result.ok
        assert result.exit_code == EXIT_CODES[attack.expect], result
        assert any(p.startswith(attack.expect) for p in result.problems), result.problems
        _assert_denial_recorded(w, attack.expect)
    elif attack.mode == VERIFY:
        result = attack.run(w)
        assert not result.ok
        assert result.exit_code == 6
        assert attack.expect in result.to_text(), result.to_text()
    else:
        assert attack.mode == HELD
        attack.run(w)
