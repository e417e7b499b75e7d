"""The property suite: one module per claim of the theory, in dependency order."""

from . import (
    basin_fractions,
    claim_check,
    clusters_match,
    conservation,
    escape_slope,
    extrema_complete,
    finite_eps,
    g_t_tracking,
    growth_rates,
    mass_concentration,
    symbolic_numeric,
    width_independence,
    xor_closed_forms,
    xor_persistence,
)
from .base import Outcome, Property

PROPERTIES: list[Property] = [
    symbolic_numeric.PROPERTY,
    conservation.PROPERTY,
    extrema_complete.PROPERTY,
    finite_eps.PROPERTY,
    clusters_match.PROPERTY,
    width_independence.PROPERTY,
    growth_rates.PROPERTY,
    escape_slope.PROPERTY,
    mass_concentration.PROPERTY,
    xor_closed_forms.PROPERTY,
    basin_fractions.PROPERTY,
    claim_check.PROPERTY,
    g_t_tracking.PROPERTY,
    xor_persistence.PROPERTY,
]
BY_NAME = {p.name: p for p in PROPERTIES}

__all__ = ["BY_NAME", "PROPERTIES", "Outcome", "Property"]
