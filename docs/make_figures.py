"""Generate the figures of the documentation from the bundled sample traces.

Usage (from anywhere)::

    .venv/bin/python docs/make_figures.py

writes ``docs/images/overview.png``: ``verdict.plot(source)`` for the ``fairness_regression``
sample (a STOP: the candidate widens the selection-rate gap of group C and loses AUC; the
figure is deterministic: same traces, same verdict, same pixels), and
``docs/images/dashboard.png``: a screenshot of ``canarykit serve`` on a simulated rollout whose
errors triple at the 25 % step, taken with Debian's Chromium through Playwright (skipped, with a
message, where no Chromium is installed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from canarykit.verdict.evaluate import evaluate

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "samples" / "fairness_regression.parquet"


def make_overview(out: Path, *, dpi: int = 80) -> Path:
    """Evaluate the sample canary and save its overview figure to ``out``."""
    verdict = evaluate(SAMPLE, log=False)
    figure = verdict.plot(SAMPLE)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=dpi, metadata={"Software": None})
    return out


def make_dashboard(out: Path) -> Path | None:
    """Screenshot of the live dashboard on a simulated rollout (None without Chromium)."""
    import datetime as dt
    import shutil
    import tempfile

    from canarykit.dashboard.server import make_server, serve_in_thread
    from canarykit.rollout import start_rollout, step_rollout
    from canarykit.simulate.rollout import MODEL, SCENARIOS, START, rollout_traffic
    from canarykit.traces.store import ingest_new_or_existing
    from canarykit.verdict.policy import load_policy

    chromium = shutil.which("chromium")
    if chromium is None:
        print("no chromium: dashboard screenshot skipped (apt-get install chromium)")
        return None
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "rollout.duckdb"
        plan = load_policy().rollout
        ingest_new_or_existing(
            db, rollout_traffic(SCENARIOS["errors_x3_at_25"], plan, rate=100.0, seed=2026)
        )
        start_rollout(db, model=MODEL, at=START)
        for step, begin in ((1, 0), (2, 30)):
            if step == 2:
                step_rollout(db, model=MODEL, to=2, at=START + dt.timedelta(minutes=30))
            for minute in range(5, 31, 5):
                evaluate(db, until=(START + dt.timedelta(minutes=begin + minute)).isoformat())
        server = make_server(db, port=0)
        stop = serve_in_thread(server)
        host, port = server.server_address[:2]
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=chromium,
                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
                )
                page = browser.new_page(viewport={"width": 1280, "height": 1400})
                page.goto(f"http://{host}:{port}/")
                page.wait_for_selector("#checks")
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out), full_page=True)
                browser.close()
        finally:
            stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "overview.png")
    parser.add_argument("--dpi", type=int, default=80)
    args = parser.parse_args()
    print(make_overview(args.out, dpi=args.dpi))
    shot = make_dashboard(args.out.parent / "dashboard.png")
    if shot is not None:
        print(shot)


if __name__ == "__main__":
    main()
