"""numerics.tracking: linking extrema over records, clusters against G_t, the output-weight
count, and the neuron follower on a real later-phase run."""

from __future__ import annotations

import math

import numpy as np

from numerics.tracking import (
    FineGrid,
    directions_for_mass,
    follow_neurons,
    kink_angles,
    link,
    record_step_sizes,
    track,
)
from tests.helpers import one_torch_thread  # noqa: F401  (autouse: tiny networks, one thread)


def _u(deg):
    t = math.radians(deg)
    return np.array([math.cos(t), math.sin(t)])


def test_link_is_mutual_nearest():
    prev = [(_u(0), 1, 1.0), (_u(90), 1, 1.0), (_u(45), -1, -1.0)]
    cur = [(_u(5), 1, 1.0), (_u(10), 1, 1.0), (_u(40), -1, -1.0), (_u(200), 1, 1.0)]
    # _u(5) and _u(10) are both nearest to 0°; only the nearer continues it.  90° has no
    # mutual partner (its nearest, 10°, prefers 0°): it vanished.  200° is new.
    assert link(prev, cur) == [0, -1, 2, -1]
    assert link([], cur) == [-1, -1, -1, -1]


def test_directions_for_mass_counts_output_weight():
    W = np.array([[1.0, 0.0], [1.0, 1e-4], [0.0, 1.0], [0.1 / math.sqrt(2), 0.1 / math.sqrt(2)]])
    a = np.array([1.0, 1.0, 1.0, 0.1])
    # output weights |a||w| = 1, 1, 1, 0.01 in three directions (0°, 90°, 45°): shares
    # 2/3.01, 1/3.01, 0.01/3.01
    assert directions_for_mass(W, a, 0.6) == 1
    assert directions_for_mass(W, a, 0.95) == 2
    assert directions_for_mass(W, a, 0.999) == 3


def test_kink_angles():
    X = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
    k = np.sort(np.degrees(kink_angles(X)))
    np.testing.assert_allclose(k, [-180, -90, 0, 90], atol=1e-12)


def test_record_step_sizes_take_the_largest_step_since_the_last_record():
    times = np.cumsum([0.0, 0.1, 0.1, 0.5, 0.2, 0.2])
    np.testing.assert_allclose(record_step_sizes(times, [0, 2, 5]), [0.1, 0.1, 0.5])
    np.testing.assert_allclose(record_step_sizes(times, [1, 3]), [0.1, 0.5])


def _unequal_run():
    from verify.properties.xor_persistence import run_family

    return run_family(math.pi / 3, 1.0, 1, 0)


def test_track_follows_the_xor_extrema_through_the_later_phase():
    """Skewed XOR, a > 0 neurons at 1e-4 and a < 0 at 1e-7: the two minima at α ∓ π/2 turn
    smooth and move (their condition fails) but are continued, never vanish; the maxima ±e2
    stay; every cluster holding ≥ 5 % of the mass sits near an attractor of its sign."""
    p, run = _unequal_run()
    k = np.arange(0, len(run.traj_times), 4)
    tr = track(p, run.traj_times, run.W_traj, run.a_traj, records=k)
    assert len(tr.tracks) == 4 and all(t.vanished is None for t in tr.tracks.values())
    ang = {tid: [math.degrees(math.atan2(u[1], u[0])) for u in t.directions]
           for tid, t in tr.tracks.items()}
    moved = [tid for tid, a in ang.items() if max(a) - min(a) > 5]
    assert sorted(tr.tracks[t].sign for t in moved) == [-1, -1]  # the two minima moved
    for tid in set(ang) - set(moved):
        assert tr.tracks[tid].sign == 1 and abs(abs(ang[tid][0]) - 90) < 0.5
    last = tr.records[-1]
    heavy = last.cmass >= 0.05
    assert np.all(last.nearest_track[heavy] >= 0)


def test_follow_neurons_on_the_unequal_run():
    """The envelope holds for the package's attractors and is violated when the attractors are
    frozen at the early phase's (the negative clusters leave −30° and 150°), also after the
    fine grid re-derived it (the planted landscape G_c keeps its attractors and its pull)."""
    from theory.later_phase import direction_attractors

    p, run = _unequal_run()
    k = np.arange(0, len(run.traj_times), 4)
    steps = record_step_sizes(run.times, run.traj_steps[k])
    fine_steps = record_step_sizes(run.times, run.traj_steps)
    for fn, land, ok in ((direction_attractors, None, True),
                         (lambda q, r: direction_attractors(q, q.c), lambda q, r: q.c, False)):
        tr = track(p, run.traj_times, run.W_traj, run.a_traj, extrema_fn=fn, records=k)
        fine = FineGrid(p, run.traj_times, run.W_traj, run.a_traj, fine_steps, k, fn, land)
        fo = follow_neurons(p, tr, run.W_traj[k], run.a_traj[k], steps, landscape=land,
                            fine=fine)
        heavy = [c for c in fo.checks if c[4]]
        assert len(heavy) > 200
        worst = max(c[2] - c[3] for c in heavy)
        assert (worst <= 1e-6) == ok, worst
