"""Tolerances that are measured rather than derived, with the measured cause.

Every other tolerance in the suite is derived next to its check (an ε scaling, a step size,
float64 rounding).  These are listed in every ``report.md`` so that a reader sees exactly which
numbers rest on a measurement.
"""

RELAXATIONS = (
    {"property": "width_independence",
     "what": "in d ≥ 3 a predicted basin b is lowered by 0.05 before the occupancy test",
     "cause": "the Monte-Carlo basin estimate discretises the sphere flow, whose sliding along "
              "kinks can move a few % of the starts between neighbouring extrema (measured: "
              "16 % predicted against 12 % trained on kink-dense 3-D data)"},
)
