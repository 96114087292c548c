"""Sanctioned policies: canary policy snapshots signed for purpose ``policy`` and bound per version.

A policy decides verdicts, so whoever picks the policy picks the verdict. Staging therefore binds
only a policy *sanctioned* by a key the trust file lists for purpose ``policy``
(``canarykit policy sign DIR``), and only when the signed snapshot is exactly the folder's: every
policy file (``*.yaml``, ``*.yml``, ``*.rego``) with the sha256 that was signed, no file more and
none missing. The bound snapshot — its files, name, digest and envelope — is stored in the
registry (table ``bound_policies``), so the Approved gate re-derives decisions, and a release
ships the policy, from the exact bytes that were sanctioned rather than from a folder anyone
can edit later.

The signature is a DSSE envelope (payload type :data:`~canarykit.promotion.evidence.PAYLOAD_TYPES`
``["policy"]``) over an in-toto Statement v1::

    {"_type": "https://in-toto.io/Statement/v1",
     "subject": [{"name": "<NAME>", "digest": {"sha256": "<snapshot digest hex>"}}],
     "predicateType": "https://canarykit.dev/policy-snapshot/v1",
     "predicate": {"name": "<NAME>", "digest": "sha256:<snapshot digest hex>",
                   "files": [{"name": "canary.yaml", "sha256": "<hex>"}, ...]}}

The snapshot digest is :func:`canarykit.verdict.snapshot.snapshot_digest` of the folder's policy
files — the digest every verdict evaluated under that folder carries. Without ``--out`` the
envelope is written into the folder as :data:`POLICY_SIGNATURE_FILE` (``policy.dsse.json``, not a
policy file, so not part of the snapshot), where ``promote --to Staging --policy DIR`` looks for
it when no ``--policy-signature`` is given.

Signing lives in :mod:`~canarykit.promotion.policy_signing`, checking a signature against a
snapshot in :mod:`~canarykit.promotion.policy_signature_checks`, and the registry's record of
the bound snapshot in :mod:`~canarykit.promotion.bound_policy_store`; this module gathers their
names.

Examples
--------
>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> from canarykit.promotion.evidence import TrustStore, public_key_text
>>> from canarykit.verdict.policy import load_policy
>>> files = load_policy().files                      # the shipped policy's snapshot
>>> key = Ed25519PrivateKey.generate()
>>> envelope = sign_policy_files(files, key, "policy-key", name="shipped")
>>> trust = TrustStore.from_dict({"keys": [{"id": "policy-key", "public_key": public_key_text(key),
...                                          "purposes": ["policy"]}]})
>>> check = check_policy_signature(files, envelope, trust)
>>> check.verified, check.name, check.digest == load_policy().digest
(True, 'shipped', True)
>>> extra = {**files, "loose.rego": b"package canarykit.decision\\n"}
>>> check_policy_signature(extra, envelope, trust).problems[0][:71]
'the signed snapshot differs from the folder: extra file loose.rego (not'
"""

from __future__ import annotations

from canarykit.promotion.bound_policy_store import (
    BoundPolicy,
    bound_policies,
    bound_policy,
    bound_policy_facts,
    store_bound_policy,
)
from canarykit.promotion.policy_signature_checks import (
    PolicySignatureCheck,
    check_policy_signature,
)
from canarykit.promotion.policy_signing import (
    POLICY_PREDICATE_TYPE,
    POLICY_SIGNATURE_FILE,
    default_signature_path,
    policy_statement,
    sign_policy,
    sign_policy_files,
    snapshot_problems,
)
from canarykit.promotion.policy_signing import (
    check_policy_name as check_policy_name,  # public, outside __all__ as before
)

__all__ = [
    "POLICY_PREDICATE_TYPE",
    "POLICY_SIGNATURE_FILE",
    "BoundPolicy",
    "PolicySignatureCheck",
    "bound_policies",
    "bound_policy",
    "bound_policy_facts",
    "check_policy_signature",
    "default_signature_path",
    "policy_statement",
    "sign_policy",
    "sign_policy_files",
    "snapshot_problems",
    "store_bound_policy",
]
