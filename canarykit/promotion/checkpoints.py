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

What a checkpoint is lives in :mod:`~canarykit.promotion.checkpoint_format`, signing, recording
and finding them in the registry's log in :mod:`~canarykit.promotion.checkpoint_log`, and
verifying them against a log in :mod:`~canarykit.promotion.checkpoint_verification`; this module
gathers their names.

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

from canarykit.promotion.checkpoint_format import (
    CHECKPOINT_KIND,
    CHECKPOINT_PREDICATE,
    CHECKPOINT_SCHEMA,
    Checkpoint,
    checkpoint_statement,
    parse_checkpoint,
)
from canarykit.promotion.checkpoint_log import (
    checkpoint_key_problem,
    latest_checkpoint,
    record_checkpoint,
    recorded_checkpoints,
    release_checkpoint,
    sign_checkpoint,
    write_checkpoint,
)
from canarykit.promotion.checkpoint_verification import (
    CheckpointCheck,
    recomputed_hashes,
    verify_checkpoints,
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
