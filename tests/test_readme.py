"""The README's learned-optimizer example runs and does what it says."""

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_readme_example_runs(anchors_dir):
    text = (REPO / "README.md").read_text()
    code = re.search(r"<!-- readme-example -->\n```python\n(.*?)```", text, re.S).group(1)
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [line.split() for line in proc.stdout.splitlines()]
    assert [line[0] for line in lines] == ["untrained-Optim4RL", "authors-OPEN"]
    for _, before, _, after in lines:
        assert float(after) < 0.5 * float(before)  # both optimizers reduce the loss
