"""Arguments and helpers shared by several subcommands."""

from __future__ import annotations

import argparse
import json
import sys

from theory.activations import KNOWN as ACTIVATIONS

ACTIVATION_HELP = (f"activation σ: {' | '.join(ACTIVATIONS)} (leaky_relu:G has slope G in [0, 1) "
                   "for z < 0; default relu)")
LOSS_HELP = ("loss ℓ: logistic (labels ±1 or {0,1}; c_i = y_i/2) | exponential (labels ±1 or "
             "{0,1}; c_i = y_i) | square (real targets; c_i = y_i); default logistic")


def add_activation_loss(p: argparse.ArgumentParser) -> None:
    p.add_argument("--activation", default="relu", help=ACTIVATION_HELP)
    p.add_argument("--loss", default="logistic", help=LOSS_HELP)


def print_json(obj) -> None:
    json.dump(obj, sys.stdout, indent=2)
    sys.stdout.write("\n")
