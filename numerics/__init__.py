"""The numerics layer (torch): datasets, initial weights, the training engines (sequential and
batched, one step and stop rule, the exact d = 2 step), probes, cluster tracking and
measurements in the theory's own terms (docs/theory.md, section 8).

The public names below are importable from ``numerics`` directly; each is imported on first use
(:mod:`theory.lazy`), so ``import numerics.ood`` or ``import numerics.datasets`` does not load
the engines.
"""

from theory.lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(globals(), {
    # training
    "train": "engine", "train_batched": "batched", "TrainingDiverged": "stepping",
    "StepRule": "stepping", "StopRule": "stepping", "Stop": "stepping",
    "figure1_schedule": "stepping", "Run": "run_io",
    # the package's recipe: small initialisation, adaptive step, stop at escape
    "train_to_escape": "recipes", "train_eps_sweep": "recipes", "escape_level": "recipes",
    # data and initial weights
    "make_dataset": "datasets", "init_weights": "init",
    "select_device": "device", "select_dtype": "device",
    # measurements
    "match": "measure", "MatchResult": "measure", "clusters": "measure",
    "growth_rates": "measure", "mass": "measure", "directions": "measure",
    "run_probes": "probes", "ProbeSettings": "probes", "ProbeResult": "probes",
    "track": "tracking", "Tracking": "tracking", "follow_neurons": "tracking",
})

__all__ = [
    "MatchResult", "ProbeResult", "ProbeSettings", "Run", "StepRule", "Stop", "StopRule",
    "Tracking", "TrainingDiverged", "clusters", "directions", "escape_level", "figure1_schedule",
    "follow_neurons", "growth_rates", "init_weights", "make_dataset", "mass", "match",
    "run_probes", "select_device", "select_dtype", "track", "train", "train_batched",
    "train_eps_sweep", "train_to_escape",
]
