"""Reports of a suite run: ``report.json`` (machine-readable), ``report.md`` (for people) and
figures of predicted against trained directions (2-D examples)."""

from __future__ import annotations

import json
import platform
import textwrap
import time
from pathlib import Path

from theory.atomic import atomic_write_json, atomic_write_text

from .runner import PropertyResult


def suite_json(results: list[PropertyResult], profile: str, theory: str, seconds: float) -> dict:
    return {"passed": all(r.passed for r in results), "profile": profile, "theory": theory,
            "seconds": round(seconds, 1), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "provenance": __import__("numerics.provenance").provenance.collect(dtype="float64"),
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
                 seconds: float, figures: bool = True) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = suite_json(results, profile, theory, seconds)
    data["figures"] = write_figures(results, out) if figures else []
    atomic_write_json(out / "report.json", data)
    atomic_write_text(out / "report.md", render_markdown(data))
    return data


def render_markdown(data: dict) -> str:
    ok = data["passed"]
    lines = [f"# sbias verify — {'PASSED' if ok else 'FAILED'}", "",
             f"Profile `{data['profile']}`, theory `{data['theory']}`, {data['seconds']} s, "
             f"{data['created']}.", "",
             "| property | passed | examples | n/a | seconds | result |",
             "|---|---|---|---|---|---|"]
    for p in data["properties"]:
        lines.append(f"| {p['name']} | {'yes' if p['passed'] else '**NO**'} | {p['examples']} | "
                     f"{p['not_applicable']} | {p['seconds']} | {p['message']} |")
    for p in data["properties"]:
        lines += ["", f"## {p['name']}", "", f"Claim: {p['claim']}", ""]
        if p["counterexample"]:
            ce = p["counterexample"]
            lines += ["**Counterexample** (shrunk): " + ce["example"], "",
                      f"- first failing example before shrinking: {ce.get('first_failure')}",
                      f"- what failed: {ce['message']}",
                      f"- measured: `{json.dumps(ce['measured'])}`"]
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
