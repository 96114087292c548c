"""Facts from the verified log: rows no event backs are ignored by the gates and reported by
``audit verify``; the start of the log, the signed acts and deletions are checked too.

Every attack opens the registry file with ``sqlite3`` directly, as anyone with write access to
it could.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from promotion_world import MODEL, ROSTER, World, sbom
from test_checkpoints import checkpoint, raw, truncate, verify

from canarykit.errors import GateDeniedError
from canarykit.promotion import facts as F
from canarykit.promotion.audit import AuditEvent, append_event, list_events, verify_chain
from canarykit.promotion.evidence import public_key_text
from canarykit.promotion.log_verification import verify_log
from canarykit.promotion.registry import RegistryStore
from canarykit.promotion.verified_state import build_state


def sql(world: World, *statements: str, params: tuple[Any, ...] = ()) -> None:
    conn = raw(world)
    for statement in statements:
        conn.execute(statement, params if "?" in statement else ())
    conn.close()


def problems(world: World) -> tuple[str, ...]:
    return verify_log(world.promotion.store.conn).problems


def one(found: tuple[str, ...], *parts: str) -> str:
    hits = [p for p in found if all(part in p for part in parts)]
    assert hits, found
    return hits[0]


@pytest.fixture
def staged(world: World) -> World:
    world.submit("v1")
    world.to_staging("v1")
    return world


@pytest.fixture
def in_production(world: World) -> World:
    world.approved("v1")
    world.promotion.set_alias(
        MODEL,
        "v1",
        expected=None,
        actor="olga",
        chg_id=world.chg("CHG-P1", ["v1"], type="Standard"),
    )
    return world


def test_an_untouched_registry_verifies(in_production: World) -> None:
    assert problems(in_production) == ()


# -- rows without events -----------------------------------------------------------------------


def test_an_approval_row_without_event_does_not_count_and_is_reported(staged: World) -> None:
    sql(
        staged,
        "INSERT INTO approvals (model, version, stage, role, actor, time_ns, note, verdict_digest)"
        " VALUES (?, 'v1', 'Approved', 'security', 'sam', 0, '', '')",
        params=(MODEL,),
    )
    record = staged.promotion.version(MODEL, "v1")
    from canarykit.promotion.transitions import approval_facts

    [fact] = [a for a in approval_facts(staged.promotion.store.conn, record, "Approved")]
    assert fact["counts"] is False
    line = one(problems(staged), "approvals row")
    assert line.endswith(
        f"(sam approves {MODEL} v1 for Approved as security) has no audit event"
    ), line


def test_a_waiver_row_without_event_is_ignored_by_the_gate(world: World) -> None:
    world.submit("v1")
    sql(
        world,
        "INSERT INTO waivers VALUES ('SCDR-9', ?, 'v1', 'CVE-2026-9999', 'trust me', 'sec',"
        " 4102444800000000000, 'sue', 0)",
        params=(MODEL,),
    )
    with pytest.raises(GateDeniedError, match="CVE-2026-9999"):
        world.to_staging("v1", sbom=sbom(("CVE-2026-9999", "critical", None)))
    assert world.promotion.events()[-1].kind == "gate_denied"
    assert F.recorded_waivers(world.promotion.store.conn, MODEL, "v1") == []
    one(problems(world), "waivers row", "SCDR-9", "has no audit event")


def test_a_waiver_whose_expiry_was_extended_by_sql_is_ignored(world: World) -> None:
    world.submit("v1")
    world.promotion.waive(MODEL, version="v1", waiver_id="SCDR-1", check="CVE-2026-9999",
                          reason="not reachable", owner="sec", expires="2026-11-26T00:00:00Z",
                          actor="sue")  # fmt: skip
    assert len(F.recorded_waivers(world.promotion.store.conn, MODEL, "v1")) == 1
    sql(world, "UPDATE waivers SET expires_ns = 4102444800000000000")
    assert F.recorded_waivers(world.promotion.store.conn, MODEL, "v1") == []
    one(problems(world), "waivers row", "has no audit event")


def test_a_roster_row_written_by_sql_is_not_the_roster(world: World) -> None:
    mallory = Ed25519PrivateKey.generate()
    people = {
        **ROSTER["people"],
        "mallory": {"roles": ["security"], "keys": [public_key_text(mallory)]},
    }
    sql(world, "UPDATE config SET value = ? WHERE key = 'roster'",
        params=(json.dumps({"people": people}),))  # fmt: skip
    roster = F.load_roster(world.promotion.store.conn)
    assert roster is not None
    assert not roster.member("mallory")
    world.submit("v1")
    with pytest.raises(GateDeniedError, match="mallory is not on the roster"):
        world.promotion.approve(MODEL, "v1", role="security", actor="mallory", stage="Staging",
                                key=mallory)  # fmt: skip
    one(problems(world), "config row", "(roster) differs")


def test_a_config_row_inserted_without_event_is_ignored(world: World) -> None:
    sql(world, "DELETE FROM config WHERE key = 'calendar'")
    assert F.load_calendar(world.promotion.store.conn) is not None  # the event still holds it
    sql(world, "INSERT INTO config VALUES ('extra', '{}')")
    found = problems(world)
    one(found, "config row", "(extra) has no audit event")
    one(found, "puts a calendar in force but the table has no row")


def test_cab_approval_and_ticket_rows_without_events(world: World) -> None:
    world.chg("CHG-1", ["v1"], approve=False)
    sql(world, "INSERT INTO change_approvals VALUES ('CHG-1', 'eve', 'executive', 0)")
    facts = F.change_facts(world.promotion.store.conn, "CHG-1")
    assert facts["approvals"] == []
    assert facts["void_approvals"][0]["actor"] == "eve"
    sql(world, "INSERT INTO changes VALUES ('CHG-666', 'Emergency', '{}', 'olga', 0)")
    assert F.change_facts(world.promotion.store.conn, "CHG-666")["present"] is False
    found = problems(world)
    one(found, "change_approvals row", "eve approves CHG-1 as executive")
    one(found, "changes row", "CHG-666", "has no audit event")


def test_a_ticket_edited_by_sql_reads_as_recorded(world: World) -> None:
    world.chg("CHG-1", ["v1"], approve=False)
    conn = world.promotion.store.conn
    body = json.loads(conn.execute("SELECT body_json FROM changes").fetchone()[0])
    body["scope"]["versions"] = ["v1", "v2"]
    sql(world, "UPDATE changes SET body_json = ?", params=(json.dumps(body),))
    assert F.change_facts(conn, "CHG-1")["versions"] == ["v1"]
    one(problems(world), "changes row", "differs from the ticket its audit event records")


# -- stages and revocations --------------------------------------------------------------------


def test_a_stage_edited_by_sql_fails_the_alias_gate(staged: World) -> None:
    sql(staged, "UPDATE versions SET stage = 'Approved' WHERE version = 'v1'")
    chg = staged.chg("CHG-X", ["v1"], type="Standard")
    with pytest.raises(GateDeniedError, match="is Staging"):
        staged.promotion.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=chg)
    assert staged.promotion.events()[-1].kind == "gate_denied"
    one(problems(staged), "versions row", "the table says Approved, the audit log says Staging")


def test_a_submission_row_without_event_is_unrecorded(world: World) -> None:
    world.submit("v1")
    sql(world, "INSERT INTO versions (model, version, artifact_digest, submitter, submitted_at_ns,"
        " stage, updated_at_ns) SELECT model, 'v9', artifact_digest, submitter, 0, 'Approved', 0"
        " FROM versions")  # fmt: skip
    record = world.promotion.version(MODEL, "v9")
    assert F.version_facts(record, world.promotion.store.conn)["stage"] == "Unrecorded"
    one(problems(world), f"versions row 2 ({MODEL} v9) has no audit event")


def test_deleted_revocation_rows_do_not_revive_a_version(in_production: World) -> None:
    w = in_production
    w.promotion.revoke(MODEL, "v1", actor="sam", reason="leak")
    sql(
        w,
        "UPDATE versions SET stage = 'Approved', stage_before_revocation = NULL",
        "UPDATE aliases SET version = 'v1'",
        "DELETE FROM alias_history WHERE kind = 'revocation'",
    )
    conn = w.promotion.store.conn
    facts = F.version_facts(w.promotion.version(MODEL, "v1"), conn)
    assert (facts["stage"], facts["revoked"]) == ("Revoked", True)  # the event wins
    check = w.promotion.check_startup(MODEL, policy_digest=w.policy_digest,
                                      artifact=w.artifact("v1"))  # fmt: skip
    assert not check.ok
    chg = w.chg("CHG-Y", ["v1"], type="Standard")
    with pytest.raises(GateDeniedError):
        w.promotion.set_alias(MODEL, "v1", expected="v1", actor="olga", chg_id=chg)
    found = problems(w)
    one(found, "versions row", "the audit log says Revoked", "the event wins")
    one(found, "aliases row", "production → v1", "the audit log says None")
    one(found, "alias_history: audit event", "deleted")


def test_dropped_triggers_deleted_revocation_events_and_a_fixed_head_are_detected(
    in_production: World,
) -> None:
    """The attack of the issue: delete the revocation's events, fix ``audit_head`` — the chain
    verifies, but the rows those events wrote have no event left; with a checkpoint taken after
    the revocation, the truncation fails it."""
    w = in_production
    before = len(w.promotion.events())
    w.promotion.revoke(MODEL, "v1", actor="sam", reason="leak")
    envelope = checkpoint(w)
    truncate(w, before)
    sql(w, "UPDATE versions SET stage = 'Approved'")  # the row too: only the alias rows remain
    assert verify_chain(w.promotion.store.conn).ok
    found = problems(w)
    one(found, "alias_history row", "has no audit event")
    one(found, "aliases row", "production → None", "the audit log says v1")
    anchored = verify(w, envelope)
    one(anchored.problems, "checkpoint[0]", "truncated")


def test_deleting_every_event_is_not_an_intact_empty_log(in_production: World) -> None:
    sql(in_production, "DELETE FROM events", "DELETE FROM audit_head")
    assert verify_chain(in_production.promotion.store.conn).ok  # the chain alone: 0 events
    line = one(problems(in_production), "the audit log is empty but the registry holds")
    for table in ("versions", "approvals", "config"):
        assert table in line


def test_an_empty_new_registry_is_intact(tmp_path: Path) -> None:
    assert verify_log(RegistryStore(tmp_path / "new.sqlite").conn).ok


def test_a_registry_init_event_must_come_first(world: World) -> None:
    conn = world.promotion.store.conn
    world.promotion.store.conn.execute("BEGIN IMMEDIATE")
    append_event(conn, kind="registry_init", actor="mallory", time_ns=0, payload={"drill": True})
    conn.execute("COMMIT")
    one(problems(world), "a registry_init event that is not the log's first")


def test_a_log_whose_start_was_deleted_and_rebuilt_names_another_registry(world: World) -> None:
    """Delete the first event and rebuild the chain from the second: every hash recomputed, the
    chain verifies; the signed acts name the registry's real first event."""
    world.submit("v1")
    conn = raw(world)
    conn.row_factory = sqlite3.Row
    from canarykit.promotion.audit import GENESIS_HASH, list_events

    events = list_events(conn)[1:]
    conn.execute("DELETE FROM events")
    prev = GENESIS_HASH
    for seq, event in enumerate(events, start=1):
        fields = {n: getattr(event, n) for n in AuditEvent.__dataclass_fields__}
        draft = AuditEvent(**{**fields, "seq": seq, "prev_hash": prev, "hash": ""})
        conn.execute(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, event.time_ns, event.kind, event.model, event.version, event.chg_id,
             event.actor, json.dumps(dict(event.payload)), prev, draft.computed_hash()),
        )  # fmt: skip
        prev = draft.computed_hash()
    conn.execute("UPDATE audit_head SET seq = ?, hash = ?", (len(events), prev))
    conn.close()
    assert verify_chain(world.promotion.store.conn).ok
    one(problems(world), "its signed act names the registry", "the log's first events")


# -- forged acts -------------------------------------------------------------------------------


def test_a_forged_approval_event_with_recomputed_hashes_fails_its_signature(
    staged: World,
) -> None:
    """An approval event written by SQL, hash chained properly, carrying sam's signed act
    copied from his Staging approval, claiming max approved: the act is re-checked."""
    conn = raw(staged)
    conn.row_factory = sqlite3.Row
    from canarykit.promotion.audit import list_events

    sams = next(e for e in list_events(conn) if e.kind == "approval")
    head = conn.execute("SELECT seq, hash FROM audit_head").fetchone()
    payload = {**sams.payload, "actor": "max"}
    draft = AuditEvent(seq=head[0] + 1, time_ns=sams.time_ns, kind="approval", actor="max",
                       model=MODEL, version="v1", payload=payload, prev_hash=head[1],
                       hash="")  # fmt: skip
    conn.execute(
        "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (draft.seq, draft.time_ns, "approval", MODEL, "v1", None, "max",
         json.dumps(payload), draft.prev_hash, draft.computed_hash()),
    )  # fmt: skip
    conn.execute("UPDATE audit_head SET seq = ?, hash = ?", (draft.seq, draft.computed_hash()))
    conn.execute(
        "INSERT INTO approvals (model, version, stage, role, actor, time_ns, note, verdict_digest)"
        " VALUES (?, 'v1', 'Staging', 'security', 'max', 0, '', '')",
        (MODEL,),
    )
    conn.close()
    assert verify_chain(staged.promotion.store.conn).ok
    one(problems(staged), f"seq {draft.seq} (approval by max)", "not this event's")


# -- linear and fast ---------------------------------------------------------------------------


def test_the_index_is_one_linear_pass(tmp_path: Path) -> None:
    store = RegistryStore(tmp_path / "big.sqlite")
    with store.transaction() as conn:
        for i in range(20_000):
            append_event(conn, kind="gate_denied", actor=f"p{i % 50}", time_ns=i, model="m",
                         version=f"v{i % 400}", payload={"reasons": ["no"]})  # fmt: skip
    started = time.perf_counter()
    result = verify_log(store.conn)
    elapsed = time.perf_counter() - started
    assert result.ok, result.problems[:3]
    assert elapsed < 20, elapsed  # ~1 s alone; generous for a loaded CI machine
    assert build_state([]).events == 0


def test_version_fields_edited_by_sql_are_read_from_the_log(in_production: World) -> None:
    w = in_production
    logged = F.version_facts(w.promotion.version(MODEL, "v1"), w.promotion.store.conn)
    sql(w, "UPDATE versions SET revalidate_by_ns = 4102444800000000000,"
        " policy_digest = 'sha256:' || printf('%064d', 0), artifact_digest = 'sha256:' ||"
        " printf('%064d', 1), submitter = 'eve'")  # fmt: skip
    facts = F.version_facts(w.promotion.version(MODEL, "v1"), w.promotion.store.conn)
    assert facts == logged
    found = problems(w)
    for name in ("revalidate_by_ns", "policy_digest", "artifact_digest", "submitter"):
        one(found, "versions row", f"the table says {name}")


# -- act-kind events count only with their own signed act (issue 13) --------------------------


def _append(world: World, *, kind: str, actor: str, payload: dict[str, Any], **where: Any) -> int:
    """Append an event through canarykit's own storage layer (the chain stays intact)."""
    store = RegistryStore(world.tmp / "registry.sqlite")
    try:
        with store.transaction() as tx:
            event = append_event(tx, kind=kind, actor=actor, time_ns=world.clock.now_ns(),
                                 payload=payload, **where)  # fmt: skip
    finally:
        store.close()
    return event.seq


def _signed_record(world: World, action: str, actor: str, **fields: Any) -> dict[str, Any]:
    """A genuinely signed act record (as ``authorize`` records it) by ``actor``'s key."""
    from promotion_world import PEOPLE_KEYS

    from canarykit.promotion import acts

    conn = world.promotion.store.conn
    statement = acts.act_statement(action, actor=actor, registry=acts.registry_identity(conn),
                                   time_ns=world.clock.now_ns(), **fields)  # fmt: skip
    envelope = acts.sign_act(statement, PEOPLE_KEYS[actor])
    check = acts.check_act(statement, envelope, F.load_roster(conn), drill=False)
    assert check.ok, check.problems
    assert check.record is not None
    return dict(check.record)


def _verify(world: World) -> tuple[str, ...]:
    return verify_log(world.promotion.store.conn, wall_ns=world.clock.now_ns()).problems


def test_an_unsigned_config_event_puts_nothing_in_force(world: World) -> None:
    people = {**ROSTER["people"], "mallory": {"roles": ["security"], "keys": []}}
    seq = _append(world, kind="config", actor="sam",
                  payload={"key": "roster", "document": {"people": people}})  # fmt: skip
    conn = world.promotion.store.conn
    roster = F.load_roster(conn)
    assert roster is not None
    assert not roster.member("mallory")
    line = one(_verify(world), f"seq {seq} (config by sam)")
    assert line.endswith("no signed act; it does not count"), line


def test_a_config_change_approved_by_its_proposer_does_not_count(world: World) -> None:
    """sam proposes a roster adding mallory and signs the approval himself (a valid signature
    by sam's key, appended through the storage layer): four eyes are two people."""
    from canarykit.promotion.config_changes import document_digest, validate_config

    people = {**ROSTER["people"], "mallory": {"roles": ["security"], "keys": []}}
    proposal = world.promotion.propose_config("roster", {"people": people}, actor="sam")
    document = validate_config("roster", {"people": people})
    digest = document_digest(document)
    record = _signed_record(world, "config_approve", "sam", proposal=proposal.proposal_id,
                            key="roster", digest=digest)  # fmt: skip
    seq = _append(world, kind="config", actor="sam",
                  payload={"key": "roster", "digest": digest, "document": document,
                           "proposal": proposal.proposal_id, "act": record})  # fmt: skip
    roster = F.load_roster(world.promotion.store.conn)
    assert roster is not None
    assert not roster.member("mallory")
    one(_verify(world), f"seq {seq} (config by sam)", "four-eyes: sam proposed", "does not count")


def test_a_config_proposal_approved_by_a_second_person_counts(world: World) -> None:
    people = {**ROSTER["people"], "mallory": {"roles": ["product"], "keys": []}}
    proposal = world.promotion.propose_config("roster", {"people": people}, actor="sam")
    world.promotion.approve_config(proposal.proposal_id, actor="sue")
    roster = F.load_roster(world.promotion.store.conn)
    assert roster is not None
    assert roster.member("mallory")
    assert _verify(world) == ()


def test_an_approval_event_carrying_another_versions_act_does_not_count(staged: World) -> None:
    """sam's genuine Staging approval of v1, copied onto an approval event of v2."""
    from canarykit.promotion.verified_state import load_state

    staged.submit("v2")
    sams = next(e for e in staged.promotion.events(kind="approval") if e.actor == "sam")
    payload = {**sams.payload, "version": "v2"}
    seq = _append(staged, kind="approval", actor="sam", payload=payload, model=MODEL,
                  version="v2")  # fmt: skip
    conn = staged.promotion.store.conn
    assert not load_state(conn).counts(seq)
    assert load_state(conn).counts(sams.seq)
    one(
        _verify(staged),
        f"seq {seq} (approval by sam)",
        "its signed act is about version v1, not v2",
    )


def test_a_waiver_event_carrying_another_waivers_act_does_not_count(world: World) -> None:
    world.submit("v1")
    world.promotion.waive(MODEL, version="v1", waiver_id="SCDR-1", check="CVE-2026-0001",
                          reason="unreachable", owner="sec", expires="2026-11-27T00:00:00Z",
                          actor="sue")  # fmt: skip
    genuine = world.promotion.events(kind="waiver")[-1]
    payload = {**genuine.payload, "waiver_id": "SCDR-2", "check": "CVE-2026-9999",
               "expires": "2099-01-01T00:00:00+00:00"}  # fmt: skip
    seq = _append(world, kind="waiver", actor="sue", payload=payload, model=MODEL, version="v1")
    line = one(_verify(world), f"seq {seq} (waiver by sue)", "its signed act is another act")
    assert "check: signed 'CVE-2026-0001', this event 'CVE-2026-9999'" in line, line
    from canarykit.promotion.verified_state import recorded_keys

    assert {k[0] for k in recorded_keys(world.promotion.store.conn, "waivers", MODEL)} == {"SCDR-1"}


def test_an_unsigned_change_event_is_no_ticket(world: World) -> None:
    chg = world.chg("CHG-1", ["v1"], approve=False)
    ticket = world.promotion.show_change(chg).ticket
    seq = _append(world, kind="change", actor="olga", payload=ticket.to_dict(), model=MODEL,
                  chg_id="CHG-2")  # fmt: skip
    sql(world, "INSERT INTO changes SELECT 'CHG-2', type, body_json, created_by, created_at_ns"
        " FROM changes WHERE chg_id = 'CHG-1'")  # fmt: skip
    conn = world.promotion.store.conn
    assert F.change_facts(conn, "CHG-1")["present"] is True
    assert F.change_facts(conn, "CHG-2")["present"] is False
    one(_verify(world), f"seq {seq} (change by olga)", "no signed act; it does not count")


def test_a_cab_approval_signed_for_another_ticket_digest_does_not_count(world: World) -> None:
    """sue signs a CAB approval of CHG-1 over a digest that is not the ticket the log
    records (the approval row was written for an edited ticket)."""
    chg = world.chg("CHG-1", ["v1"], approve=False)
    record = _signed_record(world, "change_approve", "sue", chg_id=chg, role="security",
                            ticket_digest="sha256:" + "ab" * 32)  # fmt: skip
    seq = _append(
        world,
        kind="change_approval",
        actor="sue",
        chg_id=chg,
        model=MODEL,
        payload={"chg_id": chg, "actor": "sue", "role": "security", "act": record},
    )
    sql(world, "INSERT INTO change_approvals VALUES (?, 'sue', 'security', 0)", params=(chg,))
    facts = F.change_facts(world.promotion.store.conn, chg)
    assert [a["actor"] for a in facts["approvals"]] == []
    one(_verify(world), f"seq {seq} (change_approval by sue)", "ticket_digest: signed")


def test_a_signed_act_of_someone_without_the_role_does_not_count(world: World) -> None:
    """pat (product) signs a waiver: a valid signature, but waivers are security's or the
    executive's."""
    world.submit("v1")
    fields = {"waiver_id": "SCDR-P", "model": MODEL, "version": "v1", "check": "CVE-2026-9999",
              "reason": "r", "owner": "o", "expires": "2099-01-01T00:00:00+00:00"}  # fmt: skip
    record = _signed_record(world, "waive", "pat", **fields)
    payload = {**fields, "created_by": "pat", "created_at": "2026-11-25T10:00:00+00:00",
               "act": record}  # fmt: skip
    seq = _append(world, kind="waiver", actor="pat", payload=payload, model=MODEL, version="v1")
    one(_verify(world), f"seq {seq} (waiver by pat)", "pat holds none of the roles security")


def test_promotion_audit_verify_is_the_cli_verification(staged: World) -> None:
    result = staged.promotion.audit_verify()
    assert result.ok
    assert {"ok", "events", "head_hash", "problems"} <= set(result.to_dict())
    _append(staged, kind="approval", actor="max", payload={"stage": "Staging"}, model=MODEL,
            version="v1")  # fmt: skip
    assert not staged.promotion.audit_verify().ok


def test_the_state_is_continued_while_the_log_grows_and_rebuilt_when_rewritten(
    staged: World,
) -> None:
    from canarykit.promotion.verified_state import load_state

    conn = staged.promotion.store.conn
    first = load_state(conn)
    events = first.events
    staged.submit("v2")
    again = load_state(conn)
    assert again.events == events + 1 == len(staged.promotion.events())
    conn2 = raw(staged)
    conn2.execute("DELETE FROM events WHERE seq = (SELECT MAX(seq) FROM events)")
    conn2.close()
    assert load_state(conn).events == events  # the last event it ended with is gone: rebuilt


def test_twenty_thousand_signed_approvals_are_checked_in_one_linear_pass(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """20,000 approval events, each with its own signed act, appended in one transaction:
    build_state verifies each once; a second build is served from the verification cache,
    and load_state continues with the new events only."""
    from promotion_world import PEOPLE_KEYS

    from canarykit.promotion import acts
    from canarykit.promotion.verified_state import _VERIFIED, load_state

    conn = world.promotion.store.conn
    registry = acts.registry_identity(conn)
    now = world.clock.now_ns()
    store = RegistryStore(world.tmp / "registry.sqlite")
    with store.transaction() as tx:
        for i in range(20_000):
            fields = {"model": MODEL, "version": f"v{i}", "stage": "Staging",
                      "role": "security", "verdict_digest": None, "note": ""}  # fmt: skip
            statement = acts.act_statement("approve", actor="sam", registry=registry,
                                           time_ns=now, **fields)  # fmt: skip
            envelope = acts.sign_act(statement, PEOPLE_KEYS["sam"])
            record = {"signed": True, "statement": statement, "payload": envelope["payload"],
                      "keyid": envelope["signatures"][0]["keyid"],
                      "sig": envelope["signatures"][0]["sig"]}  # fmt: skip
            append_event(tx, kind="approval", actor="sam", time_ns=now, model=MODEL,
                         version=f"v{i}", payload={**fields, "actor": "sam", "act": record})  # fmt: skip
    store.close()
    events = list_events(conn)
    _VERIFIED.clear()
    started = time.perf_counter()
    state = build_state(events)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    build_state(events)
    warm = time.perf_counter() - started
    assert state.problems == [], state.problems[:3]
    assert sum(state.rows["approvals"].values()) == 20_000
    started = time.perf_counter()
    load_state(conn)
    loaded = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n20,000 signed approvals: build_state {cold:.2f} s cold, {warm:.2f} s cached;"
              f" load_state {loaded:.2f} s")  # fmt: skip
    assert cold < 60, cold
    assert warm < 30, warm
