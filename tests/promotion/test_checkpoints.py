"""Signed audit checkpoints: what they anchor, what they catch, and what only they catch.

Every attack edits the registry file with ``sqlite3`` directly (triggers dropped, hashes
recomputed, ``audit_head`` fixed), as someone with write access to the file would.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from promotion_world import MODEL, World, make_world, pem

from canarykit.cli.main import main
from canarykit.errors import GateDeniedError
from canarykit.promotion import facts as F
from canarykit.promotion.audit import AuditEvent, list_events, verify_chain
from canarykit.promotion.checkpoints import (
    CHECKPOINT_KIND,
    CHECKPOINT_PREDICATE,
    recorded_checkpoints,
    verify_checkpoints,
    write_checkpoint,
)
from canarykit.promotion.evidence import PAYLOAD_TYPES, TrustStore, public_key_text
from canarykit.promotion.log_verification import verify_log

# -- helpers -----------------------------------------------------------------------------------


def registry(world: World) -> Path:
    return world.tmp / "registry.sqlite"


def checkpoint(world: World) -> dict[str, Any]:
    """A checkpoint of the world's log signed by its release key (trusted for checkpoint)."""
    found = write_checkpoint(world.promotion, signing_key=world.key, key_id="release-key",
                             actor="olga")  # fmt: skip
    return dict(found.envelope)


def trust(world: World) -> TrustStore:
    found = F.load_trust(world.promotion.store.conn)
    assert found is not None
    return found


def raw(world: World) -> sqlite3.Connection:
    """The registry file as an attacker opens it: triggers dropped."""
    conn = sqlite3.connect(registry(world), isolation_level=None)
    conn.executescript(
        "DROP TRIGGER IF EXISTS events_append_only_update;"
        "DROP TRIGGER IF EXISTS events_append_only_delete;"
    )
    return conn


def _events(conn: sqlite3.Connection) -> list[AuditEvent]:
    conn.row_factory = sqlite3.Row
    return list_events(conn)


def rewrite(world: World, seq: int, **changes: Any) -> None:
    """Forge event ``seq`` (``payload`` entries merged), recompute every hash from it on and fix
    ``audit_head``: the chain verifies again."""
    conn = raw(world)
    prev = None
    for event in _events(conn):
        if event.seq < seq:
            prev = event.hash
            continue
        fields = {n: getattr(event, n) for n in AuditEvent.__dataclass_fields__}
        if event.seq == seq:
            fields["payload"] = {**event.payload, **changes}
        if prev is not None:
            fields["prev_hash"] = prev
        draft = AuditEvent(**{**fields, "hash": ""})
        prev = draft.computed_hash()
        conn.execute(
            "UPDATE events SET payload_json = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            (json.dumps(dict(draft.payload), sort_keys=True), draft.prev_hash, prev, event.seq),
        )
    conn.execute("UPDATE audit_head SET hash = ? WHERE id = 1", (prev,))
    conn.close()


def truncate(world: World, after: int) -> None:
    """Delete every event after ``after`` and point ``audit_head`` at the new last one."""
    conn = raw(world)
    conn.execute("DELETE FROM events WHERE seq > ?", (after,))
    last = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    conn.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", last)
    conn.close()


def denied_actions(world: World, n: int) -> None:
    """``n`` refused actions: events that no table row mirrors."""
    for _ in range(n):
        with pytest.raises(GateDeniedError):
            world.promotion.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=None)


def verify(world: World, *envelopes: dict[str, Any]) -> Any:
    return verify_log(world.promotion.store.conn, checkpoints=envelopes, trust=trust(world))


def _first_plain_event(world: World) -> int:
    """An event that carries no signed act and that no table row is checked against."""
    return next(e.seq for e in world.promotion.events() if e.kind == "gate_denied")


@pytest.fixture
def walked(world: World) -> World:
    """v1 submitted and at Staging, one refused action in the log."""
    world.submit("v1")
    world.to_staging("v1")
    denied_actions(world, 1)
    return world


# -- signing -----------------------------------------------------------------------------------


def test_a_checkpoint_signs_sequence_head_time_and_registry(walked: World) -> None:
    events = walked.promotion.events()
    envelope = checkpoint(walked)
    assert envelope["payloadType"] == PAYLOAD_TYPES["checkpoint"]
    statement = json.loads(base64.b64decode(envelope["payload"]))
    predicate = statement["predicate"]
    assert statement["predicateType"] == CHECKPOINT_PREDICATE
    assert (predicate["seq"], predicate["head_hash"]) == (events[-1].seq, events[-1].hash)
    assert predicate["registry"] == events[0].hash
    assert predicate["time"] == "2026-11-25T10:00:00+00:00"
    recorded = walked.promotion.events()[-1]
    assert (recorded.kind, recorded.payload["envelope"]) == (CHECKPOINT_KIND, envelope)
    result = verify(walked, envelope)
    assert result.ok, result.problems
    assert [c.ok for c in result.checkpoints] == [True, True]  # recorded + given


@pytest.mark.parametrize(
    ("key_id", "key", "match"),
    [
        ("verdict-key", "verdict", "not trusted for checkpoint signatures"),
        ("release-key", "other", "not the trusted key 'release-key'"),
        ("nobody", "release", "'nobody' is not in the trust file"),
    ],
)
def test_a_key_not_trusted_for_checkpoints_is_refused(
    walked: World, key_id: str, key: str, match: str
) -> None:
    keys = {
        "verdict": walked.verdict_key,
        "release": walked.key,
        "other": Ed25519PrivateKey.generate(),
    }
    before = len(walked.promotion.events())
    with pytest.raises(GateDeniedError, match=match):
        write_checkpoint(walked.promotion, signing_key=keys[key], key_id=key_id, actor="olga")
    events = walked.promotion.events()
    assert len(events) == before + 1
    assert events[-1].kind == "gate_denied"
    assert not recorded_checkpoints(events)


def test_a_broken_chain_is_not_anchored(walked: World) -> None:
    conn = raw(walked)
    conn.execute("UPDATE events SET actor = 'mallory' WHERE seq = 2")
    conn.close()
    with pytest.raises(GateDeniedError, match="audit chain does not verify"):
        checkpoint(walked)


def test_a_checkpoint_signed_with_another_purpose_does_not_verify(walked: World) -> None:
    envelope = checkpoint(walked)
    forged = {**envelope, "payloadType": PAYLOAD_TYPES["release"]}
    result = verify(walked, forged)
    assert not result.ok
    assert any("is not the checkpoint type" in p for p in result.problems)


# -- what a checkpoint catches -----------------------------------------------------------------


def test_a_forged_event_with_recomputed_hashes_passes_the_chain_without_a_checkpoint(
    walked: World,
) -> None:
    """The known limit, stated as a test: the chain alone does not catch a forger who
    recomputes every hash after the event (and the event carries no signed act)."""
    rewrite(walked, _first_plain_event(walked), reasons=["nothing happened here"])
    assert verify_chain(walked.promotion.store.conn).ok
    assert verify_log(walked.promotion.store.conn).ok


def test_a_forged_event_with_recomputed_hashes_fails_the_checkpoint(walked: World) -> None:
    envelope = checkpoint(walked)
    rewrite(walked, _first_plain_event(walked), reasons=["nothing happened here"])
    assert verify_chain(walked.promotion.store.conn).ok
    result = verify(walked, envelope)
    assert not result.ok
    assert any(
        "checkpoint[0]" in p and "rewritten at or before the checkpoint" in p
        for p in result.problems
    ), result.problems
    # The checkpoint the log records catches it too, and the gates stop believing the log.
    assert any("recorded checkpoint" in p for p in result.problems)
    assert not F.audit_facts(walked.promotion.store.conn)["ok"]


def test_the_checkpoint_catches_a_forger_who_drops_the_recorded_checkpoint(walked: World) -> None:
    envelope = checkpoint(walked)
    seq = _first_plain_event(walked)
    rewrite(walked, seq, reasons=["nothing happened here"])
    truncate(walked, len(walked.promotion.events()) - 1)  # the recorded checkpoint goes too
    assert verify_log(walked.promotion.store.conn).ok  # nothing inside the file says so
    result = verify(walked, envelope)
    assert [c.ok for c in result.checkpoints] == [False]


def test_truncation_at_or_before_the_checkpoint_fails_it(walked: World) -> None:
    envelope = checkpoint(walked)
    anchored = json.loads(base64.b64decode(envelope["payload"]))["predicate"]["seq"]
    truncate(walked, anchored - 1)
    assert verify_chain(walked.promotion.store.conn).ok
    result = verify(walked, envelope)
    assert any("truncated" in p for p in result.problems), result.problems


def test_truncation_after_the_checkpoint_is_the_chain_s_alone(walked: World) -> None:
    """Events after the last checkpoint are anchored only by the next one."""
    envelope = checkpoint(walked)
    anchored = json.loads(base64.b64decode(envelope["payload"]))["predicate"]["seq"]
    denied_actions(walked, 2)
    truncate(walked, anchored + 1)  # keep the checkpoint event, drop the two denials
    result = verify(walked, envelope)
    assert result.ok, result.problems
    denied_actions(walked, 1)
    later = checkpoint(walked)  # a checkpoint taken after the denial anchors it
    truncate(walked, anchored + 1)
    assert not verify(walked, later).ok


def test_a_checkpoint_of_another_registry_fails(walked: World, tmp_path: Path) -> None:
    other_folder = tmp_path / "other"
    other_folder.mkdir()
    with make_world(other_folder) as other:
        other.submit("v1")
        envelope = checkpoint(other)
        other_trust = trust(other)
    result = verify_log(walked.promotion.store.conn, checkpoints=[envelope], trust=other_trust)
    assert any("another registry" in p or "truncated" in p for p in result.problems)
    assert any("anchors registry" in p for p in result.problems), result.problems


def test_a_checkpoint_is_verified_against_an_external_trust_file(walked: World) -> None:
    """Whoever rewrites the registry can rewrite its trust file: verify with one held
    elsewhere. A checkpoint signed by a key that file does not list fails."""
    envelope = checkpoint(walked)
    elsewhere = TrustStore.from_dict(
        {
            "keys": [
                {
                    "id": "release-key",
                    "public_key": public_key_text(Ed25519PrivateKey.generate()),
                    "purposes": ["checkpoint"],
                }
            ]
        }
    )
    result = verify_log(walked.promotion.store.conn, checkpoints=[envelope], trust=elsewhere)
    assert any("checkpoint[0]: signature" in p for p in result.problems)


# -- export, release, CLI ----------------------------------------------------------------------


def test_export_carries_the_checkpoints_and_round_trips(walked: World) -> None:
    envelope = checkpoint(walked)
    out = walked.tmp / "audit.jsonl"
    walked.promotion.audit_export(out)
    events = [AuditEvent.from_dict(json.loads(line)) for line in out.read_text().splitlines()]
    assert events == walked.promotion.events()
    [recorded] = recorded_checkpoints(events)
    assert recorded.envelope == envelope
    assert [c.ok for c in verify_checkpoints(events, [envelope], trust(walked))] == [True]
    # The external store's copy catches a rewrite of the exported log as well.
    events[1] = AuditEvent(
        **{**{n: getattr(events[1], n) for n in AuditEvent.__dataclass_fields__}, "actor": "eve"}
    )
    [check] = verify_checkpoints(events, [envelope], trust(walked))
    assert not check.ok


def test_a_release_embeds_a_signed_checkpoint_of_its_head(world: World) -> None:
    world.approved("v1")
    world.promotion.release(MODEL, "v1", out=world.tmp / "rel", signing_key=world.key,
                            key_id="release-key", actor="olga")  # fmt: skip
    manifest = json.loads((world.tmp / "rel" / "release_manifest.json").read_text())
    embedded = manifest["audit_checkpoint"]
    signed = embedded["signed_checkpoint"]
    assert (signed["seq"], signed["head_hash"]) == (embedded["seq"], embedded["head_hash"])
    events = world.promotion.events()
    [check] = verify_checkpoints(events, [signed["envelope"]], trust(world))
    assert check.ok, check.problems
    # The release event keeps it, so the log records it (and audit export carries it).
    assert [c.seq for c in recorded_checkpoints(events)] == [embedded["seq"]]


def _cli(*argv: str) -> int:
    try:
        return main(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)


def test_the_command_line_checkpoints_and_verifies(
    walked: World, capsys: pytest.CaptureFixture[str]
) -> None:
    key = pem(walked.key, walked.tmp / "checkpoint.pem")
    out = walked.tmp / "cp.json"
    reg = str(registry(walked))
    code = _cli("audit", "checkpoint", "--registry", reg, "--key", str(key),
                "--key-id", "release-key", "--out", str(out), "--actor", "olga")  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert "signed by release-key" in capsys.readouterr().out
    assert _cli("audit", "verify", "--registry", reg, "--checkpoint", str(out)) == 0
    assert "anchored: checkpoint" in capsys.readouterr().out
    rewrite(walked, _first_plain_event(walked), reasons=["nothing happened here"])
    assert _cli("audit", "verify", "--registry", reg, "--checkpoint", str(out)) == 5
    text = capsys.readouterr().out
    assert text.startswith("AUDIT LOG TAMPERED:")
    assert f"checkpoint {out}" in text
    wrong = pem(walked.verdict_key, walked.tmp / "verdict.pem")
    code = _cli("audit", "checkpoint", "--registry", reg, "--key", str(wrong),
                "--key-id", "verdict-key", "--out", str(out), "--actor", "olga")  # fmt: skip
    assert code == 4
    assert "not trusted for checkpoint" in capsys.readouterr().err
