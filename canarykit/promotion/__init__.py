"""canarykit.promotion: registry, gates, approvals, waivers, changes, aliases, release, audit.

The public entry point is :class:`Promotion` (one object per registry file); results are
frozen dataclasses with ``to_dict()``. Gate decisions are made by the Rego policies shipped in
``canarykit/policies/promotion/`` over facts computed in Python, and fail closed.

Examples
--------
>>> from canarykit.promotion import FixedClock, Promotion, parse_instant
>>> clock = FixedClock(parse_instant("2026-11-25T10:00:00Z"))  # a fixed clock: drills only
>>> with Promotion(":memory:", clock=clock, drill=True) as p:
...     _ = p.bootstrap(actor="sam", roster={"people": {"sam": ["security"], "ann": ["product"]}})
...     p.submit("risk-default", "v1", artifact_digest="sha256:" + "0" * 64, actor="ann").stage
'Candidate'
"""

from canarykit.promotion.api import DEFAULT_ALIAS, DEFAULT_REGISTRY, REGISTRY_ENV, Promotion
from canarykit.promotion.clock import Clock, FixedClock, SystemClock, format_instant, parse_instant
from canarykit.promotion.gates import GateDecision, GateDenial
from canarykit.promotion.startup import EXIT_CODES, StartupCheck
from canarykit.promotion.states import TRANSITIONS, Stage

__all__ = [
    "DEFAULT_ALIAS",
    "DEFAULT_REGISTRY",
    "EXIT_CODES",
    "REGISTRY_ENV",
    "TRANSITIONS",
    "Clock",
    "FixedClock",
    "GateDecision",
    "GateDenial",
    "Promotion",
    "Stage",
    "StartupCheck",
    "SystemClock",
    "format_instant",
    "parse_instant",
]
