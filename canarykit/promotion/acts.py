"""Signed governance acts: what a person signs, how the registry checks it, whether it still counts.

``--actor`` is a claim; a signature makes it an act (DESIGN.md §10, "person X approves in role
R"). Every act of a person — submit, approve (a stage, a verdict, a VEX statement), waive,
revoke, change create and approve, configuration bootstrap, proposal and approval — is a
canonical JSON *statement* signed with one of the actor's Ed25519 keys on the roster::

    {"_type": "canarykit.act/1", "action": "approve", "actor": "sam",
     "registry": "sha256:<hash of the audit chain's first event>", "time": "2026-11-25T10:00:00+00:00",
     "model": "risk-default", "version": "v1", "stage": "Approved", "role": "security",
     "verdict_digest": "sha256:…", "note": ""}

The fields after ``time`` depend on the action (:data:`ACTIONS`); ``registry`` names the
registry (the hash of the first event of its audit chain, or the all-zero genesis hash for a
registry without events) and ``time`` is the registry's time of the act, so a signature covers
one act in one registry at one moment and nothing else. The statement is signed as a DSSE
envelope (payload type :data:`ACT_PAYLOAD_TYPE`, the canonical JSON text as payload, the key's
:func:`~canarykit.promotion.roster.key_fingerprint` as ``keyid``).

The registry builds the statement itself, inside the action's transaction, hands it to the
actor's *signer* (a private key, or any object with ``sign_act(statement) -> envelope``, e.g. a
hardware token) and verifies the envelope against the roster in force at that moment
(:func:`check_act`). A missing, foreign, removed or non-verifying signature, or one over another
statement, is a denial. The audit event of the act keeps the statement and the signature
(``payload.act``), so anyone can re-check it offline. Only a drill registry
(:func:`drill_registry`) accepts an unsigned act, and only from a person the roster lists
without keys (the old list form).

At a gate, an approval counts only while it still stands (:func:`act_standing`): its signer is
still on the roster with the role, and the key that signed it is still theirs.

Examples
--------
>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> from canarykit.promotion.evidence import public_key_text
>>> from canarykit.promotion.roster import Roster
>>> sam, pat = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
>>> roster = Roster.from_dict({"people": {
...     "sam": {"roles": ["security"], "keys": [public_key_text(sam)]},
...     "pat": {"roles": ["product"], "keys": [public_key_text(pat)]}}})
>>> statement = act_statement("revoke", actor="sam", registry="sha256:" + "0" * 64, time_ns=0,
...                           model="m", version="v1", reason="leak", chg_id=None)
>>> check_act(statement, sign_act(statement, sam), roster, drill=False).ok
True
>>> check_act(statement, sign_act(statement, pat), roster, drill=False).problems
("signature: revoke m v1 by sam is signed with pat's key, not sam's (each person signs with their own key)",)
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from canarykit.errors import InvalidInputError
from canarykit.promotion.audit import GENESIS_HASH, AuditEvent, canonical_json, list_events
from canarykit.promotion.clock import format_instant
from canarykit.promotion.drill import is_drill
from canarykit.promotion.evidence import dsse_pae, load_private_key
from canarykit.promotion.gates import GateDenial
from canarykit.promotion.roster import Roster, key_fingerprint, person_key

__all__ = [
    "ACTIONS",
    "ACT_PAYLOAD_TYPE",
    "ACT_SCHEMA",
    "KEY_ENV",
    "ActCheck",
    "ActSigner",
    "KeySigner",
    "PresentedAct",
    "act_signer",
    "act_standing",
    "act_statement",
    "authorize",
    "check_act",
    "describe_act",
    "drill_registry",
    "latest_act",
    "registry_identity",
    "sign_act",
    "standing_waivers",
]

ACT_SCHEMA = "canarykit.act/1"
ACT_PAYLOAD_TYPE = "application/vnd.canarykit.act.v1+json"
KEY_ENV = "CANARYKIT_KEY"
"""The environment variable the CLI reads the actor's private key file from (``--key`` wins)."""

ACTIONS: Mapping[str, tuple[str, ...]] = {
    "submit": ("model", "version", "artifact_digest"),
    "approve": ("model", "version", "stage", "role", "verdict_digest", "note"),
    "approve_vex": ("model", "version", "vulnerability", "sbom_digest", "statements", "note"),
    "waive": ("waiver_id", "model", "version", "check", "reason", "owner", "expires"),
    "revoke": ("model", "version", "reason", "chg_id"),
    "change_create": ("chg_id", "ticket_digest"),
    "change_approve": ("chg_id", "role", "ticket_digest"),
    "config_bootstrap": ("documents",),
    "config_propose": ("key", "digest", "base_digest"),
    "config_approve": ("proposal", "key", "digest"),
}
"""The fields each action's statement carries besides ``_type, action, actor, registry, time``."""

_SUBJECT = ("model", "version", "chg_id", "waiver_id", "proposal", "key")


def act_statement(
    action: str, *, actor: str, registry: str, time_ns: int, **fields: Any
) -> dict[str, Any]:
    """The statement a person signs for one act (JSON values only).

    Raises
    ------
    InvalidInputError
        ``action`` is not one of :data:`ACTIONS`, or ``fields`` are not exactly its fields.

    Examples
    --------
    >>> act_statement("change_approve", actor="otto", registry="sha256:" + "0" * 64,
    ...               time_ns=0, chg_id="CHG-1", role="operations", ticket_digest="sha256:1")
    ... # doctest: +NORMALIZE_WHITESPACE
    {'_type': 'canarykit.act/1', 'action': 'change_approve', 'actor': 'otto', 'chg_id': 'CHG-1',
     'registry': 'sha256:0000000000000000000000000000000000000000000000000000000000000000',
     'role': 'operations', 'ticket_digest': 'sha256:1', 'time': '1970-01-01T00:00:00+00:00'}
    """
    wanted = ACTIONS.get(action)
    if wanted is None:
        raise InvalidInputError(f"action: {action!r} is not one of {', '.join(ACTIONS)}")
    if set(fields) != set(wanted):
        raise InvalidInputError(f"act {action}: fields must be {', '.join(wanted)}")
    statement = {
        "_type": ACT_SCHEMA,
        "action": action,
        "actor": person_key(actor),
        "registry": registry,
        "time": format_instant(time_ns),
    }
    statement.update({name: fields[name] for name in wanted})
    return dict(json.loads(canonical_json(statement)))  # plain JSON values, keys sorted


def describe_act(statement: Mapping[str, Any]) -> str:
    """A short human description: ``"approve risk-default v1 by sam"``.

    Examples
    --------
    >>> describe_act({"action": "config_approve", "actor": "sue", "proposal": "CFG-2",
    ...               "key": "roster"})
    'config_approve CFG-2 roster by sue'
    """
    subject = [str(statement[k]) for k in _SUBJECT if statement.get(k) is not None]
    return " ".join([str(statement.get("action")), *subject, "by", str(statement.get("actor"))])


def sign_act(statement: Mapping[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """A DSSE envelope over ``statement`` (canonical JSON) signed by ``private_key``."""
    payload = canonical_json(dict(statement)).encode("utf-8")
    raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    keyid = key_fingerprint(base64.b64encode(raw).decode("ascii"))
    sig = private_key.sign(dsse_pae(ACT_PAYLOAD_TYPE, payload))
    return {
        "payloadType": ACT_PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [{"keyid": keyid, "sig": base64.b64encode(sig).decode("ascii")}],
    }


@runtime_checkable
class ActSigner(Protocol):
    """Anything that signs an act statement: returns its DSSE envelope (:func:`sign_act`)."""

    def sign_act(self, statement: Mapping[str, Any]) -> Mapping[str, Any]:
        """Sign ``statement``; return the envelope."""
        ...


@dataclass(frozen=True, slots=True)
class KeySigner:
    """Signs acts with an Ed25519 private key held in this process."""

    private_key: Ed25519PrivateKey

    def sign_act(self, statement: Mapping[str, Any]) -> Mapping[str, Any]:
        """Sign ``statement`` (:func:`sign_act`)."""
        return sign_act(statement, self.private_key)


@dataclass(frozen=True, slots=True)
class PresentedAct:
    """An envelope signed elsewhere, presented as it is (whatever the statement asked for)."""

    envelope: Mapping[str, Any]

    def sign_act(self, statement: Mapping[str, Any]) -> Mapping[str, Any]:
        """Return the presented envelope; the registry checks it covers ``statement``."""
        return self.envelope


def act_signer(key: Any) -> ActSigner | None:
    """The signer for a ``key=`` argument: None (unsigned), an Ed25519 private key, the path of
    its unencrypted PEM file, an :class:`ActSigner`, or a signed envelope (a mapping).

    Raises
    ------
    InvalidInputError
        A path that is not a usable private key (one line naming the file and why).
    """
    if key is None:
        return None
    if isinstance(key, ActSigner):
        return key
    if isinstance(key, Mapping):
        return PresentedAct(key)
    if isinstance(key, (Ed25519PrivateKey, str, Path)):
        return KeySigner(load_private_key(key))
    raise InvalidInputError(
        f"key: {type(key).__name__} is not a signing key (an Ed25519 private key, its PEM file,"
        " or a signer)"
    )


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
