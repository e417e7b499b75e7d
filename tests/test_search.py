"""The multi-start search (theory.search): exact walks, coverage, budget, and predict's labels."""

import math

import numpy as np
import pytest

import theory.candidates as cand
import theory.extrema as extrema
from theory.extrema import Extremum, predict
from theory.problem import Problem
from theory.search import SearchConfig, _Landscape, _walk_batch, missing_mass_bound


def _problem(n, d, seed, act="relu"):
    rng = np.random.default_rng(seed)
    return Problem.from_arrays(rng.standard_normal((n, d)), rng.choice([-1.0, 1.0], n), act)


def _landscape(p):
    Xr, _ = cand.reduced(p.X)
    lines = cand.find_lines(Xr)
    return _Landscape(Xr, p.c, float(p.activation.gamma), lines), lines, Xr


@pytest.mark.parametrize("n,d,act", [(20, 4, "relu"), (15, 3, "leaky_relu:0.2"),
                                     (12, 5, "abs")])
def test_walk_ends_are_extrema_of_the_enumeration(n, d, act):
    """Every settled walk (free or first held on a hyperplane) ends on a face whose candidate the
    exact certificate accepts, and that extremum is one vertex enumeration finds."""
    p = _problem(n, d, 7, act)
    full = {(e.sign, tuple(np.round(e.direction, 9))) for e in predict(p, basins=False).extrema}
    land, lines, Xr = _landscape(p)
    rng = np.random.default_rng(0)
    U = rng.standard_normal((120, Xr.shape[1]))
    s = np.sign(land.G(U))
    hold = np.zeros((120, len(lines.ell)), dtype=bool)
    hold[60:, 0] = True  # half the walks held on the first hyperplane first
    SV, ok, cut = _walk_batch(land, U, s, 500, hold)
    assert not cut.any() and ok.mean() > 0.95
    memo = {}
    for sv, si in zip(SV[ok], s[ok]):
        k = (sv.tobytes(), si)
        if k not in memo:
            c = extrema.certify_face(p, cand.point_signs(lines, sv[None])[0], int(si))
            memo[k] = c.passed and (int(si), tuple(np.round(c.direction, 9))) in full
    assert np.mean(list(memo.values())) > 0.9


def test_walk_ends_are_certified_extrema_and_follow_the_flow():
    """A walk from a point 1e-6 rad from an extremum ends there (the walk follows the flow, so
    even a small basin keeps its own neighbourhood); ends certify."""
    p = _problem(22, 5, 5021)
    full = predict(p, basins=False)
    land, lines, Xr = _landscape(p)
    _, Q = cand.reduced(p.X)
    rng = np.random.default_rng(1)
    ex = full.extrema[:8]
    U = np.array([Q.T @ e.direction for e in ex]) + 1e-6 * rng.standard_normal((len(ex),
                                                                                Xr.shape[1]))
    SV, ok, _ = _walk_batch(land, U, np.array([e.sign for e in ex], dtype=float), 500)
    assert ok.all()
    for e, sv in zip(ex, SV):
        c = extrema.certify_face(p, cand.point_signs(lines, sv[None])[0], e.sign)
        assert c.passed and np.allclose(c.direction, e.direction, atol=1e-9)


def test_missing_mass_bound():
    # N₁/N + sqrt(2 ln(2/δ)/N) + sqrt(ln(2/δ)/N), capped at 1
    lg = math.log(2 / 0.05)
    assert missing_mass_bound(5, 1000, 0.95) == pytest.approx(
        0.005 + math.sqrt(2 * lg / 1000) + math.sqrt(lg / 1000))
    assert missing_mass_bound(0, 0, 0.95) == 1.0
    assert missing_mass_bound(900, 1000, 0.95) == 1.0


def test_search_prediction_reports_coverage_and_labels(monkeypatch):
    p = _problem(14, 4, 3, "leaky_relu:0.1")
    full = predict(p, basins=False)
    assert full.complete and full.coverage is None and "coverage" not in full.to_json()
    srch = predict(p, basins=False, search_starts=300, seed=2)
    assert srch.method == "search" and not srch.complete
    obj = srch.to_json()
    cov = obj["coverage"]
    assert set(cov) >= {"unassigned_basin_share", "missing_mass_bound", "confidence"}
    assert cov["confidence"] == 0.95 and 0 <= cov["unassigned_basin_share"] <= 1
    assert cov["missing_mass_bound"] >= math.sqrt(2 * math.log(40) / 300)
    assert obj["search"]["starts"] == 300 and obj["search"]["stopped_by_budget"] is False
    assert all(e["established"] == "certified" for e in obj["extrema"])
    key = {(e.sign, tuple(np.round(e.direction, 9))) for e in full.extrema}
    assert {(e.sign, tuple(np.round(e.direction, 9))) for e in srch.extrema} == key
    # same seed, same result (the budget does not bind here)
    again = predict(p, basins=False, search_starts=300, seed=2).to_json()
    assert [e["direction"] for e in again["extrema"]] == [e["direction"] for e in obj["extrema"]]


def test_time_budget_stops_the_search():
    pred = predict(_problem(300, 30, 11), basins=False, time_budget=0.2)
    assert pred.method == "search" and pred.search["stopped_by_budget"]
    assert pred.search["time_budget"] == 0.2 and pred.coverage["starts"] == pred.search["starts"]


def test_candidates_left_after_the_budget_are_verified_not_dropped(monkeypatch):
    p = _problem(30, 6, 11)
    monkeypatch.setattr(extrema, "certify_face", lambda *a, **k: (_ for _ in ()).throw(
        AssertionError("no exact certificate once the budget is spent")))
    monkeypatch.setattr(extrema, "time", _Clock(step=10.0))  # predict's clock only
    pred = predict(p, basins=False, time_budget=4.0, search_starts=200)
    assert pred.method == "search" and pred.extrema
    assert all(e.established == "verified" for e in pred.extrema)
    assert any("time budget" in n for n in pred.notes)
    assert all(e.evidence["why"].startswith("time budget") for e in pred.extrema)


class _Clock:
    """A clock that advances ``step`` seconds per reading: the certification phase sees its
    budget spent at once, while the search keeps the real clock."""

    def __init__(self, step):
        self.t, self.step = 0.0, step

    def perf_counter(self):
        self.t += self.step
        return self.t


def test_extremum_fields_keyword_and_positional():
    import sympy as sp

    u = np.array([1.0, 0.0])
    e = Extremum(u, 1, 0.5, 0.5, "smooth", None, None)  # the seven positional fields
    assert e.exact is None and e.established is None and e.exact_direction() is None
    f = Extremum(direction=u, sign=1, G=0.5, growth_rate=0.5, kind="kink",
                 direction_exact=[sp.Integer(1), sp.Integer(0)], G_exact=sp.Rational(1, 2),
                 established="certified")
    assert f.exact == "[1, 0]; G = 1/2" and f.exact_G() == sp.Rational(1, 2)
    assert f.to_json()["exact"] == "[1, 0]; G = 1/2" and f.to_json()["established"] == "certified"
    assert SearchConfig().budget > 0
