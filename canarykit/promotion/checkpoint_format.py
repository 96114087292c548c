"""What a signed audit checkpoint is: the statement it signs and the checkpoint it claims.

:func:`checkpoint_statement` builds the in-toto Statement a checkpoint signs (see
:mod:`~canarykit.promotion.checkpoints` for its fields and what it anchors), and
:func:`parse_checkpoint` reads the :class:`Checkpoint` an envelope claims, unverified.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion.audit import canonical_json
from canarykit.promotion.clock import format_instant, parse_instant
from canarykit.promotion.evidence import digest_bytes, intoto_statement, open_envelope

__all__ = [
    "CHECKPOINT_KIND",
    "CHECKPOINT_PREDICATE",
    "CHECKPOINT_SCHEMA",
    "Checkpoint",
    "checkpoint_statement",
    "parse_checkpoint",
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
