"""Exact integer linear algebra for the face certificate: solve ``A x = b`` over the rationals.

``A`` (k×k) and ``b`` are Python integers (arbitrary size); the answer is returned as
``(num, den)`` with ``A num = den b``, ``den > 0`` and ``num/den`` the exact rational solution.
Two methods, both exact:

* :func:`bareiss_solve` — fraction-free Gaussian elimination (Bareiss): every intermediate is an
  exact minor of the augmented matrix, so numbers grow only linearly with k.  O(k³) big-integer
  operations; the method of choice for small k.
* :func:`dixon_solve` — p-adic lifting (Dixon 1982): one inverse of ``A`` modulo a prime p
  (float64 arithmetic on integers below 2^53, exact), then N cheap lifting steps giving the
  p-adic expansion of the solution, then rational reconstruction (extended Euclid).  N is chosen
  from Hadamard's bound so that p^N exceeds twice the product of the bounds on numerator and
  denominator; the result is checked by exact multiplication ``A num = den b`` before it is
  returned, so the bound only affects speed, never correctness.  O(k³ + k²·N) machine operations
  and O(k·N) big-integer operations: k = 100 with 130-bit entries takes about a second where
  Bareiss takes a minute.

Nothing here rounds: floats appear only as exact containers of integers smaller than 2^53.
"""

from __future__ import annotations

import math

import numpy as np

#: Primes just below 2^20: the lifting prime.  A·x mod p is summed in float64 over k terms of
#: size < p² = 2^40, exact while k < 2^13.
PRIMES = (1048573, 1048571, 1048559, 1048549, 1048517, 1048507, 1048447, 1048433)
LIMB_BITS = 20
#: Bareiss below this size (measured: faster than the lifting up to k ≈ 30).
DIXON_MIN_K = 32


class Singular(ArithmeticError):
    """``A`` is singular (decided exactly)."""


def bareiss_solve(A: list[list[int]], b: list[int]) -> tuple[list[int], int]:
    """Exact solution of ``A x = b`` by fraction-free elimination: ``(num, den)``, den > 0.

    Raises :class:`Singular` when det A = 0."""
    k = len(A)
    M = [list(map(int, row)) + [int(bi)] for row, bi in zip(A, b)]
    prev = 1
    for j in range(k):
        if M[j][j] == 0:
            for i in range(j + 1, k):
                if M[i][j] != 0:
                    M[j], M[i] = M[i], M[j]
                    break
            else:
                raise Singular("matrix is singular")
        pj = M[j]
        pjj = pj[j]
        for i in range(j + 1, k):
            Mi = M[i]
            mij = Mi[j]
            for c in range(j + 1, k + 1):
                Mi[c] = (Mi[c] * pjj - mij * pj[c]) // prev  # exact (Sylvester's identity)
            Mi[j] = 0
        prev = pjj
    det = M[k - 1][k - 1] if k else 1
    x = [0] * k
    for i in range(k - 1, -1, -1):  # det·x is integral (Cramer); back-substitute exactly
        s = M[i][k] * det
        Mi = M[i]
        for c in range(i + 1, k):
            s -= Mi[c] * x[c]
        x[i] = s // Mi[i]
    if det < 0:
        det, x = -det, [-v for v in x]
    return _reduce(x, det)


def _reduce(num: list[int], den: int) -> tuple[list[int], int]:
    g = den
    for v in num:
        g = math.gcd(g, v)
        if g == 1:
            break
    return ([v // g for v in num], den // g) if g > 1 else (num, den)


def _inverse_mod(Am: np.ndarray, p: int) -> np.ndarray | None:
    """Inverse of a float64 matrix of residues modulo p (Gauss–Jordan; exact for p < 2^26).
    None when it is singular modulo p."""
    k = Am.shape[0]
    M = np.concatenate([Am % p, np.eye(k)], axis=1)
    for j in range(k):
        nz = np.nonzero(M[j:, j])[0]
        if nz.size == 0:
            return None
        piv = j + int(nz[0])
        if piv != j:
            M[[j, piv]] = M[[piv, j]]
        inv = pow(int(M[j, j]), p - 2, p)
        M[j] = (M[j] * inv) % p
        f = M[:, j].copy()
        f[j] = 0.0
        M -= np.outer(f, M[j])  # entries in (−p², p²): exact in float64
        M %= p
    return M[:, k:]


def _limbs(A: list[list[int]]) -> np.ndarray:
    """Signed base-2^20 limbs of an integer matrix: A = Σ_l L[l]·2^(20 l), |L[l]| < 2^20."""
    top = max((abs(v).bit_length() for row in A for v in row), default=0)
    n_l = max(1, -(-top // LIMB_BITS))
    k, m = len(A), len(A[0]) if A else 0
    L = np.zeros((n_l, k, m))
    mask = (1 << LIMB_BITS) - 1
    for i, row in enumerate(A):
        for j, v in enumerate(row):
            s, a = (-1, -v) if v < 0 else (1, v)
            li = 0
            while a:
                L[li, i, j] = s * (a & mask)
                a >>= LIMB_BITS
                li += 1
    return L


def _hadamard_bits(A: list[list[int]], b: list[int]) -> float:
    """log2 of an upper bound on |det A| times one on every Cramer numerator (columns' norms)."""
    k = len(A)
    cols = [math.log2(max(1, math.isqrt(sum(A[i][j] ** 2 for i in range(k))) + 1))
            for j in range(k)]
    bb = math.log2(max(1, math.isqrt(sum(v * v for v in b)) + 1))
    det_bits = sum(cols)
    num_bits = det_bits - min(cols, default=0.0) + bb
    return det_bits + num_bits


def _ratrecon(a: int, m: int) -> tuple[int, int] | None:
    """n/d with n ≡ a·d (mod m), |n|, d ≤ sqrt(m/2) (Wang's rational reconstruction)."""
    bound = math.isqrt(m // 2)
    r0, r1 = m, a % m
    t0, t1 = 0, 1
    while r1 > bound:
        q = r0 // r1
        r0, r1 = r1, r0 - q * r1
        t0, t1 = t1, t0 - q * t1
    if t1 == 0 or abs(t1) > bound or math.gcd(r1, abs(t1)) != 1:
        return None
    return (r1, t1) if t1 > 0 else (-r1, -t1)


def _from_digits(digits: list[int], p: int) -> int:
    """Σ_i digits[i]·p^i, divide and conquer (balanced sizes: fast big-integer products)."""
    vals = digits
    pw = p
    while len(vals) > 1:
        if len(vals) % 2:
            vals = vals + [0]
        vals = [vals[i] + vals[i + 1] * pw for i in range(0, len(vals), 2)]
        pw *= pw
    return vals[0] if vals else 0


def dixon_solve(A: list[list[int]], b: list[int]) -> tuple[list[int], int]:
    """Exact solution of ``A x = b`` by p-adic lifting (module docstring): ``(num, den)``.

    Raises :class:`Singular` when det A = 0 (decided by :func:`bareiss_solve` after the matrix
    was singular modulo several primes)."""
    k = len(A)
    if k >= 1 << 13:
        raise ValueError("dixon_solve: k too large for exact float64 residue sums")
    for p in PRIMES[:3]:
        C = _inverse_mod(np.array([[v % p for v in row] for row in A], dtype=float), p)
        if C is not None:
            break
    else:
        return bareiss_solve(A, b)  # singular modulo 3 primes: decide exactly
    L = _limbs(A)
    shifts = [LIMB_BITS * li for li in range(L.shape[0])]
    n_iter = int(math.ceil((_hadamard_bits(A, b) + 2) / math.log2(p))) + 1
    r = [int(v) for v in b]
    digits = []
    for _ in range(n_iter):
        rm = np.array([v % p for v in r], dtype=float)
        x = (C @ rm) % p  # < k·p² < 2^53: exact
        digits.append(x.astype(np.int64))
        Y = np.einsum("lij,j->li", L, x).astype(np.int64).T.tolist()  # exact: < k·2^40
        r = [(ri - sum(y << s for y, s in zip(Yj, shifts))) // p for ri, Yj in zip(r, Y)]
    D = np.array(digits).T.tolist()  # (k, N) p-adic digits
    m = p ** n_iter
    X = [_from_digits(row, p) for row in D]
    den = 1
    num = []
    for j in range(k):
        a = (X[j] * den) % m
        rr = _ratrecon(a, m)
        if rr is None:
            return bareiss_solve(A, b)
        nj, dj = rr
        if dj != 1:
            num = [v * dj for v in num]
            den *= dj
        num.append(nj)
    for i in range(k):  # exact check: the reconstruction is the solution
        if sum(a * v for a, v in zip(A[i], num)) != den * b[i]:
            return bareiss_solve(A, b)
    return _reduce(num, den)


def solve(A: list[list[int]], b: list[int]) -> tuple[list[int], int]:
    """Exact rational solution ``num/den`` of ``A x = b`` (integer A, b); Bareiss for small k,
    Dixon lifting above :data:`DIXON_MIN_K`.  Raises :class:`Singular`."""
    if len(A) < DIXON_MIN_K:
        return bareiss_solve(A, b)
    return dixon_solve(A, b)


def int_matmul(A: list[list[int]], B: list[list[int]]) -> list[list[int]]:
    """Exact product of two Python-integer matrices (object arrays: C loops over Python ints)."""
    Ao = np.array(A, dtype=object).reshape(len(A), -1)
    Bo = np.array(B, dtype=object).reshape(len(B), -1)
    return (Ao @ Bo).tolist()
