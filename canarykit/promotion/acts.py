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

The statement and its signers live in :mod:`~canarykit.promotion.act_statements`, the check at
the time of the act in :mod:`~canarykit.promotion.act_checks`, and whether an act still stands
in :mod:`~canarykit.promotion.standing_acts`; this module gathers their names.

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

from canarykit.promotion.act_checks import (
    ActCheck,
    authorize,
    check_act,
    drill_registry,
    registry_identity,
)
from canarykit.promotion.act_statements import (
    ACT_PAYLOAD_TYPE,
    ACT_SCHEMA,
    ACTIONS,
    KEY_ENV,
    ActSigner,
    KeySigner,
    PresentedAct,
    act_signer,
    act_statement,
    describe_act,
    sign_act,
)
from canarykit.promotion.standing_acts import act_standing, latest_act, standing_waivers

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
