"""How the registry checks a signed act when it happens, and authorizes the action on it.

:func:`check_act` checks that an envelope signs exactly the act's statement with a key the
roster in force lists for its actor (:class:`ActCheck` says whether, and what the audit event
records); :func:`authorize` builds, signs and checks an act inside the action's transaction and
raises :class:`~canarykit.promotion.gates.GateDenial` on any problem. :func:`registry_identity`
and :func:`drill_registry` are the two facts of the registry an act depends on.
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from canarykit.promotion.act_statements import (
    ACT_PAYLOAD_TYPE,
    ActSigner,
    act_statement,
    describe_act,
)
from canarykit.promotion.audit import GENESIS_HASH
from canarykit.promotion.drill import is_drill
from canarykit.promotion.evidence import dsse_pae
from canarykit.promotion.gates import GateDenial
from canarykit.promotion.roster import Roster, key_fingerprint

__all__ = ["ActCheck", "authorize", "check_act", "drill_registry", "registry_identity"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ActCheck:
    """Whether an act may proceed, and what its audit event records about the signature."""

    ok: bool
    signed: bool
    keyid: str | None = None
    problems: tuple[str, ...] = ()
    record: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "ok": self.ok,
            "signed": self.signed,
            "keyid": self.keyid,
            "problems": list(self.problems),
        }


def _deny(*problems: str) -> ActCheck:
    return ActCheck(ok=False, signed=False, problems=tuple(problems))


def _open(envelope: Any) -> tuple[Any, bytes, Mapping[str, Any] | None, str | None]:
    """(statement, payload, the one signature entry, problem) of an act envelope."""
    if not isinstance(envelope, Mapping):
        return None, b"", None, "signature: not a signed act (a DSSE envelope object)"
    if envelope.get("payloadType") != ACT_PAYLOAD_TYPE:
        shown = str(envelope.get("payloadType"))[:60]
        return None, b"", None, f"signature: payloadType {shown!r} is not a canarykit act"
    try:
        payload = base64.b64decode(str(envelope.get("payload", "")), validate=True)
        statement = json.loads(payload.decode("utf-8"))
    except (binascii.Error, ValueError):
        return None, b"", None, "signature: the payload is not base64-encoded JSON"
    signatures = envelope.get("signatures")
    if (
        not isinstance(signatures, list)
        or len(signatures) != 1
        or not isinstance(signatures[0], Mapping)
    ):
        return None, b"", None, "signature: an act carries exactly one signature"
    return statement, payload, signatures[0], None


def _differences(signed: Any, expected: Mapping[str, Any]) -> list[str]:
    if not isinstance(signed, Mapping):
        return ["the signed payload is not a statement"]
    out = []
    for name in sorted(set(signed) | set(expected)):
        if signed.get(name) != expected.get(name):
            shown = (str(signed.get(name))[:72], str(expected.get(name))[:72])
            out.append(f"{name}: signed {shown[0]!r}, this act {shown[1]!r}")
    return out


def check_act(
    statement: Mapping[str, Any],
    envelope: Mapping[str, Any] | None,
    roster: Roster | None,
    *,
    drill: bool,
) -> ActCheck:
    """Check ``envelope`` signs exactly ``statement`` with a key the roster lists for its actor.

    Parameters
    ----------
    statement : mapping
        The act as the registry built it (:func:`act_statement`).
    envelope : mapping or None
        What the actor's signer returned; None when the act is unsigned.
    roster : Roster or None
        The roster in force at the time of the act.
    drill : bool
        Whether the registry is a drill registry (which accepts unsigned acts of people the
        roster lists without keys).

    Returns
    -------
    ActCheck
        ``ok`` with the record for the audit event, or the problems (each one line, starting
        ``roster:`` or ``signature:``).
    """
    actor = str(statement.get("actor"))
    what = describe_act(statement)
    if roster is None:
        return _deny("roster: no roster configured (canarykit config bootstrap --roster FILE)")
    if not roster.member(actor):
        return _deny(
            f"roster: {actor} is not on the roster (people act only under a name the roster"
            " lists, signing with their own key)"
        )
    keys = roster.keys_of(actor)
    if envelope is None:
        if not keys and drill:
            return ActCheck(
                ok=True, signed=False, record={"signed": False, "statement": dict(statement)}
            )
        if not keys:
            return _deny(
                f"signature: {actor} has no key on the roster (the old list form), and only a"
                f" drill registry accepts unsigned acts: list {actor}'s Ed25519 public key under"
                " keys (canarykit keygen)"
            )
        return _deny(
            f"signature: {what} is not signed; sign it with {actor}'s key"
            " (--key FILE or $CANARYKIT_KEY; Python: key=)"
        )
    signed, payload, entry, problem = _open(envelope)
    if problem is not None or entry is None:
        return _deny(problem or "signature: not a signed act")
    differences = _differences(signed, statement)
    if differences:
        return _deny(
            f"signature: the signed act is not this act ({what}); a signature covers one act,"
            " in one registry, at one time: " + "; ".join(differences[:4])
        )
    keyid = str(entry.get("keyid"))
    by_id = {key_fingerprint(k): k for k in keys}
    public = by_id.get(keyid)
    if public is None:
        owner = next(
            (p for p in roster.people for k in roster.keys_of(p) if key_fingerprint(k) == keyid),
            None,
        )
        if owner is not None:
            return _deny(
                f"signature: {what} is signed with {owner}'s key, not {actor}'s (each person"
                " signs with their own key)"
            )
        return _deny(
            f"signature: {what} is signed by key {keyid[:19]}…, which the roster does not list"
            f" for {actor} (an unknown or removed key)"
        )
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public)).verify(
            base64.b64decode(str(entry.get("sig")), validate=True),
            dsse_pae(ACT_PAYLOAD_TYPE, payload),
        )
    except (InvalidSignature, binascii.Error, ValueError):
        return _deny(f"signature: the signature over {what} does not verify with {actor}'s key")
    record = {
        "signed": True,
        "statement": dict(statement),
        "keyid": keyid,
        "sig": str(entry.get("sig")),
        "payload": str(envelope.get("payload")),
    }
    return ActCheck(ok=True, signed=True, keyid=keyid, record=record)


def registry_identity(conn: sqlite3.Connection) -> str:
    """The registry's identity in act statements: the hash of its audit chain's first event
    (the all-zero genesis hash while it has none)."""
    row = conn.execute("SELECT hash FROM events WHERE seq = 1").fetchone()
    return GENESIS_HASH if row is None else str(row[0])


def drill_registry(conn: sqlite3.Connection) -> bool:
    """Whether the registry was created as a drill registry (DESIGN.md §10): its first audit
    event says so (:func:`~canarykit.promotion.drill.is_drill`). Only there are unsigned acts
    of people the roster lists without keys accepted."""
    return is_drill(conn)


def authorize(
    conn: sqlite3.Connection,
    *,
    action: str,
    kind: str,
    actor: str,
    now_ns: int,
    signer: ActSigner | None,
    roster: Roster | None,
    problems: Sequence[str] = (),
    **fields: Any,
) -> dict[str, Any]:
    """Build the act's statement, have ``signer`` sign it and check it; the audit record.

    Call inside the action's transaction (``now_ns`` is its time, ``roster`` the roster in
    force). ``problems`` found by the caller are reported together with the signature's.

    Raises
    ------
    GateDenial
        Any problem: the signature's (:func:`check_act`) or the caller's.
    """
    statement = act_statement(
        kind, actor=actor, registry=registry_identity(conn), time_ns=now_ns, **fields
    )
    envelope = None if signer is None else signer.sign_act(statement)
    check = check_act(statement, envelope, roster, drill=drill_registry(conn))
    reasons = [*problems, *(p for p in check.problems if p not in problems)]
    if reasons or check.record is None:
        raise GateDenial(action, reasons or ["signature: not accepted"])
    return dict(check.record)
