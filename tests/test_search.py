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
    vs = cov["vertex_stream"]  # 14 lines in R^4: every vertex screened, threshold 0
    assert vs["vertices"] == 2 * math.comb(14, 3) and vs["screened"] == vs["vertices"]
    assert vs["complete"] and vs["threshold_rel"] == 0.0 and vs["skipped_degenerate"] == 0
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


# ----------------------------------------------------------------------------- vertex screen
def _data(n, d, seed, act="relu", integer=False):
    """Generic (standard normal) or degenerate (small integers: repeated lines, vertices where
    more than d − 1 hyperplanes meet) data."""
    rng = np.random.default_rng(seed)
    X = rng.integers(-2, 3, (n, d)).astype(float) if integer else rng.standard_normal((n, d))
    return Problem.from_arrays(X, rng.choice([-1.0, 1.0], n), act)


def _screened(p, faces):
    Xr, _ = cand.reduced(p.X)
    lines = cand.find_lines(Xr)
    return {(sv.tobytes(), s) for sv, s in cand.screen(Xr, p.c, float(p.activation.gamma),
                                                        lines, faces)}


@pytest.mark.parametrize("n,d,act,integer", [(16, 4, "relu", False), (12, 5, "abs", False),
                                             (14, 4, "leaky_relu:0.2", False),
                                             (20, 3, "relu", True), (12, 4, "relu", True),
                                             (14, 4, "leaky_relu:0.3", True)])
def test_vertex_screen_keeps_every_candidate_of_full_face_enumeration(n, d, act, integer):
    """The vertex screen (tests at each vertex only the sign of G there, prunes with the near
    tests) passes exactly the candidates that screening every face around every vertex passes,
    on generic and on degenerate data."""
    p = _data(n, d, 100 + n, act, integer)
    Xr, _ = cand.reduced(p.X)
    lines = cand.find_lines(Xr)
    gamma = float(p.activation.gamma)
    stream = cand.VertexStream(Xr, p.c, gamma, lines)
    fast = stream.faces()
    assert stream.complete and len(fast) < len(cand.vertex_faces(lines))
    assert _screened(p, fast) == _screened(p, cand.vertex_faces(lines))


def test_testing_the_other_sign_at_each_vertex_loses_extrema(monkeypatch):
    """Power of the check above: the sign tested at a vertex matters (an extremum of sign s is
    found only at vertices of its face with s·G(v) > 0); testing the opposite sign loses
    candidates, and the comparison sees it."""
    p = _data(16, 4, 116)
    Xr, _ = cand.reduced(p.X)
    lines = cand.find_lines(Xr)
    full = _screened(p, cand.vertex_faces(lines))
    stream = cand.VertexStream(Xr, p.c, 0.0, lines)
    stream.table.G[:] = -stream.table.G
    assert _screened(p, stream.faces()) != full


def test_stream_threshold_statement():
    """After the vertices with |G(v)| ≥ X are screened (in order of decreasing |G|), every
    extremum whose face has a vertex v with s·G(v) ≥ X has been listed; the stream does list
    extrema progressively (some are still missing part way)."""
    p = _data(18, 5, 3)
    full = predict(p, basins=False)
    Xr, Q = cand.reduced(p.X)
    lines = cand.find_lines(Xr)
    stream = cand.VertexStream(Xr, p.c, 0.0, lines)
    tab = stream.table
    m = len(tab.V)
    SV = np.sign(np.where(np.abs(tab.V @ lines.ell.T) <= 1e-9, 0.0, tab.V @ lines.ell.T))
    best, keys = [], []  # per extremum: the largest s·G over the vertices of its face; its key
    for e in full.extrema:
        du = (Q.T @ e.direction) @ lines.ell.T
        F = np.sign(np.where(np.abs(du) <= 1e-9, 0.0, du))
        g = -np.inf
        for o in (1, -1):  # oriented vertices +V and −V in the closure of the face
            inc = np.all((o * SV == 0) | (o * SV == F), axis=1) & np.all(SV[:, F == 0] == 0,
                                                                           axis=1)
            idx = np.nonzero(inc)[0] + (0 if o == 1 else m)
            g = max(g, float(np.max(e.sign * tab.G[idx], initial=-np.inf)))
        assert g > 0  # some vertex of every extremum's face has s·G(v) > 0
        best.append(g)
        keys.append((cand.point_signs(lines, F.astype(np.int8)[None])[0].tobytes(), e.sign))
    listed = [np.zeros((0, len(lines.ell)), dtype=np.int8)]
    partial = False
    while stream.done < len(stream):
        listed.append(stream.next(len(stream) // 7 + 1)[0])
        found = _screened(p, np.concatenate(listed))
        have = [k in found for k in keys]
        assert all(h or b < stream.threshold for b, h in zip(best, have))
        partial |= not all(have)
    assert partial and stream.complete and stream.threshold == 0.0


def test_search_with_the_vertex_stream_finds_what_few_flows_miss():
    """200 uniform flows (no exploration) miss extrema with rates ≥ 0.5 λ_max on this dataset;
    with the vertex stream the search reports every one, each certified."""
    p = _problem(24, 4, 9)
    full = predict(p, basins=False)
    big = {(e.sign, tuple(np.round(e.direction, 9))) for e in full.extrema
           if e.growth_rate >= 0.5 * full.lambda_max}
    found = {}
    for v in (False, True):
        cfg = SearchConfig(starts=200, explore=False, seeds=False, vertices=v,
                           time_budget=math.inf)
        pred = extrema._pl_extrema(p, extrema.rescaled(p), False, cfg, True)
        found[v] = {(e.sign, tuple(np.round(e.direction, 9))) for e in pred[0]}
        assert all(e.established == "certified" for e in pred[0])
        assert found[v] <= {(e.sign, tuple(np.round(e.direction, 9))) for e in full.extrema}
    assert big - found[False] and big <= found[True]
