"""Tests of theory.prop57: the certified check of Proposition 5.7's inequality."""

from __future__ import annotations

import mpmath
import pytest
from scipy.special import expi

from theory.errors import InputError
from theory.prop57 import check_prop57, ei_interval, endpoints


@pytest.mark.parametrize("x", [0.5, 1.0, 4.96125, 6.9688888, 20.0])
def test_ei_interval_encloses_ei(x):
    mpmath.mp.dps = 50
    ref = mpmath.ei(mpmath.mpf(x))  # independent evaluation (hypergeometric), 50 digits
    mpmath.iv.dps = 30
    lo, hi = endpoints(ei_interval(x))
    assert lo <= ref <= hi
    # 30-digit interval arithmetic over ~80 series terms loses a few digits: width < 1e-23 rel.
    assert hi - lo < mpmath.mpf(10) ** -23 * abs(ref)
    # float64 scipy value within rounding (observed < 6e-16 relative; 1e-14 allows ~50 ulp)
    assert abs(expi(x) - float(lo)) <= 1e-14 * abs(float(lo))


def test_ei_interval_of_an_interval_is_monotone_hull():
    lo, hi = endpoints(ei_interval(mpmath.iv.mpf([1, 2])))
    assert lo <= mpmath.ei(1) and mpmath.ei(2) <= hi


def test_paper_inequality_is_certified():
    r = check_prop57()
    assert r.certified is True
    lo, hi = endpoints(r.margin_interval)
    assert lo > 0.069 and hi < 0.0693  # margin ~0.07 as the paper's replication reports
    # both sides ~29.560 and ~29.629 (the replication's float64 values); float64 within 1e-12
    # of the enclosures
    # (float64 rounding of O(30) quantities through exp/log/Ei: ~1e-14 relative)
    for val, iv_ in ((r.lhs_float, r.lhs_interval), (r.rhs_float, r.rhs_interval)):
        a, b = endpoints(iv_)
        assert abs(val - float((a + b) / 2)) < 1e-12
        assert b - a < 1e-20
    assert round(r.lhs_float, 3) == 29.560 and round(r.rhs_float, 3) == 29.629
    for name, (f, iv_) in r.intermediates.items():
        a, b = endpoints(iv_)
        assert abs(f - float((a + b) / 2)) <= 1e-12 * max(1.0, abs(f)), name
    assert "CERTIFIED: LHS < RHS" in r.to_text()


@pytest.mark.parametrize("override", [{"q_min": 2.26}, {"c": 1100}, {"a": 0.02}])
def test_perturbed_parameters_flip_the_inequality(override):
    r = check_prop57(**override)
    assert r.certified is False
    assert r.margin_float < 0
    assert "CERTIFIED FALSE" in r.to_text()


def test_unknown_parameter():
    with pytest.raises(InputError, match="unknown Prop 5.7 parameter"):
        check_prop57(q_mid=2)
