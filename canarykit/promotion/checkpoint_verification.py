"""Verifying signed checkpoints against an audit log (an event list, from a registry or export).

:func:`verify_checkpoints` checks each checkpoint's signature, registry and head against the
chain :func:`recomputed_hashes` recomputes from the genesis hash, and reports a
:class:`CheckpointCheck` for each.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from canarykit.promotion.audit import GENESIS_HASH, AuditEvent, canonical_json
from canarykit.promotion.checkpoint_format import CHECKPOINT_SCHEMA, parse_checkpoint
from canarykit.promotion.evidence import TrustStore, open_envelope

__all__ = ["CheckpointCheck", "recomputed_hashes", "verify_checkpoints"]


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
