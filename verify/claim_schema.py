"""A claimed set of extrema: ``sbias predict``'s JSON schema, parsed with the precision it is
written with.

Schema (one object)::

    {"extrema": [{"direction": [u_1, ..., u_d], "sign": 1 | -1, "G": float,
                  "growth_rate": float, "kind": ..., "basin_fraction": ..., "exact": ...}, ...],
     "lambda_max": ..., "degenerate": ...}

``direction``, ``sign``, ``G`` and ``growth_rate`` are required; the rest is optional.  The
direction need not be a unit vector (it is normalised).

**Written precision.**  A hand-written number is compared at the precision it is written with:
an integer is exact, ``0.7071`` stands for ``0.7071 ± 0.00005`` (half a unit in its last
written digit).  A file written by a program (one with any number of 15 or more significant
digits, as ``sbias predict --json`` writes them) is taken at float64 precision throughout, so
its ``1.0`` is exactly one.  So
``[1, 0, 1]`` claims (1, 0, 1)/√2 exactly, and ``[0.7071, 0, 0.7071]`` claims it to four
decimals.  The tolerance of a direction is the angle that per-component errors of that size can
make, ``|δ|/|c|`` (δ the vector of half-units, c the written vector); the tolerance of a rate
is its own half-unit.  The field ``"exact"`` (sympy text as ``sbias predict --exact`` writes it,
``"[sqrt(2)/2, 0, sqrt(2)/2]; G = sqrt(2)/12"``) makes a claim exact.

Malformed claims raise :class:`theory.errors.InputError` with one line naming the problem
(not JSON, not an object, a missing field, a direction of the wrong length, a zero or
non-finite vector, a sign other than ±1, G of the wrong sign).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import numpy as np

from theory.errors import InputError, read_input_text

#: float64 rounding of a number printed in full, relative (a few ulps).
FLOAT_REL = 4 * np.finfo(float).eps
REQUIRED = ("direction", "sign", "G", "growth_rate")
KINDS = ("smooth", "kink", "degenerate")


class Written(float):
    """A float that remembers half a unit of its last written digit (``half_unit``) and how
    many significant digits it was written with (``digits``)."""

    half_unit: float
    digits: int

    def __new__(cls, text: str):
        obj = super().__new__(cls, float(text))
        try:
            tup = Decimal(text).as_tuple()
        except InvalidOperation:  # pragma: no cover - json only hands us valid numbers
            tup = Decimal(0).as_tuple()
        obj.digits = len(tup.digits)
        exp = tup.exponent
        if isinstance(exp, int) and ("." in text or "e" in text.lower()):
            obj.half_unit = max(0.5 * 10.0 ** exp, FLOAT_REL * abs(float(obj)))
        else:  # an integer literal is exact
            obj.half_unit = 0.0
        return obj


#: A number with this many significant digits marks a file as written by a program.
MACHINE_DIGITS = 15


def _machine_written(obj) -> bool:
    if isinstance(obj, Written):
        return obj.digits >= MACHINE_DIGITS
    if isinstance(obj, dict):
        return any(_machine_written(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return any(_machine_written(v) for v in obj)
    return False


def _as_plain(obj):
    """Drop the written precision (a machine-written file: float64 precision throughout)."""
    if isinstance(obj, Written):
        return float(obj)
    if isinstance(obj, dict):
        return {k: _as_plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_as_plain(v) for v in obj]
    return obj


def half_unit(v) -> float:
    """Half a unit of the last written digit of ``v`` (float64 rounding for plain floats)."""
    return getattr(v, "half_unit", FLOAT_REL * abs(float(v)))


@dataclass
class ClaimedExtremum:
    """One claimed extremum with its tolerances (module docstring)."""

    direction: np.ndarray          # unit
    sign: int
    G: float
    growth_rate: float
    kind: str | None = None
    basin_fraction: float | None = None
    exact: str | None = None
    angle_tol: float = 0.0         # rad
    G_tol: float = 0.0
    rate_tol: float = 0.0


@dataclass
class Claim:
    """A parsed claim.  ``source`` names where it came from (a file, a theory)."""

    extrema: list[ClaimedExtremum]
    lambda_max: float | None
    degenerate: bool
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def of_sign(self, s: int) -> list[ClaimedExtremum]:
        return [e for e in self.extrema if e.sign == s]

    def to_json(self) -> dict:
        return {"extrema": [{"direction": [float(v) for v in e.direction], "sign": e.sign,
                             "G": float(e.G), "growth_rate": float(e.growth_rate),
                             "kind": e.kind, "basin_fraction": e.basin_fraction,
                             "exact": e.exact} for e in self.extrema],
                "lambda_max": self.lambda_max, "degenerate": self.degenerate}


def _number(v, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InputError(f"{what} must be a number, got {json.dumps(v)[:40]}")
    if not math.isfinite(float(v)):
        raise InputError(f"{what} must be finite, got {v}")
    return float(v)


def parse_extremum(k: int, e, d: int | None, where: str = "claim") -> ClaimedExtremum:
    """Validate one extremum record (a dict in predict's schema); raise :class:`InputError`."""
    if not isinstance(e, dict):
        raise InputError(f"{where} extremum {k} is not an object")
    for key in REQUIRED:
        if key not in e:
            raise InputError(f"{where} extremum {k} has no {key!r} (required: "
                             f"{', '.join(REQUIRED)})")
    u = e["direction"]
    if not isinstance(u, (list, tuple)) or not u:
        raise InputError(f"{where} extremum {k}: direction must be a non-empty list of numbers")
    comps = [_number(v, f"{where} extremum {k}: direction entry") for v in u]
    if d is not None and len(comps) != d:
        raise InputError(f"{where} extremum {k}: direction has {len(comps)} entries; the data "
                         f"have d={d}")
    c = np.array(comps)
    nc = float(np.linalg.norm(c))
    if nc == 0.0:
        raise InputError(f"{where} extremum {k}: direction is the zero vector")
    sign = e["sign"]
    if isinstance(sign, bool) or sign not in (1, -1):
        raise InputError(f"{where} extremum {k}: sign must be 1 or -1, got {json.dumps(sign)}")
    G = _number(e["G"], f"{where} extremum {k}: G")
    rate = _number(e["growth_rate"], f"{where} extremum {k}: growth_rate")
    if G * sign <= 0:
        raise InputError(f"{where} extremum {k}: G = {G:g} contradicts sign {int(sign):+d} "
                         "(a maximum has G > 0, a minimum G < 0)")
    if rate <= 0:
        raise InputError(f"{where} extremum {k}: growth_rate must be positive, got {rate:g}")
    kind = e.get("kind")
    if kind is not None and kind not in KINDS:
        raise InputError(f"{where} extremum {k}: kind must be one of {', '.join(KINDS)}")
    bf = e.get("basin_fraction")
    if bf is not None:
        bf = _number(bf, f"{where} extremum {k}: basin_fraction")
        if not 0 <= bf <= 1:
            raise InputError(f"{where} extremum {k}: basin_fraction must lie in [0, 1]")
    exact = e.get("exact")
    if exact is not None and not isinstance(exact, str):
        raise InputError(f"{where} extremum {k}: exact must be a string or null")
    delta = np.array([half_unit(v) for v in u])
    return ClaimedExtremum(c / nc, int(sign), G, rate, kind, bf, exact,
                           angle_tol=float(np.linalg.norm(delta) / nc),
                           G_tol=half_unit(e["G"]), rate_tol=half_unit(e["growth_rate"]))


def parse_claim(obj, d: int | None = None, source: str = "claim") -> Claim:
    """A claim from decoded JSON (``Written`` numbers keep their precision; plain floats are
    taken at float64 precision)."""
    if isinstance(obj, list):  # a bare list of extrema (what a theory callable returns)
        obj = {"extrema": obj}
    if not isinstance(obj, dict):
        raise InputError(f"{source} must be a JSON object with an 'extrema' list")
    ex = obj.get("extrema")
    if not isinstance(ex, list):
        raise InputError(f"{source} needs an 'extrema' list")
    out = [parse_extremum(k, e, d, source) for k, e in enumerate(ex)]
    dims = {len(e.direction) for e in out}
    if len(dims) > 1:
        raise InputError(f"{source}: directions have different lengths {sorted(dims)}")
    lm = obj.get("lambda_max")
    if lm is not None:
        lm = _number(lm, f"{source}: lambda_max")
    deg = obj.get("degenerate", False)
    if not isinstance(deg, bool):
        raise InputError(f"{source}: degenerate must be true or false")
    return Claim(out, lm, deg, source)


def load_claim(path, d: int | None = None) -> Claim:
    """Read and validate a claim file (JSON), keeping each number's written precision."""
    from pathlib import Path

    p = Path(path)
    text = read_input_text(p, "claim file")
    try:
        obj = json.loads(text, parse_float=Written, parse_int=Written)
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if _machine_written(obj):
        obj = _as_plain(obj)
    return parse_claim(obj, d, str(p))
