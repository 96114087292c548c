"""Whether an act recorded earlier still counts: its signer, role and key under today's roster.

At a gate, an approval counts only while it still stands (:func:`act_standing`): its signer is
still on the roster with the role, and the key that signed it is still theirs.
:func:`latest_act` finds the act record of the latest matching audit event, and
:func:`standing_waivers` keeps the waivers whose grant still stands.
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from canarykit.promotion.act_checks import drill_registry, registry_identity
from canarykit.promotion.act_statements import ACT_PAYLOAD_TYPE
from canarykit.promotion.audit import AuditEvent, canonical_json, list_events
from canarykit.promotion.clock import format_instant
from canarykit.promotion.evidence import dsse_pae
from canarykit.promotion.roster import Roster, key_fingerprint, person_key

__all__ = ["act_standing", "latest_act", "standing_waivers"]


def act_standing(
    record: Mapping[str, Any] | None,
    roster: Roster | None,
    *,
    actor: str,
    role: str,
    drill: bool,
    expect: Mapping[str, Any] | None = None,
) -> str | None:
    """Why an act recorded earlier no longer counts under ``roster`` (None: it counts).

    An act stands while its signer is on the roster with ``role``, the act recorded is this
    one (its statement names ``actor`` and carries every ``expect`` value: the action, the
    registry, the model, version, stage, ...), the key that signed it is still one of theirs
    and the signature recorded verifies over the statement — an act copied from another
    approval, or a record whose statement was edited, does not count. An unsigned act stands
    only in a drill registry.

    Examples
    --------
    >>> roster = Roster.from_dict({"people": {"sam": ["security"]}})
    >>> act_standing({"signed": False}, roster, actor="sam", role="security", drill=True) is None
    True
    >>> act_standing(None, roster, actor="sue", role="security", drill=True)
    'sue is no longer on the roster'
    >>> act_standing({"signed": False, "statement": {"actor": "sam", "version": "v1"}}, roster,
    ...              actor="sam", role="security", drill=True, expect={"version": "v2"})
    "the act recorded for sam is another act (version: 'v1', not 'v2')"
    """
    person = person_key(actor)
    if roster is None or not roster.member(person):
        return f"{person} is no longer on the roster"
    if role not in roster.roles_of(person):
        return f"{person} no longer holds the {role} role"
    if record is None:
        return f"no audit event records {person}'s act"
    signed = record.get("signed") is True
    statement = record.get("statement")
    if signed or expect is not None:
        if not isinstance(statement, Mapping):
            return f"the audit event of {person}'s act holds no signed statement"
        for name, value in {"actor": person, **(expect or {})}.items():
            if statement.get(name) != value:
                shown = (str(statement.get(name))[:72], str(value)[:72])
                return (
                    f"the act recorded for {person} is another act ({name}: {shown[0]!r}, not"
                    f" {shown[1]!r})"
                )
    if not signed:
        return None if drill else f"{person}'s act is not signed"
    assert isinstance(statement, Mapping)
    keyid = record.get("keyid")
    public = next((k for k in roster.keys_of(person) if key_fingerprint(k) == keyid), None)
    if public is None:
        return f"the key that signed it is no longer {person}'s on the roster"
    try:
        payload_text = record.get("payload")
        payload = (
            base64.b64decode(str(payload_text), validate=True)
            if payload_text is not None
            else canonical_json(dict(statement)).encode("utf-8")
        )
        if json.loads(payload.decode("utf-8")) != dict(statement):
            return f"the statement recorded for {person}'s act is not the one signed"
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public)).verify(
            base64.b64decode(str(record.get("sig")), validate=True),
            dsse_pae(ACT_PAYLOAD_TYPE, payload),
        )
    except (InvalidSignature, binascii.Error, ValueError):
        return f"the signature recorded for {person}'s act does not verify"
    return None


def latest_act(events: Sequence[AuditEvent], **match: Any) -> Mapping[str, Any] | None:
    """The act record (``payload.act``) of the latest of ``events`` whose payload has every
    ``match`` value; ``{"signed": False}`` for such an event without one; None when none does.

    Examples
    --------
    >>> e = AuditEvent(seq=1, time_ns=0, kind="approval", actor="sam", payload={"role": "security",
    ...                "act": {"signed": True, "keyid": "k"}}, prev_hash="", hash="")
    >>> latest_act([e], role="security"), latest_act([e], role="product")
    ({'signed': True, 'keyid': 'k'}, None)
    """
    for event in reversed(events):
        if all(event.payload.get(name) == value for name, value in match.items()):
            act = event.payload.get("act")
            return dict(act) if isinstance(act, Mapping) else {"signed": False}
    return None


W = TypeVar("W")
_WAIVER_ROLES = ("security", "executive")


def standing_waivers(
    conn: sqlite3.Connection, waivers: Sequence[W], roster: Roster | None
) -> list[W]:
    """The ``waivers`` whose grant still stands (the others stop lifting their check).

    A waiver is an act of its grantor (``created_by``): it stands while its ``waiver`` event
    holds the act, the grantor is still on the roster with the security or executive role and
    the key that signed it is still theirs (:func:`act_standing`).
    """
    if not waivers:
        return []
    drill = drill_registry(conn)
    registry = registry_identity(conn)
    models = sorted({str(getattr(w, "model", "")) for w in waivers})
    events = [e for m in models for e in list_events(conn, model=m, kind="waiver")]
    out = []
    for waiver in waivers:
        grantor = str(getattr(waiver, "created_by", ""))
        act = latest_act(events, waiver_id=getattr(waiver, "waiver_id", None), created_by=grantor)
        expires = getattr(waiver, "expires_ns", None)
        expect = {
            "action": "waive",
            "registry": registry,
            "waiver_id": getattr(waiver, "waiver_id", None),
            "model": getattr(waiver, "model", None),
            "version": getattr(waiver, "version", None),
            "check": getattr(waiver, "check", None),
            "expires": None if expires is None else format_instant(int(expires)),
        }
        if any(
            act_standing(act, roster, actor=grantor, role=role, drill=drill, expect=expect) is None
            for role in _WAIVER_ROLES
        ):
            out.append(waiver)
    return out
