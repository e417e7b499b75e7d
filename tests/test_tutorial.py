"""docs/tutorial.md runs as written: its ```python blocks are executed in order, in one
namespace, in a temporary folder (so the docs cannot rot)."""

import re
import time
from pathlib import Path

TUTORIAL = Path(__file__).resolve().parent.parent / "docs" / "tutorial.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def blocks() -> list[str]:
    return BLOCK.findall(TUTORIAL.read_text())


def test_tutorial_has_blocks():
    assert len(blocks()) >= 8


def test_tutorial_runs(tmp_path, monkeypatch, capsys):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    ns: dict = {"__name__": "tutorial"}
    t0 = time.time()
    for k, code in enumerate(blocks()):
        line = TUTORIAL.read_text()[:TUTORIAL.read_text().index(code)].count("\n") + 1
        exec(compile(code, f"{TUTORIAL}:block {k} (line {line})", "exec"), ns)
    print(f"tutorial ran in {time.time() - t0:.1f} s")
    for f in ("landscape.png", "run.npz", "run.gif", "sweep/results.csv"):
        assert (tmp_path / f).is_file(), f
