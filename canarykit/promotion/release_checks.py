"""The checks of ``canarykit release verify``: their names, one outcome, all of them, exit codes.

Each check reports ``OK``, ``FAIL`` or ``SKIP`` (:class:`ReleaseCheck`); a release verifies
when none fails (:class:`ReleaseVerification`), and the CLI then exits :data:`EXIT_OK` (0), else
:data:`EXIT_VERIFY_FAILED` (6). What each check of :data:`CHECKS` requires:
:mod:`~canarykit.promotion.release_verify`.

Examples
--------
>>> CHECKS[:3], EXIT_OK, EXIT_VERIFY_FAILED
(('files', 'signature', 'manifest'), 0, 6)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["CHECKS", "EXIT_OK", "EXIT_VERIFY_FAILED", "ReleaseCheck", "ReleaseVerification"]


EXIT_OK = 0


EXIT_VERIFY_FAILED = 6


CHECKS = (
    "files",
    "signature",
    "manifest",
    "subject",
    "notes",
    "policy-snapshot",
    "policy-signature",
    "artifact",
    "checkpoint",
    "registry-version",
    "registry-digests",
    "registry-approvals",
    "registry-audit",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseCheck:
    """One check of :func:`verify_release`: ``status`` is ``OK``, ``FAIL`` or ``SKIP``.

    Examples
    --------
    >>> ReleaseCheck(name="notes", status="OK", message="digest matches").to_text()
    'OK    notes: digest matches'
    """

    name: str
    status: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"check": self.name, "status": self.status, "message": self.message}

    def to_text(self) -> str:
        """One line: status, check name, message."""
        return f"{self.status:<5} {self.name}: {self.message}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseVerification:
    """Every check of a release folder; ``ok`` when none failed.

    Examples
    --------
    >>> v = ReleaseVerification(release_dir="rel", checks=(
    ...     ReleaseCheck(name="files", status="OK", message="4 entries"),
    ...     ReleaseCheck(name="artifact", status="SKIP", message="not checked")))
    >>> v.ok, v.exit_code, v.to_text().splitlines()[-1]
    (True, 0, 'release rel: VERIFIED (1 passed, 1 skipped)')
    """

    release_dir: str
    checks: tuple[ReleaseCheck, ...]

    @property
    def ok(self) -> bool:
        """No check failed."""
        return all(c.status != "FAIL" for c in self.checks)

    @property
    def exit_code(self) -> int:
        """:data:`EXIT_OK` or :data:`EXIT_VERIFY_FAILED`."""
        return EXIT_OK if self.ok else EXIT_VERIFY_FAILED

    @property
    def failures(self) -> tuple[ReleaseCheck, ...]:
        """The failed checks."""
        return tuple(c for c in self.checks if c.status == "FAIL")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "release_dir": self.release_dir,
            "ok": self.ok,
            "exit_code": self.exit_code,
            "checks": [c.to_dict() for c in self.checks],
        }

    def to_text(self) -> str:
        """One line per check, then the outcome."""
        count = {s: sum(c.status == s for c in self.checks) for s in ("OK", "FAIL", "SKIP")}
        if self.ok:
            last = f"VERIFIED ({count['OK']} passed, {count['SKIP']} skipped)"
        else:
            last = f"NOT VERIFIED ({count['FAIL']} failed, {count['OK']} passed)"
        return "\n".join(
            [*(c.to_text() for c in self.checks), f"release {self.release_dir}: {last}"]
        )


Check = tuple[str, str]  # (status, message)


def _ok(message: str) -> Check:
    return "OK", message


def _fail(problems: list[str]) -> Check:
    return "FAIL", "; ".join(problems)


def _skip(message: str) -> Check:
    return "SKIP", message
