"""The verify layer: hypothesis strategies and properties, the suite runner, reports, the claim
check, sweeps and the ``sbias`` command line (docs/cli.md).

The public names below are importable from ``verify`` directly; each is imported on first use
(:mod:`theory.lazy`), so ``import verify`` stays cheap.
"""

from theory.lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(globals(), {
    # the property suite
    "run_suite": "runner", "run_property": "runner", "replay": "runner",
    "PropertyResult": "runner", "PROFILES": "profiles", "Profile": "profiles",
    "get_profile": "profiles", "PROPERTIES": "properties", "write_report": "report",
    # the theory under test
    "Theory": "theory_bundle", "package_theory": "theory_bundle", "planted": "theory_bundle",
    "load_theory": "theory_plugin", "theory_from_callable": "theory_plugin",
    # checking a claim
    "check_claim": "claim", "ClaimVerdict": "claim",
    # sweeps
    "load_spec": "sweep", "run_sweep": "sweep",
})

__all__ = [
    "PROFILES", "PROPERTIES", "ClaimVerdict", "Profile", "PropertyResult", "Theory",
    "check_claim", "get_profile", "load_spec", "load_theory", "package_theory", "planted",
    "replay", "run_property", "run_suite", "run_sweep", "theory_from_callable", "write_report",
]
