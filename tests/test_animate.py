"""`sbias animate`: frames from a recorded run, what each frame shows, and bad input."""

import math

import numpy as np
import pytest
import torch
from PIL import Image

from numerics.run_io import Run
from paper_figures import animation as anim
from tests.helpers import cli_status as main
from theory.problem import save_xy

torch.set_num_threads(1)  # tests only


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A d = 2 and a d = 3 run, recorded on the log grid, trained past escape."""
    d = tmp_path_factory.mktemp("runs")
    out = {}
    for name, ds in (("d2", "skewed_xor:n=32"), ("d3", "xor3d")):
        path = d / f"{name}.npz"
        assert main(["train", "--dataset", ds, "--width", "32", "--init-scale", "1e-4",
                     "--steps", "300", "--adaptive", "--lr", "2", "--record", "log",
                     "--device", "cpu", "--out", str(path), "--no-progress"]) == 0
        out[name] = path
    return out


@pytest.mark.parametrize("name", ["d2", "d3"])
def test_gif_frames(runs, tmp_path, capsys, name):
    gif = tmp_path / f"{name}.gif"
    assert main(["animate", str(runs[name]), "--out", str(gif), "--max-frames", "12",
                 "--fps", "5", "--no-progress"]) == 0
    assert "12 frames" in capsys.readouterr().out
    with Image.open(gif) as im:
        assert im.n_frames == 12
        assert im.info["duration"] == 200  # 5 fps
        im.seek(11)
        last = np.asarray(im.convert("RGB"))
        im.seek(0)
        first = np.asarray(im.convert("RGB"))
    assert not np.array_equal(first, last)  # the neurons moved


def test_frame_contents_d2(runs):
    """Positions are the directions, area ∝ mass, colour = sign of a; G before escape and
    G_t (weights r = −ℓ'(y, f) at the recorded state) after; extrema are G's / G_t's."""
    run = Run.load(runs["d2"])
    p = run.problem()
    fr = anim._Frames(run, p, max_frames=1000)
    assert fr.note is None and np.array_equal(fr.P, np.eye(2))
    k_early = 0
    k_late = len(run.W_traj) - 1
    assert not fr.later(k_early) and fr.later(k_late)
    for k in (k_early, k_late):
        st = fr.state(k)
        W, a = run.W_traj[k], run.a_traj[k]
        U = W / np.linalg.norm(W, axis=1, keepdims=True)
        assert np.allclose(st["xy"], U)
        sq = np.sum(W * W, 1) + a * a
        assert np.allclose(st["area"], anim.AREA_ALL * sq / sq.sum())
        assert np.array_equal(st["pos"], a > 0)
    # early ring is G itself
    st0 = fr.state(k_early)
    assert np.allclose(st0["ring"], p.G(fr.ring_dirs))
    # late ring is G_t, with r the autograd −∂L/∂f (times n) at the recorded state
    st1 = fr.state(k_late)
    W = torch.tensor(run.W_traj[k_late])
    a = torch.tensor(run.a_traj[k_late])
    f = (torch.relu(torch.tensor(p.X) @ W.T) @ a).requires_grad_(True)
    y = torch.tensor(p.y)
    torch.nn.functional.softplus(-y * f).mean().backward()
    r = -(f.grad * p.n).numpy()
    assert np.allclose(anim.later_phase_weights(p, run.W_traj[k_late], run.a_traj[k_late]), r,
                       rtol=1e-10, atol=1e-14)
    assert np.allclose(st1["ring"], p.G(fr.ring_dirs, weights=r), rtol=1e-9, atol=1e-15)
    assert not np.allclose(st1["ring"] / np.abs(st1["ring"]).max(),
                           st0["ring"] / np.abs(st0["ring"]).max(), atol=1e-3)
    # the G_t extrema are G_t's: the ring's global max sits at the highest predicted max
    top = max((e for e in st1["extrema"] if e[1] > 0), key=lambda e: e[2])
    th = fr.theta[np.argmax(st1["ring"])]
    ang = math.atan2(top[0][1], top[0][0])
    assert abs((th - ang + math.pi) % (2 * math.pi) - math.pi) < math.radians(1.0)
    # the certified max is the global max: the ring's grid max is below it by at most the
    # Lipschitz constant of G_t on the circle, (1/n) Σ |r_i||x_i| for ReLU, times the largest
    # distance to a grid point, half the 0.5° spacing
    lip = np.sum(np.abs(r) * np.linalg.norm(p.X, axis=1)) / p.n
    gap = top[2] - st1["ring"].max()
    assert -1e-15 <= gap <= lip * math.radians(0.25)


def test_projection_d3_is_stated_and_orthonormal(runs):
    run = Run.load(runs["d3"])
    fr = anim._Frames(run, run.problem(), max_frames=5)
    assert np.allclose(fr.P @ fr.P.T, np.eye(2))
    assert "principal directions of the final neurons" in fr.note
    # neurons in the plane of P project onto the unit circle, others inside it
    st = fr.state(int(fr.idx[-1]))
    assert np.all(np.linalg.norm(st["xy"], axis=1) <= 1 + 1e-12)


def test_frame_indices():
    assert list(anim.frame_indices(5, 10)) == [0, 1, 2, 3, 4]
    idx = anim.frame_indices(1000, 7)
    assert len(idx) == 7 and idx[0] == 0 and idx[-1] == 999


def test_run_without_data_needs_data_flag(runs, tmp_path, capsys):
    """Old run files (no X, y) need --data; with it they animate."""
    run = Run.load(runs["d2"])
    p = run.problem()
    with np.load(runs["d2"]) as z:
        old = {k: z[k] for k in z.files if k not in ("X", "y", "activation", "loss_function",
                                                      "provenance")}
    old_path = tmp_path / "old.npz"
    np.savez(old_path, **old)
    gif = tmp_path / "o.gif"
    assert main(["animate", str(old_path), "--out", str(gif), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--data" in err[0]
    data = tmp_path / "data.npz"
    save_xy(data, p.X, p.y)
    assert main(["animate", str(old_path), "--data", str(data), "--out", str(gif),
                 "--max-frames", "3", "--no-progress"]) == 0
    with Image.open(gif) as im:
        assert im.n_frames == 3


def test_bad_input_exits_2(runs, tmp_path, capsys, monkeypatch):
    no_traj = tmp_path / "notraj.npz"
    assert main(["train", "--dataset", "xor:n=16", "--width", "4", "--init-scale", "1e-3",
                 "--steps", "2", "--device", "cpu", "--out", str(no_traj)]) == 0
    wrong_d = tmp_path / "d5.npz"
    rng = np.random.default_rng(0)
    save_xy(wrong_d, rng.normal(size=(6, 5)), rng.choice([-1.0, 1.0], size=6))
    run = str(runs["d2"])
    cases = [
        ([run, "--out", str(tmp_path / "a.avi")], ".gif or .mp4"),
        ([run, "--out", str(tmp_path / "a.gif"), "--max-frames", "0"], "max-frames"),
        ([run, "--out", str(tmp_path / "a.gif"), "--fps", "0"], "fps"),
        ([str(tmp_path / "missing.npz"), "--out", str(tmp_path / "a.gif")], "not found"),
        ([str(no_traj), "--out", str(tmp_path / "a.gif")], "trajectory"),
        ([run, "--data", str(wrong_d), "--out", str(tmp_path / "a.gif")], "d = 5"),
        ([run, "--loss", "hinge", "--out", str(tmp_path / "a.gif")], "loss"),
    ]
    for argv, word in cases:
        assert main(["animate", *argv]) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and word in err[0], (argv, err)
    monkeypatch.setattr(anim, "_ffmpeg", lambda: None)
    assert main(["animate", run, "--out", str(tmp_path / "a.mp4")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ffmpeg" in err[0]
    assert not list(tmp_path.glob("*.gif")) and not list(tmp_path.glob("*.mp4"))


@pytest.mark.skipif(anim._ffmpeg() is None, reason="ffmpeg (a system program) is not installed")
def test_mp4_when_ffmpeg_is_present(runs, tmp_path):
    mp4 = tmp_path / "d2.mp4"
    assert main(["animate", str(runs["d2"]), "--out", str(mp4), "--max-frames", "6",
                 "--no-progress"]) == 0
    assert mp4.stat().st_size > 0 and mp4.read_bytes()[4:8] == b"ftyp"  # an MP4 container
