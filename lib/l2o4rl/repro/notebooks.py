"""Run the project's notebooks headless, and keep their ``.py``/``.ipynb`` pairs in sync.

Notebooks live in ``notebooks/NN_name.py`` (jupytext percent format) with a paired
``NN_name.ipynb`` committed without outputs. Running one converts the ``.py`` with the
jupytext API, executes it with papermill (injecting ``scale``, ``seed``, ``recompute``,
``data_dir`` and ``figures_dir`` into the cell tagged ``parameters``) and writes the
executed copy to ``build/<scale>/``.

    python -m l2o4rl.repro.notebooks list
    python -m l2o4rl.repro.notebooks run --scale quick [NAME ...]
    python -m l2o4rl.repro.notebooks sync      # rewrite every .ipynb from its .py
    python -m l2o4rl.repro.notebooks check     # fail when a pair has drifted
    python -m l2o4rl.repro.notebooks check-figures [NAME ...]   # committed figures == figures drawn from committed data

Each notebook's stderr (which experiment loaded a stored result and which is computing, what
the stored run took, progress bars) streams to the terminal while it runs.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import SCALES, check_choice, check_scale
from ..runtime import configure_jax, project_root
from .store import recompute_policy

NOTEBOOK_PATTERN = re.compile(r"^\d\d_[a-z0-9_]+\.py$")
# RMS difference (0-255 per channel) that compare_images tolerates: font hinting or antialiasing
# on another freetype moves a few edge pixels (RMS well under 1), while a curve or bar moved by
# one changed stored number gives several (tests/test_figures.py measures one such change).
FIGURE_TOLERANCE = 1.0


class NotebookError(RuntimeError):
    """A notebook failed; the message names the notebook and the cell."""


def notebooks_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "notebooks"


def discover(directory: Path | None = None) -> dict[str, Path]:
    """``{name: path}`` of every ``NN_name.py`` notebook, in order."""
    directory = directory or notebooks_dir()
    return {p.stem: p for p in sorted(directory.glob("*.py")) if NOTEBOOK_PATTERN.match(p.name)}


def select(names: Iterable[str], available: dict[str, Path]) -> list[str]:
    """Resolve full names or their ``NN`` prefixes; every name when none are given."""
    names = list(names)
    if not names:
        return list(available)
    chosen = []
    for name in names:
        matches = [n for n in available if n == name or n.split("_", 1)[0] == name]
        if len(matches) != 1:
            check_choice("notebook", name, available)  # raises, listing the valid names
        chosen.append(matches[0])
    return chosen


@dataclass(frozen=True)
class Session:
    """A notebook's parameters (the ones papermill injects), and the experiments it loads with them."""

    scale: str
    seed: int
    data_dir: str | Path
    recompute: bool | str

    def config(self, name: str, **overrides: Any):
        """Experiment ``name``'s config at this scale (checked: a bad value names its key)."""
        from .. import experiments

        return experiments.get(name).config(self.scale, **overrides)

    def load(self, name: str, seed: int | None = None, **overrides: Any):
        """Experiment ``name``'s result at this scale (its config changed by ``overrides``):
        stored, or computed and stored (see ``recompute``)."""
        from .. import experiments

        run_seed = self.seed if seed is None else seed
        experiment = experiments.get(name)
        return experiment.load_or_run(self.scale, run_seed, self.data_dir, recompute=self.recompute, **overrides)


def start(scale: str, seed: int, data_dir: str | Path, recompute: bool | str) -> Session:
    """A notebook's first call, before anything starts JAX: its settings (one CPU device per
    core, the compilation cache), the figure style, and the parameters checked."""
    configure_jax()
    from ..analysis.plotting import set_style

    set_style()
    check_scale(scale)
    recompute_policy(recompute)
    return Session(scale, int(seed), data_dir, recompute)


def _cells(notebook) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", ()))) for c in notebook.cells]


def drift(py_path: Path) -> str | None:
    """Why the ``.ipynb`` beside ``py_path`` is out of sync with it, or None when in sync."""
    import jupytext

    ipynb_path = py_path.with_suffix(".ipynb")
    if not ipynb_path.exists():
        return f"{ipynb_path.name} is missing"
    paired = jupytext.read(ipynb_path)
    if any(c.get("outputs") or c.get("execution_count") for c in paired.cells if c.cell_type == "code"):
        return f"{ipynb_path.name} holds outputs; commit it without them"
    if _cells(jupytext.read(py_path)) != _cells(paired):
        return f"{ipynb_path.name} and {py_path.name} differ"
    return None


def sync(py_path: Path) -> Path:
    """Rewrite the paired ``.ipynb`` from the ``.py``, without outputs."""
    import jupytext

    ipynb_path = py_path.with_suffix(".ipynb")
    jupytext.write(jupytext.read(py_path), ipynb_path, fmt="ipynb")
    return ipynb_path


def run_notebook(
    py_path: Path,
    *,
    scale: str,
    seed: int = 0,
    recompute: bool | str = False,
    data_dir: Path | None = None,
    figures_dir: Path | None = None,
    build_dir: Path | None = None,
    progress: bool = True,
) -> Path:
    """Execute one notebook; returns the executed copy's path. Raises NotebookError on failure.

    ``recompute`` is a policy of :data:`l2o4rl.repro.store.RECOMPUTE` (True/False: "always"/"missing");
    "never" draws from stored results only and fails on a missing or stale one."""
    import jupytext
    import papermill
    from papermill.exceptions import PapermillExecutionError

    check_scale(scale)
    root = project_root()
    data_dir = Path(data_dir or root / "data").resolve()
    figures_dir = Path(figures_dir or root / "figures").resolve()
    build_dir = Path(build_dir or root / "build").resolve() / scale
    build_dir.mkdir(parents=True, exist_ok=True)
    output = build_dir / f"{py_path.stem}.ipynb"
    notebook = jupytext.read(py_path)
    if not any("parameters" in c.metadata.get("tags", ()) for c in notebook.cells):
        raise NotebookError(f"notebook {py_path.stem} has no cell tagged 'parameters' to inject scale, seed, ... into")
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = {
        "scale": scale,
        "seed": int(seed),
        "recompute": recompute if isinstance(recompute, bool) else recompute_policy(recompute),
        "data_dir": str(data_dir),
        "figures_dir": str(figures_dir),
    }
    try:
        papermill.execute_notebook(
            notebook,
            str(output),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(py_path.parent),
            progress_bar=progress,
            stderr_file=sys.stderr,  # announcements of what loads and what computes, progress bars
        )
    except PapermillExecutionError as err:
        # papermill inserts one cell after the parameters cell; number cells as in the .py source
        injected = next(i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", ())) + 1
        cell_number = err.cell_index + (0 if err.cell_index < injected else -1) + 1
        first_line = err.source.strip().splitlines()[0] if err.source.strip() else ""
        raise NotebookError(
            f"notebook {py_path.stem} failed in cell {cell_number} ({first_line!r}): {err.ename}: {err.evalue}\n"
            f"  executed copy with the traceback: {output}"
        ) from err
    return output


def check_figures(
    name: str,
    out_dir: Path,
    *,
    data_dir: Path | None = None,
    expected_dir: Path | None = None,
    tolerance: float = FIGURE_TOLERANCE,
    progress: bool = False,
) -> list[str]:
    """Draw notebook ``name``'s figures from the stored ``cpu`` results (computing nothing, so a
    missing or stale result fails the run, as does any of its cpu assertions) into
    ``out_dir/<name>/`` and compare each PNG with the committed one in ``expected_dir``.

    Returns one line per mismatched figure, naming it and the expected, actual and difference
    images left in ``out_dir/<name>/``; an empty list when every figure matches.
    """
    from matplotlib.testing.compare import compare_images
    from matplotlib.testing.exceptions import ImageComparisonFailure

    from ..experiments import figures_of_notebook

    root = project_root()
    expected_dir = Path(expected_dir or root / "figures")
    actual_dir = Path(out_dir) / name
    shutil.rmtree(actual_dir, ignore_errors=True)
    run_notebook(
        discover()[name],
        scale="cpu",
        recompute="never",
        data_dir=data_dir,
        figures_dir=actual_dir,
        build_dir=actual_dir / "build",
        progress=progress,
    )
    problems = []
    for figure in figures_of_notebook(name):
        expected, actual = expected_dir / f"{figure}.png", actual_dir / f"{figure}.png"
        if not actual.exists() or not expected.exists():
            missing = actual if not actual.exists() else expected
            problems.append(f"{figure}: {missing} does not exist")
            continue
        kept = shutil.copyfile(expected, actual_dir / f"{figure}-expected.png")
        try:
            failed = compare_images(str(kept), str(actual), tol=tolerance, in_decorator=True)
        except ImageComparisonFailure as err:  # different sizes: no difference image
            problems.append(f"{figure}: {err}")
            continue
        if failed is not None:
            problems.append(
                f"{figure}: RMS difference {failed['rms']:.2f} > {tolerance} "
                f"(expected {kept}, actual {actual}, difference {failed['diff']})"
            )
        else:
            kept.unlink()
    return problems


def run_all(names: Sequence[str], *, scale: str, **kwargs) -> list[Path]:
    from tqdm import tqdm

    available = discover()
    chosen = select(names, available)
    outputs = []
    bar = tqdm(chosen, desc=f"notebooks ({scale})", unit="nb", disable=not kwargs.get("progress", True))
    for name in bar:
        bar.set_postfix_str(name)
        outputs.append(run_notebook(available[name], scale=scale, **kwargs))
    return outputs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m l2o4rl.repro.notebooks", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the notebooks")
    run = commands.add_parser("run", help="execute notebooks headless with papermill")
    run.add_argument("names", nargs="*", help="notebook names or NN prefixes (default: all)")
    run.add_argument("--scale", default="cpu", choices=SCALES)
    run.add_argument("--seed", type=int, default=0)
    policy = run.add_mutually_exclusive_group()
    policy.add_argument("--recompute", action="store_true", help="ignore stored results and recompute them")
    policy.add_argument(
        "--stored-only",
        action="store_true",
        help="draw from stored results only; fail on a missing or stale one instead of computing it",
    )
    run.add_argument("--data-dir", type=Path)
    run.add_argument("--figures-dir", type=Path)
    run.add_argument("--build-dir", type=Path)
    run.add_argument("--no-progress", action="store_true")
    commands.add_parser("sync", help="rewrite every .ipynb from its paired .py")
    commands.add_parser("check", help="exit 1 when a .py/.ipynb pair has drifted")
    figures = commands.add_parser(
        "check-figures", help="exit 1 unless the committed cpu data draws the committed figures"
    )
    figures.add_argument("names", nargs="*", help="notebook names or NN prefixes (default: all)")
    figures.add_argument("--out-dir", type=Path, default=Path("build/figure-check"))
    figures.add_argument("--data-dir", type=Path)
    args = parser.parse_args(argv)

    available = discover()
    if args.command == "list":
        print("\n".join(available))
        return 0
    if args.command == "sync":
        for path in available.values():
            if drift(path) is not None:  # rewriting an in-sync pair would only churn its cell ids
                print(f"wrote {sync(path).relative_to(project_root())}")
        return 0
    if args.command == "check":
        problems = [p for p in map(drift, available.values()) if p]
        print("\n".join(problems) if problems else f"{len(available)} notebook pairs in sync")
        return 1 if problems else 0
    if args.command == "check-figures":
        try:
            problems = [
                p
                for name in select(args.names, available)
                for p in check_figures(name, args.out_dir, data_dir=args.data_dir, progress=True)
            ]
        except NotebookError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        print("\n".join(problems) if problems else "every figure matches the committed one")
        return 1 if problems else 0
    recompute = "never" if args.stored_only else args.recompute
    try:
        outputs = run_all(
            args.names,
            scale=args.scale,
            seed=args.seed,
            recompute=recompute,
            data_dir=args.data_dir,
            figures_dir=args.figures_dir,
            build_dir=args.build_dir,
            progress=not args.no_progress,
        )
    except NotebookError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except ValueError as err:  # a bad notebook name or scale
        print(f"error: {err}", file=sys.stderr)
        return 2
    print("\n".join(f"ran {p}" for p in outputs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
