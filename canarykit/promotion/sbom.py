"""CycloneDX JSON SBOM: the vulnerabilities a gate has to look at.

Python reads the SBOM and reduces each vulnerability to its id, highest severity (as a rank)
and analysis state; whether it *blocks* is decided by the Rego gate (severity threshold,
analysis states ``not_affected``/``false_positive``/``resolved``, unexpired waivers).

Severity ranks: ``none`` 0, ``info`` 1, ``low`` 2, ``medium`` 3, ``high`` 4, ``critical`` 5.
A vulnerability with no rating, or only ``unknown`` ratings, is ranked as critical: an
unassessed vulnerability must be analysed or waived, not silently pass.

Examples
--------
>>> bom = {"bomFormat": "CycloneDX", "specVersion": "1.5", "vulnerabilities": [
...     {"id": "CVE-2026-0001", "ratings": [{"severity": "low"}, {"severity": "high"}]},
...     {"id": "CVE-2026-0002", "ratings": [{"severity": "critical"}],
...      "analysis": {"state": "not_affected"}}]}
>>> check = evaluate_sbom(bom)
>>> [(v.id, v.severity, v.analysis_state) for v in check.vulnerabilities]
[('CVE-2026-0001', 'high', None), ('CVE-2026-0002', 'critical', 'not_affected')]
>>> check.max_open_severity
'high'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CLEARING_STATES", "SEVERITY_RANK", "SbomCheck", "Vulnerability", "evaluate_sbom"]

SEVERITY_RANK = {"none": 0, "info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
UNKNOWN_RANK = SEVERITY_RANK["critical"]
CLEARING_STATES = ("not_affected", "false_positive", "resolved")
_NAMES = {rank: name for name, rank in SEVERITY_RANK.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class Vulnerability:
    """One SBOM vulnerability, reduced to what a gate needs."""

    ref: str
    id: str
    severity: str
    rank: int
    analysis_state: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (also the Rego input form)."""
        return {
            "ref": self.ref,
            "id": self.id,
            "severity": self.severity,
            "rank": self.rank,
            "analysis_state": self.analysis_state,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SbomCheck:
    """What an SBOM says: whether it is usable and its vulnerabilities."""

    present: bool
    valid: bool
    vulnerabilities: tuple[Vulnerability, ...] = ()
    problems: tuple[str, ...] = ()

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
        }


def _severity(vuln: Mapping[str, Any]) -> tuple[str, int]:
    ratings = vuln.get("ratings")
    ranks = [
        SEVERITY_RANK[str(r.get("severity", "")).lower()]
        for r in (ratings if isinstance(ratings, list) else [])
        if isinstance(r, Mapping) and str(r.get("severity", "")).lower() in SEVERITY_RANK
    ]
    if not ranks:
        return "unknown", UNKNOWN_RANK
    top = max(ranks)
    return _NAMES[top], top


def evaluate_sbom(bom: Any) -> SbomCheck:
    """Reduce a CycloneDX JSON document to a :class:`SbomCheck` (no blocking decision here).

    A document that is not CycloneDX, or whose ``vulnerabilities`` is not a list of objects
    with an ``id``, is ``valid=False`` with path-qualified problems.
    """
    if bom is None:
        return SbomCheck(present=False, valid=False, problems=("no SBOM supplied",))
    problems: list[str] = []
    if not isinstance(bom, Mapping) or bom.get("bomFormat") != "CycloneDX":
        return SbomCheck(present=True, valid=False, problems=("bomFormat: must be 'CycloneDX'",))
    raw = bom.get("vulnerabilities", [])
    if not isinstance(raw, list):
        return SbomCheck(present=True, valid=False, problems=("vulnerabilities: must be a list",))
    found: list[Vulnerability] = []
    for index, vuln in enumerate(raw):
        if not isinstance(vuln, Mapping) or not isinstance(vuln.get("id"), str):
            problems.append(f"vulnerabilities[{index}].id: required string")
            continue
        analysis = vuln.get("analysis")
        state = analysis.get("state") if isinstance(analysis, Mapping) else None
        severity, rank = _severity(vuln)
        found.append(
            Vulnerability(
                ref=f"{vuln['id']}#{index}",
                id=vuln["id"],
                severity=severity,
                rank=rank,
                analysis_state=state if isinstance(state, str) else None,
            )
        )
    return SbomCheck(
        present=True, valid=not problems, vulnerabilities=tuple(found), problems=tuple(problems)
    )
