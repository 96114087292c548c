"""Acceptance of issue 13: eight processes acting on one registry at once — three security
approvers, two alias movers (compare-and-set, each move under its own approved change ticket), a
submitter, one process taking small versions through Staging and one promoting a version with a
3,000-entry SBOM — all finish, none with "registry is locked", and the audit chain verifies.

The workload is :mod:`benchmarks.registry_lock` (``make bench`` runs it and prints the timings:
wall time and how long each transaction held the write lock). Timings are not asserted here;
the processes get a generous timeout.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.registry_lock import WORKERS, run


def test_eight_processes_finish_without_registry_is_locked(tmp_path: Path) -> None:
    result = run(tmp_path, entries=3000, rounds=4, timeout=300)
    outcomes = {w["worker"]: w["outcome"] for w in result["workers"]}
    assert not [o for o in outcomes.values() if "locked" in o]
    assert outcomes == dict.fromkeys(WORKERS, "ok"), [
        w.get("traceback", w["outcome"]) for w in result["workers"] if w["outcome"] != "ok"
    ]
    assert result["exit_codes"] == dict.fromkeys(WORKERS, 0)
    assert result["audit_ok"], result["audit_problems"]
    assert result["big_stage"] == "Staging"  # the 3,000-entry SBOM promotion landed
    counts = {w["worker"]: w["count"] for w in result["workers"]}
    assert counts["submit"] == counts["stage"] == counts["approve-sam"] == 4
