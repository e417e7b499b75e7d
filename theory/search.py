"""Multi-start search for the extrema of G on the sphere (piecewise-linear σ), with coverage.

Used when exhaustive enumeration of the faces is unaffordable (high dimension, many points).
Each start u₀ (uniform on the sphere) takes the sign s of G(u₀) — where a small-a neuron's output
weight goes — and follows the sphere gradient flow of s·G to its end; the face of the end point
is then certified exactly by the caller.  Two phases:

1. *Vectorised ascent* (numpy, all starts at once; data with many lines only): normalised
   Riemannian gradient steps of a per-start length h (a re-timing of the flow).  h grows by
   1.5 while consecutive steps agree (cosine > 0.7), halves when they reverse (the path
   zig-zags across a kink), and the start leaves the working set once h < ``H_STOP``.
2. *Exact face walk* (per start, from the end of phase 1): on a face of the arrangement G is
   linear, G(w) = ⟨w, g⟩, and the flow on the sphere moves along the great circle towards
   Π g/|Π g| (Π: projection onto the flat orthogonal to the zero set Z).  The walk follows that
   circle to the first kink hyperplane it meets; there it crosses when the flow on the other side
   also moves away from the hyperplane, and otherwise slides along it (the hyperplane joins Z:
   Filippov's sliding field is exactly the projected gradient, because the one-sided gradients
   differ by a multiple of the hyperplane's normal).  A hyperplane leaves Z when the dual-basis
   test says the flow ascends off it.  For more than ``WALK_ONLY_LINES`` lines phase 1 runs
   first (its long steps can hop between small basins: end points then follow the search, not
   exactly the flow); below, the walk starts at the random start and phase 1 is skipped.  The
   walk ends at a face whose candidate it has reached
   with no hyperplane to leave: a float64 extremum, handed to the exact certificate.  Phase 2
   follows the flow's path exactly (up to rounding), so end points do not depend on step sizes.

Seeds and exploration.  Besides the random starts, the search starts once from each data line ±ℓ
and from ±v (v = Σ c_i x_i / n), where extrema often sit, from the normalised sums and
differences ±ℓ_i ± ℓ_j of pairs of lines (up to ``PAIR_MAX_LINES`` lines; flowing with the sign
of G there), and, with every batch of random
starts, makes ``EXPLORE_PER_START`` times as many *exploration walks* (both only up to
``WALK_ONLY_LINES`` lines; above, only ±v: the time goes to uniform starts): a random set of
1 … min(r − 1, ``EXPLORE_MAX_K``) hyperplanes is held in the zero set, the walk settles on their
flat (a sub-sphere, where an extremum on a ridge has a far larger basin than on the whole
sphere — extrema with tiny basins on the sphere are otherwise found by no affordable number of
starts), then continues freely.  Alternate batches start inside random faces drawn through
random vertices (:func:`_face_starts`), so that small faces are drawn as often as large ones.
These raise recall but are not uniform samples, so they are kept out of the coverage
statistics.  Exploration runs only when the vertex stream (below) does not: where both can run,
the stream finds the small faces far more cheaply, and the time goes to uniform starts and to
the stream instead.

Vertex stream.  Uniform starts reach an extremum only as often as its basin is large, and
extrema with high growth rates can sit in faces a few hundredths of a radian across.  Every
extremum u of sign s lies on a face F; G is linear on the closure of F and every vertex v of it
lies on F's zero set, so s·G(v) = |G(u)|⟨v, u⟩ — the vertices of a small face all have |G(v)|
close to |G(u)|.  So, while the vertex table is affordable (``STREAM_MAX_TABLE``,
``STREAM_MAX_R``), the search also screens the faces around the vertices of the arrangement in
order of decreasing |G(v)| (``theory.candidates.VertexStream``), interleaved with the uniform
starts: ``STREAM_SHARE`` of the time until ``MIN_STARTS`` uniform starts are done, then all of
it until the vertices with |G(v)| ≥ ``STREAM_TARGET``·max|G(v)| are screened (the vertices of a
small face of an extremum with |G(u)| ≥ λ_max/2), then ``STREAM_SHARE`` again while uniform
starts are still wanted, and all of the rest.
Its statement is exact, not statistical: once the vertices with |G(v)| ≥ X are screened, every
extremum whose face has a vertex v with |G(u)|⟨v, u⟩ ≥ X has been listed (and is then decided by
the exact certificate); when every vertex is screened, the listing is exhaustive.  Stream faces
are not uniform samples and stay out of the coverage statistics.

Coverage (Good–Turing).  Among N uniform random starts, let N₁ be the number of extrema reached by
exactly one start.  The missing mass M — the share of uniform starts whose flow ends at an
extremum no start reached — has E[M] ≤ E[N₁]/N, N₁/N concentrates (McDiarmid: one start changes
N₁ by at most 2, so P(E[N₁]/N − N₁/N > ε) ≤ exp(−N ε²/2)) and so does M (McAllester & Ortiz
2003: P(M − E[M] > ε) ≤ exp(−N ε²)).  With probability at least 1 − δ:

    M ≤ N₁/N + sqrt(2 ln(2/δ)/N) + sqrt(ln(2/δ)/N)                       (``missing_mass_bound``)

The share of uniform starts whose walk ended at no reported extremum (dead starts with G(u₀) = 0,
walks that failed, faces the certificate rejected) is ``unassigned_basin_share``.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from math import comb

import numpy as np

from .candidates import Lines, VertexStream, g_scale, line_slopes

#: Phase-1 step lengths (radians): start, cap, and the length below which a start stops.
H_START, H_MAX, H_STOP = 0.05, 0.2, 1e-3
#: Up to this many lines the walk starts at the random start itself (phase 1 is skipped), so
#: the end point is the flow's own end point.
WALK_ONLY_LINES = 400
#: Phase-1 iteration cap (a start still moving then goes to the walk as it is).
MAX_ASCENT_STEPS = 400
#: Default search: at least this many random starts, at most ``MAX_STARTS``, stopping early once
#: the Good–Turing share N₁/N is below ``GT_STOP`` (every extremum seen at least twice, bar a
#: share that small).
MIN_STARTS, MAX_STARTS, GT_STOP = 1000, 200_000, 1e-3
#: Uniform starts per batch, at least (time permitting).
MIN_BATCH = 256
#: Exploration walks (held on random flats) per uniform random start.
EXPLORE_PER_START = 4
#: ... each held on at most this many random hyperplanes.
EXPLORE_MAX_K = 6
#: Default time budget for the search (seconds).
DEFAULT_TIME_BUDGET = 20.0
#: Vertex stream (module docstring): run while the vertex table (C(L, r−1) subsets, each
#: checked against L lines) stays below ``STREAM_MAX_TABLE`` = C·L per 10 s of search (about a
#: quarter of it, measured at d = 6, n = 40 on a busy 2-core machine) and C below
#: ``STREAM_MAX_SUBSETS`` (memory: ~100 bytes per subset), and r ≤ ``STREAM_MAX_R`` (3^{r−1}
#: faces around a vertex).
STREAM_MAX_TABLE, STREAM_MAX_SUBSETS, STREAM_MAX_R = 4e7, 2e6, 9
#: Until ``MIN_STARTS`` uniform starts are done, and again once the stream has screened the
#: vertices with |G(v)| ≥ ``STREAM_TARGET``·max|G(v)|, the stream gets ``STREAM_SHARE`` of the
#: search's time; in between it gets all of it.
STREAM_SHARE, STREAM_TARGET = 0.5, 0.45
#: Seeds at the normalised sums and differences of pairs of data lines, up to this many lines.
PAIR_MAX_LINES = 50
#: Degenerate vertices with more lines through them than this are skipped by the stream
#: (counted; 3^m unscreened faces each).
STREAM_MAX_LINES = 8


@dataclass(frozen=True)
class SearchConfig:
    """How long to search.  ``starts``: exactly this many random starts (the time budget may cut
    it short); None: adaptive (module docstring).  ``time_budget``: seconds (None: the default
    budget; ``math.inf``: none).  ``progress``: a tqdm bar on stderr (None: only on a TTY).
    ``confidence``: 1 − δ of the missing-mass bound.  ``seeds``: also start at data lines and ±v.
    ``explore``: with each batch of random starts, as many walks held on random flats (only
    when the vertex stream does not run).
    ``vertices``: also screen the faces around the vertices of the arrangement, in order of
    decreasing |G| (while the vertex table is affordable)."""

    starts: int | None = None
    time_budget: float | None = None
    seed: int = 0
    progress: bool | None = None
    confidence: float = 0.95
    seeds: bool = True
    explore: bool = True
    vertices: bool = True

    @property
    def budget(self) -> float:
        return DEFAULT_TIME_BUDGET if self.time_budget is None else float(self.time_budget)


@dataclass
class SearchResult:
    """End faces of the search.  ``faces``: line sign vectors (int8, one row per distinct end
    face); ``signs``: the sign s of each; ``hits``: how many uniform random starts ended there;
    ``seeded``: whether a seed start (data line, ±v) ended there.  ``starts``: uniform starts
    completed; ``dead``: of those, starts with G(u₀) = 0 (no flow); ``failed``: walks that did not
    converge; ``budget_hit``: the time budget stopped the search.  ``vertices``: the vertex
    stream's statement (:func:`vertex_statement`), None when it did not run."""

    faces: np.ndarray
    signs: np.ndarray
    hits: np.ndarray
    seeded: np.ndarray
    starts: int
    dead: int
    failed: int
    budget_hit: bool
    seconds: float
    per_start: list = field(default_factory=list, repr=False)
    vertices: dict | None = None


def missing_mass_bound(singletons: int, n: int, confidence: float) -> float:
    """Good–Turing upper bound on the missing mass at the given confidence (module docstring)."""
    if n <= 0:
        return 1.0
    delta = 1.0 - confidence
    lg = math.log(2.0 / delta)
    return min(1.0, singletons / n + math.sqrt(2.0 * lg / n) + math.sqrt(lg / n))


class _Landscape:
    """G in the coordinates of the search, per line: G(w) = Σ_ℓ f_ℓ(⟨w, ℓ⟩) with f_ℓ(z) = a⁺_ℓ z
    (z > 0), a⁻_ℓ z (z < 0)."""

    def __init__(self, Xr, c, gamma, lines: Lines):
        self.X, self.c, self.gamma, self.lines = Xr, c, float(gamma), lines
        self.n = len(c)
        self.ell = lines.ell
        self.ap, self.am = line_slopes(lines, c, gamma)
        self.scale = g_scale(Xr, c, gamma)

    def G(self, U):
        Z = U @ self.ell.T
        return np.where(Z > 0, Z * self.ap, Z * self.am).sum(axis=1)

    def grad(self, U):
        Z = U @ self.ell.T
        mid = 0.5 * (self.ap + self.am)
        W = np.where(Z > 0, self.ap, np.where(Z < 0, self.am, mid))
        return W @ self.ell


def _ascend(land: _Landscape, U, s, deadline=math.inf):
    """Phase 1 (module docstring): returns the end points (as they are at the deadline)."""
    U = U.copy()
    h = np.full(len(U), H_START)
    prev = np.zeros_like(U)
    act = np.arange(len(U))
    for _ in range(MAX_ASCENT_STEPS):
        if act.size == 0 or time.perf_counter() > deadline:
            break
        V = U[act]
        gr = land.grad(V)
        tang = gr - np.sum(gr * V, axis=1, keepdims=True) * V
        nt = np.linalg.norm(tang, axis=1, keepdims=True)
        moving = nt[:, 0] > 1e-14 * land.scale
        dirn = np.where(nt > 0, tang / np.where(nt > 0, nt, 1.0), 0.0) * s[act, None]
        cos = np.sum(dirn * prev[act], axis=1)
        ha = h[act]
        ha = np.where(cos < 0, 0.5 * ha, np.where(cos > 0.7, np.minimum(1.5 * ha, H_MAX), ha))
        V = V + ha[:, None] * dirn
        V /= np.linalg.norm(V, axis=1, keepdims=True)
        U[act] = V
        h[act] = ha
        prev[act] = dirn
        act = act[(ha >= H_STOP) & moving]
    return U


def _zero_basis(ell, SV):
    """Padded zero-set data of walks with line sign vectors SV: (idx, valid, Bz, gram)."""
    zm = SV == 0
    kmax = int(zm.sum(axis=1).max()) if len(SV) else 0
    idx = np.argsort(~zm, axis=1, kind="stable")[:, :kmax]
    valid = np.take_along_axis(zm, idx, axis=1)
    Bz = ell[idx] * valid[..., None]  # (A, kmax, r), zero rows for padding
    gram = Bz @ np.swapaxes(Bz, 1, 2) + np.eye(kmax) * (~valid)[:, None, :]
    return idx, valid, Bz, gram


def _walk_batch(land: _Landscape, U, s, max_events: int, hold=None, deadline=math.inf):
    """Phase 2 (module docstring): the exact face walks of s·G from the rows of ``U`` (signs
    ``s``), all at once: every walk advances one event per iteration; zero sets are padded to
    the largest one.  ``hold``: (B, L) bool, hyperplanes held in the zero set (the start is
    first projected onto their flat) until the walk settles there; then they may leave like
    any other (exploration of ridge extrema).  A walk that meets a hyperplane lying in the span
    of its zero set (dependent lines through u) stops there: the certificate decides.
    Returns (line sign vectors (B, L) int8, settled (B,) bool, cut (B,) bool):
    ``cut`` marks walks stopped by the ``deadline`` (``time.perf_counter()`` value)."""
    ell = land.ell
    L, r = ell.shape
    Bn = len(U)
    tol = 1e-12 * land.scale
    s = np.asarray(s, dtype=float)
    AP = s[:, None] * land.ap[None, :]  # slopes of F = s·G, per walk
    AM = s[:, None] * land.am[None, :]
    hold = np.zeros((Bn, L), dtype=bool) if hold is None else hold.copy()
    U = np.array(U, dtype=float)
    if hold.any():  # start on the forced flat
        for b in np.nonzero(hold.any(axis=1))[0]:
            q = np.linalg.qr(ell[hold[b]].T)[0]
            U[b] -= q @ (q.T @ U[b])
    U /= np.maximum(np.linalg.norm(U, axis=1, keepdims=True), 1e-300)
    SV = np.sign(U @ ell.T).astype(np.int8)
    SV[hold] = 0
    SL = np.where(SV > 0, AP, np.where(SV < 0, AM, 0.0))
    Gv = SL @ ell
    done = np.zeros(Bn, dtype=bool)
    settled = np.zeros(Bn, dtype=bool)
    cut = np.zeros(Bn, dtype=bool)
    for _ in range(max_events):
        act = np.nonzero(~done)[0]
        if act.size == 0:
            break
        if time.perf_counter() > deadline:
            done[act] = cut[act] = True
            break
        sv = SV[act]
        u, g = U[act], Gv[act]
        if (sv == 0).any():
            idx, valid, Bz, gram = _zero_basis(ell, sv)
            rhs = np.stack([np.einsum("akr,ar->ak", Bz, g), np.einsum("akr,ar->ak", Bz, u)],
                           axis=2)
            sol = np.linalg.solve(gram, rhs)
            beta, cu = sol[..., 0], sol[..., 1]
            ap_z = np.take_along_axis(AP[act], idx, axis=1)
            am_z = np.take_along_axis(AM[act], idx, axis=1)
            free = valid & ~np.take_along_axis(hold[act], idx, axis=1)
            vp = np.where(free, beta + ap_z, -np.inf)
            vm = np.where(free, -(beta + am_z), -np.inf)
            jp, jm = vp.argmax(axis=1), vm.argmax(axis=1)
            ar = np.arange(len(act))
            bp, bm = vp[ar, jp], vm[ar, jm]
            rel = np.maximum(bp, bm) > tol
            if rel.any():  # the flow leaves a hyperplane of Z
                ra = act[rel]
                side = np.where(bp[rel] >= bm[rel], 1, -1)
                li = np.where(side > 0, idx[rel, jp[rel]], idx[rel, jm[rel]])
                SV[ra, li] = side
                slope = np.where(side > 0, AP[ra, li], AM[ra, li])
                Gv[ra] += slope[:, None] * ell[li]
            mv = ~rel
            act, Bz, beta, cu, gram = act[mv], Bz[mv], beta[mv], cu[mv], gram[mv]
            u, g, sv = u[mv], g[mv], sv[mv]
            pg = g - np.einsum("akr,ak->ar", Bz, beta)
            u = u - np.einsum("akr,ak->ar", Bz, cu)
            u /= np.linalg.norm(u, axis=1, keepdims=True)
        else:
            pg = g
            Bz = gram = None
        if act.size == 0:
            continue
        npg = np.linalg.norm(pg, axis=1)
        t = pg / np.maximum(npg, 1e-300)[:, None]
        ct = np.clip(np.sum(u * t, axis=1), -1.0, 1.0)
        w = t - ct[:, None] * u
        nw = np.linalg.norm(w, axis=1)
        stop = (npg <= tol) | (nw <= 1e-15)
        if stop.any():  # at the candidate (or flat): settled, unless lines were held
            sa = act[stop]
            held = hold[sa].any(axis=1)
            hold[sa[held]] = False
            done[sa[~held]] = settled[sa[~held]] = True
            U[act] = u
            go = ~stop
            act, u, t, w, nw, ct, sv, g = (act[go], u[go], t[go], w[go], nw[go], ct[go],
                                           sv[go], g[go])
            if Bz is not None:
                Bz, gram = Bz[go], gram[go]
        if act.size == 0:
            continue
        w /= nw[:, None]
        theta_t = np.arccos(ct)
        A = sv * (u @ ell.T)
        Bv = sv * (w @ ell.T)
        th = np.where(A > 0, np.arctan2(A, -Bv), np.where(Bv < 0, 0.0, np.inf))
        th[sv == 0] = np.inf
        li = th.argmin(axis=1)
        thl = th[np.arange(len(act)), li]
        arrive = thl >= theta_t
        U[act[arrive]] = t[arrive]
        hit = ~arrive
        if not hit.any():
            continue
        ah, lh, th0 = act[hit], li[hit], thl[hit]
        uh = np.cos(th0)[:, None] * u[hit] + np.sin(th0)[:, None] * w[hit]
        uh -= np.sum(uh * ell[lh], axis=1, keepdims=True) * ell[lh]
        uh /= np.linalg.norm(uh, axis=1, keepdims=True)
        U[ah] = uh
        cur_s = SV[ah, lh].astype(int)
        other = -cur_s
        cur = np.where(cur_s > 0, AP[ah, lh], AM[ah, lh])
        oth = np.where(other > 0, AP[ah, lh], AM[ah, lh])
        g_o = g[hit] + (oth - cur)[:, None] * ell[lh]
        if Bz is not None:
            Bzh = Bz[hit]
            rhs = np.stack([np.einsum("akr,ar->ak", Bzh, g_o),
                            np.einsum("akr,ar->ak", Bzh, ell[lh])], axis=2)
            sol = np.linalg.solve(gram[hit], rhs)
            pg_o = g_o - np.einsum("akr,ak->ar", Bzh, sol[..., 0])
            res_l = ell[lh] - np.einsum("akr,ak->ar", Bzh, sol[..., 1])
            dep = np.linalg.norm(res_l, axis=1) < 1e-8  # the line lies in span(Z)
        else:
            pg_o = g_o
            dep = np.zeros(len(ah), dtype=bool)
        cross = (other * np.sum(pg_o * ell[lh], axis=1) > tol) & ~dep
        SV[ah[cross], lh[cross]] = other[cross]
        Gv[ah[cross]] = g_o[cross]
        sl = ~cross
        SV[ah[sl], lh[sl]] = 0
        Gv[ah[sl]] = g[hit][sl] - cur[sl][:, None] * ell[lh[sl]]
        if dep.any():  # dependent lines through u: the certificate decides
            done[ah[dep]] = settled[ah[dep]] = True
    return SV, settled, cut


def _face_starts(ell, m, rng):
    """Starts inside random faces of the arrangement, drawn through random vertices: r − 1
    random hyperplanes meet at ±v; a random nonempty subset of them is held, and the start is v
    moved by 1e-7 rad into a random side of each of the others.  Every face has a vertex in its
    closure, so every face — however small — can be drawn (not the uniform measure: such walks
    do not enter the coverage statistics)."""
    L, r = ell.shape
    T = np.array([rng.choice(L, size=min(r - 1, L), replace=False) for _ in range(m)])
    A = ell[T]  # (m, r−1, r)
    _, S, Vt = np.linalg.svd(A)
    v = Vt[:, -1, :] * rng.choice([-1.0, 1.0], size=(m, 1))
    ok = S[:, -1] > 1e-10
    k0 = rng.integers(1, min(r, EXPLORE_MAX_K + 1), size=m)
    held = rng.random((m, T.shape[1])).argsort(axis=1) < k0[:, None]
    # dual directions: d_j with ⟨d_j, ℓ_{T_i}⟩ = δ_ij inside span(A), by least squares
    D = np.linalg.pinv(A)  # (m, r, r−1)
    side = rng.choice([-1.0, 1.0], size=T.shape) * ~held
    U = v + 1e-7 * np.einsum("mrk,mk->mr", D, side)
    hold = np.zeros((m, L), dtype=bool)
    np.put_along_axis(hold, T, held, axis=1)
    U, hold = U[ok], hold[ok]
    return U / np.linalg.norm(U, axis=1, keepdims=True), hold


def _progress(cfg: SearchConfig, total):
    want = cfg.progress if cfg.progress is not None else sys.stderr.isatty()
    if not want:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="search starts", unit="start", file=sys.stderr,
                leave=False)


def search(Xr: np.ndarray, c: np.ndarray, gamma: float, lines: Lines,
           cfg: SearchConfig) -> SearchResult:
    """Run the multi-start search (module docstring) on reduced data ``Xr`` (n×r).

    BLAS runs single-threaded here: the walks are many small batched solves, which threads
    slow down (measured 3.5× slower with two threads on two busy cores)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _search(Xr, c, gamma, lines, cfg)


def _search(Xr, c, gamma, lines, cfg):
    t0 = time.perf_counter()
    budget = cfg.budget
    deadline = t0 + budget
    land = _Landscape(Xr, c, gamma, lines)
    n, r = Xr.shape
    L = len(lines.ell)
    rng = np.random.default_rng(cfg.seed)
    max_events = 50 + 4 * L
    batch = int(max(64, min(2048, 4_000_000 // max(L * r, 1))))
    faces: dict[tuple[bytes, int], int] = {}
    rows: list[np.ndarray] = []
    sgn: list[int] = []
    hits: list[int] = []
    seeded: list[bool] = []

    def record(SV, s, uniform):
        """Record end faces (line sign vectors SV with signs s)."""
        for sv, si in zip(SV, s):
            key = (sv.tobytes(), int(si))
            k = faces.get(key)
            if k is None:
                k = faces[key] = len(rows)
                rows.append(sv.copy())
                sgn.append(int(si))
                hits.append(0)
                seeded.append(False)
            if uniform:
                hits[k] += 1
            else:
                seeded[k] = True

    def walk(U, s, hold=None, uniform=False):
        """Walk from the rows of U (phase 1 first for many lines); record the end faces."""
        if L > WALK_ONLY_LINES and hold is None:
            U = _ascend(land, U, s, deadline)
        SV, ok, cut = _walk_batch(land, U, s, max_events, hold, deadline)
        record(SV[ok], s[ok], uniform)
        return int(np.sum(~ok & ~cut)), int(np.sum(cut))

    def seed_walks():  # data lines and ±v, both flow signs
        v = c @ Xr / n
        S = [lines.ell, -lines.ell] if L <= WALK_ONLY_LINES else [np.zeros((0, r))]
        if np.linalg.norm(v) > 0:
            S.append(np.stack([v, -v]) / np.linalg.norm(v))
        U = np.concatenate(S)
        U = U + 1e-6 * rng.standard_normal(U.shape)  # off the kinks they sit on
        for sg in (1.0, -1.0):
            for k in range(0, len(U), batch):
                walk(U[k:k + batch], np.full(len(U[k:k + batch]), sg))
        if L <= PAIR_MAX_LINES:  # ±ℓ_i ± ℓ_j, flowing with the sign of G there
            i, j = np.triu_indices(L, 1)
            U = np.concatenate([lines.ell[i] + lines.ell[j], lines.ell[i] - lines.ell[j]])
            U = np.concatenate([U, -U])
            U /= np.maximum(np.linalg.norm(U, axis=1, keepdims=True), 1e-300)
            U = U + 1e-6 * rng.standard_normal(U.shape)
            sg = np.sign(land.G(U))
            U, sg = U[sg != 0], sg[sg != 0]
            for k in range(0, len(U), batch):
                walk(U[k:k + batch], sg[k:k + batch])
    target = cfg.starts
    seeds_done = not cfg.seeds
    size = 32  # the first batch is small: it measures the rate
    done = dead = failed = 0
    budget_hit = False
    stream = None  # the vertex stream, built at its first turn
    use_stream = cfg.vertices and _stream_affordable(L, r, budget)
    explore = cfg.explore and not use_stream  # the stream finds small faces far better
    t_uni = t_str = 0.0
    chunk = 64  # vertices per stream turn, adapted to take about 0.1 of the time left
    bar = _progress(cfg, target or MIN_STARTS)

    def want_uniform():
        if target is not None:
            return done < target
        if done < MIN_STARTS:
            return True
        if stream is not None and stream.done < len(stream) \
                and stream.threshold > STREAM_TARGET * stream.top:
            return False  # the stream first, down to the target
        n1 = sum(1 for h in hits if h == 1)
        return done < MAX_STARTS and n1 / done >= GT_STOP

    try:
        while True:
            uni = want_uniform()
            more = use_stream and (stream is None or stream.done < len(stream))
            if not uni and not more:
                break
            if time.perf_counter() - t0 > budget:
                budget_hit = True
                break
            if more and (not uni or t_str <= STREAM_SHARE / (1 - STREAM_SHARE) * t_uni):
                ts = time.perf_counter()
                if stream is None:
                    stream = VertexStream(Xr, c, gamma, lines, STREAM_MAX_LINES)
                else:
                    F, sg = stream.next(chunk)
                    record(F, sg, False)
                    per = (time.perf_counter() - ts) / chunk
                    left = deadline - time.perf_counter()
                    chunk = int(max(16, min(20_000, 0.1 * left / max(per, 1e-9))))
                t_str += time.perf_counter() - ts
                continue
            tu = time.perf_counter()
            b = min(batch, size)
            if target is not None:
                b = min(b, target - done)
            tb = time.perf_counter()
            U = rng.standard_normal((b, r))
            U /= np.linalg.norm(U, axis=1, keepdims=True)
            s = np.sign(land.G(U))
            live = s != 0
            f, nc = walk(U[live], s[live], uniform=True)
            if nc:  # the deadline cut this batch: its starts do not count
                budget_hit = True
                done += b - nc
                dead += int(np.sum(~live))
                failed += f
                break
            dead += int(np.sum(~live))
            failed += f
            if not seeds_done:
                seed_walks()
                seeds_done = True
            if explore and 1 < r and L <= WALK_ONLY_LINES:  # held on flats and faces
                m = EXPLORE_PER_START * b
                for k in range(0, m, batch):
                    mk = min(batch, m - k)
                    if (k // batch) % 2:
                        Ue, hold = _face_starts(lines.ell, mk, rng)
                    else:
                        Ue, hold = rng.standard_normal((mk, r)), np.zeros((mk, L), dtype=bool)
                        k0 = rng.integers(1, min(r, EXPLORE_MAX_K + 1), size=mk)
                        for j in range(mk):
                            hold[j, rng.choice(L, size=min(int(k0[j]), L), replace=False)] = 1
                    se = rng.choice([-1.0, 1.0], size=len(Ue))
                    walk(Ue, se, hold)
            done += b
            t_uni += time.perf_counter() - tu
            # next batch: about a tenth of the time left at the rate just measured (walks and
            # exploration), at least ``MIN_BATCH`` starts while a quarter of the time left
            # allows (the walks are vectorised: small batches waste time)
            per = (time.perf_counter() - tb) / b
            left = deadline - time.perf_counter()
            size = int(min(batch, max(0.1 * left / max(per, 1e-9),
                                      min(MIN_BATCH, 0.25 * left / max(per, 1e-9)), 16)))
            if bar is not None:
                if target is None and done >= bar.total:
                    bar.total = done + batch
                bar.update(b)
    finally:
        if bar is not None:
            bar.close()
    F = np.array(rows, dtype=np.int8).reshape(-1, L)
    vert = None
    if stream is not None:
        vert = {"vertices": len(stream), "screened": stream.done, "complete": stream.complete,
                "threshold": stream.threshold, "skipped_degenerate": stream.skipped,
                "seconds": round(t_str, 3)}
    return SearchResult(F, np.array(sgn, dtype=int), np.array(hits, dtype=int),
                        np.array(seeded, dtype=bool), done, dead, failed, budget_hit,
                        time.perf_counter() - t0, vertices=vert)


def _stream_affordable(L: int, r: int, budget: float) -> bool:
    """Whether the vertex stream runs (constants ``STREAM_MAX_*``) with a search budget of
    ``budget`` seconds."""
    if not (3 <= r <= STREAM_MAX_R and L >= r - 1):
        return False
    C = comb(L, r - 1)
    return C <= STREAM_MAX_SUBSETS and C * L <= STREAM_MAX_TABLE * max(1.0, budget / 10.0)


def coverage(result: SearchResult, assigned: np.ndarray, confidence: float) -> dict:
    """The search's coverage statement: ``assigned[k]`` says whether end face k is a reported
    extremum.  Returns ``{"unassigned_basin_share", "missing_mass_bound", "confidence",
    "starts", "singletons"}`` (module docstring)."""
    N = result.starts
    ok_hits = result.hits[assigned] if len(assigned) else np.zeros(0, dtype=int)
    landed = int(ok_hits.sum())
    n1 = int(np.sum(ok_hits == 1))
    return {"unassigned_basin_share": (N - landed) / N if N else 1.0,
            "missing_mass_bound": missing_mass_bound(n1, N, confidence),
            "confidence": confidence, "starts": N, "singletons": n1,
            "good_turing": n1 / N if N else 1.0}

