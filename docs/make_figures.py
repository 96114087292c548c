"""Generate the figures of the documentation from the bundled sample traces.

Usage (from anywhere)::

    .venv/bin/python docs/make_figures.py

writes ``docs/images/overview.png``: ``verdict.plot(source)`` for the ``fairness_regression``
sample (a STOP: the candidate widens the selection-rate gap of group C and loses AUC).
The figure is deterministic: same traces, same verdict, same pixels (no timestamp metadata).
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "overview.png")
    parser.add_argument("--dpi", type=int, default=80)
    args = parser.parse_args()
    print(make_overview(args.out, dpi=args.dpi))


if __name__ == "__main__":
    main()
