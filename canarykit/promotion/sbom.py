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
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from canarykit.promotion.audit import canonical_json
from canarykit.promotion.evidence import digest_bytes

__all__ = [
    "CLEARING_STATES",
    "SCANNERS",
    "SEVERITY_RANK",
    "SbomCheck",
    "Vulnerability",
    "evaluate_sbom",
    "score_severity",
    "statement_digest",
]

SEVERITY_RANK = {"none": 0, "info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
UNKNOWN_RANK = SEVERITY_RANK["critical"]
CLEARING_STATES = ("not_affected", "false_positive", "resolved")
"""VEX analysis states that say a vulnerability does not apply (``analysis.state``)."""
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
    """
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
