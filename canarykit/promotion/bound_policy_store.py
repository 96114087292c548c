"""The registry's record of the sanctioned policy bound to each version at Staging.

:func:`store_bound_policy` keeps the signed snapshot's exact bytes and envelope (table
``bound_policies``) as a :class:`BoundPolicy`; :func:`bound_policy` and :func:`bound_policies`
read them back, and :func:`bound_policy_facts` is the Approved gate's view of one.
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from canarykit.promotion.evidence import TrustStore
from canarykit.promotion.policy_signature_checks import (
    PolicySignatureCheck,
    check_policy_signature,
)
from canarykit.promotion.policy_signing import _sha256
from canarykit.verdict.snapshot import snapshot_digest

__all__ = [
    "BoundPolicy",
    "bound_policies",
    "bound_policy",
    "bound_policy_facts",
    "store_bound_policy",
]

_TABLE = """
CREATE TABLE IF NOT EXISTS bound_policies (
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    name TEXT NOT NULL,
    digest TEXT NOT NULL,
    files_json TEXT NOT NULL,
    envelope_json TEXT NOT NULL,
    key_ids_json TEXT NOT NULL,
    bound_at_ns INTEGER NOT NULL,
    PRIMARY KEY (model, version)
)
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class BoundPolicy:
    """The sanctioned policy snapshot bound to a version at Staging, as the registry keeps it.

    ``files`` are the exact bytes that were signed (name → bytes); ``envelope`` is the DSSE
    envelope that sanctioned them; ``key_ids`` the ``policy`` keys whose signatures verified.
    """

    model: str
    version: str
    name: str
    digest: str
    files: Mapping[str, bytes] = field(repr=False)
    envelope: Mapping[str, Any] = field(repr=False)
    key_ids: tuple[str, ...] = ()
    bound_at_ns: int = 0

    @property
    def intact(self) -> bool:
        """Whether the stored files still hash to the stored digest."""
        return snapshot_digest(self.files) == self.digest

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (files as name → sha256; the envelope is :attr:`envelope`)."""
        return {
            "model": self.model,
            "version": self.version,
            "name": self.name,
            "digest": self.digest,
            "files": {n: "sha256:" + _sha256(b) for n, b in sorted(self.files.items())},
            "key_ids": list(self.key_ids),
        }


def store_bound_policy(
    conn: sqlite3.Connection,
    *,
    model: str,
    version: str,
    check: PolicySignatureCheck,
    files: Mapping[str, bytes],
    envelope: Mapping[str, Any],
    now_ns: int,
) -> BoundPolicy:
    """Record the sanctioned snapshot bound to ``model``/``version`` (inside the gate's
    transaction, after the Staging gate allowed it)."""
    conn.execute(_TABLE)
    record = BoundPolicy(
        model=model,
        version=version,
        name=str(check.name),
        digest=check.digest,
        files=dict(files),
        envelope=dict(envelope),
        key_ids=check.key_ids,
        bound_at_ns=now_ns,
    )
    conn.execute(
        "INSERT OR REPLACE INTO bound_policies (model, version, name, digest, files_json,"
        " envelope_json, key_ids_json, bound_at_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            model,
            version,
            record.name,
            record.digest,
            json.dumps(
                {n: base64.b64encode(b).decode("ascii") for n, b in sorted(files.items())},
                sort_keys=True,
            ),
            json.dumps(dict(envelope), sort_keys=True),
            json.dumps(list(check.key_ids)),
            now_ns,
        ),
    )
    return record


def _from_row(row: sqlite3.Row) -> BoundPolicy | None:
    try:
        files = {n: base64.b64decode(t, validate=True) for n, t in json.loads(row[4]).items()}
        envelope = json.loads(row[5])
        key_ids = tuple(str(k) for k in json.loads(row[6]))
    except (ValueError, TypeError, AttributeError, binascii.Error):
        return None  # an edited row: treated as no bound policy (the gates deny)
    return BoundPolicy(
        model=row[0],
        version=row[1],
        name=row[2],
        digest=row[3],
        files=files,
        envelope=envelope if isinstance(envelope, dict) else {},
        key_ids=key_ids,
        bound_at_ns=row[7],
    )


_SELECT = (
    "SELECT model, version, name, digest, files_json, envelope_json, key_ids_json, bound_at_ns"
    " FROM bound_policies"
)


def bound_policy(conn: sqlite3.Connection, model: str, version: str) -> BoundPolicy | None:
    """The sanctioned policy bound to ``model``/``version`` at Staging, or None.

    None also when the version was bound before policies were signed, or its row was edited
    into something unreadable. Callers that rely on it (the Approved gate, releases) check
    :attr:`BoundPolicy.intact` and that :attr:`BoundPolicy.digest` is the version's
    ``policy_digest``.

    Examples
    --------
    >>> from canarykit.promotion.registry import RegistryStore
    >>> bound_policy(RegistryStore(":memory:").conn, "m", "v1") is None
    True
    """
    try:
        row = conn.execute(
            _SELECT + " WHERE model = ? AND version = ?", (model, version)
        ).fetchone()
    except sqlite3.OperationalError:  # a registry created before the table existed
        return None
    return None if row is None else _from_row(row)


def bound_policies(conn: sqlite3.Connection, model: str | None = None) -> list[BoundPolicy]:
    """Every readable bound policy (of one model, or all), by model and version."""
    try:
        rows = conn.execute(
            _SELECT + " WHERE (? IS NULL OR model = ?) ORDER BY model, version", (model, model)
        ).fetchall()
    except sqlite3.OperationalError:
        return []
    return [b for row in rows if (b := _from_row(row)) is not None]


def bound_policy_facts(
    bound: BoundPolicy | None, *, policy_digest: str | None, trust: TrustStore | None
) -> dict[str, Any]:
    """The Approved gate's view of the bound policy (Rego input ``bound_policy``).

    ``ok`` holds when the registry keeps the sanctioned snapshot of the version's bound digest,
    its files still hash to it, and its envelope still verifies for purpose ``policy`` against
    today's trust file and still covers exactly those files.
    """
    if bound is None:
        return {
            "present": False,
            "ok": False,
            "name": None,
            "digest": None,
            "problems": [
                "no sanctioned policy snapshot is stored for this version (bind a signed policy"
                " at Staging: canarykit policy sign DIR, then promote --to Staging --policy DIR)"
            ],
        }
    problems = []
    if not bound.intact:
        problems.append("the stored policy files no longer hash to the bound digest")
    if bound.digest != policy_digest:
        problems.append(
            f"the stored snapshot {bound.digest} is not the version's bound digest {policy_digest}"
        )
    check = check_policy_signature(bound.files, bound.envelope, trust)
    problems += [f"the stored signature no longer holds: {p}" for p in check.problems]
    return {
        "present": True,
        "ok": not problems,
        "name": bound.name,
        "digest": bound.digest,
        "problems": problems,
    }
