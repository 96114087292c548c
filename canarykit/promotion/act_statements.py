"""What a person signs for a governance act: the statement, its DSSE envelope and the signers.

:func:`act_statement` builds the canonical statement of one act (the fields each action carries
are :data:`ACTIONS`), :func:`describe_act` names it in one line, and :func:`sign_act` signs it
with an Ed25519 key as a DSSE envelope. A *signer* (:class:`ActSigner`) is anything that turns a
statement into its envelope: a key held in this process (:class:`KeySigner`), an envelope signed
elsewhere (:class:`PresentedAct`) or a hardware token; :func:`act_signer` picks one for a
``key=`` argument. How the registry checks an act is in :mod:`~canarykit.promotion.act_checks`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from canarykit.errors import InvalidInputError
from canarykit.promotion.audit import canonical_json
from canarykit.promotion.clock import format_instant
from canarykit.promotion.evidence import dsse_pae, load_private_key
from canarykit.promotion.roster import key_fingerprint, person_key

__all__ = [
    "ACTIONS",
    "ACT_PAYLOAD_TYPE",
    "ACT_SCHEMA",
    "KEY_ENV",
    "ActSigner",
    "KeySigner",
    "PresentedAct",
    "act_signer",
    "act_statement",
    "describe_act",
    "sign_act",
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
