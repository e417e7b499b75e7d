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
* the multi-start search of ``theory.search`` (fallback, not complete) when neither is
  affordable.

:func:`screen` keeps the faces whose candidate passes the float64 tests (on its face, the
per-line bounds on β) with a loose tolerance; survivors are then certified exactly.
Enumeration runs in the span of X (coordinates Q, orthonormal), which leaves sign vectors
unchanged: ⟨Q u', x⟩ = ⟨u', Qᵀ x⟩.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, product
from math import comb

import numpy as np

#: Vertex enumeration is used while C(lines, r−1) stays below this affordability limit (the
#: same 2e5 subsets as the certificate's MAX_RAY_SUBSETS); beyond it, the multi-start search.
MAX_VERTEX_SUBSETS = 200_000
#: ... and while the number of (vertex, assignment) faces stays below this.
MAX_VERTEX_FACES = 2_000_000
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
    L = len(ell)
    if len(line_sv) == 0:
        return []
    nz = lines.line_id >= 0
    scale = np.sum(np.abs(c) * np.linalg.norm(Xr, axis=1)) / n * max(1.0, abs(gamma))
    tol = SCREEN_RTOL * max(scale, np.finfo(float).tiny)
    # per-line slopes of Σ_{i∈ℓ} c_i σ(t_i z)/n for z > 0 (a⁺) and z < 0 (a⁻)
    tpos = lines.t > 0
    a_plus = np.zeros(L)
    a_minus = np.zeros(L)
    np.add.at(a_plus, lines.line_id[nz], (c * np.where(tpos, lines.t, gamma * lines.t))[nz] / n)
    np.add.at(a_minus, lines.line_id[nz], (c * np.where(tpos, gamma * lines.t, lines.t))[nz] / n)
    # the weight of each line under its sign: g = Σ_ℓ w_ℓ(sign) ℓ
    wp = a_plus * n  # Σ c_i t_i σ'(...) pattern for sign +: same algebra, without 1/n
    wm = a_minus * n
    g = ((line_sv > 0).astype(float) @ (wp[:, None] * ell)
         + (line_sv < 0).astype(float) @ (wm[:, None] * ell)) / n
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
