"""The suite runner: each property's built-in cases, then hypothesis-drawn examples.

A failing property is shrunk by hypothesis to its smallest failing example, which is saved as
``counterexamples/<property>.npz`` (plain arrays, ``allow_pickle=False``) with, for properties
about predicted extrema, the failing theory's prediction as ``<property>_claim.json``.  Both
replay from the command line (``sbias verify --replay FILE`` re-runs the property with the
package's theory; ``sbias verify --data FILE --claim CLAIM`` checks the claim against training).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hyp_seed
from hypothesis.errors import HypothesisException

from theory.atomic import atomic_write_json

from .example import Example
from .profiles import Profile
from .properties import BY_NAME, PROPERTIES, Outcome, Property
from .theory_bundle import Theory, package_theory

SHRINK_SECONDS = 120.0


class PropertyFailed(AssertionError):
    """Raised inside the hypothesis test body so that hypothesis shrinks the example."""


@dataclass
class PropertyResult:
    name: str
    claim: str
    passed: bool
    examples: int = 0
    not_applicable: int = 0
    seconds: float = 0.0
    message: str = ""
    evidence: list = field(default_factory=list)  # (example description, outcome evidence)
    counterexample: dict | None = None
    plots: list = field(default_factory=list)
    drawn: list = field(default_factory=list)      # one record per checked example
    na_reasons: dict = field(default_factory=dict)  # reason -> count
    excluded: list = field(default_factory=list)   # excluded extrema, with why (capped)
    excluded_count: int = 0
    checks: int = 0                                # statistical checks made
    alpha: float = 0.0                             # this property's share of the budget
    alpha_per_example: float = 0.0
    statistical: bool = False
    min_examples: int = 1
    planned: int = 0

    def to_json(self) -> dict:
        return {"name": self.name, "claim": self.claim, "passed": self.passed,
                "examples": self.examples, "min_examples": self.min_examples,
                "planned_examples": self.planned,
                "not_applicable": {"count": self.not_applicable, "reasons": self.na_reasons},
                "drawn": self.drawn, "excluded": {"count": self.excluded_count,
                                                  "extrema": self.excluded},
                "false_alarm": {"statistical": self.statistical, "alpha": self.alpha,
                                "alpha_per_example": self.alpha_per_example,
                                "checks": self.checks},
                "seconds": round(self.seconds, 2), "message": self.message,
                "evidence": self.evidence, "counterexample": self.counterexample}


def _record(res: PropertyResult, ex: Example, o: Outcome) -> None:
    if not o.applicable:
        res.not_applicable += 1
        key = o.message.split(":")[0][:80]
        res.na_reasons[key] = res.na_reasons.get(key, 0) + 1
        return
    res.examples += 1
    res.drawn.append(dict(ex.record(), passed=bool(o.passed)))
    res.checks += len(o.checks)
    for e in o.excluded:
        res.excluded_count += 1
        if len(res.excluded) < 50:
            res.excluded.append(dict(e, example=len(res.drawn) - 1))
    if len(res.evidence) < 12:
        res.evidence.append({"example": ex.describe(), "passed": o.passed, "message": o.message,
                             "measured": o.evidence})
    if o.plot is not None and len(res.plots) < 2:
        res.plots.append((ex.describe(), o.plot))


#: Health checks kept on, except ``too_slow``: every example trains networks (seconds by
#: design), which hypothesis would otherwise report as a slow strategy.
SUPPRESSED = [HealthCheck.too_slow]


def sizes(prop: Property, profile: Profile) -> tuple[int, int]:
    """(drawn examples, min checked examples) of ``prop`` under ``profile``."""
    return prop.sizes.get(profile.name, (profile.examples, profile.min_examples))


def run_property(prop: Property, theory: Theory, profile: Profile,
                 out_dir: Path | None = None, alpha: float | None = None) -> PropertyResult:
    """Run one property: drawn examples (shrunk on failure), then the built-ins.

    ``alpha``: the property's share of the false-alarm budget (default: the profile's total);
    each planned example gets ``alpha / planned``."""
    n_draw, min_ex = sizes(prop, profile)
    builtins = prop.builtins() if profile.builtins else []
    planned = n_draw + len(builtins)
    alpha = profile.alpha_total if alpha is None else alpha
    prof = replace(profile, alpha=alpha / max(planned, 1))
    res = PropertyResult(prop.name, prop.claim, True, alpha=alpha if prop.statistical else 0.0,
                         alpha_per_example=prof.alpha if prop.statistical else 0.0,
                         statistical=prop.statistical, min_examples=min_ex, planned=planned)
    t0 = time.time()
    failing: dict = {}

    def body(ex: Example, drawn: bool):
        # Shrinking budget: once SHRINK_SECONDS have passed since the first failure, every
        # further call passes, so hypothesis stops shrinking (it then reports the replay as
        # flaky, which is caught below).  The saved counterexample is the last failing example
        # seen, i.e. the smallest hypothesis had reached.
        if "since" in failing and time.time() - failing["since"] > SHRINK_SECONDS:
            return
        try:
            o = prop.check(ex, theory, prof)
        except Exception as exc:  # a crash is a failure too; hypothesis shrinks it
            o = Outcome(False, f"{type(exc).__name__}: {exc}", {})
        if not o.applicable:
            if "since" not in failing:
                _record(res, ex, o)
            if drawn:  # tell hypothesis to draw another example
                from hypothesis import reject

                reject()
            return
        if "since" not in failing:
            _record(res, ex, o)
        if not o.passed:
            failing.setdefault("first", ex)  # the first failure; the last one is the shrunk
            failing.setdefault("since", time.time())
            failing["example"], failing["outcome"] = ex, o
            raise PropertyFailed(o.message)

    # Drawn examples first, so that a failure is shrunk by hypothesis; the built-in cases
    # (named datasets such as XOR) run after, and are reported as they are if they fail.
    if n_draw > 0:
        test = settings(max_examples=n_draw, derandomize=profile.derandomize,
                        deadline=None, database=None, print_blob=False,
                        phases=[Phase.explicit, Phase.generate]
                        + ([Phase.shrink] if profile.shrink else []),
                        suppress_health_check=SUPPRESSED)(
            given(prop.strategy(profile))(lambda ex: body(ex, True)))
        if profile.seed is not None and not profile.derandomize:
            test = hyp_seed(profile.seed)(test)
        try:
            test()
        except PropertyFailed:
            pass
        except Exception as exc:  # Unsatisfiable, a failed health check, or Flaky after the
            if not failing:        # shrinking budget ran out (see body)
                if not isinstance(exc, HypothesisException):
                    raise
                res.message = f"hypothesis: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    if profile.builtins and not failing:
        for ex in builtins:
            try:
                body(ex, drawn=False)
            except PropertyFailed:
                break
    res.seconds = time.time() - t0
    if failing:
        res.passed = False
        ex, o = failing["example"], failing["outcome"]
        res.message = o.message
        res.counterexample = _save_counterexample(prop, ex, o, theory, out_dir)
        res.counterexample["first_failure"] = failing["first"].describe()
    elif res.examples < min_ex:
        res.passed = False
        res.message = (f"only {res.examples} checked examples (this profile needs {min_ex}); "
                       f"{res.not_applicable} drawn examples were not applicable"
                       + (f"; {res.message}" if res.message else ""))
    elif not res.message:
        res.message = f"held on {res.examples} examples"
    else:
        res.message = f"held on {res.examples} examples ({res.message})"
    return res


def _save_counterexample(prop: Property, ex: Example, o: Outcome, theory: Theory,
                         out_dir: Path | None) -> dict:
    info = {"example": ex.describe(), "message": o.message, "measured": o.evidence}
    if out_dir is None:
        return info
    ce_dir = Path(out_dir) / "counterexamples"
    path = ce_dir / f"{prop.name}.npz"
    ex.save(path, prop.name)
    info["file"] = str(path)
    who = f" --theory {theory.cli}" if theory.cli else ""
    info["reproduce"] = f"sbias verify --replay {path}{who}"
    if prop.uses_prediction:
        try:
            claim = theory.predict(ex.problem(), basins=True).to_json()
            cpath = ce_dir / f"{prop.name}_claim.json"
            atomic_write_json(cpath, claim)
            info["claim_file"] = str(cpath)
            info["reproduce_claim"] = (f"sbias verify --data {path} --claim {cpath} "
                                       f"--activation {ex.activation} --loss {ex.loss}")
        except Exception as exc:  # the failing theory may itself crash on this example
            info["claim_error"] = f"{type(exc).__name__}: {exc}"
    return info


def run_suite(profile: Profile, theory: Theory | None = None, only: list[str] | None = None,
              out_dir: Path | None = None, progress: bool = True,
              fail_fast: bool = False, workers: int = 1) -> list[PropertyResult]:
    """Run every property (or those named in ``only``) under ``profile``.  The profile's
    false-alarm budget ``alpha_total`` is split evenly over the properties run (Bonferroni).

    ``workers > 1`` runs the properties in that many processes (each property is one task;
    the longest-running first).  Each property draws its examples from its own seeded
    hypothesis run and its networks from seeds of their own, so the results are the same as
    in one process.  A theory without a :attr:`Theory.recipe` (built in Python) runs here."""
    theory = theory or package_theory()
    props = PROPERTIES if not only else [BY_NAME[n] for n in only]
    from numerics.device import torch_threads

    import_layers()
    alpha = profile.alpha_total / len(props)
    workers = min(int(workers), len(props))
    if workers > 1 and theory.recipe is not None:
        return _run_pool(props, theory.recipe, profile, out_dir, alpha, progress, fail_fast,
                         workers)
    with torch_threads(1):
        return _run_all(props, theory, profile, out_dir, alpha, progress, fail_fast)


LAYERS = ("theory", "numerics", "verify")


def import_layers() -> None:
    """Import every module of the package's layers before drawing examples.

    Hypothesis sometimes draws a constant found in the source of an imported local module
    (its "local constants"), so what it draws depends on which modules are loaded.  Loading
    them all first makes the drawn examples the same whatever ran before: with ``--only``, in
    a worker process, or after another property."""
    import importlib
    import pkgutil

    for layer in LAYERS:
        pkg = importlib.import_module(layer)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{layer}."):
            importlib.import_module(info.name)


def _bar(progress: bool, total: int):
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="properties", unit="prop", leave=False)


def _run_all(props, theory, profile, out_dir, alpha, progress, fail_fast=False
             ) -> list[PropertyResult]:
    results = []
    bar = _bar(progress, len(props))
    for prop in props:
        if bar is not None:
            bar.set_postfix_str(prop.name)
        results.append(run_property(prop, theory, profile, out_dir, alpha))
        if fail_fast and not results[-1].passed:
            break
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return results


#: Typical seconds of each property at the quick profile on one core: only the order in which
#: a process pool starts them (longest first, so that the last one to finish is a short one).
TYPICAL_SECONDS = {"growth_rates": 47, "xor_closed_forms": 24, "width_independence": 22,
                   "claim_check": 18, "mass_concentration": 13, "escape_slope": 12,
                   "clusters_match": 9, "xor_persistence": 8, "basin_fractions": 7,
                   "g_t_tracking": 6, "symbolic_equals_numeric": 5}


def _run_in_worker(task: tuple) -> PropertyResult:
    """One property in a worker process: ``(name, recipe, profile, out_dir, alpha)``, the
    theory rebuilt from its recipe."""
    from numerics.device import torch_threads

    from .theory_bundle import rebuild

    name, recipe, profile, out_dir, alpha = task
    theory = rebuild(recipe)
    import_layers()
    with torch_threads(1):
        return run_property(BY_NAME[name], theory, profile, out_dir, alpha)


def _run_pool(props, recipe, profile, out_dir, alpha, progress, fail_fast, workers
              ) -> list[PropertyResult]:
    from .executors import ProcessPool

    order = sorted(props, key=lambda p: -TYPICAL_SECONDS.get(p.name, 1))
    done: dict[str, PropertyResult] = {}
    bar = _bar(progress, len(props))
    with ProcessPool(workers) as pool:  # spawn: each worker imports torch afresh
        for res in pool.map_unordered(_run_in_worker, [(p.name, recipe, profile, out_dir,
                                                        alpha) for p in order]):
            done[res.name] = res
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(res.name)
            if fail_fast and not res.passed:
                break  # leaving the pool cancels what has not started
    if bar is not None:
        bar.close()
    return [done[p.name] for p in props if p.name in done]


def replay(path: str | Path, theory: Theory | None = None, profile: Profile | None = None
           ) -> tuple[str, Outcome]:
    """Re-run the property a counterexample file names on the example it stores."""
    from .profiles import PROFILES

    ex, name = Example.load(path)
    if name not in BY_NAME:
        from theory.errors import InputError

        raise InputError(f"{path}: names no known property ({name!r})")
    return name, BY_NAME[name].check(ex, theory or package_theory(), profile or PROFILES["quick"])
