"""The bench's side-by-side cases: two ways of doing one job, timed in turn in one process.

Ten looks of a rollout vs one evaluation of the whole window, the Parquet file read in place
vs the ingested store, shadow vs canary mode, and one model of a store of twenty vs a store of
that model alone. Where a target of DESIGN.md §7 is out of reach, the case also times the
floor of the job — the part no implementation of it can skip — so that the report can say how
much of the budget that floor alone takes.
"""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.timing import interleaved, median_seconds, peak_rss_mb, store_path

__all__ = [
    "LOOKS",
    "MODELS",
    "case_ingest_shadow",
    "case_looks",
    "case_models",
    "case_parquet",
    "case_shadow",
]

LOOKS = 10
MODELS = 20


def _look_reads(path: str, since: str, untils: list[str]) -> float:
    """The floor of ten looks: what each look must read, and nothing else.

    For each ``until``: open the store for writing (as a look does), read the rows since the
    previous look with its summary passes and merge them into the earlier figures
    (:func:`~canarykit.traces.summaries.summarize_since`, exactly the look's reads), close. No
    policy, statistics, Rego, records or checkpoint of written rows.
    """
    import duckdb

    from canarykit.traces import TraceStore
    from canarykit.traces.summaries import Selection, SummaryPlan, summarize_since
    from canarykit.verdict.policy import load_policy

    con = duckdb.connect(path, read_only=True)
    versions = dict(con.execute("SELECT DISTINCT arm, version FROM traces").fetchall())
    con.close()
    policy = load_policy()
    plan = SummaryPlan(
        decision_threshold=policy.decision_threshold,
        feature_sets=tuple(
            sorted({c.features for c in policy.checks.values() if c.kind == "fairness_gap_delta"})
        ),
    )
    figures, previous = None, None
    start = time.perf_counter()
    for until in untils:
        selection = Selection(
            model="risk-default",
            baseline=versions["control"],
            candidate=versions["canary"],
            mode="canary",
            since=since,
            until=until,
        )
        with TraceStore(path) as store:
            _, figures = summarize_since(store, selection, plan, figures, previous)
        previous = until
    return time.perf_counter() - start


def case_looks(parquet: str, workdir: str) -> dict[str, float]:
    """Ten looks of a rollout at a growing window (until = 10 %, 20 %, … of the span) vs one
    evaluation of the whole window.

    The looks run as a batch job runs them: a rollout is started on a copy of the store and each
    look is recorded (so the next one reads only the rows after it). ``plain`` is the same ten
    windows evaluated without a rollout (each reads its whole window). ``by`` is ten looks of
    another rollout with ``--by region`` (segment tables, their summaries kept from look to
    look), against ``one_by``, one evaluation of the whole window with ``--by region``.
    """
    import datetime as dt
    import shutil

    import duckdb

    from canarykit.rollout import start_rollout
    from canarykit.traces import TraceStore
    from canarykit.verdict.evaluate import evaluate

    path = str(store_path(parquet, workdir))
    con = duckdb.connect(path, read_only=True)
    first, last = con.execute("SELECT min(ts), max(ts) FROM traces").fetchall()[0]
    con.close()
    span = last - first
    untils = [
        (first + span * (i / LOOKS) + dt.timedelta(microseconds=1)).isoformat() + "Z"
        for i in range(1, LOOKS + 1)
    ]
    one = median_seconds(lambda: evaluate(path, log=False))
    rollout = str(Path(workdir) / "looks.duckdb")
    shutil.copyfile(path, rollout)
    with TraceStore(rollout) as store:
        start_rollout(store, model="risk-default", at=first.isoformat() + "Z")
    start = time.perf_counter()
    for until in untils:
        evaluate(rollout, until=until)
    seconds = time.perf_counter() - start
    Path(rollout).unlink()
    reads = _look_reads(path, first.isoformat() + "Z", untils)
    start = time.perf_counter()
    for until in untils:
        evaluate(path, log=False, until=until)
    plain = time.perf_counter() - start
    one_by = median_seconds(lambda: evaluate(path, log=False, by="region"))
    shutil.copyfile(path, rollout)
    with TraceStore(rollout) as store:
        start_rollout(store, model="risk-default", at=first.isoformat() + "Z")
    start = time.perf_counter()
    for until in untils:
        evaluate(rollout, until=until, by="region")
    by = time.perf_counter() - start
    Path(rollout).unlink()
    return {
        "seconds": seconds,
        "one": one,
        "reads": reads,
        "plain": plain,
        "by": by,
        "one_by": one_by,
        "rows": 0,
    }


def case_parquet(parquet: str, workdir: str) -> dict[str, float]:
    """The default verdict on the Parquet file read in place (validation included) vs the store.

    And the floors of reading in place, each timed in turn with the two verdicts:
    ``validate`` opens the file as :func:`~canarykit.verdict.evaluate.evaluate` does (every
    contract rule, the id screen, the unique-key proof) and nothing else; ``keys`` is the
    unique-key proof alone with the 64-bit key hashes already in memory (one hash aggregate
    over as many keys as rows: what any exact proof of distinct keys costs); ``decode_file``
    and ``decode_store`` are the needed-columns floor read from the file and from the store.
    """
    import duckdb

    from benchmarks.cases import NEEDED_FLOOR_SQL
    from canarykit.traces import TraceStore
    from canarykit.verdict.evaluate import evaluate

    store = str(store_path(parquet, workdir))
    keys = duckdb.connect()
    keys.execute(
        f"CREATE TABLE k AS SELECT hash(request_id, arm) AS h FROM read_parquet('{parquet}')"
    )
    file_con = duckdb.connect()
    file_con.execute(f"CREATE VIEW traces AS SELECT * FROM read_parquet('{parquet}')")
    store_con = duckdb.connect(store, read_only=True)

    def validate() -> None:
        TraceStore.from_files(parquet).close()

    out = interleaved(
        {
            "seconds": lambda: evaluate(parquet, log=False),
            "store": lambda: evaluate(store, log=False),
            "validate": validate,
            "keys": lambda: keys.execute(
                "SELECT count(*) FROM (SELECT h FROM k GROUP BY h)"
            ).fetchall(),
            "decode_file": lambda: file_con.execute(NEEDED_FLOOR_SQL).fetchall(),
            "decode_store": lambda: store_con.execute(NEEDED_FLOOR_SQL).fetchall(),
        }
    )
    for con in (keys, file_con, store_con):
        con.close()
    return {**out, "rows": 0}


def _shadow_store(parquet: str, workdir: str) -> str:
    return str(store_path(parquet, workdir)).replace("identical", "shadow")


def case_ingest_shadow(parquet: str, workdir: str) -> dict[str, float]:
    """Ingest the shadow-mode Parquet file into a new store (pairing included).

    Its own process, so that the shadow verdict's peak RSS (``case_shadow``) is the verdict's.
    """
    from canarykit.traces import TraceStore

    shadow = _shadow_store(parquet, workdir)
    for p in (Path(shadow), Path(f"{shadow}.wal")):
        p.unlink(missing_ok=True)
    start = time.perf_counter()
    with TraceStore(shadow) as store:
        store.ingest(parquet.replace("identical", "shadow"))
    return {"seconds": time.perf_counter() - start, "rows": 0}


def case_shadow(parquet: str, workdir: str) -> dict[str, float]:
    """The default verdict on a shadow-mode store of the same number of rows
    (``case_ingest_shadow`` built it, paired at ingest)."""
    from canarykit.verdict.evaluate import evaluate

    shadow = _shadow_store(parquet, workdir)
    canary = str(store_path(parquet, workdir))
    evaluate(shadow, log=False)
    shadow_rss = peak_rss_mb()  # before the canary evaluations share this process
    return {
        "shadow_rss_mb": shadow_rss,
        **interleaved(
            {
                "seconds": lambda: evaluate(shadow, log=False),
                "canary": lambda: evaluate(canary, log=False),
            }
        ),
        "rows": 0,
    }


def case_models(parquet: str, workdir: str) -> dict[str, float]:
    """One of 20 models interleaved in time vs a store of that model's rows alone.

    Both stores are made by ``TraceStore.ingest`` (which clusters rows by model and time) from
    Parquet files whose rows are ordered by time, the 20 models interleaved.
    """
    import duckdb

    from canarykit.traces import TraceStore
    from canarykit.verdict.evaluate import evaluate

    stem = Path(parquet).stem
    many = Path(workdir) / f"models-{stem}.duckdb"
    alone = Path(workdir) / f"alone-{stem}.duckdb"
    if not alone.exists():
        con = duckdb.connect()
        for db, where in ((many, ""), (alone, "WHERE model = 'm00'")):
            source = db.with_suffix(".parquet")
            con.execute(
                "COPY (SELECT * FROM (SELECT * REPLACE ('m' || lpad(CAST(hash(request_id) % "
                f"{MODELS} AS VARCHAR), 2, '0') AS model) FROM read_parquet('{parquet}')) "
                f"{where} ORDER BY ts) TO '{source}' (FORMAT parquet, ROW_GROUP_SIZE 256000)"
            )
            with TraceStore(db) as store:
                store.ingest(str(source))
            source.unlink()
        con.close()
    return {
        **interleaved(
            {
                "seconds": lambda: evaluate(str(many), model="m00", log=False),
                "alone": lambda: evaluate(str(alone), model="m00", log=False),
            }
        ),
        "rows": 0,
    }
