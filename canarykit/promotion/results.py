"""Result records of promotion-layer actions (frozen, keyword-only, with ``to_dict``).

Examples
--------
>>> r = RevocationResult(model="m", version="v2", previous_stage="Approved",
...     aliases=(AliasAction(alias="production", before="v2", after="v1", action="rolled_back"),))
>>> r.message
'revoked m v2 (was Approved); production rolled back from v2 to v1'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from canarykit.promotion.alias import AliasState
from canarykit.promotion.approvals import Approval
from canarykit.promotion.changes import ChangeApproval, ChangeTicket
from canarykit.promotion.gates import GateDecision
from canarykit.promotion.sanctioned_policy import BoundPolicy
from canarykit.promotion.versions import VersionRecord
from canarykit.promotion.waivers import Waiver

__all__ = ["AliasAction", "ChangeStatus", "PromotionResult", "RevocationResult", "StatusReport"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionResult:
    """A stage change that its gate allowed."""

    model: str
    version: str
    from_stage: str
    to_stage: str
    chg_id: str | None
    event_seq: int
    gate: GateDecision

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "model": self.model,
            "version": self.version,
            "from_stage": self.from_stage,
            "to_stage": self.to_stage,
            "chg_id": self.chg_id,
            "event_seq": self.event_seq,
            "gate": self.gate.to_dict(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AliasAction:
    """What a revocation did to one alias that pointed at the revoked version."""

    alias: str
    before: str | None
    after: str | None
    action: str  # "rolled_back" or "blocked"

    @property
    def message(self) -> str:
        """One sentence saying what happened."""
        if self.action == "rolled_back":
            return f"{self.alias} rolled back from {self.before} to {self.after}"
        return (
            f"{self.alias} BLOCKED (was {self.before}; no earlier Approved version remains — "
            "nothing may start until an Approved version is set)"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "alias": self.alias,
            "before": self.before,
            "after": self.after,
            "action": self.action,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RevocationResult:
    """A revocation and its effect on aliases."""

    model: str
    version: str
    previous_stage: str
    aliases: tuple[AliasAction, ...] = ()

    @property
    def message(self) -> str:
        """One sentence saying what happened (including alias rollbacks or blocks)."""
        text = f"revoked {self.model} {self.version} (was {self.previous_stage})"
        if not self.aliases:
            return text + "; no alias pointed to it"
        return text + "; " + "; ".join(a.message for a in self.aliases)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "model": self.model,
            "version": self.version,
            "previous_stage": self.previous_stage,
            "aliases": [a.to_dict() for a in self.aliases],
            "message": self.message,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeStatus:
    """A change ticket, who requested it and its approvals."""

    ticket: ChangeTicket
    requester: str
    approvals: tuple[ChangeApproval, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "ticket": self.ticket.to_dict(),
            "requester": self.requester,
            "approvals": [a.to_dict() for a in self.approvals],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusReport:
    """Versions, approvals, waivers, aliases and sanctioned policies of one model (or all)."""

    versions: tuple[VersionRecord, ...] = ()
    approvals: tuple[Approval, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    aliases: tuple[AliasState, ...] = field(default_factory=tuple)
    policies: tuple[BoundPolicy, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "versions": [v.to_dict() for v in self.versions],
            "approvals": [a.to_dict() for a in self.approvals],
            "waivers": [w.to_dict() for w in self.waivers],
            "aliases": [a.to_dict() for a in self.aliases],
            "policies": [p.to_dict() for p in self.policies],
        }

    def _repr_html_(self) -> str:
        from canarykit.report.display import status_html

        return status_html(self)

    def to_frame(self) -> Any:
        """One row per version (stage, submitter, policy digest, aliases) as a DataFrame."""
        import pandas as pd

        rows = []
        for v in self.versions:
            row = v.to_dict()
            row["aliases"] = ", ".join(
                a.alias for a in self.aliases if a.model == v.model and a.version == v.version
            )
            rows.append(row)
        return pd.DataFrame(rows)

    def to_text(self) -> str:
        """A short plain-text table for the terminal."""
        lines = []
        for v in self.versions:
            flags = []
            for p in self.policies:
                if p.model == v.model and p.version == v.version:
                    flags.append(f"policy {p.name} ({p.digest[:19]}…)")
            for a in self.aliases:
                if a.model == v.model and a.version == v.version:
                    flags.append(f"← {a.alias}")
            lines.append(f"{v.model:<20} {v.version:<14} {v.stage:<10} {' '.join(flags)}".rstrip())
        for a in self.aliases:
            if a.version is None:
                lines.append(f"{a.model:<20} {a.alias} BLOCKED (no version may start)")
        return "\n".join(lines) if lines else "(no versions registered)"
