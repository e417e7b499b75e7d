"""The theory layer: sympy and numpy only (no torch).

Problem specification, the function G, the symbolic derivation of the early-phase dynamics,
certified extremal directions, growth rates, basins, escape time, XOR closed forms, the reduced
early-phase integrator and the later phase.  docs/theory.md states every convention used here.

The public names below are importable from ``theory`` directly; each is imported on first use
(:mod:`theory.lazy`), so ``import theory`` (and with it ``numerics`` and ``verify``, which use
the same mechanism) costs nothing until a name is used.  The symbolic derivation is
``theory.derive.derive``: the submodule ``theory.derive`` owns the name ``derive``.
"""

from .lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(globals(), {
    # the problem specification (docs/theory.md, section 1)
    "Problem": "problem", "load_xy": "problem", "save_xy": "problem",
    "Activation": "activations", "parse_activation": "activations",
    "Loss": "losses", "parse_loss": "losses", "InputError": "errors",
    # predictions (docs/theory.md, sections 3 and 4)
    "predict": "extrema", "Prediction": "extrema", "Extremum": "extrema",
    "certify": "certificate", "certify_face": "certificate", "Certificate": "certificate",
    "basin_fractions": "basins",
    "lambda_max": "growth", "escape_time": "growth", "mass_share_exponents": "growth",
    # the symbolic derivation (section 2)
    "Derivation": "derive", "early_phase_rhs": "derive",
    # the XOR family (section 5)
    "xor_closed_forms": "xor", "xor_dataset": "xor",
    # finite ε (section 6)
    "integrate": "reduced", "euler_steps": "reduced", "ReducedTrajectory": "reduced",
    # the later phase (docs/later_phase.md)
    "derive_later_phase": "later_phase", "residuals": "later_phase",
    "g_t_extrema": "later_phase", "direction_attractors": "later_phase",
    "persistence_conditions": "xor_persistence",
    "check_prop57": "prop57",
})

__all__ = [
    "Activation", "Certificate", "Derivation", "Extremum", "InputError", "Loss", "Prediction",
    "Problem", "ReducedTrajectory", "basin_fractions", "certify", "certify_face",
    "check_prop57", "derive_later_phase", "direction_attractors", "early_phase_rhs",
    "escape_time", "euler_steps", "g_t_extrema", "integrate", "lambda_max", "load_xy",
    "mass_share_exponents", "parse_activation", "parse_loss", "persistence_conditions",
    "predict", "residuals", "save_xy", "xor_closed_forms", "xor_dataset",
]
