"""`sbias sweep`: rows, caching and resumption, engines, bad input, and a real Dask cluster."""

import csv
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from numerics.datasets import make_dataset
from numerics.measure import match
from numerics.run_io import Run
from theory.extrema import predict
from theory.problem import Problem
from verify import sweep as sw
from verify.cli import main as _main
from verify.sweep_spec import load_spec

torch.set_num_threads(1)  # tests only

ROOT = Path(__file__).resolve().parent.parent

SPEC = """
[grid]
dataset = ["xor:n=32", "skewed_xor:n=32"]
seed = [0, 1]
init_scale = [1e-4, 1e-8]
width = [32]

[train]
until = "escape"
adaptive = true
lr = 1.0
device = "cpu"
"""


def main(argv):
    try:
        return _main(argv)
    except SystemExit as exc:
        return exc.code


def spec_file(tmp_path, text=SPEC, name="spec.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def results_rows(out: Path) -> list[dict]:
    with open(out / "results.csv") as fh:
        return list(csv.DictReader(fh))


def assert_same_results(a: Path, b: Path) -> None:
    """Same rows (but the timing column) and the same run arrays, bit for bit."""
    ra, rb = results_rows(a), results_rows(b)
    assert len(ra) == len(rb)
    for x, y in zip(ra, rb):
        x.pop("seconds")
        y.pop("seconds")
        assert x == y
        za, zb = Run.load(a / x["run"]), Run.load(b / y["run"])
        for k in ("W", "a", "times", "loss"):
            assert np.array_equal(getattr(za, k), getattr(zb, k)), k
        assert za.escape_time == zb.escape_time or (np.isnan(za.escape_time)
                                                    and np.isnan(zb.escape_time))


# ----------------------------------------------------------------------------- rows and files
def test_rows_are_the_cells_trained_predicted_and_matched(tmp_path):
    res = sw.run_sweep(spec_file(tmp_path), tmp_path / "out", progress=False, argv=["sbias"])
    assert (res.computed, res.skipped, len(res.rows)) == (8, 0, 8)
    rows = results_rows(tmp_path / "out")
    assert [r["cell"] for r in rows] == [r["cell"] for r in res.rows]
    assert list(rows[0]) == list(sw.ROW_KEYS)
    assert {(r["dataset"], r["seed"], r["init_scale"]) for r in rows} == {
        (d, s, e) for d in ("xor:n=32", "skewed_xor:n=32") for s in ("0", "1")
        for e in ("0.0001", "1e-08")}
    for r in res.rows:
        X, y = make_dataset(r["dataset"], seed=r["seed"])
        p = Problem.from_arrays(X, y, r["activation"], r["loss"])
        pred = predict(p, basins=False)
        run = Run.load(tmp_path / "out" / r["run"])
        assert r["lambda_max"] == pred.lambda_max
        assert r["mass_matched"] == match(run.W, run.a, pred, tau_deg=2.0).matched_mass
        assert r["escape_time"] == run.escape_time and run.stop_reason == "escape"
        assert np.array_equal(run.problem().X, p.X)  # the run carries its data
        rec = json.loads((tmp_path / "out" / "cells" / r["cell"] / "cell.json").read_text())
        assert rec["provenance"]["seeds"] == {"data": r["seed"], "init": r["seed"]}
        assert rec["provenance"]["threads"] == 1 and rec["provenance"]["device"] == "cpu"
        assert run.provenance == rec["provenance"]
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["cells"] == json.loads(json.dumps(res.rows))
    assert data["run"]["computed"] == 8 and "git_commit" in data["provenance"]
    assert sorted(res.figures) == ["escape_time.png", "matched_mass.png"]


def test_rerun_skips_resumes_and_reruns_changed_cells(tmp_path):
    spec = spec_file(tmp_path)
    out = tmp_path / "out"
    first = sw.run_sweep(spec, out, progress=False, figures=False)
    before = (out / "results.csv").read_text()
    again = sw.run_sweep(spec, out, progress=False, figures=False)
    assert (again.computed, again.skipped) == (0, 8)
    assert (out / "results.csv").read_text().split("\n") == before.split("\n")
    # a cell lost (as if interrupted before its record was written) is recomputed, same bits
    lost = first.rows[5]["cell"]
    (out / "cells" / lost / "cell.json").unlink()
    resumed = sw.run_sweep(spec, out, progress=False, figures=False)
    assert (resumed.computed, resumed.skipped) == (1, 7)
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in resumed.rows] == \
        [{k: v for k, v in r.items() if k != "seconds"} for r in first.rows]
    # one more ε: only the new cells run
    grown = sw.run_sweep(spec_file(tmp_path, SPEC.replace("[1e-4, 1e-8]", "[1e-4, 1e-8, 1e-6]")),
                         out, progress=False, figures=False)
    assert (grown.computed, grown.skipped, len(grown.rows)) == (4, 8, 12)
    # a changed train option changes every cell's hash: all rerun
    changed = sw.run_sweep(spec_file(tmp_path, SPEC + "eta = 0.05\n"), out, progress=False,
                           figures=False)
    assert (changed.computed, changed.skipped) == (8, 0)


class _Interrupted:
    """An executor that finishes one task, then is interrupted (Ctrl-C)."""

    name = "interrupted"

    def map_unordered(self, fn, items, keys=None):
        items = list(items)
        yield fn(items[0])
        raise KeyboardInterrupt


def test_interrupted_sweep_resumes(tmp_path):
    spec = spec_file(tmp_path, SPEC + '\n[sweep]\nbatch = "never"\n')
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        sw.run_sweep(spec, out, _Interrupted(), progress=False, figures=False)
    assert len(list((out / "cells").glob("*/cell.json"))) == 1
    assert not (out / "results.csv").exists()
    res = sw.run_sweep(spec, out, progress=False, figures=False)
    assert (res.computed, res.skipped) == (7, 1)
    assert_same_results(out, _fresh(spec, tmp_path / "fresh"))


def _fresh(spec, out):
    sw.run_sweep(spec, out, progress=False, figures=False)
    return out


# ----------------------------------------------------------------------------- engines
def test_batched_cell_results_do_not_depend_on_the_batch(tmp_path):
    spec = load_spec(spec_file(tmp_path))
    cs = [c for c in sw.cells(spec) if c["dataset"] == "xor:n=32"]
    assert all(c["engine"] == "batched" for c in cs)
    together = sw.run_task(sw.Task(cs))
    alone = [sw.run_task(sw.Task([c]))[0] for c in cs]
    for t, a in zip(together, alone):
        rt = Run.load(_write(tmp_path / "t.npz", t["run_npz"]))
        ra = Run.load(_write(tmp_path / "a.npz", a["run_npz"]))
        for k in ("W", "a", "times", "loss"):
            assert np.array_equal(getattr(rt, k), getattr(ra, k))
        assert t["record"]["result"]["escape_time"] == a["record"]["result"]["escape_time"]


def _write(path, data):
    path.write_bytes(data)
    return path


def test_engine_choice_depends_on_the_cell_only(tmp_path):
    spec = load_spec(spec_file(tmp_path))
    n = 32
    assert sw.engine_for(spec, "xor:n=32", 0, sw.BATCH_MAX_WORK // n) == "batched"
    assert sw.engine_for(spec, "xor:n=32", 0, sw.BATCH_MAX_WORK // n + 1) == "single"
    never = load_spec(spec_file(tmp_path, SPEC + '\n[sweep]\nbatch = "never"\n', "n.toml"))
    assert {c["engine"] for c in sw.cells(never)} == {"single"}
    # tasks: batched cells grouped by data set spec (seeds and ε together), max_batch each
    assert sorted(len(t.cells) for t in sw.tasks(sw.cells(spec), spec)) == [4, 4]
    small = load_spec(spec_file(tmp_path, SPEC + "\n[sweep]\nmax_batch = 3\n", "s.toml"))
    assert sorted(len(t.cells) for t in sw.tasks(sw.cells(small), small)) == [1, 1, 3, 3]
    assert len(sw.tasks(sw.cells(never), never)) == 8


# ----------------------------------------------------------------------------- bad input
BAD_SPECS = [
    ("[grid\ndataset = 1", "not valid TOML"),
    (SPEC + "\n[extra]\nx = 1\n", "unknown table [extra]"),
    (SPEC.replace("width = [32]", "width = [32]\ndepth = 2"), "unknown key 'depth'"),
    (SPEC.replace("until = \"escape\"", "until = \"escape\"\nmomentum = 0.9"),
     "unknown key 'momentum'"),
    (SPEC.replace("width = [32]", "width = [\"32\"]"), "[grid] width"),
    (SPEC.replace("seed = [0, 1]", "seed = [0.5]"), "[grid] seed"),
    (SPEC.replace("init_scale = [1e-4, 1e-8]", "init_scale = [-1e-4]"), "[grid] init_scale"),
    (SPEC.replace("init_scale = [1e-4, 1e-8]", "init_scale = [true]"), "[grid] init_scale"),
    (SPEC.replace("dataset = [\"xor:n=32\", \"skewed_xor:n=32\"]", "dataset = [3]"),
     "[grid] dataset"),
    (SPEC.replace("lr = 1.0", "lr = \"fast\""), "[train] lr"),
    (SPEC.replace("adaptive = true", "adaptive = 1"), "[train] adaptive"),
    (SPEC.replace("seed = [0, 1]", "seed = []"), "empty grid"),
    ("[train]\nsteps = 3\n", "empty grid"),
    (SPEC.replace("width = [32]\n", ""), "needs 'width'"),
    (SPEC.replace("xor:n=32\"", "nosuch\""), "unknown dataset 'nosuch'"),
    (SPEC.replace("xor:n=32\"", "xor:n=32,zz=1\""), "unknown parameter 'zz'"),
    (SPEC.replace("xor:n=32\"", "xor:n=33\""), "multiple of"),
    (SPEC.replace("width = [32]", "width = [32]\nactivation = \"swish\""), "activation"),
    (SPEC.replace("\"xor:n=32\", \"skewed_xor:n=32\"", "\"generic:target=real\""), "labels"),
    (SPEC.replace("until = \"escape\"", ""), "stop rule"),
    (SPEC.replace("until = \"escape\"", "until = \"escape\"\nsteps = 5"), "stop rule"),
    (SPEC.replace("device = \"cpu\"", "device = \"tpu\""), "[train] device"),
    (SPEC.replace("device = \"cpu\"", "record = \"every:x\""), "record"),
    (SPEC + "\n[sweep]\nbatch = \"sometimes\"\n", "[sweep] batch"),
]


@pytest.mark.parametrize("text,word", BAD_SPECS, ids=[w for _, w in BAD_SPECS])
def test_bad_spec_exits_2_before_any_cell(tmp_path, capsys, text, word):
    out = tmp_path / "out"
    assert main(["sweep", str(spec_file(tmp_path, text)), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and word in err[0], err
    assert not out.exists()


def test_missing_spec_and_unreachable_scheduler(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(tmp_path / "none.toml"), "--out", str(out)]) == 2
    assert "not found" in capsys.readouterr().err
    spec = str(spec_file(tmp_path))
    for addr, word in ((f"tcp://127.0.0.1:{_free_port()}", "cannot reach"),
                       ("nonsense", "not a Dask scheduler address")):
        assert main(["sweep", spec, "--out", str(out), "--dask-scheduler", addr]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and addr in err[0] and word in err[0], err
    for flag in (["--workers", "0"], ["--dask-local", "0"]):
        assert main(["sweep", spec, "--out", str(out), *flag]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and flag[0] in err[0], err
    assert not out.exists()


# ----------------------------------------------------------------------------- Dask, for real
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]),
        OMP_NUM_THREADS="1")


@pytest.fixture
def dask_cluster(tmp_path):
    """``dask scheduler`` and two ``dask worker`` processes (one thread, no nanny, so a killed
    worker stays dead) on 127.0.0.1; all killed at teardown."""
    from distributed import Client

    addr = f"tcp://127.0.0.1:{_free_port()}"
    procs, logs, client = {}, [], None

    def start(name, args):
        log = open(tmp_path / f"{name}.log", "w")
        logs.append(log)
        procs[name] = subprocess.Popen([sys.executable, "-m", "dask", *args], env=_env(),
                                       stdout=log, stderr=subprocess.STDOUT)

    try:
        start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", addr.rsplit(":", 1)[1],
                            "--no-dashboard"])
        for name in ("w1", "w2"):
            start(name, ["worker", addr, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                         "--host", "127.0.0.1", "--name", name])
        client = Client(addr, timeout=60, set_as_default=False)
        client.wait_for_workers(2, timeout=120)
        yield addr, client, procs
    finally:
        if client is not None:
            client.close()
        for p in procs.values():
            if p.poll() is None:
                p.kill()
            p.wait(timeout=60)
        for log in logs:
            log.close()


def test_dask_cluster_matches_local_and_survives_a_killed_worker(dask_cluster, tmp_path):
    addr, client, procs = dask_cluster
    # 1. the 2 × 2 × 2 sweep (batched tasks) through the cluster equals the local run
    spec = spec_file(tmp_path)
    local = _fresh(spec, tmp_path / "local")
    assert main(["sweep", str(spec), "--out", str(tmp_path / "dask"), "--dask-scheduler", addr,
                 "--no-progress", "--no-figures"]) == 0
    assert_same_results(local, tmp_path / "dask")

    # 2. one task per cell, heavier cells; kill a busy worker once the first cell is in
    heavy = spec_file(tmp_path, SPEC.replace("n=32", "n=128").replace("[32]", "[256]")
                      + '\n[sweep]\nbatch = "never"\n', "heavy.toml")
    local2 = _fresh(heavy, tmp_path / "local2")
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "verify.cli", "sweep", str(heavy), "--out",
                             str(out), "--dask-scheduler", addr, "--no-progress",
                             "--no-figures"], env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 180
        while True:
            assert time.time() < deadline, "no cell finished within 180 s"
            assert proc.poll() is None, "the sweep finished before a worker could be killed"
            busy = {w: keys for w, keys in client.processing().items() if keys}
            if busy and list(out.glob("cells/*/cell.json")):
                break
            time.sleep(0.02)
        victim, victim_keys = next(iter(busy.items()))
        name = client.scheduler_info()["workers"][victim]["name"]
        procs[name].kill()
        procs[name].wait(timeout=60)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    assert "8 cells (8 run now" in stdout
    assert_same_results(local2, out)  # every cell completed, nothing lost, same bits
    # the task the killed worker was running was rerun by the other worker (a task it had
    # finished just before the kill may have been delivered already, so "some", not "all")
    by_task = {t.key: t for t in sw.tasks(sw.cells(load_spec(heavy)), load_spec(heavy))}
    held = [c.key for k in victim_keys for c in by_task[k].cells]
    workers = [json.loads((out / "cells" / k / "cell.json").read_text())["provenance"]["worker"]
               for k in held]
    assert held and any(w != f"dask {victim}" for w in workers), (victim, workers)


@pytest.mark.slow  # 15–30 s on 2 busy cores: each spawned worker imports torch afresh
def test_local_process_pool_matches_in_process(tmp_path):
    spec = spec_file(tmp_path)
    local = _fresh(spec, tmp_path / "local")
    assert main(["sweep", str(spec), "--out", str(tmp_path / "pool"), "--workers", "2",
                 "--no-progress", "--no-figures"]) == 0
    assert_same_results(local, tmp_path / "pool")


@pytest.mark.gpu
def test_sweep_on_cuda_matches_cpu_to_rounding(tmp_path):
    """Cells with device = "cuda" run there, say so, and agree with the CPU cells to float64
    rounding (about 1e-16 per operation over a few hundred steps; 1e-9 leaves a wide margin
    while a real discrepancy, such as a float32 step, would be ~1e-6 or more)."""
    cpu = _fresh(spec_file(tmp_path), tmp_path / "cpu")
    gpu = tmp_path / "gpu"
    sw.run_sweep(spec_file(tmp_path, SPEC.replace('device = "cpu"', 'device = "cuda"'), "g.toml"),
                 gpu, progress=False, figures=False)
    for a, b in zip(results_rows(cpu), results_rows(gpu)):
        rec = json.loads((gpu / "cells" / b["cell"] / "cell.json").read_text())
        assert rec["provenance"]["device"].startswith("cuda")
        assert abs(float(a["escape_time"]) / float(b["escape_time"]) - 1) < 1e-9
        assert abs(float(a["mass_matched"]) - float(b["mass_matched"])) < 1e-9
