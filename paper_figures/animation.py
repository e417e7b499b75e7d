"""Animation of a recorded training run: the neurons' directions flowing to the extrema of G.

Each frame is one recorded snapshot ``(W(t), a(t))`` of the run (``W_traj``, ``a_traj``).

Left panel, the directions.  Neuron j is drawn at its direction ``u_j = w_j/|w_j|`` on the unit
circle (d = 2), with marker **area proportional to its mass** — its share
``(|w_j|² + a_j²)/Σ_k(|w_k|² + a_k²)`` of the squared norm, :func:`numerics.measure.mass` — and
coloured by the sign of ``a_j`` (red a > 0, blue a < 0).  Around the circle runs a ring showing
G on the circle: at angle θ the ring sits at radius ``R0 + K·G(u_θ)/max|G|`` (dotted: G = 0),
shaded red where G > 0 and blue where G < 0.  The certified extrema (``theory.extrema.predict``)
are drawn as hollow ▲ (sign +1, local maxima with G > 0, where a > 0 neurons go) and ▼ (sign
−1) at their direction, and on the ring.

The early phase uses ``G(w) = (1/n) Σ_i c_i σ(⟨w, x_i⟩)`` with the loss weights ``c_i`` at
f = 0.  After the run's escape time the frames show the current
``G_t(w) = (1/n) Σ_i r_i(t) σ(⟨w, x_i⟩)`` with ``r_i(t) = −∂ℓ/∂f(y_i, f_t(x_i))`` at the
recorded state (:meth:`theory.losses.Loss.neg_derivative`): the function whose extrema the
neurons follow later (for the square loss with targets ``r_i`` that is exactly the early-phase
G, so its certified extrema come from ``predict`` on that surrogate problem).

For d ≥ 3 the directions are projected on the two leading principal directions ``p₁, p₂`` of
the final neurons (right singular vectors of the final ``W``, so heavy neurons count most):
neuron j is drawn at ``(⟨u_j, p₁⟩, ⟨u_j, p₂⟩)``, inside the unit disk; the extrema are
projected the same way; the ring shows G on the great circle of the plane ``span(p₁, p₂)``.
The figure states this, with the share of the final squared norm the plane holds.

Right panel: the training loss against gradient-flow time t (log axes), the current frame
marked, and the escape time.  GIF files are written with Pillow, MP4 files with ffmpeg (only
when ffmpeg is installed).  The file is written atomically.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from numerics import measure
from theory.errors import InputError

from .landscape import NEG_COLOR, POS_COLOR

RING_R0 = 1.45  # radius of the ring's baseline (G = 0); the unit circle holds the neurons
RING_K = 0.3  # ring amplitude: max |G| is drawn RING_K from the baseline
AREA_ALL = 2500.0  # marker area (pt²) of a neuron holding all the mass: area = AREA_ALL·mass
GRID = 720  # ring resolution: 0.5° (G is piecewise smooth; kinks show to 0.5°)
FORMATS = {".gif": "pillow", ".mp4": "ffmpeg"}


@dataclass
class AnimationInfo:
    """What :func:`animate` wrote: ``frames`` drawn out of ``snapshots`` recorded, the file,
    the wall time, the frames that used ``G_t``, and the projection note (d ≥ 3) or None."""

    path: Path
    frames: int
    snapshots: int
    seconds: float
    later_phase_frames: int
    projection: str | None


def frame_indices(snapshots: int, max_frames: int) -> np.ndarray:
    """At most ``max_frames`` snapshot indices, evenly spread, first and last included."""
    if max_frames < 1:
        raise InputError(f"--max-frames must be a positive integer, got {max_frames}")
    if snapshots <= max_frames:
        return np.arange(snapshots)
    return np.unique(np.round(np.linspace(0, snapshots - 1, max_frames)).astype(int))


def check_writer(path: str | Path) -> str:
    """``"pillow"`` (.gif) or ``"ffmpeg"`` (.mp4) for ``path``; InputError for another suffix
    or an .mp4 without ffmpeg on the PATH."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"--out {path}: the animation must be a .gif or .mp4 file")
    if FORMATS[suffix] == "ffmpeg" and _ffmpeg() is None:
        raise InputError("writing .mp4 needs ffmpeg, which is not installed; "
                         "write a .gif instead (Pillow, no ffmpeg needed)")
    return FORMATS[suffix]


def plane(problem, W_final: np.ndarray) -> tuple[np.ndarray, str | None]:
    """``(P, note)``: P (2×d) has orthonormal rows, the plane the frames show; ``note`` states
    the projection for d ≥ 3 (None for d = 2, where P is the identity)."""
    d = problem.d
    if d == 2:
        return np.eye(2), None
    _, s, Vt = np.linalg.svd(np.asarray(W_final, dtype=float), full_matrices=False)
    share = float(np.sum(s[:2] ** 2) / max(np.sum(s ** 2), 1e-300))
    note = (f"d = {d}: directions projected on the two leading principal directions of the "
            f"final neurons ({100 * share:.1f} % of the final |W|²); ring: G on that plane")
    return Vt[:2], note


def later_phase_weights(problem, W: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``r_i = −∂ℓ/∂f(y_i, f(x_i))`` at the state ``(W, a)``: ``G_t`` uses these as weights."""
    f = problem.activation.numpy(np.asarray(W) @ problem.X.T).T @ np.asarray(a)
    return problem.loss.neg_derivative(problem.y, f)


def _extrema(problem, weights):
    """Certified extrema of G (weights None) or of G_t with weights ``r`` (predict on the
    square-loss problem with targets r, whose G is G_t): [(direction, sign, G)], degenerate."""
    from theory.extrema import predict
    from theory.problem import Problem

    p = problem if weights is None else Problem.from_arrays(problem.X, weights,
                                                            problem.activation, "square")
    pred = predict(p, basins=False)
    return [(e.direction, e.sign, e.G) for e in pred.extrema], pred.degenerate


class _Frames:
    """Everything a frame needs, computed before drawing."""

    def __init__(self, run, problem, max_frames: int):
        if run.W_traj is None or run.a_traj is None or len(run.W_traj) == 0:
            raise InputError("the run has no recorded trajectory (train with --record log or "
                             "--record every:K)")
        if run.W_traj.shape[-1] != problem.d:
            raise InputError(f"the run's neurons have d = {run.W_traj.shape[-1]} but the data "
                             f"have d = {problem.d}")
        self.run, self.problem = run, problem
        self.idx = frame_indices(len(run.W_traj), max_frames)
        self.P, self.note = plane(problem, run.W_traj[-1])
        th = np.linspace(0.0, 2 * math.pi, GRID + 1)
        self.theta = th
        self.ring_dirs = np.cos(th)[:, None] * self.P[0] + np.sin(th)[:, None] * self.P[1]
        self.escape = run.escape_time if run.escaped else math.inf
        self._early = None

    def later(self, k: int) -> bool:
        return float(self.run.traj_times[k]) > self.escape

    def state(self, k: int) -> dict:
        """Positions, sizes, colours, ring and extrema of snapshot k."""
        W, a = self.run.W_traj[k], self.run.a_traj[k]
        U = measure.directions(W)
        later = self.later(k)
        if later:
            r = later_phase_weights(self.problem, W, a)
            ring = self.problem.G(self.ring_dirs, weights=r)
            ext, degenerate = _extrema(self.problem, r)
        else:
            if self._early is None:
                self._early = (self.problem.G(self.ring_dirs), *_extrema(self.problem, None))
            ring, ext, degenerate = self._early
        return {"xy": U @ self.P.T, "area": AREA_ALL * measure.mass(W, a),
                "pos": np.asarray(a) > 0, "ring": ring, "extrema": ext,
                "degenerate": degenerate, "later": later,
                "t": float(self.run.traj_times[k]),
                "step": int(self.run.traj_steps[k]) if self.run.traj_steps is not None else k}


def _ring_xy(theta, ring, scale):
    rad = RING_R0 + RING_K * ring / scale
    return rad * np.cos(theta), rad * np.sin(theta)


def _loss_at(run, t: float) -> float:
    i = int(np.searchsorted(run.times, t, side="right")) - 1
    return float(run.loss[max(0, min(i, len(run.loss) - 1))])


def animate(run, problem, out: str | Path, *, fps: float = 10.0, max_frames: int = 150,
            progress: bool | None = None, dpi: int = 100) -> AnimationInfo:
    """Write the animation of ``run`` (a :class:`numerics.run_io.Run` with a recorded
    trajectory) trained on ``problem`` to ``out`` (.gif or .mp4); see module doc."""
    out = Path(out)
    fmt = check_writer(out)
    if not (math.isfinite(fps) and fps > 0):
        raise InputError(f"--fps must be a positive number, got {fps}")
    t0 = time.time()
    fr = _Frames(run, problem, max_frames)
    bar = None
    if progress or (progress is None and _stderr_tty()):
        from tqdm import tqdm

        bar = tqdm(total=len(fr.idx), unit="frame", desc="animate", leave=False)
    later = 0

    def frames():
        nonlocal later
        for img, st in render_frames(fr, dpi):
            later += st["later"]
            if bar is not None:
                bar.update(1)
            yield img

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.stem}.", suffix=out.suffix)
    os.close(fd)
    try:
        (_write_gif if fmt == "pillow" else _write_mp4)(frames(), tmp, fps)
        publish(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    finally:
        if bar is not None:
            bar.close()
    return AnimationInfo(out, len(fr.idx), len(run.W_traj), time.time() - t0, later, fr.note)


def render_frames(fr: _Frames, dpi: int = 100):
    """Yield ``(RGBA image array (H×W×4, uint8), state)`` per frame.  The static parts (axes,
    ticks, loss curve, legend) are drawn once; each frame redraws only the moving artists on
    a copy of that background (blitting), which is several times faster than a full draw."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon

    run, problem = fr.run, fr.problem
    fig, (ax, axl) = plt.subplots(1, 2, figsize=(9.6, 5.0), dpi=dpi,
                                  gridspec_kw={"width_ratios": [1.1, 1]})
    try:
        ax.set_aspect("equal")
        lim = RING_R0 + RING_K + 0.1
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_xticks([])
        ax.set_yticks([])
        circ = np.linspace(0, 2 * math.pi, 361)
        ax.plot(np.cos(circ), np.sin(circ), color="0.6", lw=0.8)
        ax.plot(RING_R0 * np.cos(circ), RING_R0 * np.sin(circ), color="0.6", lw=0.6, ls=":")
        dyn = []

        def moving(artist):
            artist.set_animated(True)
            dyn.append(artist)
            return artist

        fills = [moving(ax.add_patch(Polygon(np.zeros((3, 2)), closed=True, color=c, alpha=0.18,
                                             lw=0))) for c in (POS_COLOR, NEG_COLOR)]
        ring_line = moving(ax.plot([], [], color="black", lw=1.2)[0])
        neurons = moving(ax.scatter(np.zeros(0), np.zeros(0), alpha=0.55, edgecolors="none"))
        ext_kw = dict(facecolors="none", linewidths=1.6, zorder=5)
        ext_pos = moving(ax.scatter([], [], s=160, marker="^", edgecolors=POS_COLOR, **ext_kw))
        ext_neg = moving(ax.scatter([], [], s=160, marker="v", edgecolors=NEG_COLOR, **ext_kw))
        ring_kw = dict(s=40, edgecolors="black", zorder=6)
        ring_pos = moving(ax.scatter([], [], marker="^", color=POS_COLOR, **ring_kw))
        ring_neg = moving(ax.scatter([], [], marker="v", color=NEG_COLOR, **ring_kw))
        head = moving(ax.text(0.0, 1.01, "", transform=ax.transAxes, fontsize=9, va="bottom"))
        foot = moving(ax.text(0.0, -0.01, "", transform=ax.transAxes, fontsize=7, va="top"))
        if fr.note:
            fig.text(0.01, 0.005, fr.note, fontsize=7.5, va="bottom")
        for col, lab in ((POS_COLOR, "neuron, a > 0 (area ∝ mass)"), (NEG_COLOR, "neuron, a < 0")):
            axl.scatter([], [], s=50, color=col, label=lab)
        for mk, col, lab in (("^", POS_COLOR, "certified max of G (sign +1)"),
                             ("v", NEG_COLOR, "certified min of G (sign −1)")):
            axl.scatter([], [], s=70, marker=mk, facecolors="none", edgecolors=col, label=lab)

        pos = run.times > 0  # log time axis: the early phase is most of the picture
        axl.plot(run.times[pos], run.loss[pos], color="black", lw=1.0)
        axl.set_xscale("log")
        axl.set_yscale("log")
        axl.set_xlabel("gradient-flow time t")
        axl.set_ylabel("training loss")
        axl.set_title("loss", fontsize=9)
        if math.isfinite(fr.escape):
            axl.axvline(fr.escape, color="0.5", ls="--", lw=0.8,
                        label=f"escape t* = {fr.escape:.4g}")
        axl.legend(fontsize=7, loc="lower left", framealpha=0.85)
        cur = moving(axl.plot([], [], "o", color="tab:orange", ms=7)[0])
        t_min = float(run.times[pos][0]) if pos.any() else 1.0
        fig.tight_layout(rect=(0, 0.035, 1, 0.97))

        canvas = fig.canvas
        canvas.draw()
        background = canvas.copy_from_bbox(fig.bbox)
        base_xy = np.stack([RING_R0 * np.cos(fr.theta), RING_R0 * np.sin(fr.theta)], 1)
        for k in fr.idx:
            st = fr.state(int(k))
            scale = max(float(np.max(np.abs(st["ring"]))), 1e-300)
            x, y = _ring_xy(fr.theta, st["ring"], scale)
            ring_line.set_data(x, y)
            for patch, sel in zip(fills, (st["ring"] > 0, st["ring"] < 0)):
                edge = np.where(sel[:, None], np.stack([x, y], 1), base_xy)
                patch.set_xy(np.concatenate([edge, base_xy[::-1]]))
            neurons.set_offsets(st["xy"])
            neurons.set_sizes(st["area"])
            neurons.set_color(np.where(st["pos"], POS_COLOR, NEG_COLOR))
            for sg, at_dir, on_ring in ((1, ext_pos, ring_pos), (-1, ext_neg, ring_neg)):
                ex = [(u, g) for u, s, g in st["extrema"] if s == sg]
                at_dir.set_offsets(np.array([u for u, _ in ex]) @ fr.P.T if ex
                                   else np.empty((0, 2)))
                if ex and problem.d == 2:
                    Uex = np.array([u for u, _ in ex])
                    ang = np.arctan2(Uex[:, 1], Uex[:, 0])
                    rad = RING_R0 + RING_K * np.array([g for _, g in ex]) / scale
                    on_ring.set_offsets(np.stack([rad * np.cos(ang), rad * np.sin(ang)], 1))
                else:
                    on_ring.set_offsets(np.empty((0, 2)))
            lo = _loss_at(run, st["t"])
            head.set_text(f"t = {st['t']:.4g}   step {st['step']}   loss = {lo:.4g}")
            which = ("after escape: ring = G_t, weights r_i = −∂ℓ/∂f at the current f"
                     if st["later"] else "early phase: ring = G, weights c_i = −∂ℓ/∂f at f = 0")
            extra = "; degenerate: no first-order extrema" if st["degenerate"] else ""
            foot.set_text(f"{which}\nring: G scaled to max|G| = {scale:.3g}{extra}")
            cur.set_data([max(st["t"], t_min)], [lo])
            canvas.restore_region(background)
            for artist in dyn:
                artist.axes.draw_artist(artist)
            yield np.asarray(canvas.buffer_rgba()).copy(), st
    finally:
        plt.close(fig)


def _write_gif(frames, path: str, fps: float) -> None:
    """Pillow: each RGBA frame quantised to its own 256-colour palette; loops forever."""
    from PIL import Image

    images = [Image.fromarray(f[..., :3]).quantize(colors=256) for f in frames]
    if not images:
        raise InputError("no frames to write")
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:],
                   duration=max(1, int(round(1000 / fps))), loop=0)


def _write_mp4(frames, path: str, fps: float) -> None:
    """ffmpeg (H.264, yuv420p): raw RGBA frames piped to its stdin."""
    import subprocess

    exe = _ffmpeg()
    proc = None
    try:
        for f in frames:
            if proc is None:
                h, w = f.shape[:2]
                proc = subprocess.Popen(
                    [exe, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgba",
                     "-s", f"{w}x{h}", "-r", f"{fps:g}", "-i", "-",
                     "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-vcodec", "libx264",
                     "-pix_fmt", "yuv420p", "-f", "mp4", path],
                    stdin=subprocess.PIPE, stderr=subprocess.PIPE)
            proc.stdin.write(np.ascontiguousarray(f).tobytes())
    finally:
        if proc is not None:
            _, err = proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError(f"ffmpeg failed: {err.decode(errors='replace').strip()}")


def _ffmpeg() -> str | None:
    import shutil

    import matplotlib

    return shutil.which(matplotlib.rcParams["animation.ffmpeg_path"]) or shutil.which("ffmpeg")


def publish(tmp: str, path: Path) -> None:
    """Move a finished temporary file into place (atomic), readable as any file the user
    writes: ``mkstemp`` creates it with mode 0600, so the umask's usual mode is applied."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, path)


def _stderr_tty() -> bool:
    import sys

    return sys.stderr.isatty()
