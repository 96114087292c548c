"""Stages of a model version and the transition table that is the only way between them.

``Candidate → Staging → Approved``, and ``Revoked`` from any live stage. ``Revoked`` is final:
a revoked version never comes back (submit a new version instead).

Examples
--------
>>> check_transition(Stage.CANDIDATE, Stage.STAGING)
(<Stage.CANDIDATE: 'Candidate'>, <Stage.STAGING: 'Staging'>)
>>> check_transition("Candidate", "Approved")
Traceback (most recent call last):
...
canarykit.errors.GateDeniedError: transition Candidate → Approved is not in the transition table ...
"""

from __future__ import annotations

from enum import StrEnum

from canarykit.errors import GateDeniedError, InvalidInputError

__all__ = ["STARTUP_STAGES", "TRANSITIONS", "Stage", "check_transition", "parse_stage"]


class Stage(StrEnum):
    """Promotion stage of a model version."""

    CANDIDATE = "Candidate"
    STAGING = "Staging"
    APPROVED = "Approved"
    REVOKED = "Revoked"


TRANSITIONS: frozenset[tuple[Stage, Stage]] = frozenset(
    {
        (Stage.CANDIDATE, Stage.STAGING),
        (Stage.STAGING, Stage.APPROVED),
        (Stage.CANDIDATE, Stage.REVOKED),
        (Stage.STAGING, Stage.REVOKED),
        (Stage.APPROVED, Stage.REVOKED),
    }
)
"""Every allowed (from, to) pair; nothing else is a transition."""

STARTUP_STAGES = frozenset({Stage.STAGING, Stage.APPROVED})
"""Stages from which a version may be deployed or downloaded."""


def parse_stage(value: str | Stage, *, field: str = "stage") -> Stage:
    """Parse a stage name (case-insensitive).

    Examples
    --------
    >>> parse_stage("approved")
    <Stage.APPROVED: 'Approved'>
    """
    if isinstance(value, Stage):
        return value
    for stage in Stage:
        if str(value).strip().lower() == stage.value.lower():
            return stage
    names = ", ".join(s.value for s in Stage)
    raise InvalidInputError(f"{field}: {value!r} is not a stage ({names})")


def check_transition(current: str | Stage, target: str | Stage) -> tuple[Stage, Stage]:
    """Return ``(from, to)`` when the pair is in :data:`TRANSITIONS`, else raise.

    Raises
    ------
    GateDeniedError
        If the transition is not in the table.
    """
    source, dest = parse_stage(current), parse_stage(target)
    if (source, dest) not in TRANSITIONS:
        allowed = [t.value for t in Stage if (source, t) in TRANSITIONS]
        allowed_text = ", ".join(allowed) if allowed else "none — it is final"
        raise GateDeniedError(
            f"transition {source.value} → {dest.value} is not in the transition table "
            f"(allowed from {source.value}: {allowed_text})"
        )
    return source, dest
