"""The paper's significance test: one-sided paired t-test of mid-training against final OOD
accuracy across seeds, ``scipy.stats.ttest_rel(mid, final, alternative="greater")`` (null: the
mean paired difference mid − final is ≤ 0)."""

from __future__ import annotations

import numpy as np
from scipy import stats

ALPHA = 0.05


def paired_test(mid, final) -> dict:
    """Mean paired difference, t statistic and one-sided p-value of ``mid > final``.

    Fewer than two seeds, or identical differences (zero variance), give ``t``/``p`` = None.
    """
    mid, final = np.asarray(mid, np.float64), np.asarray(final, np.float64)
    diff = mid - final
    out = {"n_seeds": int(len(diff)), "mid_mean": float(mid.mean()),
           "final_mean": float(final.mean()), "diff_mean": float(diff.mean()),
           "diff_std": float(diff.std(ddof=1)) if len(diff) > 1 else None, "t": None, "p": None}
    if len(diff) > 1 and np.ptp(diff) > 0:
        res = stats.ttest_rel(mid, final, alternative="greater")
        out["t"], out["p"] = float(res.statistic), float(res.pvalue)
    out["mid_beats_final"] = bool(out["diff_mean"] > 0)
    out["significant"] = bool(out["p"] is not None and out["p"] < ALPHA)
    return out


def ttest_table(runs: list[dict], mid_epoch: int, final_epoch: int,
                metrics: list[str]) -> list[dict]:
    """One row per (setting, metric): the paired test over the seeds of that setting.

    ``runs``: records ``{"setting", "seed", "history": [{"epoch", <metric>: value, ...}]}``;
    a run lacking either epoch is left out of its setting's test.
    """
    rows = []
    for setting in dict.fromkeys(r["setting"] for r in runs):
        sel = [r for r in runs if r["setting"] == setting]
        for metric in metrics:
            pairs = []
            for r in sel:
                by_epoch = {h["epoch"]: h for h in r["history"]}
                if mid_epoch in by_epoch and final_epoch in by_epoch:
                    pairs.append((by_epoch[mid_epoch][metric], by_epoch[final_epoch][metric]))
            if not pairs:
                continue
            mid, final = zip(*pairs)
            rows.append({"setting": setting, "metric": metric, "mid_epoch": mid_epoch,
                         "final_epoch": final_epoch, **paired_test(mid, final)})
    return rows
