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

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion.evidence import TrustStore, digest_file, load_json_file, open_envelope
from canarykit.promotion.schema_check import load_schema, validate
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
MODEL_CARD_SCHEMA = "model_card.schema.json"
ML_MODEL = "machine-learning-model"
_PREFIX = "canarykit:"
_DIGEST_PROPERTIES = ("verdict_digest", "policy_digest")
_CHECK_FIELDS = ("status", "required", "bound", "threshold", "confidence_level", "method")
_CHECK_COUNTS = ("n_control", "n_candidate")


def _text(value: Any) -> str | None:
    """A number or flag as CycloneDX text (shortest round-trip form); None when absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    return str(value)


def _metric(
    kind: str, value: Any, slice_: str, low: Any = None, high: Any = None
) -> dict[str, Any]:
    """A performance metric; without a finite value it has no ``value`` (no estimate)."""
    text = _text(value)
    metric: dict[str, Any] = {"type": kind} if text is None else {"type": kind, "value": text}
    metric["slice"] = slice_
    if text is None:
        return metric
    lower, upper = _text(low), _text(high)
    if lower is not None and upper is not None:
        metric["confidenceInterval"] = {"lowerBound": lower, "upperBound": upper}
    return metric


def _groups(check: Mapping[str, Any]) -> tuple[list[str], dict[str, dict[str, list[Any]]]]:
    """The groups of a fairness check and its per-arm rates by rate name (from ``details``)."""
    details = check.get("details")
    details = details if isinstance(details, Mapping) else {}
    groups = details.get("groups")
    names = [str(g) for g in groups] if isinstance(groups, list) else []
    rates: dict[str, dict[str, list[Any]]] = {}
    for arm in ("candidate", "control"):
        found = details.get(f"rates_{arm}")
        if not isinstance(found, Mapping):
            continue
        for rate, values in found.items():
            if isinstance(values, list) and len(values) == len(names):
                rates.setdefault(str(rate), {})[arm] = values
    return names, rates


def _is_fairness(check: Mapping[str, Any]) -> bool:
    return check.get("kind") == "fairness_gap_delta" or bool(_groups(check)[0])


def model_card_metrics(verdict: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``performanceMetrics`` of a verdict's model card (see the module docstring).

    Examples
    --------
    >>> check = {"name": "fairness_tpr", "kind": "fairness_gap_delta", "estimate": -0.01,
    ...     "ci_low": -0.1, "ci_high": 0.09, "details": {"groups": ["A", "B"],
    ...     "rates_candidate": {"tpr": [0.40, 0.38]}, "rates_control": {"tpr": [0.36, 0.39]}}}
    >>> [(m["type"], m["slice"], m["value"]) for m in model_card_metrics({"checks": [check]})]
    [('fairness_tpr', 'overall', '-0.01'), ('tpr', 'group=A, arm=candidate', '0.4'), ('tpr', 'group=B, arm=candidate', '0.38'), ('tpr', 'group=A, arm=control', '0.36'), ('tpr', 'group=B, arm=control', '0.39')]
    """
    metrics: list[dict[str, Any]] = []
    for check in verdict.get("checks", []):
        if not isinstance(check, Mapping):
            continue
        name = str(check.get("name"))
        metrics.append(
            _metric(
                name, check.get("estimate"), "overall", check.get("ci_low"), check.get("ci_high")
            )
        )
        groups, rates = _groups(check)
        for rate, arms in rates.items():
            for arm in ("candidate", "control"):
                for group, value in zip(groups, arms.get(arm, []), strict=False):
                    metrics.append(_metric(rate, value, f"group={group}, arm={arm}"))
    return metrics


def fairness_assessments(verdict: Mapping[str, Any]) -> list[dict[str, str]]:
    """One CycloneDX ``fairnessAssessment`` per fairness check of the verdict.

    ``groupAtRisk`` names the group with the lowest rate under the candidate (first rate of the
    check); ``harms`` states the change of the between-group gap with its interval;
    ``mitigationStrategy`` the canary rule that bounds it and the check's status.

    Examples
    --------
    >>> check = {"name": "fairness_tpr", "kind": "fairness_gap_delta", "status": "pass",
    ...     "estimate": -0.01, "ci_low": -0.1, "ci_high": 0.09, "threshold": 0.02,
    ...     "details": {"groups": ["A", "B"], "rates_candidate": {"tpr": [0.40, 0.38]}}}
    >>> fairness_assessments({"checks": [check]})[0]["groupAtRisk"]
    'group B (lowest tpr under the candidate: 0.38; groups A, B)'
    """
    found: list[dict[str, str]] = []
    for check in verdict.get("checks", []):
        if not isinstance(check, Mapping) or not _is_fairness(check):
            continue
        name = str(check.get("name"))
        groups, rates = _groups(check)
        at_risk = f"the groups of the sensitive features ({', '.join(groups) or 'none named'})"
        for rate, arms in rates.items():
            values = arms.get("candidate")
            usable = [
                (v, g) for g, v in zip(groups, values or [], strict=False) if _text(v) is not None
            ]
            if usable:
                low, group = min(usable, key=lambda pair: pair[0])
                at_risk = (
                    f"group {group} (lowest {rate} under the candidate: {_text(low)};"
                    f" groups {', '.join(groups)})"
                )
                break
        interval = f"CI {_text(check.get('ci_low'))}..{_text(check.get('ci_high'))}"
        harms = (
            f"{name}: the between-group gap changed by {_text(check.get('estimate'))}"
            f" ({interval}, candidate minus control; > 0 is worse)"
        )
        summary = check.get("summary")
        if isinstance(summary, str) and summary:
            harms += f": {summary}"
        strategy = (
            f"canary gate {name}: the gap may grow by at most {_text(check.get('threshold'))};"
            f" status {check.get('status')}"
        )
        details = check.get("details")
        unsupported = details.get("unsupported") if isinstance(details, Mapping) else None
        if isinstance(unsupported, list) and unsupported:
            strategy += f"; below minimum support: {', '.join(str(u) for u in unsupported)}"
        found.append({"groupAtRisk": at_risk, "harms": harms, "mitigationStrategy": strategy})
    return found


def _properties(pairs: Sequence[tuple[str, Any]]) -> list[dict[str, str]]:
    return [
        {"name": _PREFIX + name, "value": text}
        for name, value in pairs
        if (text := _text(value)) is not None
    ]


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


def card_component(card: Any) -> Mapping[str, Any] | None:
    """The one ``machine-learning-model`` component holding a ``modelCard``, or None."""
    if not isinstance(card, Mapping):
        return None
    candidates = (
        list(card.get("components") or []) if isinstance(card.get("components"), list) else []
    )
    metadata = card.get("metadata")
    if isinstance(metadata, Mapping) and isinstance(metadata.get("component"), Mapping):
        candidates.append(metadata["component"])
    found = [
        c
        for c in candidates
        if isinstance(c, Mapping)
        and c.get("type") == ML_MODEL
        and isinstance(c.get("modelCard"), Mapping)
    ]
    return found[0] if len(found) == 1 else None


def _property(component: Mapping[str, Any], name: str) -> Any:
    values = [
        p.get("value")
        for p in component.get("properties") or []
        if isinstance(p, Mapping) and p.get("name") == _PREFIX + name
    ]
    return values[0] if len(values) == 1 else None


def model_card_problems(card: Any) -> list[str]:
    """Why ``card`` is not a canarykit model card (empty when it is one).

    The CycloneDX shape of ``schemas/model_card.schema.json``, then: exactly one
    ``machine-learning-model`` component with a ``modelCard`` (and none on another component
    type), a ``version``, ``quantitativeAnalysis.performanceMetrics`` (each with a ``type``; a
    ``confidenceInterval`` only with a ``value`` and with both bounds), and the properties ``canarykit:model``, ``canarykit:candidate``,
    ``canarykit:verdict_digest`` and ``canarykit:policy_digest`` (digests ``sha256:<hex>``).

    Examples
    --------
    >>> model_card_problems({"bomFormat": "CycloneDX", "specVersion": "1.4", "version": 1,
    ...                      "components": []})[:2]
    ["specVersion: '1.4' is not one of ['1.5', '1.6', '1.7']", 'components: needs at least 1 items']
    """
    problems = validate(card, load_schema(MODEL_CARD_SCHEMA))
    if problems:
        return problems
    components = card.get("components", [])
    misplaced = [
        i for i, c in enumerate(components) if "modelCard" in c and c.get("type") != ML_MODEL
    ]
    problems += [
        f"components[{i}].modelCard: only a {ML_MODEL} component has one" for i in misplaced
    ]
    component = card_component(card)
    if component is None:
        return [*problems, f"components: needs exactly one {ML_MODEL} component with a modelCard"]
    if not isinstance(component.get("version"), str):
        problems.append("component.version: required (the model version the card describes)")
    analysis = component["modelCard"].get("quantitativeAnalysis") or {}
    if "performanceMetrics" not in analysis:
        problems.append("modelCard.quantitativeAnalysis.performanceMetrics: required")
    metrics = analysis.get("performanceMetrics") or []
    for index, metric in enumerate(metrics):
        where = f"modelCard.quantitativeAnalysis.performanceMetrics[{index}]"
        if "type" not in metric:
            problems.append(f"{where}: needs a type")
        if "confidenceInterval" in metric and "value" not in metric:
            problems.append(f"{where}: an interval needs a value")
        interval = metric.get("confidenceInterval")
        if interval is not None and set(interval) != {"lowerBound", "upperBound"}:
            problems.append(f"{where}.confidenceInterval: needs lowerBound and upperBound")
    for name in ("model", "candidate", *_DIGEST_PROPERTIES):
        value = _property(component, name)
        if not isinstance(value, str) or not value:
            problems.append(
                f"component.properties: needs exactly one {_PREFIX}{name}"
                " (write the card with canarykit model-card VERDICT)"
            )
        elif name in _DIGEST_PROPERTIES and not _is_digest(value):
            problems.append(
                f"component.properties: {_PREFIX}{name} {value[:80]!r} is not sha256:<hex>"
            )
    return problems


def _is_digest(value: str) -> bool:
    hexdigits = value.removeprefix("sha256:")
    return (
        value.startswith("sha256:")
        and len(hexdigits) == 64
        and all(c in "0123456789abcdef" for c in hexdigits)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelCardFile:
    """A model card file as the registry records it."""

    name: str
    digest: str
    model: str
    version: str
    verdict_digest: str
    policy_digest: str
    metrics: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "name": self.name,
            "digest": self.digest,
            "model": self.model,
            "version": self.version,
            "verdict_digest": self.verdict_digest,
            "policy_digest": self.policy_digest,
            "metrics": [dict(m) for m in self.metrics],
        }


def read_model_card(path: str | Path) -> ModelCardFile:
    """Read and check a model card file (:func:`model_card_problems`).

    Raises
    ------
    InvalidInputError
        The file cannot be read, is not JSON, or is not a canarykit model card (every problem
        listed, naming the file).
    """
    card = load_json_file(path, what="model card")
    problems = model_card_problems(card)
    if problems:
        raise InvalidInputError(f"{path}: model card: " + "; ".join(problems))
    component = card_component(card)
    assert component is not None  # model_card_problems found it
    metrics = component["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
    return ModelCardFile(
        name=Path(path).name,
        digest=digest_file(path),
        model=str(_property(component, "model")),
        version=str(_property(component, "candidate")),
        verdict_digest=str(_property(component, "verdict_digest")),
        policy_digest=str(_property(component, "policy_digest")),
        metrics=tuple(dict(m) for m in metrics),
    )


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
