"""The demo's promotion part: it makes its own keys and walks the signed flow end to end."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pyarrow.parquet as pq

from canarykit.cli import demo_cmd
from canarykit.verdict.evaluate import evaluate

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


def test_the_demo_promotes_with_keys_it_makes(tmp_path: Path) -> None:
    verdict = evaluate(pq.read_table(SAMPLES / "clean_canary.parquet"), log=False)
    assert verdict.decision == "PROCEED"
    name = demo_cmd.DEMO_CANARIES[0][0]
    (tmp_path / f"verdict-{name}.json").write_text(verdict.to_json() + "\n")
    lines: list[str] = []
    summary = demo_cmd._promotion_demo(tmp_path, lambda *said: lines.extend(said))
    assert summary["release_verified"] is True
    assert summary["startup_exit_code"] == 0
    assert summary["audit_ok"] is True
    assert summary["signed_acts"] >= 9
    assert "signed with sam's key, not pat's" in summary["denied"]
    keys = sorted((tmp_path / "promotion" / "keys").iterdir())
    assert len(keys) == len(demo_cmd.PEOPLE) + 3
    assert all(stat.S_IMODE(os.stat(k).st_mode) == 0o600 for k in keys)
    assert any("check-startup: exit 0" in line for line in lines)
    # a second run starts over (new keys, new registry)
    again = demo_cmd._promotion_demo(tmp_path, lambda *said: None)
    assert again["startup_exit_code"] == 0
