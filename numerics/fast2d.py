"""The exact gradient step in d = 2 for piecewise-linear σ: O(n + m) per step (after an
O(n log n) set-up) instead of the dense step's O(nm).

For ``σ(z) = γ z + (1 − γ) z·1[z > 0]`` (ReLU, leaky ReLU, |z|, identity) the network's output
and the ascent directions are::

    f_i = ⟨x_i, γ T + (1 − γ) A_i⟩,        A_i = Σ_{j : ⟨w_j, x_i⟩ > 0} a_j w_j,  T = Σ_j a_j w_j,
    −∂L/∂w_j = a_j Q_j,  −∂L/∂a_j = ⟨w_j, Q_j⟩,
    Q_j = γ V + (1 − γ) Σ_{i : ⟨w_j, x_i⟩ > 0} v_i,   v_i = s_i r_i x_i,  V = Σ_i v_i

(``r_i = −ℓ'(y_i, f_i)``, ``s_i`` the sample weights; ``−∂L/∂a_j = ⟨w_j, Q_j⟩`` is Euler's
identity for the 1-homogeneous σ).  In the plane, with angles θ_j of the neurons and φ_i of the
points, ``⟨w_j, x_i⟩ > 0`` iff the two angles are less than π/2 apart: an *arc*.  Sort the 2n
arc ends ``φ_i ± π/2`` once; each step, find every neuron's place ``p_j`` (the number of ends
below θ_j): a table over 16·2n uniform bins of the angle gives the number of ends in lower
bins, and the few ends in θ_j's own bin are compared directly (exact; a bin crowded by tied
ends beyond 16 falls back to a binary search for its neurons).  Then

* ``A_i`` is a difference of prefix sums of the ``a_j w_j`` summed into the 2n + 1 gaps
  between arc ends (fixed indices per point, since the arc ends are the points' own);
* each neuron's points ``{i : |θ_j − φ_i| < π/2}`` are a run of the angle-sorted data whose
  ends are read off ``p_j`` from fixed tables, so ``Q_j`` is a difference of prefix sums of
  the ``v_i``.

No Python loop runs over neurons or points; the torch operations (atan2, gather, index_select,
scatter-add or sort, cumsum) run on CPU and GPU alike.

**Ties and the kink convention.**  Angles are rounded, so the order of a neuron and an arc end
closer than ``δ = 512·eps`` radians (1.1e-13 in float64) is not trusted: such a neuron (and
any neuron with ``w_j = 0``) gets its ``Q_j`` from the dense sum over all points with the sign
of the float dot product ``w_j0 x_i0 + w_j1 x_i1``, as the dense step computes it.  A point
exactly on a neuron's kink (``⟨w_j, x_i⟩ = 0``, e.g. a neuron on an axis and a point on the
other axis) therefore counts as on the negative side, σ'(0) = γ, in both paths: the package's
kink convention (``theory.activations``).  Points at equal angles need nothing special (their
arc ends tie; a neuron never falls between tied ends).  The output ``f`` is continuous in the
angles, so the forward sums need no such care.

**Rounding.**  The prefix sums add up to ``2n + 1`` gap sums (and ``n`` data terms, over two
turns) before subtracting; the rounding error is of the order of the dense step's, eps times
the sum of the absolute values of the terms, with no compensation needed: against the dense
step, at most 1.3e-14 relative over 600 random problems and 4.8e-14 with exact ties (median
8e-16; ``tests/test_fast2d.py``, ``benchmarks/bench_train.py``).

The data side is precomputed once per run (``Arcs2D(X, γ)``); a batch dimension B runs several
problems with the same n at once (:func:`numerics.batched.train_batched` pads with zero rows,
which have ``v_i = 0`` and ``f_i = 0``).
"""

from __future__ import annotations

import math

import torch

PI = math.pi
TWO_PI = 2.0 * math.pi
MAX_WINDOW = 16  # ends compared directly per neuron at most (more only with ties)
DENSE_ROWS_CHUNK = 1 << 22  # doubtful neurons × points summed densely per chunk


def supports(activation, d: int) -> bool:
    """The fast path applies: d = 2 and a piecewise-linear σ (ReLU, leaky ReLU, |z|, identity)."""
    return d == 2 and activation.piecewise_linear


class Arcs2D:
    """The arc structure of B fixed data sets ``X`` (B×n×2) and the exact step on it.

    :meth:`forward` takes the weights ``WT`` (B×2×m, the two coordinates as rows) and ``a``
    (B×m) and returns ``f`` (B×n); :meth:`backward` takes ``s ⊙ r`` (B×n) and returns the
    ascent directions ``gWT`` (B×2×m) and ``ga`` (B×m) at the weights of the last forward.
    Points are in the order of their angles: ``f[:, k]`` is the output at point ``order[:, k]``
    (the engines put their labels and sample weights in that order once)."""

    def __init__(self, X: torch.Tensor, gamma: float):
        B, n, _ = X.shape
        dev, dt = X.device, X.dtype
        self.gamma = float(gamma)
        self.delta = 512.0 * torch.finfo(dt).eps
        # points sorted by angle φ ∈ [−π, π)
        phi = _wrap(torch.atan2(X[..., 1], X[..., 0]))
        phi, order = torch.sort(phi, dim=1, stable=True)
        self.order = order                                        # sorted -> original
        self.XsT = X.gather(1, order[..., None].expand(-1, -1, 2)).transpose(1, 2).contiguous()
        # arc ends: lower ends L_i = φ_i − π/2 and upper ends U_i = φ_i + π/2, both in [−π, π)
        lower, upper = phi - PI / 2, phi + PI / 2
        low_wraps, up_wraps = lower < -PI, upper >= PI
        ends = torch.cat([torch.where(low_wraps, lower + TWO_PI, lower),
                          torch.where(up_wraps, upper - TWO_PI, upper)], 1)    # (B, 2n)
        ends, e_order = torch.sort(ends, dim=1, stable=True)
        rank = torch.argsort(e_order, dim=1)                      # end -> place among ends
        N = 2 * n
        self.ends = ends.contiguous()
        # a neuron's place p = #{ends < θ}: a lookup table over G uniform bins of the angle
        # gives the ends in lower bins; the ends in θ's own bin (fewer than `width`, bar ties)
        # are compared directly, in a column of the table `windows`: column r holds the end
        # before the r-th (the last end one turn down for r = 0) and the next `width` ends (the
        # first end one turn up, then +inf).  The end before θ and the end after θ, the ones
        # that decide whether θ's place is trusted, are in its column.
        G = 1 << max(4, (16 * N - 1).bit_length())
        self.bin_scale = G / TWO_PI
        per_bin = torch.zeros(B, G + 2, dtype=torch.int64, device=dev).scatter_add_(
            1, self._bin(ends), torch.ones_like(ends, dtype=torch.int64))
        self.width = min(int(per_bin.max()) + 1, MAX_WINDOW)
        self.row0 = (torch.arange(B, device=dev) * (N + 1))[:, None]
        self.first_row = per_bin.cumsum(1) - per_bin + self.row0  # column of θ's bin
        padded = torch.cat([ends[:, -1:] - TWO_PI, ends, ends[:, :1] + TWO_PI,
                            torch.full((B, self.width - 1), math.inf, dtype=dt, device=dev)], 1)
        self.windows = padded.unfold(1, self.width + 1, 1).reshape(B * (N + 1), -1).T \
            .contiguous()                                           # (width + 1, B(N + 1))
        # forward: the neurons of point i are the gaps p in (rank(L_i), rank(U_i)], cyclically
        # (a cyclic arc reads its upper end one turn up: index + N + 1 in two turns of sums)
        lo_gap, up_gap = rank[:, :n], rank[:, n:]
        up_gap = up_gap + (N + 1) * (lo_gap > up_gap)
        self.gap_index = torch.cat([up_gap, lo_gap], 1)[:, None, :].expand(-1, 2, -1)
        # backward: for a neuron in gap p, its points are the sorted points [lo, hi) of the data
        # repeated over three turns (φ − 2π, φ, φ + 2π).  lo = #{upper ends ≤ θ} counted over
        # the turns, hi = #{lower ends < θ}; ends outside [−π, π) count always or never.
        is_up = (e_order >= n).to(torch.int64)
        ups = torch.cat([torch.zeros(B, 1, dtype=torch.int64, device=dev),
                         is_up.cumsum(1)], 1)                      # upper ends among first p
        lows = torch.arange(N + 1, device=dev)[None] - ups
        lo = (~up_wraps).sum(1, keepdim=True) + ups
        hi = n + low_wraps.sum(1, keepdim=True) + lows
        # read in two turns of prefix sums: shift both by whole turns until lo is in the first
        self.runs = torch.stack([hi - lo // n * n, lo % n], 1)      # (B, 2, N + 1)
        self._fwd = None

    def select(self, rows: torch.Tensor) -> None:
        """Keep the problems ``rows`` (the batched engine's working set)."""
        N1 = self.runs.shape[2]
        keep = (self.row0[rows] + torch.arange(N1, device=rows.device)).reshape(-1)
        self.windows = self.windows[:, keep]
        self.first_row = self.first_row[rows] - self.row0[rows]
        for k in ("order", "XsT", "ends", "gap_index", "runs"):
            setattr(self, k, getattr(self, k)[rows])
        self.row0 = self.row0[: len(rows)]
        self.first_row += self.row0
        if self._fwd is not None:
            self._fwd = tuple(None if v is None else v[rows] for v in self._fwd)

    # ------------------------------------------------------------------ the neurons' places
    def _bin(self, angle: torch.Tensor) -> torch.Tensor:
        """The uniform bin of an angle in (−π, π]; monotone in the angle, so an end in a lower
        (higher) bin than θ is below (above) θ."""
        return ((angle + PI) * self.bin_scale).long()

    def _places(self, theta: torch.Tensor, WT: torch.Tensor):
        """Each neuron's place p = #{ends < θ} (B×m), exact, and whether it is doubtful: an
        end within δ of θ (rounding may have swapped them), or ``w = 0``."""
        B, m = theta.shape
        rows = self.first_row.gather(1, self._bin(theta))
        win = self.windows.gather(1, rows.view(1, -1).expand(self.width + 1, -1)).view(-1, B, m)
        count = (win < theta).sum(0)
        p = rows + count - (self.row0 + 1)
        near = (win > theta - self.delta) & (win < theta + self.delta)
        doubtful = near.any(0) | (WT == 0).all(1)
        if self.width == MAX_WINDOW:  # ties: a bin may hold more ends than the row
            crowded = count == self.width + 1
            if bool(crowded.any()):
                b, j = crowded.nonzero(as_tuple=True)
                p[b, j] = torch.searchsorted(self.ends[b], theta[b, j, None])[:, 0]
                doubtful[b, j] = True
        return p, doubtful

    # ------------------------------------------------------------------ forward, backward
    def forward(self, WT: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """``f`` (B×n, points in angle order) of the weights ``WT``, ``a``."""
        g = self.gamma
        aw = WT * a[:, None, :]                                    # (B, 2, m)
        if g == 1.0:                                               # the identity: no arcs
            self._fwd = (WT, a, None, None)
            return (self.XsT * aw.sum(2, keepdim=True)).sum(1)
        w0, w1 = WT[:, 0], WT[:, 1]
        p, doubtful = self._places(torch.atan2(w1, w0), WT)
        self._fwd = (WT, a, p, doubtful)
        # A_i: prefix sums of a_j w_j over the gaps, read at the arc ends of point i
        prefix = self._gap_prefix(p, aw)                           # (B, 2, N + 1)
        total = prefix[:, :, -1:]
        at_ends = torch.cat([prefix, prefix + total], 2).gather(2, self.gap_index)  # (B, 2, 2n)
        n = at_ends.shape[2] // 2
        arc = at_ends[:, :, :n] - at_ends[:, :, n:]
        if g != 0.0:
            arc = arc.mul_(1.0 - g).add_(total, alpha=g)
        return (self.XsT * arc).sum(1)

    def _gap_prefix(self, p: torch.Tensor, aw: torch.Tensor) -> torch.Tensor:
        """``Σ_{j : p_j ≤ k} a_j w_j`` for every gap k (B×2×(N+1)).  CPU: a scatter-add then a
        cumsum; CUDA: sorted by gap (a scatter-add there uses atomics, whose order varies)."""
        B, _, N1 = self.runs.shape
        if not aw.is_cuda:
            gaps = torch.zeros(B, 2, N1, dtype=aw.dtype, device=aw.device)
            return gaps.scatter_add_(2, p[:, None, :].expand(-1, 2, -1), aw).cumsum_(2)
        return _sorted_gap_prefix(p, aw, N1)

    def backward(self, sr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Ascent directions ``(gWT, ga)`` at the last forward's weights; ``sr = s ⊙ r``
        (B×n, points in angle order)."""
        WT, a, p, doubtful = self._fwd
        g = self.gamma
        v = self.XsT * sr[:, None, :]                              # (B, 2, n)
        B, _, n = v.shape
        m = WT.shape[2]
        if g == 1.0:
            Q = v.sum(2, keepdim=True).expand(-1, -1, m)
        else:
            # Σ over the run [lo, hi) of the sorted points: prefix sums over two turns
            cum = v.cumsum(2)
            total = cum[:, :, -1:]
            prefix = torch.cat([v.new_zeros(B, 2, 1), cum, cum + total], 2)  # (B, 2, 2n + 1)
            hi_lo = self.runs.gather(2, p[:, None, :].expand(-1, 2, -1))    # (B, 2, m)
            both = prefix.gather(2, hi_lo.view(B, 1, 2 * m).expand(-1, 2, -1))
            Q = both[:, :, :m] - both[:, :, m:]
            if g != 0.0:
                Q = Q.mul_(1.0 - g).add_(total, alpha=g)
            if bool(doubtful.any()):
                Q = self._dense_rows(Q, WT, v, doubtful)
        return Q * a[:, None, :], (WT * Q).sum(1)

    def _dense_rows(self, Q, WT, v, rows):
        """``Q_j`` from the sum over all points for the neurons flagged in ``rows`` (B×m):
        σ'(z) = γ + (1 − γ)·1[z > 0] with ``z = w_j0 x_i0 + w_j1 x_i1`` in float."""
        Q = Q.clone()
        bs, js = rows.nonzero(as_tuple=True)
        chunk = max(1, DENSE_ROWS_CHUNK // v.shape[2])             # bounded memory, k·n
        for c in range(0, len(bs), chunk):
            b, j = bs[c:c + chunk], js[c:c + chunk]
            w = WT[b, :, j]                                        # (k, 2)
            X = self.XsT[b]                                        # (k, 2, n)
            z = w[:, 0, None] * X[:, 0] + w[:, 1, None] * X[:, 1]  # (k, n)
            dsig = z.new_ones(z.shape).where(z > 0, self.gamma)
            Q[b, :, j] = (v[b] * dsig[:, None, :]).sum(2)
        return Q


def _sorted_gap_prefix(p: torch.Tensor, aw: torch.Tensor, N1: int) -> torch.Tensor:
    """:meth:`Arcs2D._gap_prefix` without scatter: neurons sorted by gap, cumulated, and read
    at the last neuron of each gap (deterministic on every device)."""
    B = p.shape[0]
    p_sorted, order = torch.sort(p, dim=1, stable=True)
    cum = aw.gather(2, order[:, None, :].expand(-1, 2, -1)).cumsum(2)
    cum = torch.cat([aw.new_zeros(B, 2, 1), cum], 2)                # (B, 2, m + 1)
    upto = torch.searchsorted(p_sorted, torch.arange(N1, device=p.device).expand(B, -1)
                              .contiguous(), right=True)            # #{j : p_j ≤ k}
    return cum.gather(2, upto[:, None, :].expand(-1, 2, -1))


def _wrap(angle: torch.Tensor) -> torch.Tensor:
    """Angles from atan2, (−π, π], mapped to [−π, π)."""
    return torch.where(angle >= PI, angle - TWO_PI, angle)
