"""Checkpoints in the registry's log: signing one of the log as it stands, recording it as an
audit event, and finding the checkpoints the log records.

:func:`sign_checkpoint` signs a checkpoint with a key the trust file lists for purpose
``checkpoint`` (:func:`checkpoint_key_problem`), :func:`record_checkpoint` keeps it in the log
and :func:`write_checkpoint` does both for ``canarykit audit checkpoint``.
:func:`recorded_checkpoints` and :func:`latest_checkpoint` find those recorded, and
:func:`release_checkpoint` is the checkpoint a release embeds.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from canarykit.errors import InvalidInputError
from canarykit.promotion.audit import AuditEvent, append_event, get_event, verify_chain
from canarykit.promotion.checkpoint_format import (
    CHECKPOINT_KIND,
    Checkpoint,
    checkpoint_statement,
    parse_checkpoint,
)
from canarykit.promotion.evidence import (
    TrustStore,
    check_key_id,
    load_private_key,
    open_envelope,
    sign_statement,
)

__all__ = [
    "checkpoint_key_problem",
    "latest_checkpoint",
    "record_checkpoint",
    "recorded_checkpoints",
    "release_checkpoint",
    "sign_checkpoint",
    "write_checkpoint",
]


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
