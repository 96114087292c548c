"""The cases of ``make bench``: each returns its timings (``benchmarks/run.py`` runs each in
a fresh subprocess, so that its peak resident memory is its own).

Every case takes the Parquet file of the run and the data folder; ratios are taken side by
side in one process (:func:`benchmarks.timing.interleaved`), so both timings see the same
machine load. The cases that compare two ways of doing one job (ten looks vs one evaluation,
Parquet vs store, shadow vs canary, one of many models) are in
:mod:`benchmarks.comparison_cases`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.comparison_cases import (
    case_ingest_shadow,
    case_looks,
    case_models,
    case_parquet,
    case_shadow,
)
from benchmarks.timing import REPEATS, interleaved, median_seconds, peak_rss_mb, store_path

__all__ = ["CASES", "REPEATS", "peak_rss_mb"]

FLOOR_SQL = (
    "SELECT arm, count(*), sum(CAST(error AS INTEGER)), avg(latency_ms), avg(score), "
    'avg(CAST(label AS INTEGER)), min(ts), max(ts), max("group"), max(request_id), max(model), '
    "max(version) FROM traces GROUP BY arm"
)
# DESIGN.md §7: the minimal floor, and the needed-columns floor (one GROUP BY arm, group pass
# over exactly the columns the statistics read)
MINIMAL_FLOOR_SQL = (
    "SELECT arm, count(*), avg(CAST(error AS INTEGER)), avg(latency_ms) FROM traces GROUP BY arm"
)
NEEDED_FLOOR_SQL = (
    'SELECT arm, "group", count(*), sum(CAST(error AS INTEGER)), sum(latency_ms), sum(score), '
    'count(label), sum(CAST(label AS INTEGER)) FROM traces GROUP BY arm, "group"'
)
# the data digest on its own: the same hash the verdict folds into its first pass
DIGEST_SQL = (
    "SELECT arm, sum(CAST(h AS HUGEINT)), bit_xor(h) FROM (SELECT arm, hash(request_id, ts, "
    'model, version, arm, latency_ms, error, score, label, "group") AS h FROM traces) GROUP BY arm'
)


def case_ingest(parquet: str, workdir: str) -> dict[str, float]:
    """Ingest the Parquet file into a new DuckDB store (validation included)."""
    from canarykit.traces import TraceStore

    db = store_path(parquet, workdir)
    for p in (db, Path(f"{db}.wal")):
        p.unlink(missing_ok=True)
    start = time.perf_counter()
    with TraceStore(db) as store:
        report = store.ingest(parquet)
    return {"seconds": time.perf_counter() - start, "rows": report.rows_ingested}


def case_floor(parquet: str, workdir: str) -> dict[str, float]:
    """The floors and the digest alone, over the same store file (medians, interleaved)."""
    import duckdb

    con = duckdb.connect(str(store_path(parquet, workdir)), read_only=True)
    rows = con.execute(FLOOR_SQL).fetchall()
    out: dict[str, float] = {"rows": sum(int(r[1]) for r in rows)}
    for name, sql in (
        ("seconds", FLOOR_SQL),
        ("minimal", MINIMAL_FLOOR_SQL),
        ("needed", NEEDED_FLOOR_SQL),
        ("digest", DIGEST_SQL),
    ):
        out[name] = median_seconds(lambda sql=sql: con.execute(sql).fetchall())
    return out


def case_ingest_bare(parquet: str, workdir: str) -> dict[str, float]:
    """Ingest vs a bare ``CREATE TABLE AS SELECT * FROM read_parquet``, alternately, new files."""
    import duckdb

    from canarykit.traces import TraceStore

    db = Path(workdir) / "bare.duckdb"

    def fresh() -> None:
        for p in (db, Path(f"{db}.wal")):
            p.unlink(missing_ok=True)

    def bare() -> None:
        fresh()
        con = duckdb.connect(str(db))
        con.execute(f"CREATE TABLE traces AS SELECT * FROM read_parquet('{parquet}')")
        con.close()

    def ingest() -> None:
        fresh()
        with TraceStore(db) as store:
            store.ingest(parquet)

    out = interleaved({"seconds": bare, "ingest": ingest}, repeats=1)
    fresh()
    return {**out, "rows": 0}


def case_startup(parquet: str, workdir: str) -> dict[str, float]:
    """``canarykit --help`` and ``--version`` in a fresh interpreter vs ``python -c pass``, and
    ``canarykit evaluate`` on a 10,000-row store (imports included)."""
    from canarykit.traces import TraceStore
    from canarykit.traces.generate import generate_traces

    small = Path(workdir) / "small-10k.duckdb"
    if not small.exists():
        with TraceStore(small) as store:
            store.ingest(generate_traces("identical", n_requests=10_000, seed=1))
    exe = [sys.executable, "-c", "from canarykit.cli.main import main; main()"]
    # as users run it: Python caches compiled modules (a PYTHONDONTWRITEBYTECODE=1 left in the
    # bench's environment would recompile canarykit's modules in every child, ~0.1 s)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([*exe, "evaluate", str(small), "--no-log"], capture_output=True, env=env)
    out: dict[str, float] = {"rows": 0}
    for name, cmd in (
        ("bare", [sys.executable, "-c", "pass"]),
        ("seconds", [*exe, "--help"]),
        ("version", [*exe, "--version"]),
        ("small", [*exe, "evaluate", str(small), "--no-log"]),
    ):
        out[name] = median_seconds(
            lambda cmd=cmd: subprocess.run(cmd, capture_output=True, check=False, env=env), 5
        )
    return out


def case_verdict(parquet: str, workdir: str) -> dict[str, float]:
    """The full default verdict from the store (summaries, statistics, Rego decision)."""
    import duckdb

    from canarykit.verdict.evaluate import evaluate

    path = str(store_path(parquet, workdir))
    con = duckdb.connect(path, read_only=True)
    verdict = evaluate(path, log=False)
    paired = interleaved(
        {
            "seconds": lambda: evaluate(path, log=False),
            "needed": lambda: con.execute(NEEDED_FLOOR_SQL).fetchall(),
            "minimal": lambda: con.execute(MINIMAL_FLOOR_SQL).fetchall(),
            "digest": lambda: con.execute(DIGEST_SQL).fetchall(),
        }
    )
    times = [paired["seconds"]]
    c = {x.name: x for x in verdict.checks}
    sel = c["fairness_selection_rate"].details
    tpr = c["fairness_tpr"].details
    return {
        **paired,
        "seconds": statistics.median(times),
        "rows": c["latency_p95"].n_control + c["latency_p95"].n_candidate,
        "decision": verdict.decision,
        "p95_candidate": c["latency_p95"].estimate,
        "p99_ratio": c["latency_p99"].estimate,
        "error_rate_candidate": c["error_rate"].estimate,
        "error_rate_ratio": c["error_rate_delta"].estimate,
        "auc_delta": c["auc_delta"].estimate,
        "selection_gap_delta": sel["gap_candidate"] - sel["gap_control"],
        "tpr_gap_delta": tpr["gap_candidate"] - tpr["gap_control"],
    }


def case_tea(parquet: str, workdir: str) -> dict[str, float]:
    """tea-tasting on the comparable subset: error rate and mean latency, control vs canary.

    tea-tasting's fixed-horizon t-tests need one pass to pandas of the two columns (its ibis
    path is not used: it needs an ibis release matching the installed DuckDB); canarykit's
    full verdict is timed side by side. ``seconds`` is ``nan`` when tea-tasting is missing.
    """
    from canarykit.verdict.evaluate import evaluate

    path = str(store_path(parquet, workdir))
    try:
        import duckdb
        import tea_tasting as tt
    except ImportError:
        return {"seconds": float("nan"), "canarykit": float("nan"), "rows": 0}
    con = duckdb.connect(path, read_only=True)
    experiment = tt.Experiment(
        error_rate=tt.Mean("err"), latency_mean=tt.Mean("latency_ms"), variant="arm"
    )

    def tea() -> None:
        frame = con.execute(
            "SELECT arm, CAST(error AS INTEGER) AS err, latency_ms FROM traces "
            "WHERE latency_ms IS NOT NULL"
        ).df()
        experiment.analyze(frame, control="control")

    return {
        **interleaved({"seconds": tea, "canarykit": lambda: evaluate(path, log=False)}),
        "rows": 0,
    }


def case_naive(parquet: str, workdir: str) -> dict[str, float]:
    """pandas + scikit-learn + fairlearn + bootstrap on the same Parquet file."""
    from benchmarks.naive import naive_pipeline

    start = time.perf_counter()
    numbers = naive_pipeline(parquet)
    return {"seconds": time.perf_counter() - start, **numbers}


def case_fairness(parquet: str, workdir: str) -> dict[str, float]:
    """Fairness deltas: one DuckDB GROUP BY for confusion counts, then statistics on counts."""
    import duckdb

    from canarykit.stats.fairness import ConfusionCounts, fairness_gap_delta

    con = duckdb.connect(str(store_path(parquet, workdir)), read_only=True)
    start = time.perf_counter()
    rows = con.execute(
        'SELECT arm, "group", label, score >= 0.5, count(*) FROM traces '
        "WHERE label IS NOT NULL AND score IS NOT NULL GROUP BY ALL"
    ).fetchall()
    sql_seconds = time.perf_counter() - start
    start = time.perf_counter()
    counts = {}
    for arm in ("control", "canary"):
        mine = [r for r in rows if r[0] == arm]
        counts[arm] = ConfusionCounts.from_grouped(
            groups=[r[1] for r in mine],
            label=[r[2] for r in mine],
            decision=[r[3] for r in mine],
            count=[r[4] for r in mine],
        )
    for metric in ("selection_rate", "tpr", "fpr", "equalized_odds"):
        fairness_gap_delta(counts["control"], counts["canary"], metric=metric)
    return {
        "seconds": sql_seconds,
        "stats_seconds": time.perf_counter() - start,
        "rows": sum(r[4] for r in rows),
    }


def case_primitives(*_: str) -> dict[str, float]:
    """Statistics on summaries alone (no I/O): microseconds to milliseconds each."""
    import numpy as np

    from canarykit.stats.auc_histogram import auc_delta_from_histograms
    from canarykit.stats.error_rate import error_rate_ratio_test
    from canarykit.stats.fairness import ConfusionCounts, fairness_gap_delta
    from canarykit.stats.quantiles import (
        OrderStatistics,
        quantile_ratio_rank_requests,
        quantile_ratio_test,
    )

    rng = np.random.default_rng(9)
    c, t = np.sort(rng.lognormal(4, 0.5, 200_000)), np.sort(rng.lognormal(4, 0.5, 10_000))
    rc, rt = quantile_ratio_rank_requests(c.size, t.size, 0.99)
    oc = OrderStatistics.from_request(rc, c[np.asarray(rc.ranks) - 1])
    ot = OrderStatistics.from_request(rt, t[np.asarray(rt.ranks) - 1])
    groups = [f"g{i}" for i in range(200)]
    cc = ConfusionCounts.from_arrays(
        groups=groups, **{k: rng.integers(1000, 5000, 200) for k in ("tp", "fp", "fn", "tn")}
    )
    hist = [rng.integers(0, 50, 10_000) for _ in range(4)]
    metrics = ("selection_rate", "tpr", "fpr", "equalized_odds")
    calls = {
        "quantile_ratio_test (p99, 200k/10k, rank grid)": lambda: quantile_ratio_test(oc, ot, 0.99),
        "error_rate_ratio_test (e-process + ratio CS)": lambda: error_rate_ratio_test(
            n_control=950_000,
            n_control_errors=9_500,
            n_candidate=50_000,
            n_candidate_errors=600,
            rho_candidate=0.05,
        ),
        "fairness_gap_delta, 200 groups, 4 metrics": lambda: [
            fairness_gap_delta(cc, cc, metric=m) for m in metrics
        ],
        "auc_delta_from_histograms (10,000 bins)": lambda: auc_delta_from_histograms(*hist),
    }
    out: dict[str, float] = {"seconds": 0.0, "rows": 0}
    for name, call in calls.items():
        call()  # warm caches
        start = time.perf_counter()
        for _ in range(20):
            call()
        out[name] = (time.perf_counter() - start) / 20
    return out


def case_registry_lock(entries: str, *_: str) -> dict[str, float]:
    """Eight processes on one registry (issue 13), and the big SBOM promotion alone."""
    from benchmarks.registry_lock import measure, solo

    many = measure(int(entries))
    alone = solo(int(entries))
    return {
        "vulnerabilities": float(entries),
        "wall_seconds": many["wall_seconds"],
        "sbom_hold_contended": many["sbom_promotion_lock_hold_seconds"],
        "longest_hold_contended": many["longest_lock_hold_seconds"],
        "failures": float(len(many["failures"])),
        "audit_ok": float(many["audit_ok"]),
        "sbom_promote_alone": alone["promote_seconds"],
        "sbom_hold_alone": alone["lock_hold_seconds"],
    }


CASES: dict[str, Callable[..., dict[str, float]]] = {
    "ingest": case_ingest,
    "floor": case_floor,
    "verdict": case_verdict,
    "naive": case_naive,
    "fairness": case_fairness,
    "primitives": case_primitives,
    "ingest_bare": case_ingest_bare,
    "looks": case_looks,
    "tea": case_tea,
    "parquet": case_parquet,
    "ingest_shadow": case_ingest_shadow,
    "shadow": case_shadow,
    "models": case_models,
    "startup": case_startup,
    "registry_lock": case_registry_lock,
}
