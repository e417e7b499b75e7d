"""Predicted extremal directions of G on the unit sphere, their growth rates and basins.

Claim implemented (docs/theory.md, "Predicted directions"): neurons with a > 0 converge to strict
local maxima u* of G(w) = (1/n) Σ c_i σ(⟨w, x_i⟩) on the sphere with G(u*) > 0 (``sign = +1``),
neurons with a < 0 to strict local minima with G(u*) < 0 (``sign = −1``); growth rate λ = |G(u*)|.

* piecewise-linear σ with kinks: faces of the arrangement are enumerated (``theory.candidates``:
  arcs in 2-D, vertex enumeration) or, when that is unaffordable, found by a multi-start search
  of exact flow paths (``theory.search``, with a coverage statement), screened in float64, and
  certified exactly (``theory.certificate``); a candidate whose exact test is too large is
  checked in float64 (``theory.verification``) and labelled ``"verified"``, never dropped
  silently.  Float work runs on a rescaled twin of the data (``theory.scaling``);
* identity σ: G(w) = ⟨w, v⟩ is linear, extrema ±v/|v| (method ``"linear"``);
* smooth σ (tanh, gelu): to leading order G(w) = σ'(0)⟨w, v⟩, extrema ±v/|v|;
* G ≡ 0 (or v = 0 for smooth σ): no first-order prediction, ``degenerate = True``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import sympy as sp

from . import candidates as cand
from .basins import INITS, basin_fractions
from .certificate import certify_face
from .errors import InputError
from .integer_data import g_vanishes_identically, integer_data
from .scaling import rescaled
from .search import SearchConfig, coverage, search
from .verification import verify_face

KINDS = ("smooth", "kink", "degenerate")
#: Share of the time budget given to the search; exact certificates may use the rest.
SEARCH_SHARE = 0.5


@dataclass
class Extremum:
    """One predicted direction (see module docstring for the sign convention).

    The first seven fields keep their positional order.  ``exact``: the closed form as text
    (for display and JSON; a parsed claim carries only this).  ``direction_exact`` and
    ``G_exact``: the closed forms as sympy expressions (exact mode), the source of ``exact``.
    ``established``: ``"certified"`` (exact proof: face certificate, or the closed form ±v/|v| of
    a linear G), ``"verified"`` (the exact test was too large: float64 tests, ``evidence`` says
    which and the confidence they give) or None (not derived here, e.g. a parsed claim)."""

    direction: np.ndarray
    sign: int
    G: float
    growth_rate: float
    kind: str
    basin_fraction: float | None = None
    exact: str | None = None
    zero_set: tuple[int, ...] = ()
    direction_exact: list | None = field(default=None, repr=False)
    G_exact: sp.Expr | None = field(default=None, repr=False)
    established: str | None = None
    evidence: dict | None = None

    def __post_init__(self):
        if self.exact is None and self.direction_exact is not None:
            self.exact = f"{list(self.direction_exact)}" + (
                "" if self.G_exact is None else f"; G = {self.G_exact}")

    def to_json(self) -> dict:
        return {"direction": [float(v) for v in self.direction], "sign": int(self.sign),
                "G": float(self.G), "growth_rate": float(self.growth_rate), "kind": self.kind,
                "basin_fraction": None if self.basin_fraction is None
                else float(self.basin_fraction), "exact": self.exact,
                "established": self.established, "evidence": self.evidence}

    def exact_direction(self) -> list | None:
        """The exact direction as sympy expressions (exact mode), else None.  A parsed claim
        has only the text ``exact``, which is read as "[u_1, ..., u_d]; G = ..."."""
        if self.direction_exact is not None:
            return list(self.direction_exact)
        if self.exact is None:
            return None
        return list(sp.sympify(self.exact.split(";")[0]))

    def exact_G(self) -> sp.Expr | None:
        """The exact value of G at the direction (exact mode), else None."""
        if self.G_exact is not None:
            return self.G_exact
        if self.exact is None or "G =" not in self.exact:
            return None
        return sp.sympify(self.exact.split("G =")[1])


@dataclass
class Prediction:
    """All predicted extrema of one problem.

    ``complete``: candidates were enumerated exhaustively (not searched) and every candidate was
    decided, so no extremum is missing.  ``degenerate``: no first-order prediction (G ≡ 0, or
    v = 0 for smooth σ).  ``coverage`` (search only): what the search can say about what it
    missed (``theory.search``).  ``search``: starts completed, seconds, whether the time budget
    stopped it.  ``notes``: why the result is incomplete (undecided or dropped candidates)."""

    extrema: list[Extremum]
    lambda_max: float | None
    degenerate: bool
    complete: bool = True
    method: str = ""
    unassigned_fraction: float | None = field(default=None)
    coverage: dict | None = None
    search: dict | None = None
    notes: list = field(default_factory=list)

    def of_sign(self, s) -> list[Extremum]:
        return [e for e in self.extrema if e.sign == int(s)]

    def to_json(self) -> dict:
        out = {"extrema": [e.to_json() for e in self.extrema], "lambda_max": self.lambda_max,
               "degenerate": bool(self.degenerate), "complete": bool(self.complete),
               "method": self.method}
        if self.coverage is not None:
            out["coverage"] = self.coverage
        if self.search is not None:
            out["search"] = self.search
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    @classmethod
    def from_json(cls, obj: dict) -> "Prediction":
        """Parse (and validate) ``sbias predict``'s JSON schema (docs/cli.md); raises
        :class:`InputError`."""
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
    """Sign descending, growth rate descending (to 12 significant digits: scale-free), then
    direction (lexicographic, rounded)."""
    return sorted(ex, key=lambda e: (-e.sign, -float(f"{e.growth_rate:.12g}"),
                                     tuple(np.round(e.direction, 12).tolist())))


# ----------------------------------------------------------------------------- predict
def _linear_extrema(problem, slope: float, exact: bool, slope_exact, back) -> list[Extremum]:
    """±v/|v| for a linear (leading-order) G = slope·⟨w, v⟩; ``back`` scales G back."""
    tw = back.problem
    v = tw.v * slope
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
        ue = Ge = None
        if exact:
            ue = [sp.radsimp(s * x / nve) for x in ve]
            Ge = sp.radsimp(s * nve)
        G = back.G_back(s * nv)
        out.append(Extremum(s * v / nv, s, G, abs(G), "smooth", None, None, (),
                            direction_exact=ue, G_exact=Ge, established="certified",
                            evidence={"test": "closed form ±v/|v| of a linear G"}))
    return out


def _float_rate(tw, sv) -> float:
    """|G| at the float64 candidate of a face (to order candidates; no decisions)."""
    X, c = tw.X, tw.c
    gam = float(tw.activation.gamma)
    g = (np.where(sv > 0, 1.0, np.where(sv < 0, gam, 0.0)) * c) @ X / tw.n
    Z = X[sv == 0]
    if len(Z):
        g = g - Z.T @ np.linalg.lstsq(Z.T, g, rcond=None)[0]
    return float(np.linalg.norm(g))


def _enumerate(Xr, c, gamma, lines, force_search: bool):
    """Exhaustive faces when affordable: (line sign vectors, method) or None.  In dimension
    ≥ 3 the faces around every vertex are screened (``theory.candidates.VertexStream``) while
    the number of face tests, C(L, r−1)·2·3^{r−1}, the vertex table, C(L, r−1)·L, and the
    faces around degenerate vertices (listed unscreened) stay below their caps."""
    L = len(lines.ell)
    r = Xr.shape[1]
    if r == 1:
        return np.array([[1] * L, [-1] * L], dtype=np.int8), "vertex-enumeration"
    if r == 2:
        return cand.arc_faces(lines), "arcs-2d"
    subsets, tests = cand.vertex_count(L, r)
    if force_search or subsets > cand.MAX_VERTEX_SUBSETS or tests > cand.MAX_VERTEX_FACES \
            or subsets * L > cand.MAX_VERTEX_TABLE:
        return None
    stream = cand.VertexStream(Xr, c, gamma, lines)
    if stream.table.degenerate_faces(stream.max_lines) > cand.MAX_DEGENERATE_FACES:
        return None
    faces = stream.faces()
    return (faces, "vertex-enumeration") if stream.complete else None


def _pl_extrema(problem, back, exact: bool, cfg: SearchConfig, force_search: bool):
    """Extrema for piecewise-linear σ: candidates (enumerated or searched) on the float twin,
    each decided by the exact certificate on the original data; undecided ones are verified in
    float64.  Returns (extrema, complete, method, coverage, search info, notes)."""
    t0 = time.perf_counter()
    total = cfg.budget
    cfg = replace(cfg, time_budget=SEARCH_SHARE * total)
    tw = back.problem
    X, c = tw.X, tw.c
    gamma = float(problem.activation.gamma)
    Xr, _ = cand.reduced(X)
    lines = cand.find_lines(Xr)
    en = _enumerate(Xr, c, gamma, lines, force_search)
    res = None
    if en is not None:
        faces, method = en
        survivors = cand.screen(Xr, c, gamma, lines, faces)
        origin = [None] * len(survivors)
    else:
        method = "search"
        res = search(Xr, c, gamma, lines, cfg)
        faces = res.faces
        ok = {(sv.tobytes(), s) for sv, s in cand.screen(Xr, c, gamma, lines, faces)}
        pts = cand.point_signs(lines, faces) if len(faces) else np.zeros((0, problem.n),
                                                                         dtype=np.int8)
        survivors, origin = [], []
        for k, (sv, s) in enumerate(zip(pts, res.signs)):
            if (sv.tobytes(), int(s)) in ok:
                survivors.append((sv, int(s)))
                origin.append(k)
    if res is not None:  # most important first: the exact certificate may run out of time
        order = np.argsort([-_float_rate(tw, sv) for sv, _ in survivors], kind="stable")
        survivors = [survivors[i] for i in order]
        origin = [origin[i] for i in order]
    seen: dict = {}
    out: list[Extremum] = []
    notes: list[str] = []
    assigned = np.zeros(0 if res is None else len(res.faces), dtype=bool)
    undecided = timed_out = 0
    for (sv, sign), k in zip(survivors, origin):
        key = (sv.tobytes(), sign)
        if key in seen:
            if k is not None and seen[key]:
                assigned[k] = True
            continue
        over = res is not None and time.perf_counter() - t0 > total
        cert = None if over else certify_face(problem, sv, sign)
        if cert is not None and cert.passed:
            G = cert.G
            e = Extremum(cert.direction, sign, G, abs(G), cert.kind, None, None, cert.zero_set,
                         direction_exact=cert.direction_exact if exact else None,
                         G_exact=cert.G_exact if exact else None, established="certified",
                         evidence={"test": "extreme rays" if cert.kind == "degenerate"
                                   and cert.zero_set else "dual basis", "dim_S": cert.dim_S})
        elif cert is None or cert.undecided:
            timed_out += cert is None
            undecided += cert is not None
            ver = verify_face(tw, sv, sign, seed=cfg.seed)
            if not ver.passed:
                seen[key] = False
                continue
            ev = dict(ver.evidence)
            ev["why"] = ("time budget spent before the exact certificate" if cert is None
                         else cert.reason)
            G = back.G_back(ver.G)
            e = Extremum(ver.direction, sign, G, abs(G), ver.kind, None, None, ver.zero_set,
                         established="verified", evidence=ev)
        else:
            seen[key] = False
            continue
        seen[key] = True
        if k is not None:
            assigned[k] = True
        out.append(e)
    if timed_out:
        notes.append(f"{timed_out} candidate(s) left when the time budget ran out were checked "
                     "in float64 (those that passed are labelled verified)")
    if undecided:
        notes.append(f"{undecided} candidate(s) too large for the exact certificate were "
                     "checked in float64 only (those that passed are labelled verified)")
    complete = res is None and undecided == 0
    cov = info = None
    if res is not None:
        cov = coverage(res, assigned, cfg.confidence)
        if res.vertices is not None:
            cov["vertex_stream"] = _stream_statement(res.vertices, out, back)
        info = {"starts": res.starts, "seconds": round(res.seconds, 3),
                "time_budget": None if not math.isfinite(total) else total,
                "stopped_by_budget": res.budget_hit, "dead_starts": res.dead,
                "unsettled_walks": res.failed, "end_faces": int(len(res.faces))}
    return out, complete, method, cov, info, notes


def _stream_statement(vert: dict, out: list, back) -> dict:
    """The vertex stream's coverage in the JSON: vertices screened of all, and the threshold
    relative to λ_max: every vertex v with |G(v)| ≥ threshold_rel·λ_max was screened, so every
    extremum u with a vertex v of its face at |G(u)|⟨u, v⟩ ≥ that was decided (None: no vertex
    screened)."""
    v = dict(vert)
    thr = v.pop("threshold")
    lam = max((e.growth_rate for e in out), default=0.0)
    if not math.isfinite(thr):
        rel = None
    elif thr == 0 or lam == 0:
        rel = 0.0 if thr == 0 else None
    else:
        rel = math.ldexp(thr, back.exponent) / lam
    v["threshold_rel"] = rel
    return v


def predict(problem, *, exact: bool = False, basins: bool = True, init: str = "small_a",
            basin_samples: int = 2000, seed: int = 0,
            search_starts: int | None = None, time_budget: float | None = None,
            progress: bool | None = None, confidence: float = 0.95) -> Prediction:
    """Every extremal direction of G on the sphere, its sign, growth rate, kind and basin.

    ``exact``: fill ``Extremum.direction_exact``/``G_exact`` (and the text ``exact``) with sympy
    closed forms.  ``basins``: estimate basin fractions with ``basin_samples`` seeded starts
    under ``init`` ("small_a" or "balanced", see ``theory.basins``).  ``search_starts``: force
    the (incomplete) search with that many random starts for piecewise-linear σ of dimension
    ≥ 3.  ``time_budget``: seconds for the search and its exact certificates (None:
    ``theory.search.DEFAULT_TIME_BUDGET``; ``math.inf``: none): the search stops at
    ``SEARCH_SHARE`` of it, candidates are certified in order of decreasing growth rate, and
    those left when it runs out are verified in float64 (``established = "verified"``).
    Exhaustive enumeration (small data) ignores the budget and certifies everything.
    ``progress``: a progress bar on stderr (None: on a TTY).
    ``confidence``: of the search's missing-mass bound.  Deterministic for a given seed unless
    the time budget stops the search."""
    if init not in INITS:
        raise InputError(f"unknown init {init!r}; known: {', '.join(INITS)}")
    if int(basin_samples) < 1:
        raise InputError(f"basin samples must be a positive integer, got {basin_samples}")
    if search_starts is not None and int(search_starts) < 1:
        raise InputError(f"search starts must be a positive integer, got {search_starts}")
    if time_budget is not None and not (time_budget > 0):
        raise InputError(f"time budget must be a positive number of seconds, got {time_budget}")
    if not (0 < confidence < 1):
        raise InputError(f"confidence must lie in (0, 1), got {confidence}")
    act = problem.activation
    D = integer_data(problem)
    zero = (problem.G_identically_zero if D is None else
            g_vanishes_identically(D, act.gamma if act.piecewise_linear else None))
    if zero:
        return Prediction([], None, True, True, "degenerate")
    back = rescaled(problem)
    complete = True
    cov = info = None
    notes: list = []
    if not act.piecewise_linear:
        ex = _linear_extrema(problem, act.deriv0, exact, sp.nsimplify(act.deriv0), back)
        method = "smooth"
    elif act.gamma == 1:
        ex = _linear_extrema(problem, 1.0, exact, sp.Integer(1), back)
        method = "linear"
    else:
        cfg = SearchConfig(starts=None if search_starts is None else int(search_starts),
                           time_budget=time_budget, seed=seed, progress=progress,
                           confidence=confidence)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):  # many small products: see search
            ex, complete, method, cov, info, notes = _pl_extrema(
                problem, back, exact, cfg, search_starts is not None)
    ex = _sorted(ex)
    pred = Prediction(ex, max((e.growth_rate for e in ex), default=None), False, complete,
                      method, coverage=cov, search=info, notes=notes)
    if basins and ex:
        fr, rest = basin_fractions(back.problem, ex, init=init, samples=basin_samples,
                                   seed=seed)
        for e, f in zip(ex, fr):
            e.basin_fraction = f
        pred.unassigned_fraction = rest
    return pred
