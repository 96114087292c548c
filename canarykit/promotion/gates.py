"""Gate decisions: Python computes the facts, Rego (regopy, in-process) decides.

The gate policies are the ``*.rego`` files shipped in ``canarykit/policies/promotion/``; they
are not replaceable from the CLI or the API, so a caller cannot bring a permissive policy.
Python hands them plain facts — verification results, the verdict, approvals, waivers, the
change ticket and calendar, the time as integer nanoseconds — and reads back
``{"allow": bool, "deny": [reasons]}``.

Fail closed: an undefined result, a result holding an ``<error>`` value, a result of the wrong
shape, and any exception while loading or evaluating are all a DENY, with the cause as reason.
``allow`` must be exactly ``true`` and ``deny`` empty for the gate to open.

The gate policies are compiled once per process into one regopy bundle (:func:`prepare_gates`,
about 0.1 s, called before an action takes the registry's write lock) and every decision then
only runs the compiled plan of its gate over the facts (a millisecond or so): compiling them in
every action, as before, held the write lock for 0.3 s per action. The facts are kept small and linear in their sources (an
SBOM reaches the gate as a bounded summary, :func:`canarykit.promotion.sbom.gate_summary`).

Examples
--------
>>> decision = evaluate_gate("staging", {"now_ns": 1})
>>> decision.allow
False
>>> any(r.startswith("signature:") for r in decision.reasons)
True
"""

from __future__ import annotations

import atexit
import contextlib
import json
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from canarykit.errors import GateDeniedError
from canarykit.verdict.snapshot import snapshot_digest

__all__ = [
    "GATES",
    "GATE_POLICY_DIR",
    "GateDecision",
    "GateDenial",
    "evaluate_gate",
    "gate_policy_digest",
    "prepare_gates",
]

GATE_POLICY_DIR = Path(__file__).resolve().parent.parent / "policies" / "promotion"
GATES = ("staging", "approved", "change", "alias", "startup", "release")


@dataclass(frozen=True, slots=True, kw_only=True)
class GateDecision:
    """The outcome of one gate: ``allow`` and the reasons it was refused."""

    gate: str
    allow: bool
    reasons: tuple[str, ...] = ()
    policy_digest: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "gate": self.gate,
            "allow": self.allow,
            "reasons": list(self.reasons),
            "policy_digest": self.policy_digest,
        }


@lru_cache(maxsize=1)
def _policy_files() -> tuple[tuple[str, str], ...]:
    files = sorted(GATE_POLICY_DIR.glob("*.rego"))
    return tuple((path.name, path.read_text(encoding="utf-8")) for path in files)


@lru_cache(maxsize=1)
def gate_policy_digest() -> str:
    """Digest (canonical snapshot form) of the shipped gate policies."""
    return snapshot_digest({name: text.encode("utf-8") for name, text in _policy_files()})


def _entrypoint(gate: str) -> str:
    return f"canarykit/promotion/{gate}/decision"


@lru_cache(maxsize=2)
def _compiled(files: tuple[tuple[str, str], ...]) -> Any:
    import regopy

    builder = regopy.Interpreter()
    for name, text in files:
        builder.add_module(name, text)
    return builder.build(None, [_entrypoint(gate) for gate in GATES])


def _bundle() -> Any:
    """Every gate's decision compiled from the policy files (built once per process, ~0.1 s)."""
    return _compiled(_policy_files())


# Free the compiled plans while regopy can still free them (not during interpreter teardown).
atexit.register(_compiled.cache_clear)


# regopy runs outside the GIL (a shared library); threads (the dashboard server) share the bundle
_ENGINE = threading.RLock()


def prepare_gates() -> None:
    """Compile the gate policies now (once per process), before any lock is taken.

    A compile error is not raised here: :func:`evaluate_gate` reports it as a DENY.

    Examples
    --------
    >>> prepare_gates()
    """
    with _ENGINE, contextlib.suppress(Exception):  # fail closed later, in evaluate_gate
        _bundle()


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LOOKALIKES = str.maketrans({'"': "\uff02", "\\": "\uff3c"})


def _printable(value: Any) -> Any:
    """Make every string safe for regopy's output printer.

    regopy does not escape ``"``, ``\\`` or control characters in strings built by ``sprintf``
    or ``concat``, which would make a decision unreadable (and so a DENY with no useful reason).
    No legitimate fact (digest, name, role, stage, CVE id) contains them, so they are replaced
    by look-alike characters (U+FF02, U+FF3C) and U+FFFD before evaluation.
    """
    if isinstance(value, str):
        return _CONTROL.sub("\N{REPLACEMENT CHARACTER}", value).translate(_LOOKALIKES)
    if isinstance(value, Mapping):
        return {_printable(k): _printable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_printable(v) for v in value]
    return value


def _deny(gate: str, reason: str) -> GateDecision:
    return GateDecision(
        gate=gate, allow=False, reasons=(reason,), policy_digest=gate_policy_digest()
    )


def evaluate_gate(gate: str, facts: Mapping[str, Any]) -> GateDecision:
    """Evaluate one gate over ``facts``; anything but a clean allow is a DENY.

    Parameters
    ----------
    gate : str
        One of :data:`GATES` (the Rego package ``canarykit.promotion.<gate>``).
    facts : mapping
        The Rego input (JSON-encodable; times as integer nanoseconds).

    Returns
    -------
    GateDecision
    """
    if gate not in GATES:
        return _deny(gate, f"gate: unknown gate {gate!r}")
    try:
        import regopy

        document = _printable(json.loads(json.dumps(facts)))
        with _ENGINE:  # one compiled bundle, shared: one evaluation at a time per process
            bundle = _bundle()
            interpreter = regopy.Interpreter()
            interpreter.set_input(document)
            output = interpreter.query_bundle_entrypoint(bundle, _entrypoint(gate))
            if not output.ok():
                return _deny(gate, f"gate {gate}: policy evaluation failed: {str(output)[:300]}")
            text = str(output)
    except Exception as err:  # fail closed on anything the engine raises
        return _deny(gate, f"gate {gate}: policy evaluation failed ({type(err).__name__}: {err})")
    if text.strip() == "undefined":
        return _deny(gate, f"gate {gate}: policy result is undefined (denied)")
    if "<error>" in text:
        return _deny(gate, f"gate {gate}: policy result holds an error value (denied)")
    try:
        expressions = json.loads(text)["expressions"]  # {"expressions": [<the decision>]}
        if not isinstance(expressions, list) or len(expressions) != 1:
            raise ValueError(text)
        result = expressions[0]
        if not isinstance(result, dict):
            raise TypeError(text)
    except (ValueError, KeyError, TypeError):
        return _deny(gate, f"gate {gate}: policy result is not readable (denied)")
    allow, deny = result.get("allow") if isinstance(result, dict) else None, None
    if isinstance(result, dict):
        deny = result.get("deny")
    if not isinstance(deny, list) or not all(isinstance(r, str) for r in deny):
        return _deny(gate, f"gate {gate}: policy result has no list of deny reasons (denied)")
    reasons = tuple(sorted(set(deny)))
    if allow is True and not reasons:
        return GateDecision(gate=gate, allow=True, policy_digest=gate_policy_digest())
    if not reasons:
        reasons = (f"gate {gate}: not allowed (the policy gave no reason)",)
    return GateDecision(gate=gate, allow=False, reasons=reasons, policy_digest=gate_policy_digest())


class GateDenial(GateDeniedError):
    """A denied promotion-layer action, with its reasons as a tuple.

    Examples
    --------
    >>> err = GateDenial("promote m v1 → Approved", ["four-eyes: missing product approval"])
    >>> str(err)
    'promote m v1 → Approved denied: four-eyes: missing product approval'
    >>> isinstance(err, GateDeniedError)
    True
    """

    def __init__(self, action: str, reasons: Sequence[str]) -> None:
        self.action = action
        self.reasons = tuple(reasons) or ("denied",)
        super().__init__(f"{action} denied: " + "; ".join(self.reasons))
