"""Reports of a suite run: ``report.json`` (machine-readable), ``report.md`` (for people) and
figures of predicted against trained directions (2-D examples)."""

from __future__ import annotations

import json
import platform
import textwrap
import time
from pathlib import Path

from numerics.provenance import collect
from theory.atomic import atomic_write_json, atomic_write_text

from .relaxations import RELAXATIONS
from .runner import PropertyResult


def suite_json(results: list[PropertyResult], profile: str, theory: str, seconds: float,
               *, alpha_total: float | None = None, seed: int | None = None,
               device: str | None = None) -> dict:
    """``report.json``: the verdict, the false-alarm budget, every property's record."""
    names = {r.name for r in results}
    return {"passed": all(r.passed for r in results), "profile": profile, "theory": theory,
            "seconds": round(seconds, 1), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "provenance": collect(device=device, dtype="float64",
                                  seeds=None if seed is None else {"examples": seed}),
            "false_alarm_budget": {
                "alpha_total": alpha_total,
                "split": "Bonferroni: evenly over the properties run, then over each "
                         "property's planned examples, then over the statistical checks "
                         "inside an example",
                "shares": {r.name: r.alpha for r in results if r.statistical}},
            "relaxations": [dict(x) for x in RELAXATIONS if x["property"] in names],
            "properties": [r.to_json() for r in results]}


def write_figures(results: list[PropertyResult], out: Path) -> list[str]:
    """One PNG per recorded 2-D example: G on the circle, predicted extrema, trained neurons."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from paper_figures.landscape import draw_landscape

    files = []
    (out / "figures").mkdir(parents=True, exist_ok=True)
    for res in results:
        for k, (desc, plot) in enumerate(res.plots):
            fig, ax = plt.subplots(figsize=(7, 3.6))
            draw_landscape(ax, plot["problem"], plot["prediction"], plot["W"], plot["a"],
                           title=textwrap.fill(f"{res.name}: {desc}", 80))
            ax.title.set_fontsize(9)
            fig.tight_layout()
            path = out / "figures" / f"{res.name}_{k}.png"
            tmp = path.with_suffix(".tmp.png")
            fig.savefig(tmp, dpi=110)
            plt.close(fig)
            tmp.replace(path)
            files.append(str(path.relative_to(out)))
    return files


def write_report(results: list[PropertyResult], out: str | Path, profile: str, theory: str,
                 seconds: float, figures: bool = True, **meta) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = suite_json(results, profile, theory, seconds, **meta)
    data["figures"] = write_figures(results, out) if figures else []
    atomic_write_json(out / "report.json", data)
    atomic_write_text(out / "report.md", render_markdown(data))
    return data


def _counts(drawn: list[dict], key: str, buckets=None) -> str:
    from collections import Counter

    if buckets:
        vals = [next(b for b in buckets if v <= b[1])[0] for v in (d[key] for d in drawn)]
    else:
        vals = [str(d[key]) for d in drawn]
    return ", ".join(f"{k} × {v}" for k, v in sorted(Counter(vals).items()))


N_BUCKETS = (("n ≤ 9", 9), ("10–19", 19), ("20–29", 29), ("30–40", 10**9))


def render_markdown(data: dict) -> str:
    ok = data["passed"]
    lines = [f"# sbias verify — {'PASSED' if ok else 'FAILED'}", "",
             f"Profile `{data['profile']}`, theory `{data['theory']}`, {data['seconds']} s, "
             f"{data['created']}.", "",
             "| property | passed | checked (need) | not applicable | excluded extrema | "
             "α share | seconds | result |",
             "|---|---|---|---|---|---|---|---|"]
    for p in data["properties"]:
        fa = p["false_alarm"]
        share = f"{fa['alpha']:.2g}" if fa["statistical"] else "—"
        lines.append(f"| {p['name']} | {'yes' if p['passed'] else '**NO**'} | {p['examples']} "
                     f"({p['min_examples']}) | {p['not_applicable']['count']} | "
                     f"{p['excluded']['count']} | {share} | {p['seconds']} | {p['message']} |")
    bud = data.get("false_alarm_budget", {})
    if bud.get("alpha_total") is not None:
        lines += ["", "## False-alarm budget", "",
                  f"The probability that this run fails on the true theory is at most "
                  f"{bud['alpha_total']:g} ({bud['split']}). Properties whose checks are all "
                  "deterministic tolerances (derived from an ε scaling, a step size or float64 "
                  "rounding) use no share. Statistical properties and their shares:", ""]
        for p in data["properties"]:
            fa = p["false_alarm"]
            if fa["statistical"]:
                lines.append(f"- `{p['name']}`: α = {fa['alpha']:.3g}, "
                             f"{fa['alpha_per_example']:.3g} per planned example, "
                             f"{fa['checks']} exact tests made")
    if data.get("relaxations"):
        lines += ["", "## Tolerances that are measured, not derived", ""]
        lines += [f"- `{x['property']}`: {x['what']} — {x['cause']}" for x in data["relaxations"]]
    lines += ["", "## What was drawn", ""]
    for p in data["properties"]:
        dr = p["drawn"]
        if not dr:
            continue
        lines.append(f"- `{p['name']}` ({len(dr)} checked): {_counts(dr, 'n', N_BUCKETS)}; d: "
                     f"{_counts(dr, 'd')}; {_counts(dr, 'family')}; {_counts(dr, 'activation')}; "
                     f"{_counts(dr, 'loss')}")
        na = p["not_applicable"]
        if na["count"]:
            lines.append("  - not applicable: " + "; ".join(f"{k} × {v}" for k, v in
                                                             na["reasons"].items()))
        if p["excluded"]["count"]:
            lines.append(f"  - {p['excluded']['count']} extrema excluded, e.g. " + "; ".join(
                f"example {e['example']} extremum {e['extremum']}: {e['why']}"
                for e in p["excluded"]["extrema"][:3]))
    for p in data["properties"]:
        lines += ["", f"## {p['name']}", "", f"Claim: {p['claim']}", ""]
        if p["counterexample"]:
            ce = p["counterexample"]
            lines += ["**Counterexample** (shrunk): " + ce["example"], "",
                      f"- first failing example before shrinking: {ce.get('first_failure')}",
                      f"- what failed: {ce['message']}",
                      f"- measured: `{json.dumps(ce['measured'], default=str)}`"]
            if "file" in ce:
                lines += [f"- data: `{ce['file']}`", f"- reproduce: `{ce['reproduce']}`"]
            if "reproduce_claim" in ce:
                lines.append(f"- check the claim against training: `{ce['reproduce_claim']}`")
            lines.append("")
        lines.append("Examples:")
        lines.append("")
        for e in p["evidence"]:
            lines.append(f"- {'✓' if e['passed'] else '✗'} {e['example']}: {e['message']}")
    if data.get("figures"):
        lines += ["", "## Figures", ""]
        lines += [f"![{f}]({f})" for f in data["figures"]]
    return "\n".join(lines) + "\n"
