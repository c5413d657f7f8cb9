"""The README's learned-optimizer example runs and does what it says."""

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_readme_example_runs():
    """Runs on a clean clone: the example reads a shipped optimizer from the committed data/."""
    text = (REPO / "README.md").read_text()
    code = re.search(r"<!-- readme-example -->\n```python\n(.*?)```", text, re.S).group(1)
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [line.split() for line in proc.stdout.splitlines()]
    losses = {name: (float(before), float(after)) for name, before, _, after in lines}
    assert list(losses) == ["shipped-Optim4RL", "shipped-OPEN", "untrained-OPEN"]
    for name in ("shipped-Optim4RL", "shipped-OPEN"):
        assert losses[name][1] < 0.2 * losses[name][0]  # the shipped optimizers reduce the loss
    assert losses["shipped-OPEN"][1] < 0.5 * losses["untrained-OPEN"][1]  # what meta-training added
