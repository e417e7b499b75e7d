"""The sweep spec: a TOML file (or the same dict) naming a grid of runs, validated whole.

::

    [grid]                        # each entry a value or a non-empty list of values
    dataset = ["xor:n=64", "skewed_xor:n=64,alpha=1.0"]   # sbias train's --dataset specs
    seed = [0, 1]                 # seeds the data set and the initial weights
    init_scale = [1e-4, 1e-8]     # ε
    width = [64]                  # m
    activation = ["relu"]         # optional (default relu)
    loss = ["logistic"]           # optional (default logistic)

    [train]                       # sbias train's options, same names and defaults
    until = "escape"              # or steps = K (exactly one of the two)
    adaptive = true
    lr = 1.0

    [sweep]                       # optional
    batch = "auto"                # auto | always | never: the batched engine (verify.sweep)
    max_batch = 16                # at most this many cells per batched task
    threads = 1                   # torch intra-op threads per cell
    match_tau_deg = 2.0           # a neuron matches an extremum within this angle

:func:`load_spec` rejects, with one line naming the problem (:class:`InputError`): text that
is not TOML, unknown tables or keys, values of the wrong type, an empty grid or list, an
unknown or unbuildable data set, labels a loss cannot take, a missing or double stop rule.
Every data set of the grid is built once here, so nothing fails after the first cell ran.
TOML is read with ``tomllib`` (Python ≥ 3.11) or its backport ``tomli`` (3.10).
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

from theory.errors import InputError, read_input_text

GRID_KEYS = ("dataset", "seed", "init_scale", "width", "activation", "loss")
GRID_DEFAULTS = {"activation": ["relu"], "loss": ["logistic"]}
TRAIN_DEFAULTS = {"init": "small_a", "lr": 0.05, "steps": None, "until": None,
                  "max_steps": 1_000_000, "adaptive": False, "eta": 0.1, "escape_level": 0.1,
                  "device": "auto", "dtype": "float64", "record": "none"}
SWEEP_DEFAULTS = {"batch": "auto", "max_batch": 16, "threads": 1, "match_tau_deg": 2.0}
TABLES = {"grid": GRID_KEYS, "train": tuple(TRAIN_DEFAULTS), "sweep": tuple(SWEEP_DEFAULTS)}


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: the grid lists, resolved train options and sweep options."""

    grid: dict
    train: dict
    sweep: dict
    source: str = "<dict>"

    def to_json(self) -> dict:
        return {"grid": self.grid, "train": self.train, "sweep": self.sweep}


def _toml_load(path: Path) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    text = read_input_text(path, "sweep spec")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({str(exc).splitlines()[0]})") from None


def load_spec(spec) -> SweepSpec:
    """A :class:`SweepSpec` from a TOML file path or a dict of the same shape.  Every problem
    (unknown table or key, wrong type, empty list, unknown or unbuildable data set, labels the
    loss cannot take, no stop rule) raises :class:`InputError` with one line naming it."""
    if isinstance(spec, SweepSpec):
        return spec
    if isinstance(spec, dict):
        raw, src = spec, "<dict>"
    else:
        raw, src = _toml_load(Path(spec)), str(spec)

    def bad(msg):
        raise InputError(f"{src}: {msg}")

    for table, val in raw.items():
        if table not in TABLES:
            bad(f"unknown table [{table}]; known: {', '.join(f'[{t}]' for t in TABLES)}")
        if not isinstance(val, dict):
            bad(f"{table} must be a table ([{table}] with key = value lines)")
        for key in val:
            if key.replace("-", "_") not in TABLES[table]:
                bad(f"unknown key {key!r} in [{table}]; known: {', '.join(TABLES[table])}")
    grid_raw = {k.replace("-", "_"): v for k, v in raw.get("grid", {}).items()}
    if not grid_raw:
        bad("empty grid: [grid] needs dataset, seed, init_scale and width")
    grid = {}
    for key in GRID_KEYS:
        if key not in grid_raw:
            if key in GRID_DEFAULTS:
                grid[key] = list(GRID_DEFAULTS[key])
                continue
            bad(f"[grid] needs {key!r} (a value or a list)")
        vals = grid_raw[key] if isinstance(grid_raw[key], list) else [grid_raw[key]]
        if not vals:
            bad(f"empty grid: [grid] {key} is an empty list")
        grid[key] = [_grid_value(key, v, bad) for v in vals]
        if len(set(map(json.dumps, grid[key]))) != len(grid[key]):
            bad(f"[grid] {key} lists a value twice")
    train = dict(TRAIN_DEFAULTS)
    train.update({k.replace("-", "_"): v for k, v in raw.get("train", {}).items()})
    _check_train(train, bad)
    sweep = dict(SWEEP_DEFAULTS)
    sweep.update({k.replace("-", "_"): v for k, v in raw.get("sweep", {}).items()})
    _check_sweep(sweep, bad)
    _check_problems(grid, bad)
    return SweepSpec(grid, train, sweep, src)


def _grid_value(key, v, bad):
    def typename(x):
        return type(x).__name__

    if key in ("dataset", "activation", "loss"):
        if not isinstance(v, str):
            bad(f"[grid] {key}: expected text, got {v!r} ({typename(v)})")
        if key == "dataset":
            from numerics.datasets import parse_dataset_spec

            try:
                parse_dataset_spec(v)
            except InputError as exc:
                bad(f"[grid] dataset: {exc}")
            return v.strip()
        from theory.activations import parse_activation
        from theory.losses import parse_loss

        try:
            return str((parse_activation if key == "activation" else parse_loss)(v))
        except InputError as exc:
            bad(f"[grid] {key}: {exc}")
    if key in ("seed", "width"):
        if isinstance(v, bool) or not isinstance(v, int) or v < (0 if key == "seed" else 1):
            what = "a non-negative integer" if key == "seed" else "a positive integer"
            bad(f"[grid] {key}: expected {what}, got {v!r} ({typename(v)})")
        return int(v)
    # init_scale
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v > 0):
        bad(f"[grid] init_scale: expected a positive number, got {v!r} ({typename(v)})")
    return float(v)


def _check_train(t: dict, bad) -> None:
    def num(key, lo_excl=0.0):
        v = t[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                or v <= lo_excl:
            bad(f"[train] {key}: expected a positive number, got {v!r}")
        t[key] = float(v)

    def integer(key, lo):
        v = t[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            bad(f"[train] {key}: expected an integer >= {lo}, got {v!r}")

    for key in ("lr", "eta", "escape_level"):
        num(key)
    integer("max_steps", 1)
    if t["steps"] is not None:
        integer("steps", 0)
    if t["until"] is not None and t["until"] != "escape":
        bad(f"[train] until: the only stop event is \"escape\", got {t['until']!r}")
    if (t["steps"] is None) == (t["until"] is None):
        bad("[train] needs one stop rule: until = \"escape\" or steps = K")
    if not isinstance(t["adaptive"], bool):
        bad(f"[train] adaptive: expected true or false, got {t['adaptive']!r}")
    for key in ("init", "device", "dtype", "record"):
        if not isinstance(t[key], str):
            bad(f"[train] {key}: expected text, got {t[key]!r}")
    from numerics.device import select_dtype
    from numerics.engine import record_grid
    from numerics.init import SCHEMES

    if t["init"] not in SCHEMES or t["init"] == "explicit":
        bad(f"[train] init: unknown scheme {t['init']!r}; known: "
            f"{', '.join(s for s in SCHEMES if s != 'explicit')}")
    if t["device"].strip().lower() not in ("auto", "cpu", "cuda") and \
            not t["device"].strip().lower().startswith("cuda:"):
        bad(f"[train] device: unknown device {t['device']!r}; use auto, cpu or cuda")
    for check in (lambda: select_dtype(t["dtype"]), lambda: record_grid(t["record"])):
        try:
            check()
        except InputError as exc:
            bad(f"[train] {exc}")


def _check_sweep(s: dict, bad) -> None:
    if s["batch"] not in ("auto", "always", "never"):
        bad(f"[sweep] batch: expected \"auto\", \"always\" or \"never\", got {s['batch']!r}")
    for key in ("max_batch", "threads"):
        v = s[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            bad(f"[sweep] {key}: expected a positive integer, got {v!r}")
    v = s["match_tau_deg"]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 < v < 180):
        bad(f"[sweep] match_tau_deg: expected an angle in (0, 180) degrees, got {v!r}")
    s["match_tau_deg"] = float(v)


def _check_problems(grid: dict, bad) -> None:
    """Build every (dataset, seed) and pair it with every activation and loss: data sets that
    cannot be built and labels a loss cannot take are found before any cell runs."""
    from numerics.datasets import make_dataset
    from theory.problem import Problem

    for ds, seed in itertools.product(grid["dataset"], grid["seed"]):
        try:
            X, y = make_dataset(ds, seed=seed)
        except InputError as exc:
            bad(f"[grid] dataset {ds!r} (seed {seed}): {exc}")
        for act, loss in itertools.product(grid["activation"], grid["loss"]):
            try:
                Problem.from_arrays(X, y, act, loss)
            except InputError as exc:
                bad(f"[grid] dataset {ds!r} with loss {loss}: {exc}")
