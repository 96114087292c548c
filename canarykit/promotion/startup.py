"""The startup/download check: may this service start this model version now?

Exit statuses (also the ``exit_code`` of :class:`StartupCheck`); when several checks fail the
first in this order decides, and every failure is listed:

====  ==========================================================================
0     OK: Staging or Approved, signature verifies, not revoked, digests match
      (the artifact file's included: a check without ``--artifact`` is refused)
10    RESOLVE: no such model/version, alias never set, or alias BLOCKED
11    REVOKED: the version has been revoked
12    STAGE: the version is not in Staging or Approved (still a Candidate)
13    ARTIFACT: the artifact file's sha256 is not the registered digest
14    SIGNATURE: no trust configured, no signature, or it does not verify
15    POLICY: the version's bound policy digest is not the one expected
16    AUDIT: the audit log is broken, or does not record the stage / alias target
17    UNDECIDED: the startup gate itself could not decide (fails closed)
20    MLFLOW: (``--mlflow`` only) MLflow differs from the state canarykit's verified log
      gives the model — an alias or a ``canarykit.*`` tag changed outside canarykit — or
      MLflow could not be read
19    DRILL: the registry is a drill registry (``config init --drill``): nothing from it may
      start in production; ranked after every other failure, so a drill shows what a
      production registry would have refused
18    DEGRADED: every other check passed, but the artifact file was NOT checked
      (``--no-artifact-check``); recorded as a ``startup_degraded`` audit event
====  ==========================================================================

(2 stays "bad input or usage", as for every canarykit command: a check given neither
``--artifact FILE`` nor ``--no-artifact-check`` is refused with 2.)

Examples
--------
>>> EXIT_CODES["revoked"], RUNBOOK["revoked"][:40]
(11, 'Do not start it. Deploy what the alias n')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["EXIT_CODES", "EXIT_OK", "RUNBOOK", "StartupCheck", "by_priority", "classify"]

EXIT_OK = 0
EXIT_CODES = {
    "resolve": 10,
    "revoked": 11,
    "stage": 12,
    "artifact": 13,
    "signature": 14,
    "policy": 15,
    "audit": 16,
    "undecided": 17,
    "mlflow": 20,
    "drill": 19,
    "degraded": 18,
}
RUNBOOK = {
    "resolve": "Check the model name and alias (canarykit alias show MODEL); a BLOCKED alias needs"
    " a new Approved version (canarykit alias set ... under a change ticket).",
    "revoked": "Do not start it. Deploy what the alias now points to (canarykit alias show MODEL)"
    " or roll back (canarykit rollback MODEL --chg CHG-ID).",
    "stage": "Only Staging or Approved versions may start: finish the promotion"
    " (canarykit status MODEL) before deploying.",
    "signature": "Treat the artifact as untrusted: verify the trust file (canarykit config show)"
    " and the release signature; escalate to security.",
    "artifact": "The file is not the registered artifact: re-download it from the release, and"
    " escalate to security if the digest still differs.",
    "policy": "The service expects another policy snapshot: deploy the matching release or update"
    " the expected digest through a change.",
    "audit": "Stop: the registry may have been altered outside canarykit. Run canarykit audit"
    " verify, preserve the registry file, and escalate to security.",
    "undecided": "The gate policy could not be evaluated (installation problem): do not start;"
    " reinstall canarykit and escalate to the platform team.",
    "mlflow": "MLflow was changed outside canarykit (or cannot be read): do not trust MLflow's"
    " @alias; see canarykit mlflow verify MODEL, find who changed it, then canarykit mlflow sync"
    " MODEL restores canarykit's state.",
    "drill": "This is a drill registry (a rehearsal, created with canarykit config init --drill):"
    " nothing registered in it may start in production. Check against the production registry"
    " (--registry / $CANARYKIT_REGISTRY).",
    "degraded": "The artifact file was NOT compared with the registered digest: start it only"
    " if your platform verifies that digest itself; rerun with --artifact FILE to check it.",
}


def by_priority(reasons: tuple[str, ...]) -> tuple[str, ...]:
    """Reasons ordered by the priority of their exit code (the deciding one first).

    Examples
    --------
    >>> by_priority(("policy: x", "revoked: y"))
    ('revoked: y', 'policy: x')
    """
    order = {kind: rank for rank, kind in enumerate(EXIT_CODES)}
    return tuple(sorted(reasons, key=lambda r: (order.get(r.split(":", 1)[0], -1), r)))


def classify(reasons: tuple[str, ...]) -> tuple[int, str | None]:
    """Exit code and failure kind of the highest-priority reason (0, None when none)."""
    kinds = {reason.split(":", 1)[0] for reason in reasons}
    if kinds - set(EXIT_CODES):
        return EXIT_CODES["undecided"], "undecided"
    for kind, code in EXIT_CODES.items():
        if kind in kinds:
            return code, kind
    return EXIT_OK, None


@dataclass(frozen=True, slots=True, kw_only=True)
class StartupCheck:
    """Outcome of a startup check.

    Examples
    --------
    >>> c = StartupCheck(ok=False, exit_code=11, model="m", alias="production", version="v2",
    ...                  problems=("revoked: m v2 has been revoked",), hint=RUNBOOK["revoked"])
    >>> c.to_text().splitlines()[0]
    'FAIL m v2 (production): revoked: m v2 has been revoked'
    """

    ok: bool
    exit_code: int
    model: str
    alias: str | None
    version: str | None
    problems: tuple[str, ...] = ()
    hint: str = ""
    artifact_checked: bool = True

    @property
    def degraded(self) -> bool:
        """Every check passed except that the artifact file was not checked (exit 18)."""
        return self.exit_code == EXIT_CODES["degraded"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "ok": self.ok,
            "degraded": self.degraded,
            "artifact_checked": self.artifact_checked,
            "exit_code": self.exit_code,
            "model": self.model,
            "alias": self.alias,
            "version": self.version,
            "problems": list(self.problems),
            "hint": self.hint,
        }

    def to_text(self) -> str:
        """Plain text: a status line per problem, then the runbook hint.

        Examples
        --------
        >>> c = StartupCheck(ok=False, exit_code=18, model="m", alias="production", version="v2",
        ...                  problems=("degraded: the artifact file was NOT checked",),
        ...                  hint=RUNBOOK["degraded"], artifact_checked=False)
        >>> c.to_text().splitlines()[0]
        'DEGRADED m v2 (production): degraded: the artifact file was NOT checked'
        """
        where = f"{self.model} {self.version or '-'} ({self.alias or 'pinned'})"
        if self.ok:
            return f"OK {where}: may start"
        status = "DEGRADED" if self.degraded else "FAIL"
        lines = [f"{status} {where}: {problem}" for problem in self.problems]
        lines.append(f"runbook: {self.hint}")
        return "\n".join(lines)
