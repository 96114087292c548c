"""Checking a model card's shape and reading a card file for the registry.

:func:`model_card_problems` checks a card against the CycloneDX subset in
``schemas/model_card.schema.json`` plus the rules the gate relies on; :func:`read_model_card`
reads a card file (``canarykit evidence add --model-card``) into a :class:`ModelCardFile`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion.evidence import digest_file, load_json_file
from canarykit.promotion.model_card_analysis import _PREFIX
from canarykit.promotion.schema_check import load_schema, validate

__all__ = [
    "MODEL_CARD_SCHEMA",
    "ModelCardFile",
    "card_component",
    "model_card_problems",
    "read_model_card",
]

MODEL_CARD_SCHEMA = "model_card.schema.json"
ML_MODEL = "machine-learning-model"
_DIGEST_PROPERTIES = ("verdict_digest", "policy_digest")


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
