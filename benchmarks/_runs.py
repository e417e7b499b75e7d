"""A resumable run log for the long benchmarks: one JSON record per finished run, appended at
once, so that an interrupted benchmark resumes where it stopped."""

from __future__ import annotations

import json
from pathlib import Path


def load_runs(out: str | Path, key) -> tuple[Path, dict]:
    """``(log path, {key(record): record})`` for ``out/runs.jsonl`` (created folder; empty
    when there is no log yet)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "runs.jsonl"
    done = {}
    if log.exists():
        for line in log.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                done[key(rec)] = rec
    return log, done


def append_run(log: Path, rec: dict) -> None:
    """Append one finished run to the log."""
    with open(log, "a") as fh:
        fh.write(json.dumps(rec) + "\n")
