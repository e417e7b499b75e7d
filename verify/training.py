"""Training as the properties use it: the experiment recipes of :mod:`numerics.recipes`
(adaptive early-phase steps with η = ``ETA``, capped at ``1/rate_bound``, stopped at escape at
1 % of the targets' RMS), re-exported here for the verification layer."""

from numerics.recipes import (  # noqa: F401
    ESCAPE_FRACTION,
    ETA,
    MAX_STEPS,
    escape_kwargs,
    escape_level,
    lr_max,
    rate_bound,
    train_eps_sweep,
    train_to_escape,
)
