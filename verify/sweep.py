"""Sweeps: a grid of training runs, each predicted, trained and matched, cached cell by cell.

The grid comes from a spec (:mod:`verify.sweep_spec`: ``[grid]`` data sets × seeds × ε × widths,
optionally activations and losses; ``[train]`` sbias train's options; ``[sweep]`` engine and
match settings).  Each **cell** is one run of ``sbias train``'s recipe
(``numerics.init.init_weights`` then :func:`numerics.engine.train` or
:func:`numerics.batched.train_batched`), the prediction ``theory.extrema.predict`` (no basins)
and the match ``numerics.measure.match`` of the final weights against it.  Its row has the
cell's parameters, ``escape_time``, ``lambda_max``, ``mass_matched`` (share of the squared
norm within ``match_tau_deg`` of a same-sign predicted extremum), steps, gradient-flow time,
final loss, stop reason, the engine, ``seconds`` (training wall time; for a batched task its
time divided by its cells), the run file and the cell's hash; its record
(``cells/<hash>/cell.json``) also holds the provenance.

Caching.  A cell is identified by the SHA-256 of its full configuration (grid values, resolved
train options, engine, threads, match tolerance) written as canonical JSON; its outputs live in
``DIR/cells/<hash>/`` (``run.npz``, then ``cell.json`` written last, both atomically), so a
rerun skips done cells, an interrupted sweep resumes, and a changed cell gets a new hash and
reruns.  The package version is recorded (provenance), not hashed: upgrading does not rerun.

Engines.  Cells that share the data set spec, activation, loss, width and train options are
trained together in one batched tensor program (several seeds and ε at once).  Which cells
use it depends only on the cell, so a cell's numbers do not depend on its neighbours in the
grid: the batched engine gives one problem the same bits whatever else is in the batch
(``tests/test_sweep.py``), and differs from the sequential engine only by rounding.  With
``batch = "auto"`` a cell is batched when ``width·n ≤ BATCH_MAX_WORK = 2^18``:
``benchmarks/bench_sweep.py`` measured (2-core CPU, one thread) groups of 8 cells trained
1.4–2.8× faster batched up to that size, and 0.6× (slower) at ``width·n ≈ 10^6``, where the
B×n×m tensors no longer fit in cache; a batched cell with no partner costs about 1.1–1.5× a
sequential one on tiny problems (hundredths of a second).

Cells run as tasks (one batched group, or one cell) through an executor
(:mod:`verify.executors`): in-process, a local process pool, or a Dask cluster.  Workers
return the results; only this process writes files, so no shared file system is needed.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import itertools
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from theory.atomic import atomic_write_bytes, atomic_write_json, atomic_write_text

from .sweep_spec import GRID_KEYS, SweepSpec, load_spec

# batch = "auto": batched engine when width·n is at most this (module doc)
BATCH_MAX_WORK = 262_144
ROW_KEYS = ("dataset", "seed", "init_scale", "width", "activation", "loss", "escape_time",
            "lambda_max", "mass_matched", "steps", "time", "final_loss", "stop_reason",
            "engine", "seconds", "run", "cell")


# ----------------------------------------------------------------------------- cells and tasks
def canonical(obj) -> str:
    """Canonical JSON text (sorted keys, floats by repr): the input of a cell's hash."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Cell:
    """One grid point with everything that determines its result (``config``)."""

    config: dict
    key: str

    def __getitem__(self, k):
        return self.config[k]


@functools.lru_cache(maxsize=256)
def dataset_size(spec: str, seed: int) -> int:
    from numerics.datasets import make_dataset

    return len(make_dataset(spec, seed=seed)[1])


def engine_for(spec: SweepSpec, dataset: str, seed: int, width: int) -> str:
    """``"batched"`` or ``"single"`` for one cell (module doc: depends on the cell only)."""
    mode = spec.sweep["batch"]
    if mode == "never":
        return "single"
    if mode == "always":
        return "batched"
    return "batched" if width * dataset_size(dataset, seed) <= BATCH_MAX_WORK else "single"


def cells(spec) -> list[Cell]:
    """The grid's cells in grid order (dataset, seed, init_scale, width, activation, loss)."""
    spec = load_spec(spec)
    out = []
    g = spec.grid
    for ds, seed, eps, m, act, loss in itertools.product(*(g[k] for k in GRID_KEYS)):
        cfg = {"dataset": ds, "seed": seed, "init_scale": eps, "width": m, "activation": act,
               "loss": loss, "train": dict(spec.train),
               "engine": engine_for(spec, ds, seed, m), "threads": spec.sweep["threads"],
               "match_tau_deg": spec.sweep["match_tau_deg"]}
        out.append(Cell(cfg, hashlib.sha256(canonical(cfg).encode()).hexdigest()[:16]))
    return out


@dataclass
class Task:
    """A unit of work for an executor: cells trained together (batched) or one cell."""

    cells: list[Cell]
    argv: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        joined = "".join(c.key for c in self.cells).encode()
        return "sbias-" + hashlib.sha256(joined).hexdigest()[:16]


def tasks(todo: list[Cell], spec: SweepSpec, argv=None) -> list[Task]:
    """Group the cells to run: batched cells sharing data set spec, activation, loss, width and
    options go together (at most ``max_batch`` per task); single-engine cells alone."""
    argv = list(sys.argv if argv is None else argv)
    groups: dict[str, list[Cell]] = {}
    out = []
    for c in todo:
        if c["engine"] == "single":
            out.append(Task([c], argv))
            continue
        gkey = canonical({k: v for k, v in c.config.items() if k not in ("seed", "init_scale")})
        groups.setdefault(gkey, []).append(c)
    mb = spec.sweep["max_batch"]
    for group in groups.values():
        out += [Task(group[i:i + mb], argv) for i in range(0, len(group), mb)]
    return out


# ----------------------------------------------------------------------------- running a task
def run_task(task: Task) -> list[dict]:
    """Train, predict and match every cell of ``task`` (on whatever worker runs it); return one
    result per cell: ``{"key", "record", "run_npz"}`` (the cell record and the run file's
    bytes).  Deterministic: the same task gives the same numbers on the same kind of device."""
    from numerics.device import torch_threads

    with torch_threads(task.cells[0]["threads"]):
        return _run_task(task)


def _run_task(task: Task) -> list[dict]:
    import torch

    from numerics.batched import train_batched
    from numerics.datasets import make_dataset
    from numerics.device import select_device, select_dtype
    from numerics.engine import TrainingDiverged, train
    from numerics.init import init_weights
    from numerics.measure import match
    from numerics.provenance import collect
    from theory.extrema import predict
    from theory.problem import Problem

    c0 = task.cells[0]
    tr = c0["train"]
    device, dtype = select_device(tr["device"]), select_dtype(tr["dtype"])
    problems, preds = {}, {}
    for c in task.cells:
        pk = (c["dataset"], c["seed"], c["activation"], c["loss"])
        if pk not in problems:
            X, y = make_dataset(c["dataset"], seed=c["seed"])
            problems[pk] = Problem.from_arrays(X, y, c["activation"], c["loss"])
    inits = [init_weights(tr["init"], c["width"], problems[_pk(c)].d, c["init_scale"],
                          c["seed"], dtype=dtype, device=device) for c in task.cells]
    kw = dict(lr=tr["lr"], adaptive=tr["adaptive"], eta=tr["eta"], steps=tr["steps"],
              until_escape=tr["until"] == "escape", max_steps=tr["max_steps"],
              escape_level=tr["escape_level"], record=tr["record"])
    t0 = time.time()
    if c0["engine"] == "batched":
        runs = train_batched([problems[_pk(c)] for c in task.cells],
                             torch.stack([w for w, _ in inits]), torch.stack([a for _, a in inits]),
                             **kw)
        seconds = [(time.time() - t0) / len(task.cells)] * len(task.cells)
    else:
        runs, seconds = [], []
        for c, (W0, a0) in zip(task.cells, inits):
            t1 = time.time()
            try:
                runs.append(train(problems[_pk(c)], W0, a0, seed=c["seed"], progress=False,
                                  **kw))
            except TrainingDiverged as exc:
                runs.append(exc.run)
            seconds.append(time.time() - t1)
    worker = _worker_name()
    out = []
    for c, run, sec in zip(task.cells, runs, seconds):
        problem = problems[_pk(c)]
        if _pk(c) not in preds:
            preds[_pk(c)] = predict(problem, basins=False)
        pred = preds[_pk(c)]
        matched = (match(run.W, run.a, pred, tau_deg=c["match_tau_deg"]).matched_mass
                   if pred.extrema else None)
        run.config.update(width=c["width"], init=tr["init"], init_scale=c["init_scale"],
                          dataset=c["dataset"], data_seed=c["seed"], init_seed=c["seed"],
                          engine=c["engine"], sweep_cell=c.key)
        prov = collect(device=device, dtype=dtype, seeds={"data": c["seed"], "init": c["seed"]},
                       argv=task.argv, extra={"worker": worker, "engine": c["engine"]})
        run.attach_problem(problem)
        run.provenance = prov
        result = {"escape_time": run.escape_time if run.escaped else None,
                  "lambda_max": pred.lambda_max, "mass_matched": matched,
                  "steps": run.steps, "time": run.time, "final_loss": float(run.loss[-1]),
                  "stop_reason": run.stop_reason, "engine": c["engine"],
                  "seconds": round(sec, 4), "complete_prediction": bool(pred.complete),
                  "extrema": len(pred.extrema)}
        record = {"key": c.key, "config": c.config, "result": result, "provenance": prov}
        out.append({"key": c.key, "record": record, "run_npz": run.to_bytes()})
    return out


def _pk(c: Cell) -> tuple:
    return (c["dataset"], c["seed"], c["activation"], c["loss"])


def _worker_name() -> str:
    """The Dask worker's address when running on one, else ``local pid N``."""
    import os

    try:
        from distributed import get_worker

        return f"dask {get_worker().address}"
    except (ImportError, ValueError):
        return f"local pid {os.getpid()}"


# ----------------------------------------------------------------------------- the sweep
@dataclass
class SweepResult:
    """Rows in grid order (``ROW_KEYS``), and how many cells ran now or were found done."""

    rows: list[dict]
    computed: int
    skipped: int
    seconds: float
    out: Path
    figures: list[str] = field(default_factory=list)


def cell_dir(out: Path, c: Cell) -> Path:
    return Path(out) / "cells" / c.key


def load_done(out: Path, c: Cell) -> dict | None:
    """The cell's record when it is done with exactly this configuration, else None."""
    d = cell_dir(out, c)
    try:
        rec = json.loads((d / "cell.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(rec, dict) or rec.get("config") != c.config or \
            not (d / "run.npz").is_file():
        return None
    return rec


def write_cell(out: Path, result: dict) -> None:
    """Write one finished cell: ``run.npz`` first, then ``cell.json`` (its commit mark)."""
    d = Path(out) / "cells" / result["key"]
    atomic_write_bytes(d / "run.npz", result["run_npz"])
    atomic_write_json(d / "cell.json", result["record"])


def row(out: Path, rec: dict) -> dict:
    cfg, res = rec["config"], rec["result"]
    r = {k: cfg[k] for k in GRID_KEYS}
    r.update({k: res[k] for k in ROW_KEYS if k in res})
    r["run"] = str(Path("cells") / rec["key"] / "run.npz")
    r["cell"] = rec["key"]
    return {k: r.get(k) for k in ROW_KEYS}


def run_sweep(spec, out, executor=None, *, progress: bool | None = None, argv=None,
              figures: bool = True) -> SweepResult:
    """Run (or resume) the sweep ``spec`` into the folder ``out`` (module doc).  ``executor``:
    a :mod:`verify.executors` executor (default in-process)."""
    from .executors import InProcess

    spec = load_spec(spec)
    out = Path(out)
    t0 = time.time()
    grid_cells = cells(spec)
    todo = [c for c in grid_cells if load_done(out, c) is None]
    work = tasks(todo, spec, argv)
    executor = executor or InProcess()
    bar = None
    if work and (progress or (progress is None and sys.stderr.isatty())):
        from tqdm import tqdm

        bar = tqdm(total=len(todo), unit="cell", desc="sweep", leave=False)
    try:
        for results in executor.map_unordered(run_task, work, keys=[t.key for t in work]):
            for res in results:
                write_cell(out, res)
            if bar is not None:
                bar.update(len(results))
    finally:
        if bar is not None:
            bar.close()
    records = [load_done(out, c) for c in grid_cells]
    missing = [c.key for c, r in zip(grid_cells, records) if r is None]
    if missing:
        raise RuntimeError(f"sweep finished with {len(missing)} cells missing "
                           f"(first: {missing[0]})")
    rows = [row(out, r) for r in records]
    res = SweepResult(rows, len(todo), len(grid_cells) - len(todo), time.time() - t0, out)
    write_results(res, spec, argv)
    if figures:
        from paper_figures.sweep_summary import write_summary_figures

        res.figures = [str(p.relative_to(out)) for p in write_summary_figures(rows, out)]
    return res


def write_results(res: SweepResult, spec: SweepSpec, argv=None) -> None:
    """``results.csv`` (one row per cell, ``ROW_KEYS``) and ``results.json`` (the spec, the
    rows, this invocation's counts and provenance), atomically."""
    from numerics.provenance import collect

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=ROW_KEYS, lineterminator="\n")
    w.writeheader()
    for r in res.rows:
        w.writerow({k: ("" if v is None else repr(v) if isinstance(v, float) else v)
                    for k, v in r.items()})
    atomic_write_text(res.out / "results.csv", buf.getvalue())
    atomic_write_json(res.out / "results.json", {
        "spec": spec.to_json(), "cells": res.rows,
        "run": {"computed": res.computed, "skipped": res.skipped,
                "seconds": round(res.seconds, 3)},
        "provenance": collect(argv=sys.argv if argv is None else argv,
                              threads=spec.sweep["threads"])})
