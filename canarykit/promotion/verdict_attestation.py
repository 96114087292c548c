"""Signed verdicts: a canary verdict as a DSSE-signed in-toto Statement (purpose ``verdict``).

A verdict file is just JSON: anyone can write ``"decision": "PROCEED"``. The promotion gates
therefore take a verdict only inside a DSSE envelope signed by a key the trust file lists for
purpose ``verdict`` (``canarykit attest`` or ``canarykit evaluate --sign-key``), whose subject
is the version being promoted. The envelope's payload type is
:data:`~canarykit.promotion.evidence.PAYLOAD_TYPES` ``["verdict"]``; its payload::

    {"_type": "https://in-toto.io/Statement/v1",
     "subject": [{"name": "<model>@<candidate>",
                  "digest": {"sha256": "<artifact digest hex, or the verdict digest hex>"}}],
     "predicateType": "https://canarykit.dev/verdict/v1",
     "predicate": {"verdict": {...the verdict contract, DESIGN.md §4...},
                   "verdict_digest": "sha256:<hex of the verdict's canonical JSON>",
                   "rollout": {...verdict.rollout: the look / rollout step it came from...},
                   "engines": {"canarykit": "...", "duckdb": "...", "regopy": "..."},
                   "subject": "artifact" | "verdict"}}

With ``--artifact-digest`` the subject's digest is the candidate's artifact digest (the
statement is then about that artifact); without, it is the verdict's own digest under the name
``model@candidate``. A gate accepts either, when the digest is the version's recorded artifact
digest, or the name is the version's ``model@version`` and the digest is the signed verdict's.

A plain JSON verdict is refused by the gates with a message saying how to sign it.
:func:`plain_verdicts_allowed` is the one place that relaxes this: in a drill registry only.

Examples
--------
>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> from canarykit.promotion.evidence import TrustStore, public_key_text
>>> key = Ed25519PrivateKey.generate()
>>> trust = TrustStore.from_dict({"keys": [{"id": "ci-verdicts", "purposes": ["verdict"],
...                                          "public_key": public_key_text(key)}]})
>>> verdict = {"schema": "canarykit.verdict/1", "decision": "PROCEED", "model": "m",
...     "baseline": "v1", "candidate": "v2", "policy_digest": "sha256:" + "a" * 64,
...     "checks": [{"name": "latency_p95", "status": "pass"}], "reasons": []}
>>> envelope = attest_verdict(verdict, key, "ci-verdicts")
>>> opened = open_verdict(envelope, trust, model="m", version="v2",
...                       artifact_digest="sha256:" + "0" * 64)
>>> opened.accepted, opened.verdict["decision"]
(True, 'PROCEED')
>>> open_verdict(verdict, trust, model="m", version="v2", artifact_digest="").problems[0][:45]
'a plain JSON verdict is not evidence: sign it'
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion.documents import check_depth
from canarykit.promotion.drill import is_drill
from canarykit.promotion.evidence import (
    TrustStore,
    intoto_statement,
    load_json_file,
    load_private_key,
    open_envelope,
    sign_statement,
)
from canarykit.promotion.verdicts import read_verdict, verdict_digest

__all__ = [
    "PLAIN_VERDICT_HINT",
    "VERDICT_PREDICATE_TYPE",
    "VerdictEvidence",
    "attest_verdict",
    "check_artifact_digest",
    "is_envelope",
    "load_verdict_document",
    "open_verdict",
    "plain_verdicts_allowed",
    "signed_verdict",
    "store_signed_verdict",
    "verdict_statement",
]

VERDICT_PREDICATE_TYPE = "https://canarykit.dev/verdict/v1"
"""in-toto predicate type of a signed canary verdict."""
PLAIN_VERDICT_HINT = (
    "a plain JSON verdict is not evidence: sign it with `canarykit attest VERDICT.json --key"
    " KEY.pem --key-id ID --out VERDICT.dsse.json` (or `canarykit evaluate ... --sign-key"
    " KEY.pem --key-id ID`) using a key the trust file lists for purpose verdict, and pass the"
    " .dsse.json envelope"
)
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def check_artifact_digest(value: Any) -> str:
    """Return ``value`` if it is an artifact digest ``sha256:<64 lowercase hex>``.

    Examples
    --------
    >>> check_artifact_digest("sha256:" + "ab" * 32)[:10]
    'sha256:aba'
    """
    if not isinstance(value, str) or not _DIGEST.fullmatch(value):
        raise InvalidInputError(
            f"--artifact-digest: {str(value)[:80]!r} is not sha256:<64 lowercase hex>"
        )
    return value


def verdict_statement(
    verdict: Mapping[str, Any], *, artifact_digest: str | None = None
) -> dict[str, Any]:
    """The in-toto Statement of a (validated) verdict; see the module docstring.

    Examples
    --------
    >>> v = {"model": "m", "candidate": "v2", "rollout": None, "engines": {"duckdb": "1"},
    ...      "canarykit_version": "0.1"}
    >>> st = verdict_statement(v, artifact_digest="sha256:" + "0" * 64)
    >>> st["subject"][0]["name"], st["predicate"]["subject"], st["predicate"]["engines"]
    ('m@v2', 'artifact', {'duckdb': '1', 'canarykit': '0.1'})
    """
    digest = verdict_digest(verdict)
    subject_digest = digest if artifact_digest is None else artifact_digest
    engines = verdict.get("engines")
    return intoto_statement(
        [
            {
                "name": f"{verdict.get('model')}@{verdict.get('candidate')}",
                "digest": {"sha256": subject_digest.removeprefix("sha256:")},
            }
        ],
        VERDICT_PREDICATE_TYPE,
        {
            "verdict": dict(verdict),
            "verdict_digest": digest,
            "rollout": verdict.get("rollout"),
            "engines": {
                **(dict(engines) if isinstance(engines, Mapping) else {}),
                "canarykit": verdict.get("canarykit_version"),
            },
            "subject": "verdict" if artifact_digest is None else "artifact",
        },
    )


def attest_verdict(
    verdict: Mapping[str, Any] | str | Path,
    private_key: Any,
    key_id: str,
    *,
    artifact_digest: str | None = None,
) -> dict[str, Any]:
    """Sign a verdict: the DSSE envelope (purpose ``verdict``) the promotion gates accept.

    Parameters
    ----------
    verdict : mapping, str or Path
        The verdict (dict) or its JSON file; it must follow the verdict contract.
    private_key : Ed25519PrivateKey, str or Path
        The key (or its unencrypted PEM file) whose public half the trust file lists for
        purpose ``verdict``.
    key_id : str
        Its id in the trust file.
    artifact_digest : str, optional
        ``sha256:<hex>`` of the candidate's artifact: the statement's subject (default: the
        verdict's own digest under the name ``model@candidate``).

    Raises
    ------
    InvalidInputError
        The verdict breaks its contract, or the key, key id or digest is not usable.

    Examples
    --------
    >>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    >>> v = {"schema": "canarykit.verdict/1", "decision": "STOP", "model": "m",
    ...      "candidate": "v2", "policy_digest": "sha256:" + "a" * 64, "checks": []}
    >>> attest_verdict(v, Ed25519PrivateKey.generate(), "k")["payloadType"]
    'application/vnd.canarykit.verdict.v1+json'
    """
    document = read_verdict(verdict)
    digest = None if artifact_digest is None else check_artifact_digest(artifact_digest)
    key = load_private_key(private_key)
    statement = verdict_statement(document, artifact_digest=digest)
    return sign_statement(statement, purpose="verdict", private_key=key, key_id=key_id)


def is_envelope(document: Any) -> bool:
    """Whether ``document`` has the shape of a DSSE envelope (payloadType, payload, signatures).

    Examples
    --------
    >>> is_envelope({"payloadType": "x", "payload": "", "signatures": []}), is_envelope({})
    (True, False)
    """
    return isinstance(document, Mapping) and {"payloadType", "payload"} <= set(document)


def load_verdict_document(source: Any) -> Any:
    """A verdict argument as data: a JSON/YAML file read safely, or the document itself.

    Raises
    ------
    InvalidInputError
        The file cannot be read or parsed, or nests too deeply.
    """
    if source is None:
        return None
    if isinstance(source, (str, Path)):
        return load_json_file(source, what="verdict")
    return check_depth(source, where="verdict")


def plain_verdicts_allowed(conn: sqlite3.Connection | None) -> bool:
    """Whether this registry takes a plain (unsigned) JSON verdict at the gates.

    Only a drill registry does (DESIGN.md §10; :func:`~canarykit.promotion.drill.is_drill`):
    it was created as one, says DRILL in every output and is refused by ``check-startup``.

    Examples
    --------
    >>> plain_verdicts_allowed(None)
    False
    >>> from canarykit.promotion.registry import RegistryStore
    >>> plain_verdicts_allowed(RegistryStore(":memory:").conn)
    False
    """
    return conn is not None and is_drill(conn)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerdictEvidence:
    """A verdict presented to a gate, opened and checked for the version.

    ``verdict`` is the verdict the gate may use (the signed predicate's, or a plain one where
    the registry allows plain verdicts), else None; ``problems`` say why it is not accepted.
    """

    signed: bool
    verified: bool
    subject_matches: bool
    verdict: dict[str, Any] | None = None
    envelope: Mapping[str, Any] | None = field(default=None, repr=False)
    key_ids: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        """The verdict may be believed (signed, verified, for this version)."""
        return self.verdict is not None and not self.problems

    @property
    def digest(self) -> str | None:
        """The verdict's digest (what approvals bind), or None."""
        return None if self.verdict is None else verdict_digest(self.verdict)

    def to_dict(self) -> dict[str, Any]:
        """The Rego input form (merged into the gate's ``verdict`` facts)."""
        return {
            "signed": self.signed,
            "verified": self.verified,
            "subject_matches": self.subject_matches,
            "key_ids": list(self.key_ids),
            "subjects": list(self.subjects),
            "evidence_problems": list(self.problems),
        }


def _predicate_verdict(statement: Mapping[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    problems = []
    if statement.get("predicateType") != VERDICT_PREDICATE_TYPE:
        problems.append(
            f"statement.predicateType: {str(statement.get('predicateType'))[:60]!r} is not the"
            f" canarykit verdict type {VERDICT_PREDICATE_TYPE!r}"
        )
    predicate = statement.get("predicate")
    inner = predicate.get("verdict") if isinstance(predicate, Mapping) else None
    try:
        verdict = read_verdict(inner) if inner is not None else None
    except InvalidInputError as err:
        problems.append(f"predicate.verdict is not a verdict ({err})")
        return None, problems
    if verdict is None:
        problems.append("predicate.verdict: required (the verdict contract)")
    elif isinstance(predicate, Mapping) and predicate.get("verdict_digest") != verdict_digest(
        verdict
    ):
        problems.append("predicate.verdict_digest is not the digest of predicate.verdict")
    return verdict, problems


def _subject_names(statement: Mapping[str, Any]) -> list[tuple[str, str]]:
    subjects = statement.get("subject")
    out = []
    for s in subjects if isinstance(subjects, list) else []:
        if isinstance(s, Mapping) and isinstance(s.get("digest"), Mapping):
            out.append((str(s.get("name"))[:120], str(s["digest"].get("sha256"))))
    return out


def open_verdict(
    document: Any,
    trust: TrustStore | None,
    *,
    model: str,
    version: str,
    artifact_digest: str,
    plain_allowed: bool = False,
) -> VerdictEvidence:
    """Open a verdict argument for ``model``/``version``: a signed envelope, or a plain verdict.

    Parameters
    ----------
    document : Any
        What was presented (see :func:`load_verdict_document`).
    trust : TrustStore or None
        The registry's trust file.
    model, version : str
        The version being promoted or approved.
    artifact_digest : str
        Its recorded artifact digest (a subject may name it).
    plain_allowed : bool, default False
        Accept a plain JSON verdict (:func:`plain_verdicts_allowed`; drill registries only).
    """
    if not is_envelope(document):
        if not plain_allowed:
            return VerdictEvidence(
                signed=False, verified=False, subject_matches=False, problems=(PLAIN_VERDICT_HINT,)
            )
        try:
            plain = read_verdict(document)
        except InvalidInputError as err:
            return VerdictEvidence(
                signed=False, verified=False, subject_matches=False, problems=(str(err),)
            )
        return VerdictEvidence(signed=False, verified=False, subject_matches=False, verdict=plain)
    opened = open_envelope(document, trust, purpose="verdict")
    problems = [f"envelope: {p}" for p in opened.problems]
    verdict, more = (None, []) if opened.statement is None else _predicate_verdict(opened.statement)
    problems += more
    names = _subject_names(opened.statement or {})
    own = f"{model}@{version}"
    artifact_hex = artifact_digest.removeprefix("sha256:")
    verdict_hex = None if verdict is None else verdict_digest(verdict).removeprefix("sha256:")
    matches = any(d == artifact_hex or (n == own and d == verdict_hex) for n, d in names)
    if opened.statement is not None and not matches:
        problems.append(
            f"statement.subject {', '.join(n for n, _ in names) or '(none)'} is neither the"
            f" artifact of {model} {version} ({artifact_digest[:19]}…) nor {own} with the"
            " signed verdict's digest"
        )
    return VerdictEvidence(
        signed=True,
        verified=opened.verified,
        subject_matches=matches,
        verdict=verdict if opened.verified and not problems else None,
        envelope=dict(document),
        key_ids=opened.key_ids,
        subjects=tuple(n for n, _ in names),
        problems=tuple(problems),
    )


# -- the registry's record of the verdict that opened the Approved gate -----------------------
_TABLE = """
CREATE TABLE IF NOT EXISTS signed_verdicts (
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    verdict_digest TEXT NOT NULL,
    envelope_json TEXT NOT NULL,
    key_ids_json TEXT NOT NULL,
    recorded_at_ns INTEGER NOT NULL,
    PRIMARY KEY (model, version)
)
"""


def store_signed_verdict(
    conn: sqlite3.Connection, *, model: str, version: str, evidence: VerdictEvidence, now_ns: int
) -> None:
    """Keep the envelope of the verdict that opened the Approved gate (inside its transaction)."""
    if evidence.envelope is None or evidence.digest is None:
        return
    conn.execute(_TABLE)
    conn.execute(
        "INSERT OR REPLACE INTO signed_verdicts (model, version, verdict_digest, envelope_json,"
        " key_ids_json, recorded_at_ns) VALUES (?, ?, ?, ?, ?, ?)",
        (
            model,
            version,
            evidence.digest,
            json.dumps(dict(evidence.envelope), sort_keys=True),
            json.dumps(list(evidence.key_ids)),
            now_ns,
        ),
    )


def signed_verdict(conn: sqlite3.Connection, model: str, version: str) -> dict[str, Any] | None:
    """The DSSE envelope of the verdict that opened the Approved gate, or None.

    Examples
    --------
    >>> from canarykit.promotion.registry import RegistryStore
    >>> signed_verdict(RegistryStore(":memory:").conn, "m", "v1") is None
    True
    """
    try:
        row = conn.execute(
            "SELECT envelope_json FROM signed_verdicts WHERE model = ? AND version = ?",
            (model, version),
        ).fetchone()
    except sqlite3.OperationalError:  # a registry created before the table existed
        return None
    if row is None:
        return None
    try:
        envelope = json.loads(row[0])
    except ValueError:
        return None
    return envelope if isinstance(envelope, dict) else None
