"""Candidate faces for the extrema of G on the sphere (piecewise-linear σ), screened in float64.

Every local extremum of G lies in the relative interior of some face of the arrangement
{⟨w, x_i⟩ = 0} and is that face's candidate (``theory.certificate``), so listing faces is
complete.  Faces are sign vectors; they are produced by

* :func:`arc_faces` (span of X of dimension 2): the kink directions ⊥ each line, sorted, and the
  open arcs between them — every face of the circle, exactly;
* :func:`vertex_faces` (any dimension): vertices ±v ⊥ (r−1) independent lines, and around each
  vertex every assignment {0, +, −} of the lines through it.  When the lines span the space every
  face has a vertex in its closure, and near a vertex all realisable assignments occur, so this
  is complete (unrealisable assignments are rejected by the candidate test);
* :class:`VertexStream` (r ≥ 3): the same faces, but each vertex is tested only for the sign
  of G there and the faces around it are screened with a few small dense solves per vertex
  (:func:`vertex_screen`), so only faces whose candidate passes are listed — 10–30× faster
  than listing every face, and it can stop part way: vertices come in order of decreasing
  |G(v)|, which is how the multi-start search uses it;
* the multi-start search of ``theory.search`` (fallback, not complete) when neither is
  affordable.

:func:`screen` keeps the faces whose candidate passes the float64 tests (on its face, the
per-line bounds on β) with a loose tolerance; survivors are then certified exactly.
Enumeration runs in the span of X (coordinates Q, orthonormal), which leaves sign vectors
unchanged: ⟨Q u', x⟩ = ⟨u', Qᵀ x⟩.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations, islice, product
from math import comb

import numpy as np

#: Vertex enumeration is used while C(lines, r−1) stays below this,
MAX_VERTEX_SUBSETS = 1_000_000
#: ... the number of (vertex, assignment) face tests below this (about 0.3 µs each),
MAX_VERTEX_FACES = 20_000_000
#: ... the vertex table, C(lines, r−1)·lines products of a vertex with a line, below this,
MAX_VERTEX_TABLE = 50_000_000
#: ... and the faces around degenerate vertices (screened one by one, ~10 µs each) below this.
MAX_DEGENERATE_FACES = 2_000_000
#: Screening tolerance, relative to the scale of G (float64 rounding in β and in ⟨Πg, x_i⟩ is
#: ~1e-15·cond; 1e-8 only lets more faces through to the exact certificate, never fewer).
SCREEN_RTOL = 1e-8


@dataclass
class Lines:
    """Distinct lines through 0 of the nonzero data points: x_i = t_i ℓ_{id_i} (|ℓ| = 1)."""

    ell: np.ndarray      # (L, r) unit representatives (reduced coordinates)
    line_id: np.ndarray  # (n,) line of each point, −1 for x_i = 0
    t: np.ndarray        # (n,) signed scale


def reduced(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(X Q, Q): Q (d×r) an orthonormal basis of the row space of X (rank by SVD)."""
    _, S, Vt = np.linalg.svd(X, full_matrices=False)
    tol = S.max(initial=0.0) * max(X.shape) * np.finfo(float).eps
    r = int(np.sum(S > tol))
    Q = Vt[:r].T
    return X @ Q, Q


def find_lines(Xr: np.ndarray) -> Lines:
    norms = np.linalg.norm(Xr, axis=1)
    nz = norms > 0
    U = np.zeros_like(Xr)
    U[nz] = Xr[nz] / norms[nz, None]
    # canonical orientation: first coordinate with |U_j| > 1e-8 positive
    big = np.abs(U) > 1e-8
    first = np.argmax(big, axis=1)
    sgn = np.sign(U[np.arange(len(U)), first])
    sgn[sgn == 0] = 1.0
    V = U * sgn[:, None]
    line_id = np.full(len(Xr), -1)
    if nz.any():
        keys = np.round(V[nz], 9) + 0.0  # +0.0: no negative zeros in the keys
        _, first_idx, inv = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        line_id[nz] = inv.ravel()
        ell = V[nz][first_idx]
    else:
        ell = np.zeros((0, Xr.shape[1]))
    t = np.zeros(len(Xr))
    t[nz] = np.einsum("ij,ij->i", Xr[nz], ell[line_id[nz]])
    return Lines(ell, line_id, t)


def point_signs(lines: Lines, line_sv: np.ndarray) -> np.ndarray:
    """Point sign vectors from line sign vectors (sign of ⟨u, ℓ⟩ per line)."""
    out = np.zeros((line_sv.shape[0], len(lines.line_id)), dtype=np.int8)
    nz = lines.line_id >= 0
    out[:, nz] = line_sv[:, lines.line_id[nz]] * np.sign(lines.t[nz]).astype(np.int8)
    return out


def unique_rows(F: np.ndarray) -> np.ndarray:
    """Distinct rows of an int8 matrix, first occurrence order (hashing row bytes; much faster
    than ``np.unique(axis=0)``'s lexicographic sort on long rows)."""
    F = np.ascontiguousarray(F)
    if len(F) == 0:
        return F
    B = F.view(np.dtype((np.void, F.dtype.itemsize * F.shape[1]))).ravel()
    keep = {}
    for i, b in enumerate(B.tolist()):
        keep.setdefault(b, i)
    return F[np.fromiter(keep.values(), dtype=np.intp, count=len(keep))]


def _line_signs(ell: np.ndarray, U: np.ndarray, zero_lines=None, tol=1e-12) -> np.ndarray:
    D = U @ ell.T
    sv = np.sign(D).astype(np.int8)
    sv[np.abs(D) <= tol] = 0
    if zero_lines is not None:
        sv[zero_lines] = 0
    return sv


# ----------------------------------------------------------------------------- generators
def arc_faces(lines: Lines) -> np.ndarray:
    """All faces of the circle (r = 2) as line sign vectors: kink points and open arcs."""
    ell = lines.ell
    L = len(ell)
    perp = np.stack([-ell[:, 1], ell[:, 0]], axis=1)
    kinks = np.concatenate([perp, -perp])
    kink_line = np.concatenate([np.arange(L), np.arange(L)])
    ang = np.mod(np.arctan2(kinks[:, 1], kinks[:, 0]), 2 * np.pi)
    order = np.argsort(ang)
    a = ang[order]
    nxt = np.roll(a, -1)
    nxt[-1] += 2 * np.pi
    mid = 0.5 * (a + nxt)
    M = np.stack([np.cos(mid), np.sin(mid)], axis=1)
    sv_k = _line_signs(ell, kinks)
    sv_k[np.arange(2 * L), kink_line] = 0
    sv_a = _line_signs(ell, M, tol=0.0)
    return np.concatenate([sv_k, sv_a])


def vertex_count(n_lines: int, r: int) -> tuple[int, int]:
    """(number of (r−1)-subsets of lines, number of (vertex, assignment) faces, generic)."""
    m = comb(n_lines, r - 1)
    return m, 2 * m * 3 ** (r - 1)


def vertex_faces(lines: Lines) -> np.ndarray:
    """Every face of the arrangement (r ≥ 2) through its vertices, as line sign vectors."""
    ell = lines.ell
    L, r = ell.shape
    idx = np.array(list(combinations(range(L), r - 1)), dtype=np.intp).reshape(-1, r - 1)
    A = ell[idx]  # (M, r−1, r)
    _, S, Vt = np.linalg.svd(A)
    ok = S[:, -1] > 1e-10
    V = Vt[ok, -1, :]
    if len(V) == 0:
        return np.zeros((0, L), dtype=np.int8)
    big = np.abs(V) > 1e-8
    first = np.argmax(big, axis=1)
    V = V * np.sign(V[np.arange(len(V)), first])[:, None]
    V = np.unique(np.round(V, 10) + 0.0, axis=0)
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    D = V @ ell.T
    zero = np.abs(D) <= 1e-9
    base = np.sign(D).astype(np.int8)
    base[zero] = 0
    out = []
    m_of = zero.sum(axis=1)
    for m in np.unique(m_of):
        sel = np.nonzero(m_of == m)[0]
        zl = np.nonzero(zero[sel])[1].reshape(len(sel), m)
        for assign in product((0, 1, -1), repeat=int(m)):
            sv = base[sel].copy()
            if m:
                sv[np.arange(len(sel))[:, None], zl] = np.array(assign, dtype=np.int8)
            out.append(sv)
    F = np.concatenate(out)
    F = unique_rows(F)
    return unique_rows(np.concatenate([F, -F]))


# ----------------------------------------------------------------------------- screening
def screen(Xr: np.ndarray, c: np.ndarray, gamma: float, lines: Lines,
           line_sv: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """Faces (line sign vectors) whose candidate may be an extremum: [(point sign vector, sign)].

    Float64 tests with tolerance ``SCREEN_RTOL``·scale: |Πg| > 0; the candidate's signs agree
    with the face; for independent zero lines the bounds −a⁻ ≤ β ≤ −a⁺ (max) or
    −a⁺ ≤ β ≤ −a⁻ (min).  Faces with dependent zero lines skip the β test (the exact
    certificate decides them)."""
    n, r = Xr.shape
    ell = lines.ell
    if len(line_sv) == 0:
        return []
    tol = SCREEN_RTOL * g_scale(Xr, c, gamma)
    a_plus, a_minus = line_slopes(lines, c, gamma)
    # g = Σ_ℓ a^{sign}_ℓ ℓ over the nonzero lines of the face
    g = ((line_sv > 0).astype(float) @ (a_plus[:, None] * ell)
         + (line_sv < 0).astype(float) @ (a_minus[:, None] * ell))
    k_of = np.sum(line_sv == 0, axis=1)
    out: list[tuple[np.ndarray, int]] = []
    for k in np.unique(k_of):
        sel = np.nonzero(k_of == k)[0]
        gk = g[sel]
        if k == 0:
            pg = gk
            beta = None
            dep = np.zeros(len(sel), dtype=bool)
            zl = None
        else:
            zl = np.nonzero(line_sv[sel] == 0)[1].reshape(len(sel), k)
            A = ell[zl]  # (F, k, r)
            if k <= r:
                Gram = A @ np.swapaxes(A, 1, 2)
                cond_ok = np.linalg.matrix_rank(A, tol=1e-10) == k
            else:
                cond_ok = np.zeros(len(sel), dtype=bool)
            Pinv = np.linalg.pinv(A)  # (F, r, k)
            proj = np.einsum("frk,fk->fr", Pinv, np.einsum("fkr,fr->fk", A, gk))
            pg = gk - proj
            dep = ~cond_ok
            beta = np.zeros((len(sel), k))
            if np.any(cond_ok):
                beta[cond_ok] = np.linalg.solve(Gram[cond_ok],
                                                np.einsum("fkr,fr->fk", A[cond_ok],
                                                          gk[cond_ok])[..., None])[..., 0]
        npg = np.linalg.norm(pg, axis=1)
        live = npg > tol
        # sv_ℓ ⟨Πg, ℓ⟩ (0 on the zero lines): its sign must be the candidate's sign everywhere
        M = line_sv[sel] * (pg @ ell.T)
        lo, hi = M.min(axis=1), M.max(axis=1)
        for sign in (1, -1):
            okf = live & ((lo > -tol) if sign > 0 else (hi < tol))
            if k > 0:
                ap, am = a_plus[zl], a_minus[zl]
                if sign > 0:
                    b_ok = np.all((beta >= -am - tol) & (beta <= -ap + tol), axis=1)
                else:
                    b_ok = np.all((beta >= -ap - tol) & (beta <= -am + tol), axis=1)
                okf &= b_ok | dep
            for f in np.nonzero(okf)[0]:
                out.append((point_signs(lines, line_sv[sel[f]][None])[0], sign))
    return out


# ----------------------------------------------------------------------------- vertex screen
#: A vertex where more than r − 1 lines meet (degenerate) has its faces listed only while at
#: most this many lines pass through it (3^m assignments).
MAX_VERTEX_LINES = 12


def line_slopes(lines: Lines, c: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """Per line ℓ, the slopes of its share of G: Σ_{i on ℓ} c_i σ(t_i z)/n = a⁺_ℓ z for z > 0
    and a⁻_ℓ z for z < 0 (so G(w) = Σ_ℓ a^{sign⟨w,ℓ⟩}_ℓ ⟨w, ℓ⟩)."""
    n = len(c)
    L = len(lines.ell)
    nz = lines.line_id >= 0
    tpos = lines.t > 0
    ap = np.zeros(L)
    am = np.zeros(L)
    np.add.at(ap, lines.line_id[nz], (c * np.where(tpos, lines.t, gamma * lines.t))[nz] / n)
    np.add.at(am, lines.line_id[nz], (c * np.where(tpos, gamma * lines.t, lines.t))[nz] / n)
    return ap, am


def vertex_table(ell: np.ndarray, ap: np.ndarray, am: np.ndarray) -> "VertexTable":
    """Every vertex of the arrangement (lines spanning R^r, r ≥ 3): the unit vectors ±v
    orthogonal to r − 1 independent lines, one per (r−1)-subset, with G(±v).

    Built from the (r−2)-subsets P: the flat orthogonal to P is a plane with orthonormal basis
    (q₁, q₂) (complete QR of P's lines); a further line j > max P meets it at
    v ∝ ⟨ℓ_j, q₁⟩ q₂ − ⟨ℓ_j, q₂⟩ q₁, which is independent of P when the projection of ℓ_j on the
    plane is nonzero (norm > 1e-10, and P independent: |diagonal of R| > 1e-10)."""
    L, r = ell.shape
    Ts, Vs = [], []
    it = combinations(range(L), r - 2)
    while True:
        P = np.fromiter((x for c in islice(it, VERTEX_CHUNK) for x in c), dtype=np.intp)
        P = P.reshape(-1, r - 2)
        if len(P) == 0:
            break
        Qf, R = np.linalg.qr(np.swapaxes(ell[P], 1, 2), mode="complete")
        Q = np.swapaxes(Qf[:, :, r - 2:], 1, 2)  # (m, 2, r): the plane orthogonal to P
        okP = np.all(np.abs(np.diagonal(R, axis1=1, axis2=2)) > 1e-10, axis=1)
        pr = Q @ ell.T  # (m, 2, L)
        nrm = np.hypot(pr[:, 0], pr[:, 1])
        valid = (np.arange(L)[None, :] > P[:, -1, None]) & (nrm > 1e-10) & okP[:, None]
        mi, j = np.nonzero(valid)
        v = pr[mi, 0, j][:, None] * Q[mi, 1] - pr[mi, 1, j][:, None] * Q[mi, 0]
        Vs.append(v / nrm[mi, j][:, None])
        Ts.append(np.concatenate([P[mi], j[:, None]], axis=1).astype(np.int32))
    V = np.concatenate(Vs) if Vs else np.zeros((0, r))
    T = np.concatenate(Ts) if Ts else np.zeros((0, r - 1), dtype=np.int32)
    G = np.empty(2 * len(V))
    nzero = np.empty(len(V), dtype=np.int32)
    for k in range(0, len(V), VERTEX_CHUNK):
        D = V[k:k + VERTEX_CHUNK] @ ell.T
        Dp = np.maximum(D, 0.0)
        Dn = D - Dp
        G[k:k + len(D)] = Dp @ ap + Dn @ am  # G(v) = Σ_ℓ a^{sign}_ℓ ⟨v, ℓ⟩
        G[len(V) + k:len(V) + k + len(D)] = -(Dn @ ap + Dp @ am)  # G(−v)
        nzero[k:k + len(D)] = np.count_nonzero(np.abs(D) <= 1e-9, axis=1)
    return VertexTable(V, T, G, nzero)


#: Rows per chunk when the vertex table is built (bounds memory).
VERTEX_CHUNK = 20_000


@dataclass
class VertexTable:
    """Vertices of the arrangement: oriented vertex k is +V[k] for k < len(V) and −V[k − len(V)]
    otherwise, with lines T[k mod len(V)] through it and G[k] the value of G there."""

    V: np.ndarray
    T: np.ndarray
    G: np.ndarray
    nzero: np.ndarray  # lines through V[k] (r − 1 unless the vertex is degenerate)

    def __len__(self):
        return len(self.G)

    def degenerate_faces(self, max_lines: int) -> float:
        """About how many faces the degenerate vertices with at most ``max_lines`` lines give
        (3^m assignments per vertex of m lines, listed from one of its C(m, r−1) subsets)."""
        r1 = self.T.shape[1]
        m = self.nzero[(self.nzero > r1) & (self.nzero <= max_lines)].astype(float)
        return float(2 * np.sum(3.0 ** m / np.array([comb(int(k), r1) for k in m])))

    def rows(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(oriented unit vertices, their lines) for oriented indices ``idx``."""
        m = len(self.V)
        sgn = np.where(idx < m, 1.0, -1.0)
        base = idx % max(m, 1)
        return self.V[base] * sgn[:, None], self.T[base]


class VertexStream:
    """The faces around every vertex of the arrangement, screened in order of decreasing |G| at
    the vertex (:func:`vertex_screen`), as many at a time as asked.

    After the vertices with |G(v)| ≥ X have been screened (``threshold`` = X), every extremum
    u whose face has a vertex v with |G(u)|⟨v, u⟩ ≥ X has passed through the screen: for small
    faces (all vertices close to u) that is every extremum with |G(u)| ≳ X.  When every vertex
    has been screened (``complete``) the faces listed are exhaustive, as in
    :func:`vertex_faces`."""

    def __init__(self, Xr: np.ndarray, c: np.ndarray, gamma: float, lines: Lines,
                 max_lines: int | None = None):
        self.max_lines = MAX_VERTEX_LINES if max_lines is None else max_lines
        self.ell = lines.ell
        self.ap, self.am = line_slopes(lines, c, gamma)
        self.tol = SCREEN_RTOL * g_scale(Xr, c, gamma)
        self.table = vertex_table(self.ell, self.ap, self.am)
        self.order = np.argsort(-np.abs(self.table.G), kind="stable")
        self.done = 0
        self.skipped = 0  # degenerate vertices with more than max_lines lines

    def __len__(self):
        return len(self.order)

    @property
    def complete(self) -> bool:
        return self.done >= len(self.order) and self.skipped == 0

    @property
    def top(self) -> float:
        """The largest |G| over the vertices (≤ λ_max)."""
        return float(abs(self.table.G[self.order[0]])) if len(self.order) else 0.0

    @property
    def threshold(self) -> float:
        """|G| at the last vertex screened (inf before the first; 0 once all are)."""
        if self.done == 0:
            return math.inf
        if self.done >= len(self.order):
            return 0.0
        return float(abs(self.table.G[self.order[self.done - 1]]))

    def next(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Screen the next ``count`` vertices: (line sign vectors, signs) of the faces whose
        candidate of that sign passed (faces around degenerate vertices: both signs, for
        :func:`screen` to decide)."""
        idx = self.order[self.done:self.done + count]
        self.done += len(idx)
        V, T = self.table.rows(idx)
        g = self.table.G[idx]
        s = np.where(g < 0, -1, 1)
        both = np.abs(g) <= self.tol  # G(v) ≈ 0: test both signs
        if both.any():
            V = np.concatenate([V, V[both]])
            T = np.concatenate([T, T[both]])
            s = np.concatenate([s, -s[both]])
        r1 = T.shape[1]
        piece = max(64, 200_000 // (2 ** r1 * max(r1, 1)))  # arrays of ~1 MB: cache-sized
        out = [vertex_screen(self.ell, self.ap, self.am, V[k:k + piece], T[k:k + piece],
                             s[k:k + piece], self.tol, self.max_lines)
               for k in range(0, len(V), piece)]
        self.skipped += sum(o[2] for o in out)
        if not out:
            return np.zeros((0, len(self.ell)), dtype=np.int8), np.zeros(0, dtype=int)
        return np.concatenate([o[0] for o in out]), np.concatenate([o[1] for o in out])

    def faces(self) -> np.ndarray:
        """All remaining vertices at once (exhaustive enumeration): distinct line sign vectors."""
        out = []
        step = max(100, 2_000_000 // 3 ** (self.ell.shape[1] - 1))
        while self.done < len(self.order):
            out.append(self.next(step)[0])
        F = np.concatenate(out) if out else np.zeros((0, len(self.ell)), dtype=np.int8)
        return unique_rows(F)


def g_scale(Xr: np.ndarray, c: np.ndarray, gamma: float) -> float:
    """The scale of G that screening tolerances are relative to: Σ|c_i||x_i|/n · max(1, |γ|)."""
    n = len(c)
    scale = np.sum(np.abs(c) * np.linalg.norm(Xr, axis=1)) / n * max(1.0, abs(gamma))
    return max(float(scale), np.finfo(float).tiny)


def vertex_screen(ell: np.ndarray, ap: np.ndarray, am: np.ndarray, V: np.ndarray,
                  T: np.ndarray, s: np.ndarray, tol: float,
                  max_lines: int = MAX_VERTEX_LINES) -> tuple[np.ndarray, np.ndarray, int]:
    """Faces around the vertices V (unit, rows) whose candidate of sign s may be an extremum.

    ``T[m]``: the r − 1 independent lines through V[m]; ``s[m]``: the sign tested there.  An
    extremum u of sign s on a face F has s·G(v) = |G(u)|⟨v, u⟩ at every vertex v of the closure
    of F (G is linear there and v lies on the zero set of F), and u is a positive combination
    of those vertices, so some vertex of F has s·G(v) > 0: testing at each vertex only the sign
    of G(v) (both when G(v) ≈ 0) misses nothing.

    At a vertex where exactly the r − 1 lines T meet, the faces around it are the assignments
    α ∈ {0, +, −}^{r−1} to T, the other lines keeping the vertex's signs.  With K the Gram
    matrix of T, y the values ⟨g, ℓ_j⟩ and zero set Z = {α_j = 0}, the projected gradient gives
    β = K_ZZ⁻¹ y_Z and ⟨Π g, ℓ_j⟩ = y_j − K_jZ β (j ∉ Z); both are affine in the slopes of the
    free lines, so all 3^{r−1} faces are tested with small dense algebra, and only faces whose
    candidate passes the near tests (signs on T, bounds on β as in :func:`screen`) are tested
    against the far lines.  The same loose tolerance as :func:`screen`: faces pass to the exact
    certificate, never fewer.  Vertices where more lines meet (degenerate) return every
    assignment of their zero lines, unscreened and with both signs, each vertex from one subset
    T only (:func:`_canonical`), and only up to ``max_lines`` lines.

    Returns (line sign vectors (int8 rows, possibly repeated), their signs, the number of
    degenerate vertices skipped for having more lines)."""
    M, r = V.shape
    k1 = r - 1
    empty = np.zeros((0, len(ell)), dtype=np.int8)
    if M == 0:
        return empty, np.zeros(0, dtype=int), 0
    ar = np.arange(M)[:, None]
    Dv = V @ ell.T
    Dv[ar, T] = 0.0
    near = np.abs(Dv) <= 1e-9
    base = np.sign(Dv).astype(np.int8)
    base[near] = 0
    near[ar, T] = False
    degen = near.any(axis=1)
    out, sgn = [empty], [np.zeros(0, dtype=int)]
    skipped = 0
    if degen.any():
        canon = [m for m in np.nonzero(degen)[0] if _canonical(ell, base[m], T[m])]
        F, skipped = _degenerate_faces(base[canon], max_lines)
        out += [F, F]
        sgn += [np.ones(len(F), dtype=int), -np.ones(len(F), dtype=int)]
    gen = ~degen
    V, T, s, base, Dv = V[gen], T[gen], s[gen], base[gen], Dv[gen]
    M = len(V)
    ar = np.arange(M)[:, None]
    W = np.where(Dv > 0, ap, am)
    W[ar, T] = 0.0
    g0 = W @ ell
    B = ell[T]  # (M, r−1, r)
    K = B @ np.swapaxes(B, 1, 2)
    P = np.linalg.inv(K)
    c0 = np.einsum("mij,mj->mi", P, np.einsum("mkr,mr->mk", B, g0))  # g0 = Σ_T c0_j ℓ_j + …
    APT, AMT = ap[T], am[T]
    sf = s.astype(float)[:, None]
    schur = {0: K}  # zero-set mask → Schur complement K/K_ZZ over the free lines
    elig = (sf * (APT - AMT) <= 2 * tol) @ (1 << np.arange(k1))  # bit j: line j may be in Z
    LO = np.where(sf > 0, -AMT, -APT) - tol  # the bounds on β_j (line j in Z)
    CM, DA = c0 + AMT, APT - AMT
    HI = np.where(sf > 0, -APT, -AMT) + tol
    for mask in range(2 ** k1):
        Zi = [j for j in range(k1) if mask >> j & 1]
        Ni = [j for j in range(k1) if not mask >> j & 1]
        m = len(Ni)
        if mask:
            h = mask.bit_length() - 1
            Sp = schur[mask & ~(1 << h)]
            pos = [j for j in range(k1) if not (mask & ~(1 << h)) >> j & 1].index(h)
            rest = [t for t in range(m + 1) if t != pos]
            col = Sp[:, rest, pos]
            schur[mask] = (Sp[:, rest][:, :, rest]
                           - col[:, :, None] * col[:, None, :] / Sp[:, pos, pos, None, None])
        # only lines whose kink suits the sign can lie in Z: the β bounds need
        # s(a⁺_j − a⁻_j) ≤ 0 (a concave kink for a maximum, convex for a minimum)
        R = np.nonzero((mask & ~elig) == 0)[0] if mask else np.arange(M)
        if R.size == 0:
            continue
        S = schur[mask][R]
        sR = sf[R]
        # q = ⟨Π g, ℓ_j⟩ (j ∉ Z) = S c_N for every assignment α of the free lines
        # (c_N = c0_N + a^α_N), built by doubling: index bit t set ⇔ α_t = +
        # (times the sign s: the test is then α_j s q_j ≥ 0)
        RN = (R[:, None], np.array(Ni, dtype=np.intp)[None, :])
        q = sR * np.einsum("mij,mj->mi", S, CM[RN])
        q = q[:, None, :]
        dq = S * (sR * DA[RN])[:, None, :]
        for t in range(m):
            q = np.concatenate([q, q + dq[:, None, :, t]], axis=1)
        alphas = _alphas(m)
        ri, ai = np.nonzero(np.all(alphas * q >= -tol, axis=2))
        mi = R[ri]
        if Zi and mi.size:  # β = c0_Z − P_ZN q within the bounds of the certificate
            Za = np.array(Zi, dtype=np.intp)
            PZN = P[mi[:, None, None], Za[None, :, None], RN[1][:, :, None].swapaxes(1, 2)]
            MZ = (mi[:, None], Za[None, :])
            beta = c0[MZ] - sf[mi] * np.einsum("mij,mj->mi", PZN, q[ri, ai])
            okb = np.all((beta >= LO[MZ]) & (beta <= HI[MZ]), axis=1)
            mi, ai, beta = mi[okb], ai[okb], beta[okb]
        if mi.size == 0:
            continue
        Tm = T[mi]
        a = np.where(alphas[ai] > 0, APT[mi][:, Ni], AMT[mi][:, Ni])
        pg = g0[mi] + np.einsum("mj,mjr->mr", a, ell[Tm[:, Ni]])
        if Zi:
            pg -= np.einsum("mj,mjr->mr", beta, ell[Tm[:, Zi]])
        far = (sf[mi] * base[mi]) * (pg @ ell.T)
        keep = (np.linalg.norm(pg, axis=1) > tol) & np.all(far >= -tol, axis=1)
        if not keep.any():
            continue
        sv = base[mi[keep]].copy()
        if Ni:
            sv[np.arange(len(sv))[:, None], Tm[keep][:, Ni]] = alphas[ai[keep]]
        out.append(sv)
        sgn.append(s[mi[keep]].astype(int))
    return np.concatenate(out), np.concatenate(sgn), skipped


@lru_cache(maxsize=None)
def _alphas(m: int) -> np.ndarray:
    """Assignments α ∈ {−1, +1}^m of m free lines, row t: bit j of t set ⇔ α_j = +1."""
    return np.where((np.arange(2 ** m)[:, None] >> np.arange(m)) & 1, 1, -1).astype(np.int8)


def _canonical(ell: np.ndarray, sv: np.ndarray, T: np.ndarray) -> bool:
    """Whether T is the first basis (greedy, in line order) of the lines through a degenerate
    vertex with sign vector ``sv``: each such vertex is listed from that subset only."""
    basis: list[int] = []
    for j in np.nonzero(sv == 0)[0]:
        if len(basis) == len(T):
            break
        if np.linalg.matrix_rank(ell[basis + [j]], tol=1e-10) == len(basis) + 1:
            basis.append(int(j))
    return sorted(basis) == sorted(int(t) for t in T)


def _degenerate_faces(base: np.ndarray, max_lines: int) -> tuple[np.ndarray, int]:
    """Every assignment {0, +, −} of the zero lines of each vertex sign vector (rows of
    ``base``), for vertices with at most ``max_lines`` zero lines; and the number of vertices
    skipped for having more."""
    out = [np.zeros((0, base.shape[1]), dtype=np.int8)]
    m_of = np.sum(base == 0, axis=1)
    for m in np.unique(m_of):
        if m > max_lines:
            continue
        sel = np.nonzero(m_of == m)[0]
        zl = np.nonzero(base[sel] == 0)[1].reshape(len(sel), m)
        for assign in product((0, 1, -1), repeat=int(m)):
            sv = base[sel].copy()
            sv[np.arange(len(sel))[:, None], zl] = np.array(assign, dtype=np.int8)
            out.append(sv)
    return np.concatenate(out), int(np.sum(m_of > max_lines))
