"""The ``sbias`` command line (the contract, stable: docs/cli.md).

Each subcommand lives in its own module ``verify/commands/<name>.py`` exposing
``register(subparsers)``, which adds its parser and sets ``func``.  This file only dispatches
and maps errors to exit statuses: 0 success, 1 a verification failed, 2 bad input or usage
(one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import sys

from theory.errors import InputError

from .commands import animate, derive, figures, ood, predict, sweep, train, verify

#: The subcommands, in the order ``sbias --help`` lists them.
COMMANDS = (predict, derive, train, verify, figures, ood, sweep, animate)


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sbias",
        description=(
            "simplicity-bias: derive the early-phase predictions of Tsoy & Konstantinov "
            "(ICML 2024) for two-layer networks with small initialisation, train real networks, "
            "and check one against the other.\n\n"
            "G(w) = (1/n) Σ_i c_i σ(⟨w, x_i⟩) with c_i = −∂ℓ(y_i, f)/∂f at f = 0 "
            "(logistic: y_i/2; exponential and square: y_i). Neurons with a > 0 go to local maxima "
            "of G on the unit sphere with G > 0 (sign +1), neurons with a < 0 to local minima with "
            "G < 0 (sign −1); each grows at rate |G|.\n\n"
            "Exit status: 0 success, 1 a verification failed, 2 bad input or usage."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        rc = args.func(args)
    except InputError as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        sys.stderr.write(f"sbias {args.command}: error: {msg}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("sbias: interrupted\n")
        return 130
    return int(rc or 0)


def entry() -> None:  # console script
    sys.exit(main())


if __name__ == "__main__":
    entry()
