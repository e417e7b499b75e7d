"""The theory layer: sympy and numpy only (no torch).

Problem specification, the function G, the symbolic derivation of the early-phase dynamics,
certified extremal directions, growth rates, basins, escape time, XOR closed forms and the
reduced early-phase integrator.  See DESIGN §2 for every convention used here.
"""

from .activations import Activation, parse_activation
from .errors import InputError
from .losses import Loss, parse_loss
from .problem import Problem, load_xy, save_xy

__all__ = ["Activation", "InputError", "Loss", "Problem", "load_xy", "parse_activation",
           "parse_loss", "save_xy"]
