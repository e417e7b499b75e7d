"""Drawing primitive: G on the unit circle, the predicted extrema, and where trained neurons sit.

``G(w) = (1/n) Σ_i c_i σ(⟨w, x_i⟩)`` (the package's normalisation, from :meth:`Problem.G`) is drawn
against the angle θ of ``u = (cos θ, sin θ)`` in degrees, θ ∈ [−180°, 180°).  Predicted
extrema are marked at their angle and value: ▲ for sign +1 (local maxima with G > 0, reached by
neurons with a > 0), ▼ for sign −1 (local minima with G < 0, a < 0).  Trained weights, when
given, are shown as a **mass-weighted** histogram of neuron angles (mass = share of the squared
norm ``(|w_j|² + a_j²)/Σ_k(|w_k|² + a_k²)``, :func:`numerics.measure.mass`) on a second y-axis,
split by ``sign(a_j)``: the theory says the +1 mass piles up under the ▲ and the −1 mass under
the ▼.

For ``d ≠ 2`` the sphere cannot be drawn on a line; the panel then shows ``G(u*)`` at each
predicted extremum as bars and, with weights, the trained mass matched to each extremum
(same-sign neurons within :data:`MATCH_TAU_DEG` of it, :func:`numerics.measure.match`).
"""

from __future__ import annotations

import numpy as np

from numerics import measure

GRID = 3600  # points on the circle: 0.1° spacing resolves every kink of G to 0.1°
HIST_BIN_DEG = 2.0  # histogram bin width in degrees
MATCH_TAU_DEG = 5.0  # d ≠ 2 only: angular radius for assigning trained mass to an extremum
POS_COLOR, NEG_COLOR = "tab:red", "tab:blue"


def extrema_items(prediction) -> list[tuple[np.ndarray, int, float | None]]:
    """``[(unit direction, sign, G or None), ...]`` from a ``Prediction``, any object with
    ``.extrema``, a list, or ``predict``-style JSON; items are ``Extremum`` objects or dicts
    with ``"direction"`` and ``"sign"`` (``"G"`` optional)."""
    if prediction is None:
        return []
    ex = getattr(prediction, "extrema", prediction)
    if isinstance(ex, dict):
        ex = ex.get("extrema", [])
    out = []
    for e in ex:
        get = (lambda k, e=e: e.get(k)) if isinstance(e, dict) else (
            lambda k, e=e: getattr(e, k, None))
        u = np.asarray(get("direction"), dtype=float)
        u = u / np.linalg.norm(u)
        G = get("G")
        out.append((u, int(get("sign")), None if G is None else float(G)))
    return out


def angle_of(U: np.ndarray) -> np.ndarray:
    """Angle in degrees, in [−180, 180), of 2-D vectors (rows)."""
    U = np.atleast_2d(np.asarray(U, dtype=float))
    th = np.degrees(np.arctan2(U[:, 1], U[:, 0]))
    return np.where(th >= 180.0, th - 360.0, th)


def circle_G(problem, weights=None, grid: int = GRID) -> tuple[np.ndarray, np.ndarray]:
    """``(θ in degrees, G(cos θ, sin θ))`` on a uniform grid of [−180°, 180°) (d = 2)."""
    th = np.linspace(-180.0, 180.0, grid, endpoint=False)
    U = np.stack([np.cos(np.radians(th)), np.sin(np.radians(th))], axis=1)
    return th, problem.G(U, weights=weights)


def draw_landscape(ax, problem, prediction, W=None, a=None, title=None):
    """Draw G on the circle (d = 2) or G at the extrema (d ≠ 2) on ``ax`` (see module doc).

    ``prediction`` may be a ``theory.extrema.Prediction`` or any object with ``.extrema``
    whose items are ``Extremum`` objects or dicts with ``"direction"`` and ``"sign"``.
    ``W`` (m×d) and ``a`` (m), when given, add the mass-weighted histogram of trained neuron
    angles.  Returns the secondary axis holding the histogram (or ``None``)."""
    items = extrema_items(prediction)
    if problem.d == 2:
        twin = _draw_circle(ax, problem, items, W, a)
    else:
        twin = _draw_bars(ax, problem, items, W, a)
    if title:
        ax.set_title(title, fontsize=10)
    return twin


def _draw_circle(ax, problem, items, W, a):
    th, g = circle_G(problem)
    ax.plot(th, g, color="black", lw=1.2, label="G(u), u = (cos θ, sin θ)")
    ax.axhline(0.0, color="grey", lw=0.6, ls=":")
    for k, (u, s, G) in enumerate(items):
        t = angle_of(u)[0]
        val = float(problem.G(u[None, :])[0]) if G is None else G
        ax.plot([t], [val], marker="^" if s > 0 else "v", ms=9, ls="none",
                color=POS_COLOR if s > 0 else NEG_COLOR, mec="black",
                label=("predicted max (sign +1)" if s > 0 else "predicted min (sign −1)")
                if k == _first(items, s) else None)
        ax.axvline(t, color=POS_COLOR if s > 0 else NEG_COLOR, lw=0.6, ls="--", alpha=0.6)
    ax.set_xlim(-180, 180)
    ax.set_xticks(np.arange(-180, 181, 45))
    ax.set_xlabel("angle θ of u (degrees)")
    ax.set_ylabel("G(u)")
    twin = None
    if W is not None and a is not None:
        W = np.asarray(W, dtype=float)
        a = np.asarray(a, dtype=float)
        twin = ax.twinx()
        mu = measure.mass(W, a)
        th_n = angle_of(measure.directions(W))
        bins = np.arange(-180.0, 180.0 + HIST_BIN_DEG, HIST_BIN_DEG)
        for s, col, lab in ((1, POS_COLOR, "trained mass, a > 0"),
                            (-1, NEG_COLOR, "trained mass, a < 0")):
            sel = np.sign(a) == s
            if np.any(sel):
                twin.hist(th_n[sel], bins=bins, weights=mu[sel], color=col, alpha=0.35,
                          label=lab)
        twin.set_ylabel(f"share of squared norm per {HIST_BIN_DEG:g}° bin")
        twin.set_ylim(0, max(1e-12, twin.get_ylim()[1]) * 1.05)
    _legend(ax, twin)
    return twin


def _draw_bars(ax, problem, items, W, a):
    x = np.arange(len(items))
    vals = [float(problem.G(u[None, :])[0]) if G is None else G for u, _, G in items]
    cols = [POS_COLOR if s > 0 else NEG_COLOR for _, s, _ in items]
    ax.bar(x - 0.2, vals, width=0.4, color=cols, edgecolor="black", label="G(u*) (predicted)")
    ax.axhline(0.0, color="grey", lw=0.6)
    ax.set_xticks(x)
    ax.set_xticklabels([f"{'+' if s > 0 else '−'}{k}" for k, (_, s, _) in enumerate(items)])
    ax.set_xlabel(f"predicted extremum (sign, index); d = {problem.d}")
    ax.set_ylabel("G(u*)")
    twin = None
    if W is not None and a is not None and items:
        res = measure.match(W, a, [{"direction": u, "sign": s} for u, s, _ in items],
                            tau_deg=MATCH_TAU_DEG)
        twin = ax.twinx()
        twin.bar(x + 0.2, res.per_extremum_mass, width=0.4, color="grey", alpha=0.6,
                 label=f"trained mass within {MATCH_TAU_DEG:g}° "
                       f"(unmatched {res.unmatched_mass:.2f})")
        twin.set_ylabel("share of squared norm")
        twin.set_ylim(0, 1.05)
    if not items:
        ax.text(0.5, 0.5, "no first-order prediction (degenerate)", transform=ax.transAxes,
                ha="center", va="center")
    _legend(ax, twin)
    return twin


def _first(items, s) -> int:
    return next(k for k, (_, sk, _) in enumerate(items) if sk == s)


def _legend(ax, twin) -> None:
    h, lab = ax.get_legend_handles_labels()
    if twin is not None:
        h2, l2 = twin.get_legend_handles_labels()
        h, lab = h + h2, lab + l2
    if h:
        ax.legend(h, lab, fontsize=7, loc="upper right", framealpha=0.8)
