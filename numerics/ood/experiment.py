"""Several seeds of several settings (init scale x training correlation), results and t-tests.

Layout of an experiment folder ``OUT``::

    OUT/experiment.json                 the configuration (written first; a rerun must match)
    OUT/runs/<setting>/seed<k>/         checkpoint.pt and metrics.json of one run (resumable)
    OUT/results.json, OUT/results.csv   every probe record of every run
    OUT/ttest.json, OUT/ttest.csv       mid-training vs final paired t-tests

The training dominoes of one correlation are built once from the data source with
``data_seed`` and shared by all seeds, so the seeds differ only in initialisation, batch order
and flips (the paired test compares like with like).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field, replace
from fractions import Fraction
from pathlib import Path

from theory.atomic import atomic_write_json, atomic_write_text
from theory.errors import InputError

from .dominoes import OOD_SETS, build_dominoes
from .probe import PROBES
from .stats import ttest_table
from .train import RunConfig, resolve_device, train_run

PAPER_SETTINGS = ((2.0 ** -5, 1.0), (1.0, 1.0), (2.0 ** -5, 0.95))
OOD_METRICS = [f"{s}/{p}" for s in OOD_SETS for p in PROBES]
ALL_METRICS = ["feature_scale", "val_acc", "train_loss"] + OOD_METRICS


def scale_label(scale: float) -> str:
    """``2^-5`` for exact powers of two, else the number."""
    f = Fraction(scale).limit_denominator(1 << 30)
    if f > 0 and float(f) == scale and (f.numerator == 1 or f.denominator == 1):
        k = (f.numerator.bit_length() - 1 if f.denominator == 1
             else -(f.denominator.bit_length() - 1))
        if Fraction(2) ** k == f:
            return f"2^{k}"
    return f"{scale:g}"


def parse_scale(text: str) -> float:
    """``2^-5``, ``2**-5``, ``0.03125`` or ``1`` -> float; bad text is an InputError."""
    t = text.strip().replace("**", "^")
    try:
        if "^" in t:
            base, exp = t.split("^")
            value = float(base) ** float(exp)
        else:
            value = float(t)
    except ValueError:
        raise InputError(f"cannot read init scale {text!r} (use e.g. 2^-5, 0.03125 or 1)") from None
    if not value > 0 or value != value or value == float("inf"):
        raise InputError(f"init scale must be a positive finite number, got {text!r}")
    return value


def setting_name(init_scale: float, correlation: float) -> str:
    return f"init{scale_label(init_scale)}_corr{round(correlation * 100):d}"


@dataclass
class ExperimentConfig:
    """What ``sbias ood run`` runs; ``base`` holds the per-run training settings."""

    source: str = "offline"                       # "offline" or a data directory
    settings: list = field(default_factory=lambda: [list(s) for s in PAPER_SETTINGS])
    seeds: list = field(default_factory=lambda: [0, 1, 2])
    base: RunConfig = field(default_factory=RunConfig)
    mid_epoch: int | None = None                  # None: a quarter of the epochs (paper 64/256)
    data_seed: int = 0
    n_train: int | None = None                    # dominoes before the 25 % validation split
    n_ood: int | None = None

    def mid(self) -> int:
        """The t-test's mid-training epoch: ``mid_epoch``, or the probe epoch nearest a quarter
        of training (the paper: 64 of 256)."""
        if self.mid_epoch is not None:
            return self.mid_epoch
        quarter = self.base.epochs / 4
        return min(self.base.probe_epochs(), key=lambda e: (abs(e - quarter), -e))

    def to_json(self) -> dict:
        return asdict(self)

    def check(self) -> None:
        self.base.check()
        if not self.seeds:
            raise InputError("need at least one seed")
        if self.mid() not in self.base.probe_epochs():
            raise InputError(f"mid-training epoch {self.mid()} is not a probe epoch "
                             f"{self.base.probe_epochs()}; adjust --probe-every or --mid-epoch")


def load_pools(cfg: ExperimentConfig):
    if cfg.source == "offline":
        from .offline import offline_pools
        return offline_pools(cfg.data_seed, cfg.n_train or 2048, cfg.n_ood or 2048)
    from .formats import real_pools
    return real_pools(cfg.source)


def run_experiment(cfg: ExperimentConfig, out: str | Path, device: str = "cpu",
                   progress: bool = True) -> dict:
    """Train every (setting, seed) run in ``out`` (resuming any that are there), then write and
    return the collected results."""
    cfg.check()
    resolve_device(device)
    pools = load_pools(cfg)  # bad data folders fail here, before anything is written
    out = Path(out)
    exp_file = out / "experiment.json"
    if exp_file.exists():
        old = json.loads(exp_file.read_text())
        if old != json.loads(json.dumps(cfg.to_json())):
            raise InputError(f"{out} holds an experiment with a different configuration; "
                             "use another --out")
    else:
        atomic_write_json(exp_file, cfg.to_json())
    from tqdm.auto import tqdm

    total = len(cfg.settings) * len(cfg.seeds) * cfg.base.epochs
    bar = tqdm(total=total, unit="epoch", disable=not progress, desc="ood runs")
    for init_scale, corr in cfg.settings:
        data = build_dominoes(*pools, correlation=corr, seed=cfg.data_seed,
                              n_train=cfg.n_train, n_ood=cfg.n_ood)
        for seed in cfg.seeds:
            name = setting_name(init_scale, corr)
            bar.set_postfix_str(f"{name} seed {seed}")
            rc = replace(cfg.base, init_scale=float(init_scale), correlation=float(corr),
                         seed=int(seed))
            train_run(rc, data, out / "runs" / name / f"seed{seed}", device=device,
                      progress=bar.update)
    bar.close()
    return collect(out)


def collect(out: str | Path) -> dict:
    """Read every run's metrics.json under ``out/runs``; write results and t-test files."""
    out = Path(out)
    exp_file = out / "experiment.json"
    if not exp_file.exists():
        raise InputError(f"{out} is not an OOD experiment folder (no experiment.json)")
    exp = json.loads(exp_file.read_text())
    runs = []
    for f in sorted((out / "runs").glob("*/seed*/metrics.json")):
        m = json.loads(f.read_text())
        c = m["config"]
        runs.append({"setting": setting_name(c["init_scale"], c["correlation"]),
                     "init_scale": c["init_scale"], "correlation": c["correlation"],
                     "seed": c["seed"], "epochs": c["epochs"], "history": m["history"]})
    if not runs:
        raise InputError(f"{out} holds no finished probe records yet")
    epochs = exp["base"]["epochs"]
    mid = _config_from_json(exp).mid()
    table = ttest_table(runs, mid, epochs, OOD_METRICS + ["feature_scale"])
    results = {"experiment": exp, "runs": runs, "mid_epoch": mid, "final_epoch": epochs,
               "ttest": table}
    atomic_write_json(out / "results.json", results)
    atomic_write_json(out / "ttest.json", table)
    atomic_write_text(out / "results.csv", _csv(
        [{"setting": r["setting"], "init_scale": r["init_scale"], "correlation": r["correlation"],
          "seed": r["seed"], **{k: h.get(k) for k in ["epoch"] + ALL_METRICS}}
         for r in runs for h in r["history"]]))
    atomic_write_text(out / "ttest.csv", _csv(table))
    return results


def _config_from_json(exp: dict) -> ExperimentConfig:
    return ExperimentConfig(**{**exp, "base": RunConfig(**exp["base"])})


def _csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return buf.getvalue()


def format_table(table: list[dict]) -> str:
    """The t-test table as aligned text (accuracies in %)."""
    head = (f"{'setting':<18} {'metric':<26} {'mid':>6} {'final':>6} {'diff':>6} "
            f"{'t':>7} {'p':>8}  mid>final")
    lines = [head, "-" * len(head)]
    for r in table:
        if r["metric"] == "feature_scale":
            vals = f"{r['mid_mean']:6.3g} {r['final_mean']:6.3g} {r['diff_mean']:+6.2g}"
        else:
            vals = (f"{100 * r['mid_mean']:6.1f} {100 * r['final_mean']:6.1f} "
                    f"{100 * r['diff_mean']:+6.1f}")
        t = "-" if r["t"] is None else f"{r['t']:.2f}"
        p = "-" if r["p"] is None else f"{r['p']:.4f}"
        lines.append(f"{r['setting']:<18} {r['metric']:<26} {vals} {t:>7} {p:>8}  "
                     f"{'yes' if r['mid_beats_final'] else 'no'}"
                     f"{' (p<0.05)' if r['significant'] else ''}")
    return "\n".join(lines)
