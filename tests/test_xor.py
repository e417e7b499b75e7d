"""Tests of theory.xor: the sympy-derived XOR closed forms against G and the general predictor."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from theory.errors import InputError
from theory.extrema import predict
from theory.xor import ALPHA, MU, THETA, G_theta, xor_closed_forms, xor_dataset

ALPHAS = np.concatenate([np.linspace(0.05, np.pi / 2 - 0.05, 19), [np.pi / 2]])


def test_G_on_the_circle_simplifies_to_the_design_formula():
    G = G_theta()
    design = MU / 8 * (sp.Abs(sp.cos(THETA - ALPHA)) - sp.Abs(sp.cos(THETA)))
    assert sp.simplify(G - design) == 0
    assert sp.simplify(G + design) != 0  # a sign flip would be caught


def test_generic_closed_forms():
    cf = xor_closed_forms()
    got = sorted((str(e.theta), e.sign, e.kind) for e in cf.extrema)
    want = sorted([(str(-sp.pi / 2), 1, "kink"), (str(sp.pi / 2), 1, "kink"),
                   (str(ALPHA - sp.pi / 2), -1, "kink"), (str(ALPHA + sp.pi / 2), -1, "kink")])
    assert got == want
    for e in cf.extrema:
        assert sp.simplify(e.growth_rate - MU * sp.sin(ALPHA) / 8) == 0
        assert sp.simplify(e.G - e.sign * MU * sp.sin(ALPHA) / 8) == 0


def test_symmetric_case_agrees_with_generic_limit():
    sym = xor_closed_forms(sp.pi / 2)
    gen = xor_closed_forms()
    a = {(float(sp.N(e.theta)), e.sign) for e in sym.extrema}
    b = {(float(sp.N(e.theta.subs(ALPHA, sp.pi / 2))), e.sign) for e in gen.extrema}
    assert a == b


@pytest.mark.parametrize("mu", [0.5, 1.0, 3.0])
def test_closed_forms_are_extrema_of_the_data_G(mu):
    """Independent numeric check on Problem.G: each predicted angle is a strict local
    max (sign +1) / min (−1) of G on the circle, G matches, and a rotated angle is not."""
    for alpha in ALPHAS:
        prob = xor_dataset(alpha, mu)
        ex = xor_closed_forms(alpha, mu)
        assert len(ex) == 4
        for e in ex:
            u = e["direction"]
            g = prob.G(u[None])[0]
            # G from float64 data vs the closed form: rounding of cos/sin (1e-15), 1e-12 rel.
            assert abs(g - e["G"]) <= 1e-12 * abs(e["G"])
            assert e["growth_rate"] == pytest.approx(mu * np.sin(alpha) / 8, rel=1e-12)
            th = e["theta"]
            d = 1e-3  # G is piecewise-sinusoidal with slopes >= ~mu(1-cos a)/8 near the kink
            for s in (-d, d):
                v = np.array([np.cos(th + s), np.sin(th + s)])
                assert e["sign"] * (prob.G(v[None])[0] - g) < 0
            # rotated by 0.05 rad the direction is no longer an extremum of that sign
            th2 = th + 0.05
            v2 = np.array([np.cos(th2), np.sin(th2)])
            g2 = prob.G(v2[None])[0]
            nbrs = [prob.G(np.array([[np.cos(th2 + s), np.sin(th2 + s)]]))[0] for s in (-d, d)]
            assert not all(e["sign"] * (nb - g2) < 0 for nb in nbrs)


def test_closed_forms_equal_general_predictor():
    for mu in (0.7, 2.0):
        for alpha in ALPHAS:
            pred = predict(xor_dataset(alpha, mu), exact=False, basins=False)
            ours = xor_closed_forms(alpha, mu)
            assert len(pred.extrema) == len(ours)
            for e in ours:
                # match by direction: within 1e-9 rad (float64 rounding of the predictor's
                # projections), same sign, G within 1e-12 relative.  The angle is measured
                # with atan2(|u x v|, u.v), accurate near 0 (arccos would lose ~1e-8).
                v = e["direction"]
                angs = [abs(np.arctan2(p.direction[0] * v[1] - p.direction[1] * v[0],
                                       p.direction @ v)) for p in pred.extrema]
                k = int(np.argmin(angs))
                p = pred.extrema[k]
                assert angs[k] < 1e-9, (alpha, mu, e, p)
                assert p.sign == e["sign"]
                assert abs(p.G - e["G"]) <= 1e-12 * abs(e["G"])
                assert abs(p.growth_rate - e["growth_rate"]) <= 1e-12 * e["growth_rate"]


def test_exact_dataset_keeps_closed_form_data():
    prob = xor_dataset(sp.pi / 3, 2, exact=True)
    assert prob.exact_input
    assert prob.X_exact[2, 0] == 1 and prob.X_exact[2, 1] == sp.sqrt(3)
    u = (0, 1)
    assert sp.simplify(prob.G_exact(u) - 2 * sp.sin(sp.pi / 3) / 8) == 0


@pytest.mark.parametrize("alpha, mu", [(0.0, 1.0), (2.0, 1.0), (1.0, 0.0), (1.0, -1.0),
                                       (float("nan"), 1.0)])
def test_bad_parameters(alpha, mu):
    with pytest.raises(InputError):
        xor_dataset(alpha, mu)
