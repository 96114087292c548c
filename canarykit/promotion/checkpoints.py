"""Signed audit checkpoints: an anchor for the hash chain held outside the registry.

The hash chain detects an edited, deleted or reordered event only as long as nobody recomputes
the hashes that follow it: with write access to the SQLite file, a forged event with a
recomputed hash (and every later hash recomputed, and ``audit_head`` fixed) passes
:func:`~canarykit.promotion.audit.verify_chain`, and so does a log truncated after its last
event. A *checkpoint* closes that gap (DESIGN.md §10: "the chain extends the last signed
checkpoint"). It is a DSSE envelope (purpose ``checkpoint``, payload type
``application/vnd.canarykit.audit-checkpoint.v1+json``) over an in-toto Statement v1::

    subject:   [{"name": "canarykit-audit-log:<registry>", "digest": {"sha256": <head hex>}}]
    predicateType: https://canarykit.dev/audit-checkpoint/v1
    predicate: {"schema": "canarykit.audit_checkpoint/1", "registry": "sha256:…", "seq": 42,
                "head_hash": "sha256:…", "time": "2026-11-25T10:00:00+00:00", "drill": false}

``registry`` is the registry's identity, the hash of its first event (the same identity signed
acts name, :func:`~canarykit.promotion.acts.registry_identity`). The envelope is signed by a key
the trust file lists for purpose ``checkpoint``; ``canarykit audit checkpoint`` writes it to a
file for an external store (a WORM bucket, a ticket) and records it as a ``checkpoint`` audit
event, so ``audit export`` carries every checkpoint too.

A checkpoint verifies against a log (:func:`verify_checkpoints`) when its signature verifies,
the event at ``seq`` exists and carries ``head_hash``, the log's first event is ``registry``,
and the chain *recomputed from the genesis hash* — every event hashed from its own fields, each
linked to the recomputed hash before it, whatever hashes the rows store — reaches ``head_hash``
at ``seq``. Any rewrite, deletion, insertion or truncation at or before ``seq`` changes that
hash, recomputed hashes or not. Events after the last checkpoint are protected by the chain
alone until the next checkpoint.

Examples
--------
>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> from canarykit.promotion.audit import append_event, list_events
>>> from canarykit.promotion.evidence import TrustStore, public_key_text
>>> from canarykit.promotion.registry import RegistryStore
>>> key = Ed25519PrivateKey.generate()
>>> trust = TrustStore.from_dict({"keys": [{"id": "cp", "public_key": public_key_text(key),
...                                          "purposes": ["checkpoint"]}]})
>>> store = RegistryStore(":memory:")
>>> with store.transaction() as conn:
...     _ = append_event(conn, kind="approval", actor="sam", time_ns=0)
>>> envelope = sign_checkpoint(store.conn, private_key=key, key_id="cp", trust=trust, now_ns=1)
>>> [c.ok for c in verify_checkpoints(list_events(store.conn), [envelope], trust)]
[True]
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from canarykit.errors import InvalidInputError
from canarykit.promotion.audit import (
    GENESIS_HASH,
    AuditEvent,
    append_event,
    canonical_json,
    get_event,
    verify_chain,
)
from canarykit.promotion.clock import format_instant, parse_instant
from canarykit.promotion.evidence import (
    TrustStore,
    check_key_id,
    digest_bytes,
    intoto_statement,
    load_private_key,
    open_envelope,
    sign_statement,
)

__all__ = [
    "CHECKPOINT_KIND",
    "CHECKPOINT_PREDICATE",
    "CHECKPOINT_SCHEMA",
    "Checkpoint",
    "CheckpointCheck",
    "checkpoint_key_problem",
    "checkpoint_statement",
    "latest_checkpoint",
    "parse_checkpoint",
    "recomputed_hashes",
    "record_checkpoint",
    "recorded_checkpoints",
    "release_checkpoint",
    "sign_checkpoint",
    "verify_checkpoints",
    "write_checkpoint",
]

CHECKPOINT_KIND = "checkpoint"
"""The audit event kind that records a signed checkpoint (its envelope in the payload)."""
CHECKPOINT_SCHEMA = "canarykit.audit_checkpoint/1"
CHECKPOINT_PREDICATE = "https://canarykit.dev/audit-checkpoint/v1"
_SUBJECT_PREFIX = "canarykit-audit-log:"


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    """A signed checkpoint: what it anchors, who signed it, and its envelope."""

    registry: str
    seq: int
    head_hash: str
    time_ns: int
    key_id: str
    envelope: Mapping[str, Any]
    recorded_seq: int | None = None

    @property
    def digest(self) -> str:
        """``sha256:`` of the envelope's canonical JSON (how a release names it)."""
        return digest_bytes(canonical_json(dict(self.envelope)).encode("utf-8"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the envelope included)."""
        return {
            "registry": self.registry,
            "seq": self.seq,
            "head_hash": self.head_hash,
            "time": format_instant(self.time_ns),
            "key_id": self.key_id,
            "digest": self.digest,
            "recorded_seq": self.recorded_seq,
            "envelope": dict(self.envelope),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckpointCheck:
    """One checkpoint verified against a log: ``ok`` and every problem found."""

    source: str
    ok: bool
    seq: int | None = None
    head_hash: str | None = None
    key_ids: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "source": self.source,
            "ok": self.ok,
            "seq": self.seq,
            "head_hash": self.head_hash,
            "key_ids": list(self.key_ids),
            "problems": list(self.problems),
            "notes": list(self.notes),
        }


def checkpoint_statement(
    *, registry: str, seq: int, head_hash: str, time_ns: int, drill: bool = False
) -> dict[str, Any]:
    """The in-toto Statement a checkpoint signs (see the module docstring).

    Examples
    --------
    >>> st = checkpoint_statement(registry="sha256:" + "1" * 64, seq=3,
    ...                           head_hash="sha256:" + "2" * 64, time_ns=0)
    >>> st["subject"][0]["digest"]["sha256"][:4], st["predicate"]["seq"]
    ('2222', 3)
    """
    return intoto_statement(
        [{"name": _SUBJECT_PREFIX + registry, "digest": {"sha256": head_hash.split(":", 1)[-1]}}],
        CHECKPOINT_PREDICATE,
        {
            "schema": CHECKPOINT_SCHEMA,
            "registry": registry,
            "seq": int(seq),
            "head_hash": head_hash,
            "time": format_instant(time_ns),
            "drill": bool(drill),
        },
    )


def _raw(key: Any) -> bytes:
    return bytes(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def checkpoint_key_problem(
    trust: TrustStore | None, key_id: str, private_key: Ed25519PrivateKey
) -> str | None:
    """Why ``private_key`` may not sign checkpoints as ``key_id`` (None: it may).

    It must be the key the trust file lists under ``key_id``, and that entry must list purpose
    ``checkpoint``: a release or verdict key does not anchor the audit log.
    """
    if trust is None:
        return "checkpoint: no trust file configured (propose one with a checkpoint key)"
    trusted = trust.public_key(key_id)
    if trusted is None:
        return f"checkpoint: key {key_id!r} is not in the trust file"
    if _raw(trusted) != _raw(private_key.public_key()):
        return f"checkpoint: the key given is not the trusted key {key_id!r}"
    purposes = sorted(trust.purposes_of(key_id))
    if "checkpoint" not in purposes:
        return (
            f"checkpoint: key {key_id!r} is not trusted for checkpoint signatures (it signs:"
            f" {', '.join(purposes) or 'nothing'}); list purpose checkpoint for it in the trust"
            " file"
        )
    return None


def sign_checkpoint(
    conn: sqlite3.Connection,
    *,
    private_key: Ed25519PrivateKey,
    key_id: str,
    trust: TrustStore | None,
    now_ns: int,
    drill: bool = False,
) -> dict[str, Any]:
    """Sign a checkpoint of the log as it stands (its last event and hash).

    Raises
    ------
    InvalidInputError
        The key may not sign checkpoints (:func:`checkpoint_key_problem`), the log is empty,
        or its chain does not verify (a checkpoint would anchor the tampering).
    """
    problem = checkpoint_key_problem(trust, check_key_id(key_id), private_key)
    if problem is not None:
        raise InvalidInputError(problem)
    chain = verify_chain(conn)
    if not chain.ok:
        raise InvalidInputError(
            "checkpoint: the audit chain does not verify, so it is not anchored: "
            + "; ".join(chain.problems[:3])
        )
    if chain.events == 0:
        raise InvalidInputError("checkpoint: the audit log is empty; there is nothing to anchor")
    first = conn.execute("SELECT hash FROM events WHERE seq = 1").fetchone()
    statement = checkpoint_statement(
        registry=str(first[0]),
        seq=chain.events,
        head_hash=chain.head_hash,
        time_ns=now_ns,
        drill=drill,
    )
    return sign_statement(statement, purpose="checkpoint", private_key=private_key, key_id=key_id)


def record_checkpoint(
    conn: sqlite3.Connection, envelope: Mapping[str, Any], *, actor: str, now_ns: int
) -> AuditEvent:
    """Append the ``checkpoint`` event that keeps ``envelope`` in the log (same transaction)."""
    opened = open_envelope(envelope, None, purpose="checkpoint")
    predicate = (opened.statement or {}).get("predicate") or {}
    signatures = envelope.get("signatures") or [{}]
    return append_event(
        conn,
        kind=CHECKPOINT_KIND,
        actor=actor,
        time_ns=now_ns,
        payload={
            "seq": predicate.get("seq"),
            "head_hash": predicate.get("head_hash"),
            "registry": predicate.get("registry"),
            "key_id": signatures[0].get("keyid"),
            "envelope": dict(envelope),
        },
    )


def write_checkpoint(session: Any, *, signing_key: Any, key_id: str, actor: str) -> Checkpoint:
    """Sign a checkpoint of the registry's log and record it (``canarykit audit checkpoint``).

    Parameters
    ----------
    session : Session
        The registry (a :class:`~canarykit.promotion.api.Promotion`).
    signing_key : Ed25519PrivateKey, str or Path
        The checkpoint key (its unencrypted PEM file, or the key).
    key_id : str
        Its id in the registry's trust file, which must list it for purpose ``checkpoint``.
    actor : str
        Who takes the checkpoint.

    Returns
    -------
    Checkpoint
        With the envelope to hand to an external store and the seq of the recording event.

    Raises
    ------
    GateDeniedError
        The key may not sign checkpoints or the chain does not verify (a ``gate_denied`` event
        records it).
    """
    from canarykit.promotion import facts as F
    from canarykit.promotion.drill import is_drill
    from canarykit.promotion.gates import GateDenial

    key_id = check_key_id(key_id)
    key = load_private_key(signing_key)

    def body(conn: sqlite3.Connection, now: int) -> Checkpoint:
        try:
            envelope = sign_checkpoint(
                conn,
                private_key=key,
                key_id=key_id,
                trust=F.load_trust(conn),
                now_ns=now,
                drill=is_drill(conn),
            )
        except InvalidInputError as err:
            raise GateDenial("audit checkpoint", [str(err)]) from None
        event = record_checkpoint(conn, envelope, actor=actor, now_ns=now)
        found = parse_checkpoint(envelope, recorded_seq=event.seq)
        assert found is not None  # we just signed it
        return found

    result: Checkpoint = session._run(action="audit checkpoint", actor=actor, body=body)
    return result


def parse_checkpoint(envelope: Any, *, recorded_seq: int | None = None) -> Checkpoint | None:
    """The checkpoint an envelope claims (unverified), or None if it is not one.

    Examples
    --------
    >>> parse_checkpoint({"payload": "", "signatures": []}) is None
    True
    """
    if not isinstance(envelope, Mapping):
        return None
    statement = open_envelope(envelope, None, purpose="checkpoint").statement or {}
    predicate = statement.get("predicate")
    if not isinstance(predicate, Mapping) or predicate.get("schema") != CHECKPOINT_SCHEMA:
        return None
    seq, head, registry = (
        predicate.get("seq"),
        predicate.get("head_hash"),
        predicate.get("registry"),
    )
    if not isinstance(seq, int) or not isinstance(head, str) or not isinstance(registry, str):
        return None
    try:
        time_ns = parse_instant(str(predicate.get("time")), field="time")
    except InvalidInputError:
        return None
    signatures = envelope.get("signatures")
    first = signatures[0] if isinstance(signatures, list) and signatures else {}
    return Checkpoint(
        registry=registry,
        seq=seq,
        head_hash=head,
        time_ns=time_ns,
        key_id=str(first.get("keyid")) if isinstance(first, Mapping) else "",
        envelope=dict(envelope),
        recorded_seq=recorded_seq,
    )


def _envelope_of(event: AuditEvent) -> Any:
    if event.kind == CHECKPOINT_KIND:
        return event.payload.get("envelope")
    if event.kind == "release":  # a release signed a checkpoint of the head it was made at
        embedded = event.payload.get("audit_checkpoint")
        signed = embedded.get("signed_checkpoint") if isinstance(embedded, Mapping) else None
        return signed.get("envelope") if isinstance(signed, Mapping) else None
    return None


def recorded_checkpoints(events: Iterable[AuditEvent]) -> list[Checkpoint]:
    """The checkpoints the log records (``checkpoint`` events, and those releases signed),
    oldest first; a checkpoint a release repeated is listed once."""
    found: dict[str, Checkpoint] = {}
    for event in events:
        parsed = parse_checkpoint(_envelope_of(event), recorded_seq=event.seq)
        if parsed is not None and parsed.digest not in found:
            found[parsed.digest] = parsed
    return list(found.values())


def latest_checkpoint(conn: sqlite3.Connection) -> Checkpoint | None:
    """The newest checkpoint recorded in the registry, or None."""
    rows = conn.execute(
        "SELECT seq FROM events WHERE kind IN (?, 'release') ORDER BY seq DESC", (CHECKPOINT_KIND,)
    ).fetchall()
    for (seq,) in rows:  # newest first; usually the first one answers
        event = get_event(conn, seq)
        parsed = None if event is None else parse_checkpoint(_envelope_of(event), recorded_seq=seq)
        if parsed is not None:
            return parsed
    return None


def release_checkpoint(
    conn: sqlite3.Connection,
    *,
    trust: TrustStore | None,
    private_key: Ed25519PrivateKey,
    key_id: str,
    now_ns: int,
) -> dict[str, Any] | None:
    """The signed checkpoint a release embeds (``audit_checkpoint.signed_checkpoint``).

    A checkpoint of the head the release is made at, signed with the release's key when the
    trust file lists that key for ``checkpoint`` too; otherwise the latest checkpoint recorded
    in the log (older than the head); None when there is none.
    """
    from canarykit.promotion.drill import is_drill

    if checkpoint_key_problem(trust, key_id, private_key) is None:
        try:
            envelope = sign_checkpoint(
                conn,
                private_key=private_key,
                key_id=key_id,
                trust=trust,
                now_ns=now_ns,
                drill=is_drill(conn),
            )
        except InvalidInputError:
            envelope = None
        parsed = None if envelope is None else parse_checkpoint(envelope)
        if parsed is not None:
            return parsed.to_dict()
    latest = latest_checkpoint(conn)
    return None if latest is None else latest.to_dict()


def recomputed_hashes(events: Sequence[AuditEvent]) -> dict[int, str]:
    """Each event's hash recomputed from the genesis hash, by stored sequence number.

    Every event is hashed from its own fields with ``prev_hash`` replaced by the recomputed
    hash of the event before it, so the value at ``seq`` depends on every event up to it and on
    nothing the rows claim about their hashes (one pass, linear).
    """
    out: dict[int, str] = {}
    prev = GENESIS_HASH
    for event in events:
        body = {**event.body(), "prev_hash": prev}
        prev = "sha256:" + hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()
        out.setdefault(event.seq, prev)
    return out


def verify_checkpoints(
    events: Sequence[AuditEvent],
    envelopes: Sequence[Any],
    trust: TrustStore | None,
    *,
    sources: Sequence[str] | None = None,
    require_signature: bool = True,
) -> list[CheckpointCheck]:
    """Verify checkpoints against a log (its events in sequence order; linear in the events).

    Parameters
    ----------
    events : sequence of AuditEvent
        The log: from the registry (:func:`~canarykit.promotion.audit.list_events`) or from an
        ``audit export`` file.
    envelopes : sequence
        The checkpoint envelopes.
    trust : TrustStore or None
        The keys trusted for purpose ``checkpoint``. Give a trust file held outside the
        registry: whoever can rewrite the registry can rewrite its trust file too.
    sources : sequence of str, optional
        How to name each checkpoint in problems (default ``checkpoint[i]``).
    require_signature : bool, default True
        False for checkpoints recorded in the log itself: a key later removed from the trust
        file is noted, not failed (a signature that does not verify with a trusted key fails).
    """
    recomputed = recomputed_hashes(events)
    stored = {e.seq: e.hash for e in events}
    first = events[0].hash if events else None
    checks = []
    for index, envelope in enumerate(envelopes):
        source = sources[index] if sources is not None else f"checkpoint[{index}]"
        checks.append(
            _check_one(
                envelope,
                trust,
                source=source,
                recomputed=recomputed,
                stored=stored,
                first=first,
                last_seq=events[-1].seq if events else 0,
                require_signature=require_signature,
            )
        )
    return checks


def _check_one(
    envelope: Any,
    trust: TrustStore | None,
    *,
    source: str,
    recomputed: Mapping[int, str],
    stored: Mapping[int, str],
    first: str | None,
    last_seq: int,
    require_signature: bool,
) -> CheckpointCheck:
    claimed = parse_checkpoint(envelope)
    if claimed is None:
        return CheckpointCheck(
            source=source,
            ok=False,
            problems=(f"{source}: not a canarykit audit checkpoint ({CHECKPOINT_SCHEMA})",),
        )
    problems: list[str] = []
    notes: list[str] = []
    opened = open_envelope(envelope, trust, purpose="checkpoint")
    if not opened.verified:
        untrusted = trust is None or all(
            "is not in the trust file" in p or "no trust file" in p for p in opened.problems
        )
        text = f"{source}: signature: " + "; ".join(opened.problems[:2])
        (notes if untrusted and not require_signature else problems).append(text)
    seq, head = claimed.seq, claimed.head_hash
    at = f"{source} (event {seq}, {head[:19]}…)"
    if first is not None and claimed.registry != first:
        problems.append(
            f"{at}: anchors registry {claimed.registry[:19]}…, but this log starts with"
            f" {first[:19]}… (another registry, or its first events were rewritten or deleted)"
        )
    if seq not in stored:
        problems.append(
            f"{at}: the log ends at event {last_seq}; events up to the checkpoint were deleted"
            " (truncated)"
        )
    elif stored[seq] != head:
        problems.append(
            f"{at}: event {seq} now carries {stored[seq][:19]}…; the log was rewritten at or"
            " before the checkpoint"
        )
    elif recomputed.get(seq) != head:
        problems.append(
            f"{at}: the chain recomputed from genesis reaches {str(recomputed.get(seq))[:19]}…"
            " at that event; an event at or before it was forged and the hashes after it"
            " recomputed"
        )
    return CheckpointCheck(
        source=source,
        ok=not problems,
        seq=seq,
        head_hash=head,
        key_ids=opened.key_ids,
        problems=tuple(problems),
        notes=tuple(notes),
    )
