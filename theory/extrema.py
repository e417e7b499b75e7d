"""Predicted extremal directions of G on the unit sphere, their growth rates and basins.

Claim implemented (DESIGN §2): neurons with a > 0 converge to strict local maxima u* of
G(w) = (1/n) Σ c_i σ(⟨w, x_i⟩) on the sphere with G(u*) > 0 (``sign = +1``), neurons with a < 0
to strict local minima with G(u*) < 0 (``sign = −1``); growth rate λ = |G(u*)|.

* piecewise-linear σ with kinks: faces of the arrangement are enumerated (``theory.candidates``:
  arcs in 2-D, vertex enumeration, or seeded search as a fallback), screened in float64, and
  every reported extremum is certified exactly (``theory.certificate``);
* identity σ: G(w) = ⟨w, v⟩ is linear, extrema ±v/|v| (method ``"linear"``);
* smooth σ (tanh, gelu): to leading order G(w) = σ'(0)⟨w, v⟩, extrema ±v/|v|;
* G ≡ 0 (or v = 0 for smooth σ): no first-order prediction, ``degenerate = True``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from . import candidates as cand
from .basins import INITS, basin_fractions
from .certificate import certify_face
from .errors import InputError

KINDS = ("smooth", "kink", "degenerate")


@dataclass
class Extremum:
    """One predicted direction (see module docstring for the sign convention)."""

    direction: np.ndarray
    sign: int
    G: float
    growth_rate: float
    kind: str
    basin_fraction: float | None
    exact: str | None
    zero_set: tuple[int, ...] = ()

    def to_json(self) -> dict:
        return {"direction": [float(v) for v in self.direction], "sign": int(self.sign),
                "G": float(self.G), "growth_rate": float(self.growth_rate), "kind": self.kind,
                "basin_fraction": None if self.basin_fraction is None
                else float(self.basin_fraction), "exact": self.exact}

    def exact_direction(self) -> list | None:
        """The exact direction as sympy expressions (exact mode), else None."""
        if self.exact is None:
            return None
        return list(sp.sympify(self.exact.split(";")[0]))

    def exact_G(self) -> sp.Expr | None:
        """The exact value of G at the direction (exact mode), else None."""
        if self.exact is None or "G =" not in self.exact:
            return None
        return sp.sympify(self.exact.split("G =")[1])


@dataclass
class Prediction:
    """All predicted extrema of one problem.

    ``complete``: candidates were enumerated exhaustively (not searched), so no extremum is
    missing.  ``degenerate``: no first-order prediction (G ≡ 0, or v = 0 for smooth σ)."""

    extrema: list[Extremum]
    lambda_max: float | None
    degenerate: bool
    complete: bool = True
    method: str = ""
    unassigned_fraction: float | None = field(default=None)

    def of_sign(self, s) -> list[Extremum]:
        return [e for e in self.extrema if e.sign == int(s)]

    def to_json(self) -> dict:
        out = {"extrema": [e.to_json() for e in self.extrema], "lambda_max": self.lambda_max,
               "degenerate": bool(self.degenerate), "complete": bool(self.complete),
               "method": self.method}
        return out

    @classmethod
    def from_json(cls, obj: dict) -> "Prediction":
        """Parse (and validate) the JSON schema of DESIGN §4; raises :class:`InputError`."""
        if not isinstance(obj, dict):
            raise InputError("claim must be a JSON object with an 'extrema' list")
        ex = obj.get("extrema")
        if not isinstance(ex, list):
            raise InputError("claim JSON needs an 'extrema' list")
        out = []
        dim = None
        for k, e in enumerate(ex):
            if not isinstance(e, dict):
                raise InputError(f"claim extremum {k} is not an object")
            for key in ("direction", "sign"):
                if key not in e:
                    raise InputError(f"claim extremum {k} has no {key!r}")
            try:
                u = np.asarray(e["direction"], dtype=float)
            except (TypeError, ValueError):
                raise InputError(f"claim extremum {k}: direction must be a list of numbers") \
                    from None
            if u.ndim != 1 or u.size == 0 or not np.all(np.isfinite(u)):
                raise InputError(f"claim extremum {k}: direction must be a finite 1-D list")
            nu = float(np.linalg.norm(u))
            if nu == 0:
                raise InputError(f"claim extremum {k}: direction is the zero vector")
            if dim is None:
                dim = u.size
            elif u.size != dim:
                raise InputError(f"claim extremum {k}: direction has {u.size} entries, "
                                 f"others have {dim}")
            sign = e["sign"]
            if isinstance(sign, bool) or sign not in (1, -1):
                raise InputError(f"claim extremum {k}: sign must be 1 or -1, got {sign!r}")
            G = e.get("G")
            if G is not None and not (isinstance(G, (int, float)) and math.isfinite(G)):
                raise InputError(f"claim extremum {k}: G must be a finite number")
            if G is not None and G * sign <= 0:
                raise InputError(f"claim extremum {k}: G = {G} contradicts sign {sign:+d}")
            gr = e.get("growth_rate", abs(G) if G is not None else None)
            if gr is not None and not (isinstance(gr, (int, float)) and math.isfinite(gr)
                                       and gr >= 0):
                raise InputError(f"claim extremum {k}: growth_rate must be a number >= 0")
            if G is None and gr is not None:
                G = sign * gr
            kind = e.get("kind") or "kink"
            if kind not in KINDS:
                raise InputError(f"claim extremum {k}: kind must be one of {', '.join(KINDS)}")
            bf = e.get("basin_fraction")
            if bf is not None and not (isinstance(bf, (int, float)) and 0 <= bf <= 1):
                raise InputError(f"claim extremum {k}: basin_fraction must lie in [0, 1]")
            out.append(Extremum(u / nu, int(sign), float("nan") if G is None else float(G),
                                float("nan") if gr is None else float(gr), kind,
                                None if bf is None else float(bf), e.get("exact")))
        lm = obj.get("lambda_max")
        if lm is not None and not (isinstance(lm, (int, float)) and math.isfinite(lm)):
            raise InputError("claim lambda_max must be a finite number or null")
        if lm is None:
            rates = [e.growth_rate for e in out if math.isfinite(e.growth_rate)]
            lm = max(rates) if rates else None
        return cls(_sorted(out), lm, bool(obj.get("degenerate", False)),
                   bool(obj.get("complete", True)), str(obj.get("method", "claim")))


def _sorted(ex: list[Extremum]) -> list[Extremum]:
    """Sign descending, growth rate descending, then direction (lexicographic, rounded)."""
    return sorted(ex, key=lambda e: (-e.sign, -round(e.growth_rate, 12),
                                     tuple(np.round(e.direction, 12).tolist())))


# ----------------------------------------------------------------------------- predict
def _linear_extrema(problem, slope: float, exact: bool, slope_exact) -> list[Extremum]:
    v = problem.v * slope
    nv = float(np.linalg.norm(v))
    out = []
    ve = nve = None
    if exact:
        Xe, ce = problem.X_exact, problem.c_exact
        ve = [sp.nsimplify(slope_exact) * sum((ce[i] * Xe[i, k] for i in range(problem.n)),
                                               sp.Integer(0)) / problem.n
              for k in range(problem.d)]
        nve = sp.sqrt(sp.expand(sum(x ** 2 for x in ve)))
    for s in (1, -1):
        ex = None
        if exact:
            ue = [sp.radsimp(s * x / nve) for x in ve]
            ex = f"{ue}; G = {sp.radsimp(s * nve)}"
        out.append(Extremum(s * v / nv, s, s * nv, nv, "smooth", None, ex, ()))
    return out


def _pl_extrema(problem, exact: bool, search_starts: int | None, seed: int):
    X, c = problem.X, problem.c
    gamma = float(problem.activation.gamma)
    Xr, _ = cand.reduced(X)
    r = Xr.shape[1]
    lines = cand.find_lines(Xr)
    L = len(lines.ell)
    complete = True
    if r == 1:
        faces = np.array([[1] * L, [-1] * L], dtype=np.int8)
        method = "vertex-enumeration"
    elif r == 2:
        faces = cand.arc_faces(lines)
        method = "arcs-2d"
    else:
        subsets, nfaces = cand.vertex_count(L, r)
        if search_starts is None and subsets <= cand.MAX_VERTEX_SUBSETS \
                and nfaces <= cand.MAX_VERTEX_FACES:
            faces = cand.vertex_faces(lines)
            method = "vertex-enumeration"
        else:
            starts = 1000 if search_starts is None else int(search_starts)
            if starts < 1:
                raise InputError(f"search starts must be a positive integer, got {starts}")
            faces = cand.search_faces(Xr, c, gamma, lines, starts, seed)
            method = "search"
            complete = False
    survivors = cand.screen(Xr, c, gamma, lines, faces)
    seen = set()
    out = []
    for sv, sign in survivors:
        key = (sv.tobytes(), sign)
        if key in seen:
            continue
        seen.add(key)
        cert = certify_face(problem, sv, sign)
        if not cert.passed:
            continue
        ex = None
        if exact:
            ex = f"{cert.direction_exact}; G = {cert.G_exact}"
        out.append(Extremum(cert.direction, sign, cert.G, abs(cert.G), cert.kind, None, ex,
                            cert.zero_set))
    return out, complete, method


def predict(problem, *, exact: bool = False, basins: bool = True, init: str = "small_a",
            basin_samples: int = 2000, seed: int = 0,
            search_starts: int | None = None) -> Prediction:
    """Every extremal direction of G on the sphere, its sign, growth rate, kind and basin.

    ``exact``: fill ``Extremum.exact`` with sympy closed forms ("[u_1, ..., u_d]; G = ...").
    ``basins``: estimate basin fractions with ``basin_samples`` seeded starts under ``init``
    ("small_a" or "balanced", see ``theory.basins``).  ``search_starts``: force the (incomplete)
    search with that many starts for piecewise-linear σ of dimension ≥ 3.  Deterministic for a
    given seed."""
    if init not in INITS:
        raise InputError(f"unknown init {init!r}; known: {', '.join(INITS)}")
    if int(basin_samples) < 1:
        raise InputError(f"basin samples must be a positive integer, got {basin_samples}")
    act = problem.activation
    if problem.G_identically_zero:
        return Prediction([], None, True, True, "degenerate")
    complete = True
    if not act.piecewise_linear:
        ex = _linear_extrema(problem, act.deriv0, exact, sp.nsimplify(act.deriv0))
        method = "smooth"
    elif act.gamma == 1:
        ex = _linear_extrema(problem, 1.0, exact, sp.Integer(1))
        method = "linear"
    else:
        ex, complete, method = _pl_extrema(problem, exact, search_starts, seed)
    ex = _sorted(ex)
    pred = Prediction(ex, max((e.growth_rate for e in ex), default=None), False, complete,
                      method)
    if basins and ex:
        fr, rest = basin_fractions(problem, ex, init=init, samples=basin_samples, seed=seed)
        for e, f in zip(ex, fr):
            e.basin_fraction = f
        pred.unassigned_fraction = rest
    return pred
