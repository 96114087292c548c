"""Evaluate a canary: stored traces → summaries → checks → Rego decision → :class:`Verdict`.

Examples
--------
>>> from canarykit.traces import TraceStore
>>> from canarykit.traces.generate import generate_traces
>>> store = TraceStore()
>>> _ = store.ingest(generate_traces("too_little_data", seed=1))
>>> v = evaluate(store)
>>> v.decision, v.exit_code
('CONTINUE', 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from canarykit.errors import InvalidInputError, PolicyError
from canarykit.traces.decision_log import append_decision, load_policy_snapshot
from canarykit.traces.lake import LakeFilter, is_delta_table, lake_files
from canarykit.traces.look_cache import catalogued_groups
from canarykit.traces.rollouts import RolloutRecord, current_rollout, open_models
from canarykit.traces.store import TraceStore
from canarykit.traces.store_connection import is_duckdb_file
from canarykit.traces.summaries import Mode, Selection, summarize
from canarykit.traces.traffic import stored_models
from canarykit.traces.validation import check_stored_timestamps
from canarykit.traces.window import TraceWindow, parse_utc_timestamp
from canarykit.verdict.from_summaries import summary_plan, verdict_from_summaries
from canarykit.verdict.policy import Policy, load_policy, policy_from_files
from canarykit.verdict.verdict import Verdict

__all__ = [
    "evaluate",
    "open_source",
    "resolve_selection",
    "summary_plan",
    "verdict_from_summaries",
]


def open_source(
    source: Any, *, writable: bool = False, lake_filter: LakeFilter | None = None
) -> TraceStore:
    """A store for ``source``, validated as an ingest would be.

    Parameters
    ----------
    source : TraceStore, path, directory, glob, table-like object, or a list of them
        A DuckDB trace store (a file starting with DuckDB's header), or anything
        :meth:`TraceStore.from_files` reads in place: Parquet/CSV files, directories and globs
        (one scan, Hive partitions as columns), Arrow tables, datasets and streams,
        pandas/polars frames, DuckDB relations, ``(connection, "table")``.
    writable : bool
        Open a DuckDB store for writing (to log the verdict).
    lake_filter : LakeFilter, optional
        Read only the partitions of a Hive-partitioned directory or Delta table that may hold
        the model and window (:mod:`canarykit.traces.lake`). A Delta table is always read
        through its current snapshot's files.

    Raises
    ------
    InvalidInputError
        A source read in place breaks a rule of the trace contract (one line).
    StorageError
        The store cannot be opened, or it holds rows no ingest would accept (a ``ts`` out of
        range, written by SQL).

    Examples
    --------
    >>> from canarykit.traces.generate import generate_traces
    >>> with open_source(generate_traces("identical", n_requests=100, seed=1)) as store:
    ...     store.count()
    100
    """
    if isinstance(source, TraceStore):
        check_stored_timestamps(source.connection, str(source.path))
        return source
    if isinstance(source, str | Path) and is_duckdb_file(source):
        store = TraceStore(source, read_only=not writable, create=False)
        try:
            check_stored_timestamps(store.connection, str(source))
        except BaseException:
            store.close()
            raise
        return store
    if isinstance(source, str | Path) and str(source).endswith((".duckdb", ".db")):
        if Path(source).exists():
            raise InvalidInputError(f"{source}: not a DuckDB trace store (no DuckDB header)")
        raise InvalidInputError(f"{source}: no such DuckDB trace store")
    if isinstance(source, str | Path) and (
        is_delta_table(source) or (lake_filter is not None and lake_filter.active)
    ):
        files, _ = lake_files(source, lake_filter)
        return TraceStore.from_files(files)
    return TraceStore.from_files(source)


@dataclass(frozen=True, slots=True)
class _Group:
    model: str
    version: str
    arm: str


def _stored_groups(store: TraceStore, window: TraceWindow) -> list[_Group]:
    """The distinct (model, version, arm) with rows in ``window`` (of its model when given).

    For the whole store, the batch catalogue's answer when it accounts for every stored row
    (:func:`canarykit.traces.look_cache.catalogued_groups`); otherwise a ``DISTINCT`` over three dictionary-compressed columns, not the counts and time ranges of
    ``store.info``; a model's filter is pushed into the scan, so the row groups of other models
    (rows are clustered by model at ingest) are skipped.
    """
    if isinstance(store, TraceStore):  # another engine's traces were validated when registered
        check_stored_timestamps(store.connection, str(store.path))
        if (
            window.start is None
            and window.end is None
            and window.versions is None
            and window.arms is None
        ):
            # the whole store: the batch catalogue answers without a scan
            known = catalogued_groups(store.connection)
            if known is not None:
                return [_Group(m, v, a) for m, v, a in known if window.model in (None, m)]
    where, params = window.where()
    rows = store.connection.execute(
        f"SELECT DISTINCT model, version, arm FROM traces WHERE {where}", params
    ).fetchall()
    return [_Group(str(m), str(v), str(a)) for m, v, a in rows]


def _source_name(store: TraceStore) -> str:
    """The store's file, or "the source" for traces read in place."""
    path = str(store.path)
    return "the source" if path == ":memory:" else path


def _window_text(since: str | None, until: str | None) -> str:
    """`` in the window [since, until)`` as the user gave it (empty without a window)."""
    if since is None and until is None:
        return ""
    return f" in the window [{since + 'Z' if since else '…'}, {until + 'Z' if until else '…'})"


def resolve_selection(
    store: TraceStore,
    *,
    model: str | None,
    baseline: str | None,
    candidate: str | None,
    until: str | None,
    since: str | None = None,
) -> Selection:
    """Infer model, versions and mode from what the store holds, or check the given ones."""
    groups = _stored_groups(store, TraceWindow(model=model, start=since, end=until))
    models = sorted({g.model for g in groups})
    if model is not None and not groups:  # for the message: the models the window does hold
        models = sorted(
            {g.model for g in _stored_groups(store, TraceWindow(start=since, end=until))}
        )
    if model is None:
        if len(models) != 1:
            if models:
                raise InvalidInputError(
                    f"{_source_name(store)} holds several models ({', '.join(models)}): "
                    "pass --model"
                )
            raise InvalidInputError(
                f"{_source_name(store)} holds no traces{_window_text(since, until)}"
            )
        model = models[0]
    elif model not in models:
        span = store.connection.execute(
            "SELECT min(ts), max(ts) FROM traces WHERE model = ?", [model]
        ).fetchall()[0]
        if span[0] is not None and (since is not None or until is not None):
            raise InvalidInputError(
                f"--model {model!r}: no traces{_window_text(since, until)} (its traces run "
                f"from {span[0].isoformat()}Z to {span[1].isoformat()}Z)"
            )
        raise InvalidInputError(
            f"--model {model!r}: not in {_source_name(store)} "
            f"(models{_window_text(since, until)}: {', '.join(models) or 'none'})"
        )
    mine = [g for g in groups if g.model == model]
    controls = sorted({g.version for g in mine if g.arm == "control"})
    if baseline is None:
        if len(controls) != 1:
            raise InvalidInputError(
                f"model {model}: "
                + (
                    f"several control versions ({', '.join(controls)}): pass --baseline"
                    if controls
                    else "no control traffic"
                )
            )
        baseline = controls[0]
    elif baseline not in controls:
        raise InvalidInputError(
            f"--baseline {baseline!r}: no control traffic for it "
            f"(control versions: {', '.join(controls) or 'none'})"
        )
    arms_by_version: dict[str, set[str]] = {}
    for g in mine:
        if g.arm != "control":
            arms_by_version.setdefault(g.version, set()).add(g.arm)
    if candidate is None:
        if len(arms_by_version) != 1:
            raise InvalidInputError(
                f"model {model}: "
                + (
                    f"several candidate versions ({', '.join(sorted(arms_by_version))}): "
                    "pass --candidate"
                    if arms_by_version
                    else "no canary or shadow traffic"
                )
            )
        candidate = next(iter(arms_by_version))
    elif candidate not in arms_by_version:
        raise InvalidInputError(
            f"--candidate {candidate!r}: no canary or shadow traffic for it "
            f"(candidates: {', '.join(sorted(arms_by_version)) or 'none'})"
        )
    arms = arms_by_version[candidate]
    if len(arms) != 1:
        raise InvalidInputError(
            f"version {candidate}: serves both canary and shadow traffic; "
            "a verdict compares one mode"
        )
    mode: Mode = "shadow" if "shadow" in arms else "canary"
    return Selection(
        model=model, baseline=baseline, candidate=candidate, mode=mode, until=until, since=since
    )


def evaluate(
    source: Any,
    *,
    policy: Policy | str | Path | None = None,
    model: str | None = None,
    baseline: str | None = None,
    candidate: str | None = None,
    until: str | None = None,
    since: str | None = None,
    split: float | None = None,
    log: bool = True,
    look: bool = True,
    engine: str = "duckdb",
    spark: Any = None,
    by: str | Sequence[str] | None = None,
) -> Verdict:
    """Evaluate the canary in ``source`` and return its verdict.

    When ``source`` is a trace store in which the model has an open rollout
    (:mod:`canarykit.rollout`), the evaluation is a *look* at the rollout's current step
    (:mod:`canarykit.verdict.look`): the step's window against its planned split, with the
    state carried from the step's earlier looks, and the look is recorded.

    Parameters
    ----------
    source : TraceStore, path, glob, list of paths, pyarrow.Table or pandas.DataFrame
        A DuckDB trace store, or Parquet/CSV files read in place.
    policy : Policy or path, optional
        Default: the shipped policy (``policies/``); during a rollout, the rollout's policy.
    model, baseline, candidate : str, optional
        Inferred when the source holds one model, one control version and one candidate.
    until : str, optional
        End of the window (exclusive, UTC); default: everything stored.
    since : str, optional
        Start of the window (inclusive, UTC; not during a rollout: a look reads its step).
    split : float, optional
        Planned canary share; default: the rollout step closest to the observed share.
    log : bool
        Append the verdict to the store's decision log and record the look (DuckDB stores).
    look : bool
        ``False`` evaluates the window as if no rollout were recorded (replay of a verdict
        made before a rollout started).
    engine : {"duckdb", "spark"}
        What computes the summaries. ``"spark"`` (:mod:`canarykit.engines.spark`) reads
        Parquet/Delta paths, a Spark table name or a Spark DataFrame on ``spark`` (default:
        the active session, else a local one); nothing is logged. Every check equals the DuckDB
        path's; the data digest is engine-specific and the verdict records the engine.
    spark : pyspark.sql.SparkSession, optional
        The session for ``engine="spark"``.
    by : str or sequence of str, optional
        Segment columns (``"region,route"``): adds the segment verdicts
        (:mod:`canarykit.verdict.segments`, ``verdict.segments``); a segment regression STOPs
        the verdict when the policy's ``segments.on_fail`` is ``stop``.
    """
    if engine not in ("duckdb", "spark"):
        raise InvalidInputError(f"--engine: must be duckdb or spark, got {engine!r}")
    if split is not None and not 0.0 < split < 1.0:
        raise InvalidInputError(f"--split: must be a fraction in (0, 1), got {split}")
    until = parse_utc_timestamp(until, name="--until") if until is not None else None
    since = parse_utc_timestamp(since, name="--since") if since is not None else None
    if since is not None and until is not None and since >= until:
        raise InvalidInputError(f"--since {since}Z: must be before --until {until}Z")
    lake_filter = LakeFilter(model=model, since=since, until=until)
    if engine == "spark":
        if by is not None:
            raise InvalidInputError("--by: segment verdicts are computed by --engine duckdb")
        chosen = policy if isinstance(policy, Policy) else load_policy(policy)
        return _evaluate_on_spark(
            source,
            spark,
            chosen,
            lake_filter,
            model=model,
            baseline=baseline,
            candidate=candidate,
            until=until,
            since=since,
            split=split,
        )
    opened = not isinstance(source, TraceStore)
    store = open_source(source, writable=log, lake_filter=lake_filter)
    try:
        record = _open_rollout(store, model) if look else None
        if record is not None:
            rollout_policy = _rollout_policy(store, record, policy)
            _check_look_arguments(record, baseline, candidate, since, split)
            # segment plan steps and --by tables hook into the look
            from canarykit.verdict.segment_look import evaluate_segment_look  # rollouts only

            return evaluate_segment_look(store, record, rollout_policy, until, log, by)
        chosen = policy if isinstance(policy, Policy) else load_policy(policy)
        verdict = _evaluate_store(
            store,
            chosen,
            model=model,
            baseline=baseline,
            candidate=candidate,
            until=until,
            since=since,
            split=split,
        )
        if by is not None:
            from canarykit.verdict.segment_decision import apply_segments  # --by only

            verdict = apply_segments(store, chosen, verdict, by)
        if log and not store.read_only and is_duckdb_file(store.path):
            append_decision(store, verdict.to_dict(), verdict.to_json(), chosen.files)
    finally:
        if opened:
            store.close()
    return verdict


def _evaluate_on_spark(
    source: Any, spark: Any, policy: Policy, lake_filter: LakeFilter, **chosen: Any
) -> Verdict:
    """The verdict with the summaries computed by Spark (:mod:`canarykit.engines.spark`)."""
    if isinstance(source, TraceStore) or (
        isinstance(source, str | Path) and is_duckdb_file(source)
    ):
        raise InvalidInputError(
            "--engine spark: reads Parquet/Delta paths, Spark tables or DataFrames; "
            "a DuckDB trace store is evaluated by --engine duckdb"
        )
    from canarykit.engines.spark import default_session, open_spark_traces, refuse_non_parquet

    if isinstance(source, str | Path) and Path(source).exists() and not is_delta_table(source):
        refuse_non_parquet(lake_files(source, lake_filter)[0])  # before Spark starts (seconds)
    session = spark if spark is not None else default_session()
    with open_spark_traces(session, source, lake_filter) as traces:
        # the passes read only .connection (duck-typed: SparkConnection answers like DuckDB)
        return _evaluate_store(cast(TraceStore, traces), policy, engine=traces.engine, **chosen)


_SNAPSHOT_POLICIES: dict[str, Policy] = {}
"""Policies rebuilt from snapshots, by digest (a snapshot's content never changes)."""


def _open_rollout(store: TraceStore, model: str | None) -> RolloutRecord | None:
    """The open rollout of ``model`` (or of the store's only model), if any."""
    with_rollout = open_models(store)
    if not with_rollout:
        return None
    if model is None:
        models = sorted(set(stored_models(store)) | set(with_rollout))
        if len(models) != 1:
            raise InvalidInputError(
                f"source holds several models ({', '.join(models)}): pass --model"
            )
        model = models[0]
    return current_rollout(store, model)


def _rollout_policy(store: TraceStore, record: RolloutRecord, given: Any) -> Policy:
    if given is not None:
        chosen = given if isinstance(given, Policy) else load_policy(given)
        if chosen.digest != record.policy_digest:
            raise PolicyError(
                f"--policy: digest {chosen.digest} differs from the policy rollout "
                f"{record.rollout_id} runs under ({record.policy_digest}); a rollout keeps one "
                "policy from start to end (start a new rollout to change it)"
            )
        return chosen
    cached = _SNAPSHOT_POLICIES.get(record.policy_digest)
    if cached is not None:
        return cached
    files = load_policy_snapshot(store, record.policy_digest)
    if files is None:
        raise PolicyError(
            f"rollout {record.rollout_id}: its policy snapshot {record.policy_digest} is "
            "missing from the store: pass --policy"
        )
    chosen = policy_from_files(files, source=f"snapshot {record.policy_digest}")
    if chosen.digest != record.policy_digest:
        raise PolicyError(
            f"rollout {record.rollout_id}: the stored policy snapshot hashes to {chosen.digest}, "
            f"not {record.policy_digest}: the store was edited; pass the rollout's --policy"
        )
    _SNAPSHOT_POLICIES[chosen.digest] = chosen
    return chosen


def _check_look_arguments(
    record: RolloutRecord,
    baseline: str | None,
    candidate: str | None,
    since: str | None,
    split: float | None,
) -> None:
    rid = record.rollout_id
    for name, given, recorded in (
        ("--baseline", baseline, record.baseline),
        ("--candidate", candidate, record.candidate),
    ):
        if given is not None and given != recorded:
            raise InvalidInputError(
                f"{name} {given}: rollout {rid} of {record.model} compares {record.baseline} "
                f"→ {record.candidate}"
            )
    if split is not None:
        raise InvalidInputError(
            f"--split: rollout {rid} plans the split of each step ({record.current_step.share:g} "
            "now); move traffic with `canarykit rollout step`"
        )
    if since is not None:
        raise InvalidInputError(
            f"--since: a look at rollout {rid} reads its current step's window "
            f"(from {record.current_step.started_at.isoformat()}Z)"
        )


def _evaluate_store(
    store: TraceStore,
    policy: Policy,
    *,
    model: str | None,
    baseline: str | None,
    candidate: str | None,
    until: str | None,
    since: str | None,
    split: float | None,
    engine: dict[str, str] | None = None,
) -> Verdict:
    selection = resolve_selection(
        store, model=model, baseline=baseline, candidate=candidate, until=until, since=since
    )
    summaries = summarize(store, selection, summary_plan(policy, selection.mode, split))
    return verdict_from_summaries(
        summaries, policy, split=split, until=until, since=since, engine=engine
    )
