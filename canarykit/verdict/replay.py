"""Replay a past verdict: recompute it from the stored traces and its policy snapshot.

A look at a recorded rollout is rebuilt from looks ``1..k`` of its step, in order, with the
``until`` times, step start and tuning the verdict records (the state they carry makes look
``k``). The policy is rebuilt from the snapshot named by the verdict's digest: the store's
``policy_snapshots`` table (written by every logged evaluation), or a policy given explicitly
whose digest must match. The recomputed verdict is compared field by field with the stored one,
ignoring only fields that record when and by which code and engine versions it was made
(:data:`~canarykit.verdict.verdict.NON_COMPUTED_FIELDS`). When the DuckDB or regopy version the
verdict records differs from the running one, the result carries a warning (the data digest
uses DuckDB's ``hash()``, so another DuckDB major version may not reproduce it).

The summaries are recomputed by the engine the verdict records (``engine.name``): a verdict
made with ``--engine spark`` is replayed on Spark (``spark=`` or the active/a local session),
since its data digest is Spark's row hash; without pyspark that replay is refused in one line.

In shadow mode the replay pairs control and shadow rows by ``request_id`` (the definition),
not by the pair ids an ingest stored (:mod:`canarykit.traces.pairing`), and warns when those
pair ids contradict ``request_id`` equality: a pair id edited by SQL before a verdict shows
up as differences in the paired checks, and one edited after it as the warning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError, PolicyError
from canarykit.traces.decision_log import load_policy_snapshot
from canarykit.traces.pairing import PAIR_COLUMN, contradicting_pairs, reference_pairing
from canarykit.traces.store import TraceStore
from canarykit.verdict.evaluate import evaluate, is_duckdb_file, open_source
from canarykit.verdict.policy import Policy, load_policy, policy_from_files
from canarykit.verdict.verdict import NON_COMPUTED_FIELDS, Verdict, engine_versions

__all__ = ["ReplayResult", "engine_warning", "load_verdict", "replay"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayResult:
    """Whether a replay reproduced the verdict, and where it differs."""

    identical: bool
    differences: tuple[str, ...]
    original: Verdict
    replayed: Verdict
    warnings: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.identical:
            return (
                f"identical: {self.original.decision} for {self.original.model} "
                f"{self.original.baseline} → {self.original.candidate} (data "
                f"{self.original.data_digest}, policy {self.original.policy_digest})"
            )
        return "different:\n" + "\n".join(f"  {d}" for d in self.differences)

    def to_frame(self) -> Any:
        """The differences as a pandas DataFrame (``field``, ``recorded → replayed``)."""
        import pandas as pd

        rows = [
            dict(zip(("field", "change"), d.split(": ", 1), strict=False)) for d in self.differences
        ]
        return pd.DataFrame(rows, columns=["field", "change"])

    def _repr_html_(self) -> str:
        from canarykit.report.display import replay_html

        return replay_html(self)


def engine_warning(verdict: Verdict) -> str | None:
    """One line when the engines a verdict records differ from the running ones, else ``None``.

    Examples
    --------
    >>> from dataclasses import replace
    >>> from canarykit.traces.generate import generate_traces
    >>> from canarykit.verdict.evaluate import evaluate
    >>> v = evaluate(generate_traces("identical", n_requests=2000, seed=1), log=False)
    >>> engine_warning(v) is None
    True
    >>> engine_warning(replace(v, engines={**v.engines, "duckdb": "0.9.2"}))[:44]
    'the verdict was computed with duckdb 0.9.2, '
    """
    running = engine_versions()
    differ = [
        f"{name} {recorded}"
        for name, recorded in sorted(verdict.engines.items())
        if name in running and running[name] != recorded
    ]
    if not differ:
        return None
    now = ", ".join(f"{name} {running[name]}" for name in sorted(running))
    return (
        f"the verdict was computed with {', '.join(differ)}, this run uses {now}: "
        "a difference may come from the engines (engine versions are not compared)"
    )


def load_verdict(path: str | Path) -> Verdict:
    """Read a verdict JSON file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no such verdict file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InvalidInputError(f"{path}: not a JSON verdict ({err})") from None
    except RecursionError:
        raise InvalidInputError(f"{path}: not a verdict (nested too deeply)") from None
    except IsADirectoryError:
        raise InvalidInputError(f"{path}: is a folder, not a verdict file") from None
    if not isinstance(data, dict):
        raise InvalidInputError(f"{path}: not a JSON verdict object")
    try:
        return Verdict.from_dict(data)
    except InvalidInputError as err:
        raise InvalidInputError(f"{path}: {err}") from None


def _policy_for(verdict: Verdict, source: Any, policy: str | Path | None) -> Policy:
    if policy is not None:
        candidate = load_policy(policy)
        if candidate.digest != verdict.policy_digest:
            raise PolicyError(
                f"{policy}: digest {candidate.digest} differs from the verdict's "
                f"policy {verdict.policy_digest}"
            )
        return candidate
    store = open_source(source)
    try:
        files = load_policy_snapshot(store, verdict.policy_digest)
    finally:
        if store is not source:
            store.close()
    if files is not None:
        return policy_from_files(files, source=f"snapshot {verdict.policy_digest}")
    shipped = load_policy()
    if shipped.digest == verdict.policy_digest:
        return shipped
    raise PolicyError(
        f"policy snapshot {verdict.policy_digest} is neither in the source's "
        "decision log nor the shipped policy: pass --policy"
    )


def _diff(a: Any, b: Any, path: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            _diff(a.get(key), b.get(key), f"{path}.{key}" if path else key, out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            name = x.get("name") if isinstance(x, dict) and "name" in x else i
            _diff(x, y, f"{path}[{name}]", out)
    elif a != b:
        out.append(f"{path}: {a!r} → {b!r}")


def replay(
    verdict: Verdict | str | Path,
    source: Any,
    *,
    policy: str | Path | None = None,
    spark: Any = None,
) -> ReplayResult:
    """Recompute ``verdict`` from ``source`` and compare (see the module docstring)."""
    original = verdict if isinstance(verdict, Verdict) else load_verdict(verdict)
    engine = original.engine.get("name", "duckdb")
    if engine not in ("duckdb", "spark"):
        raise InvalidInputError(
            f"verdict: its summaries were computed by engine {engine!r}; replay recomputes them "
            "with duckdb or spark only (evaluate that engine's summaries document again)"
        )
    if engine == "spark":
        return _replay_on_spark(original, source, policy, spark)
    chosen = _policy_for(original, source, policy)
    sel = original.selection
    # shadow mode: pair by request_id (the definition), never by the stored pair ids, so a
    # pair id edited outside canarykit cannot reproduce the verdict it distorted
    with reference_pairing():
        if original.rollout is not None and original.rollout.rollout_id is not None:
            # a look: rebuild looks 1..k of its step in order (the state they carry)
            store = open_source(source)
            try:
                from canarykit.verdict.segment_look import replay_segment_look  # looks only

                replayed = replay_segment_look(store, chosen, original, sel.get("by"))
            finally:
                if store is not source:
                    store.close()
        else:
            replayed = _evaluate_selection(original, source, chosen, by=sel.get("by"))
    return _compared(original, replayed, _pairing_warnings(original, source))


def _pairing_warnings(original: Verdict, source: Any) -> list[str]:
    """A warning when the store's pair ids contradict request_id equality (shadow mode)."""
    if original.mode != "shadow" or not (
        isinstance(source, TraceStore)
        or (isinstance(source, str | Path) and is_duckdb_file(source))
    ):
        return []  # files read in place and Spark tables hold no pair ids
    store = open_source(source)
    try:
        broken = contradicting_pairs(store.connection, model=original.model)
    finally:
        if store is not source:
            store.close()
    if not broken:
        return []
    return [
        f"pairing: the stored pairing ({PAIR_COLUMN} and the partner copies) of {broken} "
        "control row(s) contradicts request_id equality (edited outside canarykit); this "
        "replay paired by request_id, and verdicts made since the edit may differ from it"
    ]


def _evaluate_selection(original: Verdict, source: Any, policy: Policy, **options: Any) -> Verdict:
    """``evaluate`` on exactly the verdict's recorded selection (no log, not as a look)."""
    sel = original.selection
    return evaluate(
        source,
        policy=policy,
        model=sel.get("model", original.model),
        baseline=sel.get("baseline", original.baseline),
        candidate=sel.get("candidate", original.candidate),
        until=sel.get("until"),
        since=sel.get("since"),
        split=sel.get("split"),
        log=False,
        look=False,
        **options,
    )


def _replay_on_spark(
    original: Verdict, source: Any, policy: str | Path | None, spark: Any
) -> ReplayResult:
    """Replay a verdict the Spark engine made, on Spark (the policy: given, else shipped)."""
    import importlib.util

    if importlib.util.find_spec("pyspark") is None:
        raise InvalidInputError(
            "verdict: computed by the spark engine (its data digest is Spark's row hash); "
            "replaying it needs pyspark (pip install 'canarykit[spark]')"
        )
    if policy is not None:
        chosen = load_policy(policy)
        if chosen.digest != original.policy_digest:
            raise PolicyError(
                f"{policy}: digest {chosen.digest} differs from the verdict's "
                f"policy {original.policy_digest}"
            )
    else:
        chosen = load_policy()
        if chosen.digest != original.policy_digest:
            raise PolicyError(
                f"policy {original.policy_digest} is not the shipped policy and a Spark source "
                "has no decision log: pass --policy"
            )
    replayed = _evaluate_selection(original, source, chosen, engine="spark", spark=spark)
    return _compared(original, replayed)


def _compared(
    original: Verdict, replayed: Verdict, extra_warnings: list[str] | None = None
) -> ReplayResult:
    a, b = original.to_dict(), replayed.to_dict()
    for key in NON_COMPUTED_FIELDS:
        a.pop(key, None)
        b.pop(key, None)
    differences: list[str] = []
    _diff(a, b, "", differences)
    warnings = [w for w in (engine_warning(original),) if w] + list(extra_warnings or [])
    was, now = original.engine.get("version"), replayed.engine.get("version")
    if original.engine.get("name") == "spark" and was is not None and was != now:
        warnings.append(
            f"the verdict's summaries were computed with spark {was}, this run uses spark {now}"
        )
    return ReplayResult(
        identical=not differences,
        differences=tuple(differences),
        original=original,
        replayed=replayed,
        warnings=tuple(warnings),
    )
