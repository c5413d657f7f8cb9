import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from l2o4rl.analysis.plotting import save_figure  # noqa: E402


def test_a_figure_saved_twice_gives_the_same_bytes(tmp_path):
    """No creation date in the PDF (nor anything else that changes between runs)."""
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [1, 0, 2], label="a")
    ax.legend()
    first = [p.read_bytes() for p in save_figure(fig, tmp_path / "a", "f")]
    second = [p.read_bytes() for p in save_figure(fig, tmp_path / "b", "f")]
    plt.close(fig)
    assert first == second
    assert b"CreationDate" not in first[1]
