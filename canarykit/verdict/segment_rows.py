"""Result objects of segment verdicts: one row per (segment, check), and the ranked table.

``verdict.segments`` is a :class:`SegmentVerdict`; its JSON form is the ``segments`` key of
the verdict (present only when the evaluation was asked for segments, so verdicts without
``--by`` keep their exact form).

Examples
--------
>>> row = SegmentRow(segment=("br-south",), check="latency_p99", kind="latency_quantile_ratio",
...                  status="fail", estimate=1.4, ci_low=1.2, ci_high=1.6, threshold=1.1,
...                  bound="max", log_e_value=9.0, adjusted_pvalue=0.004, n_control=900,
...                  n_candidate=300, method="m")
>>> sv = SegmentVerdict(by=("region",), alpha=0.05, on_fail="stop", confidence_level=0.95,
...                     hypotheses=8, segments=8, discoveries=1, e_threshold=160.0, rows=(row,))
>>> SegmentVerdict.from_dict(sv.to_dict()) == sv
True
>>> sv.to_frame()[["segment", "check", "status"]].iloc[0].tolist()
['region=br-south', 'latency_p99', 'fail']
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from canarykit.stats.result import Status

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Carried", "SegmentRow", "SegmentVerdict"]

Carried = tuple[tuple[tuple[str, ...], str, float], ...]
"""Log e-values carried from earlier rollout steps: ``((segment values, check, log e), …)``,
sorted; see :mod:`canarykit.verdict.segment_look`."""

METHOD = (
    "e-BH (Wang & Ramdas 2022) over every (segment, check) e-value at the current look: "
    "false discovery rate <= alpha under arbitrary dependence, at the (latched) stopping time"
)


def _num(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _back(value: Any, default: float = math.nan) -> float:
    return default if value is None else float(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentRow:
    """One (segment, check) of a segment verdict."""

    segment: tuple[str, ...]
    check: str
    kind: str
    status: Status
    estimate: float
    ci_low: float
    ci_high: float
    threshold: float
    bound: str
    log_e_value: float
    adjusted_pvalue: float
    n_control: int
    n_candidate: int
    method: str
    note: str = ""
    by: tuple[str, ...] = ()

    @property
    def segment_label(self) -> str:
        """``region=br-south,route=beta`` (values alone when the columns are unknown)."""
        if self.by and len(self.by) == len(self.segment):
            return ",".join(f"{b}={v}" for b, v in zip(self.by, self.segment, strict=True))
        return ",".join(self.segment)

    @property
    def e_value(self) -> float:
        """The e-value (``exp`` of :attr:`log_e_value`; ``inf`` beyond float range)."""
        return math.exp(self.log_e_value) if self.log_e_value < 700 else math.inf

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (non-finite numbers become ``null``)."""
        return {
            "segment": dict(zip(self.by, self.segment, strict=True))
            if self.by
            else list(self.segment),
            "label": self.segment_label,
            "check": self.check,
            "kind": self.kind,
            "status": self.status,
            "estimate": _num(self.estimate),
            "ci_low": _num(self.ci_low),
            "ci_high": _num(self.ci_high),
            "threshold": _num(self.threshold),
            "bound": self.bound,
            "e_value": _num(self.e_value),
            "log_e_value": _num(self.log_e_value),
            "adjusted_pvalue": _num(self.adjusted_pvalue),
            "n_control": self.n_control,
            "n_candidate": self.n_candidate,
            "method": self.method,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], by: tuple[str, ...]) -> SegmentRow:
        """Inverse of :meth:`to_dict`."""
        seg = data["segment"]
        values = tuple(str(seg[b]) for b in by) if isinstance(seg, dict) else tuple(seg)
        low = data.get("ci_low")
        high = data.get("ci_high")
        return cls(
            segment=values,
            check=str(data["check"]),
            kind=str(data["kind"]),
            status=data["status"],
            estimate=_back(data.get("estimate")),
            ci_low=-math.inf if low is None else float(low),
            ci_high=math.inf if high is None else float(high),
            threshold=_back(data.get("threshold")),
            bound=str(data.get("bound", "max")),
            log_e_value=_back(data.get("log_e_value"), math.inf),
            adjusted_pvalue=_back(data.get("adjusted_pvalue")),
            n_control=int(data["n_control"]),
            n_candidate=int(data["n_candidate"]),
            method=str(data["method"]),
            note=str(data.get("note", "")),
            by=by,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentVerdict:
    """The ranked "where" table of a verdict (see :mod:`canarykit.verdict.segments`)."""

    by: tuple[str, ...]
    alpha: float
    on_fail: str
    confidence_level: float
    hypotheses: int
    segments: int
    discoveries: int
    e_threshold: float
    rows: tuple[SegmentRow, ...]
    carried: Carried = ()
    carried_from_step: int | None = None
    carried_windows: tuple[tuple[int, str, str], ...] = ()

    def __post_init__(self) -> None:
        if any(r.by != self.by for r in self.rows):
            rows = tuple(
                SegmentRow(**{**{f: getattr(r, f) for f in r.__dataclass_fields__}, "by": self.by})
                for r in self.rows
            )
            object.__setattr__(self, "rows", rows)

    @property
    def failed(self) -> tuple[SegmentRow, ...]:
        """The discoveries (rows with status ``fail``)."""
        return tuple(r for r in self.rows if r.status == "fail")

    def carry(self) -> Carried:
        """What the next rollout step carries: each e-process's log e-value at this look.

        Every row's (running) product, plus the carried values of hypotheses without a row at
        this look (a segment or check absent from this step keeps its earlier value).
        """
        out = {(seg, check): value for seg, check, value in self.carried}
        out.update({(r.segment, r.check): r.log_e_value for r in self.rows})
        return tuple((seg, check, value) for (seg, check), value in sorted(out.items()))

    def to_dict(self) -> dict[str, Any]:
        """The ``segments`` key of the verdict JSON."""
        return {
            "by": list(self.by),
            "method": METHOD,
            "alpha": self.alpha,
            "on_fail": self.on_fail,
            "confidence_level": self.confidence_level,
            "hypotheses": self.hypotheses,
            "segments": self.segments,
            "discoveries": self.discoveries,
            "e_threshold": _num(self.e_threshold),
            "rows": [r.to_dict() for r in self.rows],
            # only looks of a later rollout step carry the key: other verdicts keep their form
            **(
                {
                    "carried": {
                        "from_step": self.carried_from_step,
                        "windows": [list(w) for w in self.carried_windows],
                        "log_e": [
                            {"segment": list(seg), "check": check, "log_e_value": _num(value)}
                            for seg, check, value in self.carried
                        ],
                    }
                }
                if self.carried_from_step is not None
                else {}
            ),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentVerdict:
        """Inverse of :meth:`to_dict`."""
        by = tuple(str(b) for b in data["by"])
        carried = data.get("carried") or {}
        return cls(
            by=by,
            alpha=float(data["alpha"]),
            on_fail=str(data["on_fail"]),
            confidence_level=float(data["confidence_level"]),
            hypotheses=int(data["hypotheses"]),
            segments=int(data["segments"]),
            discoveries=int(data["discoveries"]),
            e_threshold=_back(data.get("e_threshold"), math.inf),
            rows=tuple(SegmentRow.from_dict(r, by) for r in data["rows"]),
            carried=tuple(
                (
                    tuple(str(v) for v in c["segment"]),
                    str(c["check"]),
                    _back(c.get("log_e_value"), math.inf),
                )
                for c in carried.get("log_e", [])
            ),
            carried_from_step=(
                None if carried.get("from_step") is None else int(carried["from_step"])
            ),
            carried_windows=tuple(
                (int(k), str(a), str(b)) for k, a, b in carried.get("windows", [])
            ),
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per (segment, check), ranked; the segment columns come first."""
        import pandas as pd

        records = []
        for r in self.rows:
            d = r.to_dict()
            seg = d.pop("segment")
            label = d.pop("label")
            records.append({**(seg if isinstance(seg, dict) else {}), "segment": label, **d})
        return pd.DataFrame.from_records(records)

    def to_text(self) -> str:
        """Plain-text table (:func:`canarykit.report.segments.segments_text`)."""
        from canarykit.report.segments import segments_text

        return segments_text(self)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        from canarykit.report.segments import segments_html

        return segments_html(self)

    def plot(self, **kwargs: Any) -> Any:
        """Heatmap of segments × checks (:func:`canarykit.report.segments.plot_segments`)."""
        from canarykit.report.segments import plot_segments

        return plot_segments(self, **kwargs)
