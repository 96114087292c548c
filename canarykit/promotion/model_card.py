"""A canary verdict as a CycloneDX model card (``canarykit model-card VERDICT``).

:func:`build_model_card` writes a CycloneDX 1.6 BOM holding one ``machine-learning-model``
component whose ``modelCard`` carries:

- ``quantitativeAnalysis.performanceMetrics``: every check of the verdict — ``type`` the check
  name, ``value`` its estimate, ``confidenceInterval`` its interval, ``slice`` ``"overall"`` —
  and, for fairness checks, each group's rate under each arm (``type`` the rate, ``slice``
  ``"group=A, arm=candidate"``; the verdict gives no per-group interval);
- ``considerations.fairnessAssessments``: one per fairness check (the group with the lowest rate
  under the candidate, the change of the between-group gap with its interval, the check's rule
  and status) and ``considerations.technicalLimitations``: each check that did not pass;
- properties naming the verdict: ``canarykit:verdict_digest`` (the digest the Approved gate
  compares), ``canarykit:policy_digest``, ``canarykit:data_digest``, ``canarykit:decision``,
  ``canarykit:model``/``candidate``/``baseline`` and, per check, its status, rule, confidence
  level and method (``canarykit:check:<name>:<field>``).

Every number is written as text (CycloneDX metric values are strings) in Python's shortest
round-trip form, and the card holds nothing but the verdict: the same verdict always gives the
same card, byte for byte (its serial number is derived from the verdict digest, its timestamp is
the verdict's ``created_at``).

:func:`model_card_problems` checks a card's shape (the CycloneDX subset in
``schemas/model_card.schema.json`` plus the rules the gate relies on) and :func:`read_model_card`
reads a card file for the registry (``canarykit evidence add --model-card``).

The metrics and fairness assessments are written by
:mod:`~canarykit.promotion.model_card_analysis`, and a card is checked and read by
:mod:`~canarykit.promotion.model_card_checks`; building the card and reading its verdict are
here.

Examples
--------
>>> verdict = {"schema": "canarykit.verdict/1", "decision": "PROCEED", "reasons": [],
...     "model": "m", "baseline": "v1", "candidate": "v2", "mode": "canary",
...     "window": {"start": None, "end": None}, "policy_digest": "sha256:" + "a" * 64,
...     "data_digest": "sha256:" + "b" * 64, "created_at": "2026-11-25T00:00:00Z",
...     "checks": [{"name": "latency_p95", "status": "pass", "estimate": 91.7,
...                 "ci_low": 88.7, "ci_high": 94.1, "confidence_level": 0.95}]}
>>> card = build_model_card(verdict)
>>> component = card["components"][0]
>>> component["type"], component["name"], component["version"]
('machine-learning-model', 'm', 'v2')
>>> component["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
[{'type': 'latency_p95', 'value': '91.7', 'slice': 'overall', 'confidenceInterval': {'lowerBound': '88.7', 'upperBound': '94.1'}}]
>>> model_card_problems(card)
[]
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion.evidence import TrustStore, load_json_file, open_envelope
from canarykit.promotion.model_card_analysis import (
    _properties,
    fairness_assessments,
    model_card_metrics,
)
from canarykit.promotion.model_card_checks import (
    ML_MODEL,
    MODEL_CARD_SCHEMA,
    ModelCardFile,
    card_component,
    model_card_problems,
    read_model_card,
)
from canarykit.promotion.schema_check import validate
from canarykit.promotion.verdicts import read_verdict, verdict_digest

__all__ = [
    "CARD_SPEC_VERSION",
    "MODEL_CARD_SCHEMA",
    "ModelCardFile",
    "build_model_card",
    "card_component",
    "fairness_assessments",
    "load_verdict",
    "model_card_metrics",
    "model_card_problems",
    "read_model_card",
]

CARD_SPEC_VERSION = "1.6"
_CHECK_FIELDS = ("status", "required", "bound", "threshold", "confidence_level", "method")
_CHECK_COUNTS = ("n_control", "n_candidate")


def build_model_card(
    verdict: Mapping[str, Any],
    *,
    model_name: str | None = None,
    signed_by: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The CycloneDX model card of a canary verdict (see the module docstring).

    Parameters
    ----------
    verdict : mapping
        A verdict following the verdict contract (DESIGN.md §4); checked by its contract keys.
    model_name : str, optional
        The component's display name (default: the verdict's model). The registry matches a
        card by the ``canarykit:model`` and ``canarykit:candidate`` properties, which always
        hold the verdict's model and candidate.
    signed_by : sequence of str, optional
        Key ids whose DSSE signature over the verdict was verified (recorded as a property);
        an empty sequence records a signed verdict read without verification.

    Returns
    -------
    dict
        The CycloneDX document (JSON-ready).

    Raises
    ------
    InvalidInputError
        The verdict breaks its contract, or ``model_name`` is empty.
    """
    checked = read_verdict(verdict)
    if model_name is not None and not model_name.strip():
        raise InvalidInputError("--model-name: must not be empty")
    digest = verdict_digest(checked)
    model, version = str(checked["model"]), str(checked["candidate"])
    found = checked.get("window")
    window: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    pairs: list[tuple[str, Any]] = [
        ("model", model),
        ("candidate", version),
        ("baseline", checked.get("baseline")),
        ("mode", checked.get("mode")),
        ("decision", checked.get("decision")),
        ("verdict_digest", digest),
        ("policy_digest", checked.get("policy_digest")),
        ("data_digest", checked.get("data_digest")),
        ("window_start", window.get("start")),
        ("window_end", window.get("end")),
    ]
    if signed_by is not None:
        pairs.append(
            (
                "verdict_signature",
                "verified: " + ", ".join(signed_by) if signed_by else "not verified",
            )
        )
    check_pairs: list[tuple[str, Any]] = []
    limitations: list[str] = []
    for check in checked.get("checks", []):
        name = str(check.get("name"))
        check_pairs += [(f"check:{name}:{f}", check.get(f)) for f in _CHECK_FIELDS + _CHECK_COUNTS]
        if check.get("status") != "pass":
            summary = check.get("summary") or "no summary"
            limitations.append(f"{name} was {check.get('status')} at the verdict: {summary}")
    considerations: dict[str, Any] = {}
    if limitations:
        considerations["technicalLimitations"] = limitations
    assessments = fairness_assessments(checked)
    if assessments:
        considerations["fairnessAssessments"] = assessments
    model_card: dict[str, Any] = {
        "bom-ref": f"model-card:{model}@{version}",
        "quantitativeAnalysis": {"performanceMetrics": model_card_metrics(checked)},
    }
    if considerations:
        model_card["considerations"] = considerations
    model_card["properties"] = _properties(check_pairs)
    component = {
        "type": ML_MODEL,
        "bom-ref": f"model:{model}@{version}",
        "name": model_name or model,
        "version": version,
        "description": (
            f"{model} {version}: canary verdict {checked['decision']} against"
            f" {checked.get('baseline')} ({checked.get('mode', 'canary')}),"
            f" window {window.get('start')} .. {window.get('end')}"
        ),
        "properties": _properties(pairs),
        "modelCard": model_card,
    }
    from canarykit import __version__

    metadata: dict[str, Any] = {
        "tools": {
            "components": [{"type": "application", "name": "canarykit", "version": __version__}]
        }
    }
    created = checked.get("created_at")
    if isinstance(created, str) and not validate(created, {"format": "date-time"}):
        metadata = {"timestamp": created, **metadata}
    return {
        "$schema": f"http://cyclonedx.org/schema/bom-{CARD_SPEC_VERSION}.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": CARD_SPEC_VERSION,
        "serialNumber": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'canarykit:model-card:' + digest)}",
        "version": 1,
        "metadata": metadata,
        "components": [component],
    }


def load_verdict(
    source: str | Path | Mapping[str, Any], *, trust: TrustStore | None = None
) -> tuple[dict[str, Any], tuple[str, ...] | None]:
    """A verdict from a plain verdict JSON or a DSSE envelope of a signed verdict.

    An envelope holds an in-toto Statement whose ``predicate.verdict`` is the verdict
    (``canarykit attest``). With ``trust`` the envelope must verify for the ``verdict``
    purpose; without it the predicate is read unverified.

    Returns
    -------
    tuple
        The verdict, and the key ids that verified its envelope (``()`` for an envelope read
        without a trust store, None for a plain verdict).

    Raises
    ------
    InvalidInputError
        Unreadable, not a verdict, or an envelope that does not verify against ``trust``.
    """
    where = str(source) if isinstance(source, (str, Path)) else "verdict"
    document = load_json_file(source, what="verdict") if isinstance(source, (str, Path)) else source
    if not isinstance(document, Mapping):
        raise InvalidInputError(f"{where}: must be a JSON object (a verdict or a signed verdict)")
    if "payloadType" not in document or "payload" not in document:
        return read_verdict(document), None
    opened = open_envelope(document, trust, purpose="verdict")
    if trust is not None and not opened.verified:
        raise InvalidInputError(
            f"{where}: the signed verdict does not verify: " + "; ".join(opened.problems)
        )
    predicate = (opened.statement or {}).get("predicate")
    verdict = predicate.get("verdict") if isinstance(predicate, Mapping) else None
    if not isinstance(verdict, Mapping):
        raise InvalidInputError(f"{where}: the envelope's statement has no predicate.verdict")
    return read_verdict(verdict), opened.key_ids if trust is not None else ()
