"""``sbias derive``: print the sympy derivation of the early-phase dynamics (docs/theory.md).

Steps: gradient flow, ε expansion, loss weights c_i, G, the early-phase system, the
conservation law (and whether it holds for this σ), the polar form, the d = 2 angle equation,
and the certified check of Proposition 5.7's numerical inequality.
"""

from __future__ import annotations

import argparse

from theory.derive import derive
from theory.errors import InputError
from theory.prop57 import check_prop57

from .common import add_activation_loss


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "derive",
        help="print the early-phase system, G, conservation law and polar form, derived by sympy",
        description=(
            "Derive with sympy, from f(x) = sum_j a_j sigma(<w_j, x>) and "
            "L = (1/n) sum_i l(y_i, f(x_i)): (a) the gradient flow; (b) the loss weights "
            "c_i = -dl/df(y_i, 0), G(w) = (1/n) sum_i c_i sigma(<w, x_i>) and the early-phase "
            "system w' = a grad G(w), a' = G(w), also as the leading order in eps of "
            "w = eps*wbar, a = eps*abar; (c) the conservation law d/dt(a^2 - |w|^2) = 0 "
            "(holds iff z sigma'(z) = sigma(z), i.e. sigma positively 1-homogeneous; for tanh "
            "the nonzero residual is printed); (d) the polar form w = r u; (e) for d = 2 the "
            "angle equation theta' = (a/r) dG/dtheta.  Then checks Proposition 5.7's numerical "
            "inequality in certified interval arithmetic.  Exit 2 on unknown names."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_activation_loss(p)
    p.add_argument("--latex", action="store_true", help="print LaTeX instead of plain text")
    p.add_argument("--d", type=int, default=2,
                   help="input dimension of the symbolic derivation, 1..6 (default 2; the "
                        "angle equation needs d = 2)")
    p.add_argument("--no-prop57", action="store_true",
                   help="skip the certified Proposition 5.7 check")
    p.set_defaults(func=run)


def run(args) -> int:
    if not 1 <= args.d <= 6:
        raise InputError(f"--d must be between 1 and 6, got {args.d}")
    D = derive(args.activation, args.loss, args.d)
    print(D.to_latex() if args.latex else D.to_text(), end="")
    if not args.no_prop57:
        text = check_prop57().to_text()
        if args.latex:
            print("\\paragraph{Proposition 5.7 (certified)}")
            print("\\begin{verbatim}\n" + text + "\\end{verbatim}")
        else:
            print("\n" + text, end="")
    return 0
