"""The straightforward pipeline a team would write by hand, for ``make bench`` to compare against.

pandas reads the rows, ``groupby().quantile`` gives the latency percentiles, scikit-learn's
``roc_auc_score`` the AUCs, fairlearn's ``MetricFrame`` the group metrics, and a naive bootstrap
(resampling both arms' rows) the interval for the p99 ratio.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, selection_rate, true_positive_rate
from sklearn.metrics import roc_auc_score

BOOTSTRAP_RESAMPLES = 200  # the low end for a percentile interval (Efron & Tibshirani)


def naive_pipeline(parquet: str, *, seed: int = 0) -> dict[str, float]:
    """The same numbers as the default verdict, computed row by row in pandas & co."""
    df = pd.read_parquet(parquet)
    out: dict[str, float] = {}
    q = df.groupby("arm")["latency_ms"].quantile([0.95, 0.99])
    out["p95_candidate"] = float(q[("canary", 0.95)])
    out["p99_ratio"] = float(q[("canary", 0.99)] / q[("control", 0.99)])
    errors = df.groupby("arm")["error"].mean()
    out["error_rate_candidate"] = float(errors["canary"])
    out["error_rate_ratio"] = float(errors["canary"] / errors["control"])
    labelled = df[df["label"].notna() & df["score"].notna()]
    aucs = {
        arm: roc_auc_score(g["label"].astype(bool), g["score"])
        for arm, g in labelled.groupby("arm")
    }
    out["auc_delta"] = float(aucs["canary"] - aucs["control"])
    gaps = {}
    fairlearn_start = time.perf_counter()
    for arm, g in labelled.groupby("arm"):
        frame = MetricFrame(
            metrics={"selection_rate": selection_rate, "tpr": true_positive_rate},
            y_true=g["label"].astype(bool),
            y_pred=g["score"] >= 0.5,
            sensitive_features=g["group"],
        )
        gaps[arm] = frame.difference()
    out["fairlearn_seconds"] = time.perf_counter() - fairlearn_start
    out["selection_gap_delta"] = float(
        gaps["canary"]["selection_rate"] - gaps["control"]["selection_rate"]
    )
    out["tpr_gap_delta"] = float(gaps["canary"]["tpr"] - gaps["control"]["tpr"])
    rng = np.random.default_rng(seed)
    lat = {arm: g.dropna().to_numpy() for arm, g in df.groupby("arm")["latency_ms"]}
    ratios = [
        np.quantile(rng.choice(lat["canary"], lat["canary"].size), 0.99)
        / np.quantile(rng.choice(lat["control"], lat["control"].size), 0.99)
        for _ in range(BOOTSTRAP_RESAMPLES)
    ]
    out["p99_ratio_boot_low"], out["p99_ratio_boot_high"] = (
        float(v) for v in np.quantile(ratios, [0.025, 0.975])
    )
    return out
