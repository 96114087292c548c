"""CycloneDX JSON SBOM: what a gate has to know about it — its vulnerabilities, and whether it
lists anything and was scanned at all.

Python reads the SBOM and reduces each vulnerability to its id, highest severity (as a rank),
analysis (VEX) state and the digest of its statement; whether it *blocks* is decided by the
Rego gate (severity threshold, analysis states, security approvals of VEX statements, unexpired
waivers).

Severity ranks: ``none`` 0, ``info`` 1, ``low`` 2, ``medium`` 3, ``high`` 4, ``critical`` 5.
A vulnerability's severity is the highest of *all* its ratings, where a rating counts by its
``severity`` name and by its CVSS ``score`` (:func:`score_severity`), whichever is higher: a
rating ``{"severity": "low", "score": 9.8}`` is critical. A vulnerability with no usable rating
(none, or only ``unknown`` without a score) is ranked as critical: an unassessed vulnerability
must be analysed or waived, not silently pass.

An SBOM must also describe something and carry a vulnerability analysis: the gate refuses one
with no ``components`` (:attr:`SbomCheck.components`) and one with neither a ``vulnerabilities``
section nor a vulnerability scanner among ``metadata.tools`` (:attr:`SbomCheck.analysed`), with
a message saying how to produce one (``staging_evidence.rego``).

Examples
--------
>>> bom = {"bomFormat": "CycloneDX", "specVersion": "1.5",
...     "components": [{"type": "library", "name": "numpy", "version": "2.0.0"}],
...     "vulnerabilities": [
...     {"id": "CVE-2026-0001", "ratings": [{"severity": "low"}, {"severity": "high"}]},
...     {"id": "CVE-2026-0002", "ratings": [{"severity": "low", "score": 9.8}],
...      "analysis": {"state": "not_affected"}}]}
>>> check = evaluate_sbom(bom)
>>> [(v.id, v.severity, v.analysis_state) for v in check.vulnerabilities]
[('CVE-2026-0001', 'high', None), ('CVE-2026-0002', 'critical', 'not_affected')]
>>> check.max_open_severity, check.components, check.analysed
('high', 1, True)
>>> evaluate_sbom({"bomFormat": "CycloneDX", "components": []}).analysed
False

The gate does not see the vulnerabilities one by one: :func:`gate_summary` groups them, in one
pass over the SBOM, by everything the Rego rules read — rank, severity, analysis state, the id a
waiver names (when one does) and the security approvers of the very statement — with a count
and the first :data:`NAMED_PER_GROUP` ids of each group. The rules decide per group, so the
gate's work no longer grows with the SBOM (a 3,000-vulnerability SBOM held the registry's write
lock for 51 s when the rules ran over every vulnerability). An SBOM may list at most
:data:`MAX_VULNERABILITIES` vulnerabilities and :data:`MAX_COMPONENTS` components.

>>> summary = gate_summary(check.to_dict(), vex_approvals=[], waivers=[])
>>> [(g["severity"], g["analysis_state"], g["count"], g["ids"]) for g in summary["groups"]]
[('high', None, 1, ['CVE-2026-0001']), ('critical', 'not_affected', 1, ['CVE-2026-0002'])]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion.audit import canonical_json
from canarykit.promotion.evidence import digest_bytes

__all__ = [
    "ANALYSIS_STATES",
    "CLEARING_STATES",
    "MAX_COMPONENTS",
    "MAX_VULNERABILITIES",
    "NAMED_PER_GROUP",
    "SCANNERS",
    "SEVERITY_RANK",
    "SbomCheck",
    "Vulnerability",
    "check_sbom_size",
    "evaluate_sbom",
    "gate_summary",
    "sbom_record",
    "score_severity",
    "statement_digest",
]

SEVERITY_RANK = {"none": 0, "info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
UNKNOWN_RANK = SEVERITY_RANK["critical"]
CLEARING_STATES = ("not_affected", "false_positive", "resolved")
"""VEX analysis states that say a vulnerability does not apply (``analysis.state``)."""
ANALYSIS_STATES = (
    "resolved",
    "resolved_with_pedigree",
    "exploitable",
    "in_triage",
    "false_positive",
    "not_affected",
)
"""The CycloneDX 1.5 analysis states; the gate sees any other value as ``"unrecognised"``."""
MAX_VULNERABILITIES = 20_000
"""Most vulnerabilities an SBOM may list (larger ones are refused with a clear error)."""
MAX_COMPONENTS = 200_000
"""Most top-level components an SBOM may list."""
NAMED_PER_GROUP = 20
"""How many vulnerability ids each group of :func:`gate_summary` names (the rest are counted)."""
SCANNERS = frozenset(
    {
        "grype",
        "trivy",
        "pip-audit",
        "osv-scanner",
        "snyk",
        "dependency-check",
        "dependency-track",
    }
)
"""Tool names in ``metadata.tools`` that count as a vulnerability analysis of the SBOM."""
_NAMES = {rank: name for name, rank in SEVERITY_RANK.items()}


def score_severity(score: float) -> str:
    """The severity a CVSS base score denotes (CVSS v3/v4 qualitative rating scale).

    0.0 none, 0.1-3.9 low, 4.0-6.9 medium, 7.0-8.9 high, 9.0-10.0 critical.

    Raises
    ------
    ValueError
        ``score`` is not a number in [0, 10].

    References
    ----------
    FIRST, *CVSS v3.1 Specification*, §5 "Qualitative Severity Rating Scale".

    Examples
    --------
    >>> [score_severity(s) for s in (0.0, 0.1, 3.9, 4.0, 6.9, 7.0, 8.9, 9.0, 9.8, 10.0)]
    ['none', 'low', 'low', 'medium', 'medium', 'high', 'high', 'critical', 'critical', 'critical']
    """
    if (
        isinstance(score, bool)
        or not isinstance(score, (int, float))
        or not math.isfinite(score)
        or not 0.0 <= score <= 10.0
    ):
        raise ValueError(f"{score!r} is not a CVSS score in [0, 10]")
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low" if score > 0.0 else "none"


def statement_digest(vulnerability: Mapping[str, Any]) -> str:
    """``"sha256:<hex>"`` of one vulnerability entry (its canonical JSON): what a security
    approval of a VEX statement names, so the approval covers exactly that statement.

    Examples
    --------
    >>> a = statement_digest({"id": "CVE-1", "analysis": {"state": "not_affected"}})
    >>> a == statement_digest({"analysis": {"state": "not_affected"}, "id": "CVE-1"})
    True
    >>> a == statement_digest({"id": "CVE-1", "analysis": {"state": "resolved"}})
    False
    """
    return digest_bytes(canonical_json(dict(vulnerability)).encode("utf-8"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Vulnerability:
    """One SBOM vulnerability, reduced to what a gate needs."""

    ref: str
    id: str
    severity: str
    rank: int
    analysis_state: str | None = None
    statement_digest: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (also the Rego input form)."""
        return {
            "ref": self.ref,
            "id": self.id,
            "severity": self.severity,
            "rank": self.rank,
            "analysis_state": self.analysis_state,
            "statement_digest": self.statement_digest,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SbomCheck:
    """What an SBOM says: whether it is usable, what it lists, and its vulnerabilities.

    ``components`` counts the top-level ``components``; ``has_vulnerabilities`` says whether a
    ``vulnerabilities`` section is present (even empty: a scan that found nothing);
    ``scanners`` names the vulnerability scanners found in ``metadata.tools``.
    """

    present: bool
    valid: bool
    vulnerabilities: tuple[Vulnerability, ...] = ()
    problems: tuple[str, ...] = ()
    components: int = 0
    has_vulnerabilities: bool = False
    scanners: tuple[str, ...] = ()

    @property
    def analysed(self) -> bool:
        """Whether the SBOM carries a vulnerability analysis (a section or a scanner)."""
        return self.has_vulnerabilities or bool(self.scanners)

    @property
    def max_open_severity(self) -> str:
        """Highest severity among vulnerabilities not cleared by their analysis state."""
        ranks = [v.rank for v in self.vulnerabilities if v.analysis_state not in CLEARING_STATES]
        return _NAMES[max(ranks, default=0)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (also the Rego input form)."""
        return {
            "present": self.present,
            "valid": self.valid,
            "max_open_severity": self.max_open_severity,
            "max_open_rank": SEVERITY_RANK[self.max_open_severity],
            "vulnerabilities": [v.to_dict() for v in self.vulnerabilities],
            "problems": list(self.problems),
            "components": self.components,
            "analysis": {
                "present": self.analysed,
                "vulnerabilities_section": self.has_vulnerabilities,
                "scanners": list(self.scanners),
            },
        }


def _severity(vuln: Mapping[str, Any], where: str, problems: list[str]) -> tuple[str, int]:
    """The highest severity over every rating (by name and by score)."""
    ratings = vuln.get("ratings")
    ranks: list[int] = []
    for index, rating in enumerate(ratings if isinstance(ratings, list) else []):
        if not isinstance(rating, Mapping):
            continue
        name = rating.get("severity")
        if isinstance(name, str) and name.lower() in SEVERITY_RANK:
            ranks.append(SEVERITY_RANK[name.lower()])
        if rating.get("score") is not None:
            try:
                ranks.append(SEVERITY_RANK[score_severity(rating["score"])])
            except ValueError as err:
                problems.append(f"{where}.ratings[{index}].score: {err}")
    if not ranks:
        return "unknown", UNKNOWN_RANK
    top = max(ranks)
    return _NAMES[top], top


def _tool_names(metadata: Any) -> list[str]:
    """Names of the tools in ``metadata.tools`` (1.5+ object form or the legacy list)."""
    tools = metadata.get("tools") if isinstance(metadata, Mapping) else None
    entries: list[Any] = []
    if isinstance(tools, list):
        entries = tools
    elif isinstance(tools, Mapping):
        for key in ("components", "services"):
            found = tools.get(key)
            entries += found if isinstance(found, list) else []
    return [
        str(e["name"]).strip().lower()
        for e in entries
        if isinstance(e, Mapping) and isinstance(e.get("name"), str)
    ]


def check_sbom_size(bom: Any, *, where: str = "SBOM") -> None:
    """Refuse an SBOM that lists more than the limits allow (before any work is done on it).

    Raises
    ------
    InvalidInputError
        More than :data:`MAX_VULNERABILITIES` vulnerabilities or :data:`MAX_COMPONENTS`
        components; the message names the limit.

    Examples
    --------
    >>> check_sbom_size({"vulnerabilities": [{}] * 20_001})
    Traceback (most recent call last):
    ...
    canarykit.errors.InvalidInputError: SBOM: lists 20001 vulnerabilities; at most 20000 ...
    """
    if not isinstance(bom, Mapping):
        return
    for key, limit in (("vulnerabilities", MAX_VULNERABILITIES), ("components", MAX_COMPONENTS)):
        entries = bom.get(key)
        if isinstance(entries, list) and len(entries) > limit:
            raise InvalidInputError(
                f"{where}: lists {len(entries)} {key}; at most {limit} are accepted (split the"
                " model's SBOM, or scan it with the scanner's own deduplication)"
            )


def _state(value: Any) -> str | None:
    if value is None:
        return None
    return value if value in ANALYSIS_STATES else "unrecognised"


def gate_summary(
    sbom: Mapping[str, Any] | None,
    *,
    vex_approvals: Sequence[Mapping[str, Any]],
    waivers: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The SBOM as the Staging gate reads it: its vulnerabilities grouped, in linear time.

    Parameters
    ----------
    sbom : mapping or None
        :meth:`SbomCheck.to_dict` of the SBOM supplied.
    vex_approvals : sequence of mappings
        The security approvals of VEX statements that stand (``{"id", "statement_digest",
        "actor"}``, :func:`~canarykit.promotion.evidence_records.vex_facts`).
    waivers : sequence of mappings
        The waivers of the version (Rego input form: ``{"check", ...}``); whether one is in
        force stays the gate's decision.

    Returns
    -------
    dict
        ``sbom`` without ``vulnerabilities``, plus ``vulnerability_count`` and ``groups``: one
        ``{"rank", "severity", "analysis_state", "waiver", "vex_approvers", "count", "ids"}``
        per distinct combination, in order of first appearance. ``waiver`` is the
        vulnerability's id when some waiver names it (else None) and ``vex_approvers`` the
        approvers of exactly its statement (id and statement digest).
    """
    if not isinstance(sbom, Mapping):
        return {"present": False, "valid": False, "groups": [], "vulnerability_count": 0}
    approvers: dict[tuple[Any, Any], set[str]] = {}
    for approval in vex_approvals:
        statement = (approval.get("id"), approval.get("statement_digest"))
        if isinstance(approval.get("actor"), str):
            approvers.setdefault(statement, set()).add(approval["actor"])
    waived = {w.get("check") for w in waivers if isinstance(w.get("check"), str)}
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    vulnerabilities = sbom.get("vulnerabilities") or []
    for vuln in vulnerabilities:
        vid = vuln.get("id")
        who = tuple(sorted(approvers.get((vid, vuln.get("statement_digest")), ())))
        state = _state(vuln.get("analysis_state"))
        key = (vuln.get("rank"), vuln.get("severity"), state, vid if vid in waived else None, who)
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "rank": key[0],
                "severity": key[1],
                "analysis_state": state,
                "waiver": key[3],
                "vex_approvers": list(who),
                "count": 0,
                "ids": [],
            }
        group["count"] += 1
        if len(group["ids"]) < NAMED_PER_GROUP:
            group["ids"].append(vid)
    summary = {k: v for k, v in sbom.items() if k != "vulnerabilities"}
    return {**summary, "vulnerability_count": len(vulnerabilities), "groups": list(groups.values())}


def sbom_record(sbom: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the registry keeps of an SBOM a version was staged with: :meth:`SbomCheck.to_dict`
    without the per-vulnerability list (its size bounded whatever the SBOM lists), with the
    number of vulnerabilities and how many there were of each severity.

    Examples
    --------
    >>> check = evaluate_sbom({"bomFormat": "CycloneDX", "components": [{"name": "x"}],
    ...     "vulnerabilities": [{"id": "A", "ratings": [{"severity": "low"}]}] * 3})
    >>> record = sbom_record(check.to_dict())
    >>> record["vulnerability_count"], record["severities"], "vulnerabilities" in record
    (3, {'low': 3}, False)
    """
    if not isinstance(sbom, Mapping):
        return {}
    vulnerabilities = sbom.get("vulnerabilities") or []
    severities: dict[str, int] = {}
    for vuln in vulnerabilities:
        name = str(vuln.get("severity"))
        severities[name] = severities.get(name, 0) + 1
    record = {k: v for k, v in sbom.items() if k != "vulnerabilities"}
    return {**record, "vulnerability_count": len(vulnerabilities), "severities": severities}


def evaluate_sbom(bom: Any) -> SbomCheck:
    """Reduce a CycloneDX JSON document to a :class:`SbomCheck` (no blocking decision here).

    A document that is not CycloneDX, whose ``vulnerabilities`` is not a list of objects with
    an ``id``, or with a rating score that is not a CVSS score, is ``valid=False`` with
    path-qualified problems. An empty or unscanned SBOM stays ``valid`` (it is well-formed);
    the gate refuses it by :attr:`SbomCheck.components` and :attr:`SbomCheck.analysed`.

    Parameters
    ----------
    bom : Any
        The parsed SBOM document, or None when none was supplied.

    Returns
    -------
    SbomCheck

    Raises
    ------
    InvalidInputError
        The SBOM lists more than :data:`MAX_VULNERABILITIES` vulnerabilities or
        :data:`MAX_COMPONENTS` components (:func:`check_sbom_size`).
    """
    check_sbom_size(bom)
    if bom is None:
        return SbomCheck(present=False, valid=False, problems=("no SBOM supplied",))
    problems: list[str] = []
    if not isinstance(bom, Mapping) or bom.get("bomFormat") != "CycloneDX":
        return SbomCheck(present=True, valid=False, problems=("bomFormat: must be 'CycloneDX'",))
    raw = bom.get("vulnerabilities", [])
    if not isinstance(raw, list):
        return SbomCheck(present=True, valid=False, problems=("vulnerabilities: must be a list",))
    components = bom.get("components")
    found: list[Vulnerability] = []
    for index, vuln in enumerate(raw):
        where = f"vulnerabilities[{index}]"
        if not isinstance(vuln, Mapping) or not isinstance(vuln.get("id"), str):
            problems.append(f"{where}.id: required string")
            continue
        analysis = vuln.get("analysis")
        state = analysis.get("state") if isinstance(analysis, Mapping) else None
        severity, rank = _severity(vuln, where, problems)
        found.append(
            Vulnerability(
                ref=f"{vuln['id']}#{index}",
                id=vuln["id"],
                severity=severity,
                rank=rank,
                analysis_state=state if isinstance(state, str) else None,
                statement_digest=statement_digest(vuln),
            )
        )
    scanners = sorted({name for name in _tool_names(bom.get("metadata")) if name in SCANNERS})
    return SbomCheck(
        present=True,
        valid=not problems,
        vulnerabilities=tuple(found),
        problems=tuple(problems),
        components=len(components) if isinstance(components, list) else 0,
        has_vulnerabilities="vulnerabilities" in bom,
        scanners=tuple(scanners),
    )
