"""The Markdown report of ``make bench``: the tables, the ratios against their targets and,
for every target missed, why (measured).
"""

from __future__ import annotations

import os
import platform

from benchmarks.comparison_cases import LOOKS, MODELS
from benchmarks.naive import BOOTSTRAP_RESAMPLES
from benchmarks.timing import REPEATS

CLOSING_NOTE = {
    "needed": "- *verdict vs the needed-columns floor*: the verdict reads the window in three plain "
    "`GROUP BY` passes (latency sub-buckets with the per-arm counts, extremes and the digest; "
    "score histograms; confusion counts), then the values of the latency sub-buckets that hold "
    "the order statistics (the key of every row is tested when the needed sub-buckets are "
    "scattered: the rank grid's geometric tails reach rank 2 and n − 1), and pays a fixed cost "
    "in Python (policy, checks, Rego). The 10-column `hash()` data digest alone costs the line "
    "above — most of the 3× budget — and is still computed on every verdict. A row hash "
    "stored at ingest was measured (10 M rows): summing it alone takes 0.09 s against 0.22 s "
    "for hashing the rows, but the digest also covers the policy's sensitive columns (unknown "
    "at ingest), and combining the stored hash with them exactly as `hash()` does costs more "
    "in SQL than hashing the row (0.28 s with 64-bit arithmetic in 32-bit halves, 19 s with "
    "UHUGEINT); a digest of another definition would break the replay of every earlier verdict.",
    "shadow": "- *shadow vs canary*: pairing happens at ingest (`traces/pairing.py`: a pair id "
    "on both rows, the shadow partner's score, time and version copied onto the control row), "
    "so the paired pass is two scans of the control rows with no join (the `request_id` hash "
    "join is left for stores an older canarykit wrote, until their next ingest, and for "
    "replay); what remains is the shadow arm's order statistics (a 50 % arm instead of 5 %) "
    "and those two scans.",
    "models": "- *1 of 20 models*: rows are clustered by model and time within each ingested "
    "batch only.",
    "startup": "- *startup*: `--help` imports only the parser; an evaluation builds only its "
    "own sub-command's parser and imports numpy, scipy.special, DuckDB, PyYAML and regopy (no "
    "scipy.stats or scipy.optimize, pandas, pyarrow, the segment modules or the promotion "
    "layer). numpy, scipy.special and DuckDB alone take about 0.35 s to import on this machine "
    "(scipy.special parses its docstrings at import); scipy.special loads in a thread while "
    "DuckDB opens and reads the store, which gains only when a core is free. The garbage "
    "collector runs once or twice instead of ~125 times, and not over every object at exit. "
    "The rest is the evaluation (opening the store, four passes, checks, Rego).",
}
NOISE_NOTE = (
    "- timings on a 2-core machine shared with other jobs are noisy: compare the ratios of one "
    "run, not seconds across runs."
)
# tolerance per number: (absolute, relative) — quantile definitions differ (inverted CDF in
# canarykit, linear interpolation in pandas), AUCs differ by the 1e-4 score bins, and
# canarykit's error-rate ratio takes the planned split as the arms' exposure (the observed one
# differs by sampling noise, which the sample-ratio check bounds)
TOLERANCES = {
    "p95_candidate": (0.0, 0.005),
    "p99_ratio": (0.0, 0.01),
    "error_rate_candidate": (1e-12, 0.0),
    "error_rate_ratio": (0.0, 0.01),
    "auc_delta": (1e-3, 0.0),
    "selection_gap_delta": (1e-9, 0.0),
    "tpr_gap_delta": (1e-9, 0.0),
}


def _missed(main: dict[str, dict[str, float]]) -> list[str]:
    """The closing note's lines for the targets this run missed."""
    verdict = main["verdict"]
    ratios = {
        "needed": (verdict["seconds"] / verdict["needed"], 3.0) if "needed" in verdict else None,
        "looks": (main["looks"]["seconds"] / main["looks"]["one"], 1.5)
        if "looks" in main
        else None,
        "parquet": (main["parquet"]["seconds"] / main["parquet"]["store"], 1.5)
        if "parquet" in main
        else None,
        "shadow": (main["shadow"]["seconds"] / main["shadow"]["canary"], 1.5)
        if "shadow" in main
        else None,
        "models": (main["models"]["seconds"] / main["models"]["alone"], 1.3)
        if "models" in main
        else None,
        "startup": (
            max(
                max(main["startup"]["seconds"], main["startup"]["version"]) / 0.3,
                main["startup"].get("small", 0.0) / 0.5,
            ),
            1.0,
        )
        if "startup" in main
        else None,
    }
    notes = {**CLOSING_NOTE, "looks": _looks_note(main), "parquet": _parquet_note(main)}
    return [notes[k] for k, r in ratios.items() if r is not None and r[0] > r[1]]


def _looks_note(main: dict[str, dict[str, float]]) -> str:
    """Why ten looks miss 1.5× one evaluation, with this run's floor of ten looks."""
    lk = main.get("looks", {})
    floor = (
        f" In this run that floor alone costs {lk['reads'] / lk['one']:.2f}× one evaluation, "
        f"which leaves {max(1.5 - lk['reads'] / lk['one'], 0.0) * lk['one'] / LOOKS * 1000:.0f} "
        "ms per look for everything else within the 1.5× target; the looks took "
        f"{(lk['seconds'] - lk['reads']) / LOOKS * 1000:.0f} ms each beyond it."
        if "reads" in lk
        else ""
    )
    return (
        "- *ten looks*: a recorded look reads only the rows after the previous one, in three "
        "queries (pass 1 — counts, extremes, digest and, while an arm's latencies take at most "
        "20,000 distinct values, the count of each value, which answers every order statistic "
        "without reading the window —, score histograms, confusion counts), so over ten looks "
        "every row is read about once. The floor of ten looks (its row in the table: each look opens "
        "the store, reads its slice and merges it, and nothing else) is therefore about one "
        "evaluation plus ten openings of DuckDB (about 14 ms each, an in-memory database "
        "included) and ten queries' start and partial row groups per pass." + floor + " What "
        "is beyond it: closing the store with its checkpoint of the written look (about 10 ms), "
        "the rollout record and freshness queries, the checks' statistics (about 20 ms), Rego "
        "(about 10 ms) and writing the look with its figures. The same ten windows evaluated "
        "without a rollout read everything each time (their row in the table)."
    )


def _parquet_note(main: dict[str, dict[str, float]]) -> str:
    """Why Parquet in place misses 1.5× the store, with this run's floors."""
    pq = main.get("parquet", {})
    floors = (
        f" In this run opening the file alone costs {pq['validate'] / pq['store']:.2f}× the "
        f"store's whole verdict, the unique-key proof alone {pq['keys'] / pq['store']:.2f}× "
        "even with the key hashes already in memory, and decoding the needed columns from the "
        f"file {pq['decode_file'] / pq['decode_store']:.1f}× reading them from the store."
        if "validate" in pq
        else ""
    )
    return (
        "- *Parquet in place*: a file read in place is checked as an ingest would check it on "
        "every evaluation — every contract rule in one SQL pass, a byte screen of the ids for "
        "control characters, and a proof that the `(request_id, arm)` keys are unique (one "
        "hash aggregate over as many key hashes as rows, the exact comparison only when two "
        "hashes collide) — and then each summary pass decodes the Parquet columns again."
        + floors
        + " The floors are the three rows after it in the table. A one-time copy of the needed "
        "columns with the key hashes into memory was measured at 10 M rows: 1.24 s and 1.5 GB peak RSS "
        "(over the 1 GB budget), before the unique-key proof on the copy; it would not bring "
        "the file within 1.5× either and is not used. A store ingested once has none of these "
        "costs: a batch job that looks repeatedly should `ingest`."
    )


def _ratio_row(name: str, seconds: float, reference: float, target: float | None) -> str:
    ratio = seconds / reference
    if target is None:
        verdict = "–"
    elif ratio <= target:
        verdict = f"≤ {target:g}×: met"
    else:
        verdict = f"≤ {target:g}×: **missed by {ratio / target:.2f}×**"
    return f"| {name} | {seconds:.3f} | {reference:.3f} | {ratio:.2f} | {verdict} |"


def _ratios(main: dict[str, dict[str, float]]) -> list[str]:
    """DESIGN.md §7 / issue 15: every comparison as a ratio of two timings of this run."""
    verdict = main["verdict"]
    lines = [
        "",
        "Side by side in this run: each ratio's two timings are taken in turn in one process "
        "(after a warm-up; medians of the repeats), so both see the same machine load; "
        "ratio = first / second:",
        "",
        "| comparison | seconds | reference s | ratio | target |",
        "|---|---:|---:|---:|---|",
    ]
    if "needed" in verdict:
        lines += [
            _ratio_row(
                "verdict vs the needed-columns floor", verdict["seconds"], verdict["needed"], 3
            ),
            _ratio_row(
                "verdict vs the minimal floor", verdict["seconds"], verdict["minimal"], None
            ),
            _ratio_row(
                "the data digest alone vs the needed-columns floor",
                verdict["digest"],
                verdict["needed"],
                None,
            ),
        ]
    if "looks" in main:
        lk = main["looks"]
        lines.append(
            _ratio_row(
                f"{LOOKS} looks of a rollout vs one evaluation", lk["seconds"], lk["one"], 1.5
            )
        )
        if "reads" in lk:
            lines.append(
                _ratio_row(
                    f"floor of {LOOKS} looks: each opens the store, reads its slice, merges "
                    "(no statistics, records or policy) vs one evaluation",
                    lk["reads"],
                    lk["one"],
                    None,
                )
            )
        if "plain" in lk:
            lines.append(
                _ratio_row(
                    f"{LOOKS} windows evaluated without a rollout (no figures kept) vs one",
                    lk["plain"],
                    lk["one"],
                    None,
                )
            )
        if "by" in lk:
            lines.append(
                _ratio_row(
                    f"{LOOKS} looks with `--by region` (segment summaries kept) vs one "
                    "evaluation with `--by region`",
                    lk["by"],
                    lk["one_by"],
                    None,
                )
            )
    if "parquet" in main:
        lines.append(
            _ratio_row(
                "Parquet in place vs store",
                main["parquet"]["seconds"],
                main["parquet"]["store"],
                1.5,
            )
        )
        pq = main["parquet"]
        if "validate" in pq:
            lines += [
                _ratio_row(
                    "floor of Parquet in place: opening the file (contract rules, id screen, "
                    "unique-key proof) alone vs the store's verdict",
                    pq["validate"],
                    pq["store"],
                    None,
                ),
                _ratio_row(
                    "the unique-key proof alone, 64-bit key hashes already in memory, vs the "
                    "store's verdict",
                    pq["keys"],
                    pq["store"],
                    None,
                ),
                _ratio_row(
                    "needed-columns floor read from the Parquet file vs from the store",
                    pq["decode_file"],
                    pq["decode_store"],
                    None,
                ),
            ]
    if "shadow" in main:
        sh = main["shadow"]
        lines.append(_ratio_row("shadow vs canary", sh["seconds"], sh["canary"], 1.5))
        lines.append(
            f"| peak RSS: shadow / canary (MB) | {sh['shadow_rss_mb']:.0f} | "
            f"{verdict['peak_rss_mb']:.0f} | {sh['shadow_rss_mb'] / verdict['peak_rss_mb']:.2f} | – |"
        )
        if "ingest_shadow" in main and "ingest" in main:
            # pairing at ingest (traces/pairing.py) costs the shadow store's ingest this much
            lines.append(
                _ratio_row(
                    "ingest: shadow store (pairing) vs canary store",
                    main["ingest_shadow"]["seconds"],
                    main["ingest"]["seconds"],
                    None,
                )
            )
    if "models" in main:
        md = main["models"]
        lines.append(
            _ratio_row(
                f"1 of {MODELS} models (interleaved) vs a store of that model alone",
                md["seconds"],
                md["alone"],
                1.3,
            )
        )
    if "ingest_bare" in main:
        lines.append(
            _ratio_row(
                "ingest vs bare CREATE TABLE AS",
                main["ingest_bare"]["ingest"],
                main["ingest_bare"]["seconds"],
                None,
            )
        )
    if "tea" in main and main["tea"]["seconds"] == main["tea"]["seconds"]:  # not NaN
        tea = main["tea"]
        lines.append(
            _ratio_row(
                "tea-tasting (error rate and mean latency, t-tests via pandas) vs canarykit's "
                "full verdict",
                tea["seconds"],
                tea["canarykit"],
                None,
            )
        )
    elif "tea" in main:
        lines.append("| tea-tasting | – | – | – | not installed (`pip install tea-tasting`) |")
    lines.append(
        "| spotify-confidence | – | – | – | not measured (its pinned pandas/scipy versions "
        "conflict with ours) |"
    )
    if "startup" in main:
        st = main["startup"]
        lines.append(
            _ratio_row("`canarykit --help` vs `python -c pass`", st["seconds"], st["bare"], None)
        )
        lines.append(
            f"| `canarykit --help` / `--version` absolute (target < 0.3 s) | {st['seconds']:.3f} "
            f"| {st['version']:.3f} | – | {'met' if max(st['seconds'], st['version']) < 0.3 else '**missed**'} |"
        )
        if "small" in st:
            lines.append(
                f"| `canarykit evaluate` on a 10,000-row store, fresh process (target < 0.5 s) "
                f"| {st['small']:.3f} | – | – | {'met' if st['small'] < 0.5 else '**missed**'} |"
            )
    return lines


def lock_report(lock: dict[str, float]) -> str:
    """The registry under eight concurrent writers (``benchmarks/registry_lock.py``)."""
    ok = "yes" if lock["failures"] == 0 and lock["audit_ok"] else "NO"
    return "\n".join(
        [
            "",
            "## Registry: eight processes at once (issue 13)",
            "",
            "Three approvers, two alias movers (compare-and-set), a submitter, small versions "
            f"through Staging and one promotion with a {lock['vulnerabilities']:,.0f}-entry SBOM, "
            "on one SQLite registry, released by one barrier (`benchmarks/registry_lock.py`). "
            "The write lock is held from `BEGIN IMMEDIATE` to `COMMIT`.",
            "",
            "| measure | seconds |",
            "|---|---:|",
            f"| wall time, all eight processes | {lock['wall_seconds']:.2f} |",
            f"| SBOM promotion: write lock held, alone | {lock['sbom_hold_alone']:.3f} |",
            f"| SBOM promotion: whole call, alone | {lock['sbom_promote_alone']:.3f} |",
            f"| SBOM promotion: write lock held, among the eight | "
            f"{lock['sbom_hold_contended']:.3f} |",
            f"| longest write-lock hold of any transaction | {lock['longest_hold_contended']:.3f} |",
            "",
            f'All finished without "registry is locked" and the audit chain verifies: {ok}.',
            "",
        ]
    )


def report(results: dict[int, dict[str, dict[str, float]]], main_rows: int) -> str:
    main = results[main_rows]
    floor, verdict = main["floor"], main["verdict"]
    lines = [
        "# canarykit benchmarks",
        "",
        f"One run of `make bench` on {os.cpu_count()} cores, Python {platform.python_version()}. "
        "Traces: `generate_traces('identical', canary_share=0.05)`, written to Parquet and "
        "ingested into a DuckDB file. Each case runs in its own process; peak RSS is that "
        f"process's maximum resident set size; floor and verdict times are the median of "
        f"{REPEATS} runs.",
        "",
        f"## {main_rows:,} rows"
        + (
            ""
            if main_rows >= 10_000_000
            else f" (reduced size: `--rows {main_rows}`; DESIGN.md §7 targets are set at 10 M)"
        ),
        "",
        "| case | seconds | × floor | peak RSS (MB) |",
        "|---|---:|---:|---:|",
        f"| floor: one-pass DuckDB aggregate over the same columns | {floor['seconds']:.3f} | 1.0 | "
        f"{floor['peak_rss_mb']:.0f} |",
        f"| full default verdict (`evaluate`, {verdict['decision']}) | {verdict['seconds']:.3f} | "
        f"{verdict['seconds'] / floor['seconds']:.1f} | {verdict['peak_rss_mb']:.0f} |",
    ]
    if "naive" in main:
        naive = main["naive"]
        lines.append(
            f"| straightforward pipeline (pandas, sklearn, fairlearn, "
            f"{BOOTSTRAP_RESAMPLES}-resample bootstrap) | "
            f"{naive['seconds']:.1f} | {naive['seconds'] / floor['seconds']:.0f} | "
            f"{naive['peak_rss_mb']:.0f} |"
        )
    lines += _ratios(main)
    if "naive" in main:
        naive = main["naive"]
        lines += [
            "",
            f"canarykit verdict is **{naive['seconds'] / verdict['seconds']:.0f}×** "
            "faster than the straightforward pipeline.",
            "",
            "Agreement with the straightforward pipeline:",
            "",
            "| number | canarykit | straightforward | difference | tolerance | ok |",
            "|---|---:|---:|---:|---:|:-:|",
        ]
        for key, (abs_tol, rel_tol) in TOLERANCES.items():
            a, b = verdict[key], naive[key]
            tol = max(abs_tol, rel_tol * abs(b))
            lines.append(
                f"| {key} | {a:.6g} | {b:.6g} | {a - b:.2g} | {tol:.2g} | "
                f"{'yes' if abs(a - b) <= tol else 'NO'} |"
            )
        lines.append(
            f"| p99 ratio 95% interval | anytime-valid CS | bootstrap "
            f"[{naive['p99_ratio_boot_low']:.4f}, {naive['p99_ratio_boot_high']:.4f}] "
            "| – | – | – |"
        )
    if "fairness" in main:
        fair = main["fairness"]
        fl = f"{main['naive']['fairlearn_seconds']:.1f} s" if "naive" in main else "not run"
        lines += [
            "",
            "Fairness deltas (4 metrics, both arms): one DuckDB `GROUP BY` "
            f"{fair['seconds']:.3f} s + statistics on the counts {fair['stats_seconds']:.4f} s "
            f"(target < 0.3 s); fairlearn `MetricFrame` on the same rows: {fl}.",
        ]
    if "primitives" in main:
        lines += ["", "Statistics on summaries (mean of 20 calls, no I/O):", ""]
        lines += ["| primitive | milliseconds |", "|---|---:|"]
        lines += [
            f"| {k} | {v * 1e3:.2f} |"
            for k, v in main["primitives"].items()
            if k not in ("seconds", "rows", "peak_rss_mb")
        ]
    lines += [
        "",
        "## Ingest and memory growth",
        "",
        "| rows | ingest s | ingest rows/s | ingest peak RSS (MB) | floor s | verdict s | "
        "verdict × floor | verdict peak RSS (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for rows, r in sorted(results.items()):
        ing, fl, ve = r["ingest"], r["floor"], r["verdict"]
        lines.append(
            f"| {rows:,} | {ing['seconds']:.1f} | {rows / ing['seconds']:,.0f} | "
            f"{ing['peak_rss_mb']:.0f} | {fl['seconds']:.3f} | {ve['seconds']:.3f} | "
            f"{ve['seconds'] / fl['seconds']:.1f} | {ve['peak_rss_mb']:.0f} |"
        )
    lines += ["", "## Why targets are missed", "", *_missed(main), NOISE_NOTE]
    return "\n".join(lines) + "\n"
