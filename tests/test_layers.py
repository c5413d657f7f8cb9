"""The package's layers import one way: a module imports only from its own layer or below."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lib" / "l2o4rl"
# Bottom to top, as the README's layout table lists them.
LAYERS = [
    ("config", "runtime", "initializers"),
    ("envs",),
    ("agents",),
    ("optim",),
    ("tasks",),
    ("analysis",),
    ("evaluation",),
    ("meta",),
    ("repro",),
    ("experiments",),
]
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}
# The CLIs load the experiments at call time: the notebook runner to learn which figures a
# notebook promises, the audit to recompute any stored result.
ALLOWED = {"repro/notebooks.py": {"experiments"}, "repro/audit.py": {"experiments"}}


def imported_layers(source: str, package: tuple[str, ...]) -> set[str]:
    """The top-level l2o4rl modules or packages that ``source``, a module in ``package`` (its
    path below l2o4rl/), imports, relatively or absolutely, anywhere in the module."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(package[: len(package) - (node.level - 1)])
            parts = base + (node.module.split(".") if node.module else [])
            found.update([parts[0]] if parts else [alias.name for alias in node.names])
        elif isinstance(node, ast.ImportFrom) and node.module == "l2o4rl":
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("l2o4rl."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("l2o4rl."))
    return found & set(LEVEL)


def test_every_module_is_in_a_layer():
    top = {p.name.removesuffix(".py") for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    assert top - {"__init__"} == set(LEVEL), "a new top-level module needs its place in LAYERS and the README"


def test_every_module_imports_only_its_layer_or_below():
    modules = [p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0].removesuffix(".py") in LEVEL]
    assert len(modules) > 40
    upward = []
    for path in modules:
        own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        name = str(path.relative_to(PACKAGE))
        for layer in imported_layers(path.read_text(), path.relative_to(PACKAGE).parent.parts):
            if LEVEL[layer] > LEVEL[own] and layer not in ALLOWED.get(name, ()):
                upward.append(f"{name} imports {layer}")
    assert not upward, upward


def test_the_check_sees_an_upward_import():
    """The checker itself: an agent module importing a learned optimizer, relatively, absolutely
    or inside a function, is caught."""
    agent = (PACKAGE / "agents" / "ppo.py").read_text()
    assert "optim" not in imported_layers(agent, ("agents",))
    for line in (
        "from ..optim.open import OPEN",
        "from l2o4rl.optim import open",
        "from l2o4rl import optim",
        "import l2o4rl.optim.open",
        "def f():\n    from .. import optim",
    ):
        assert "optim" in imported_layers(agent + "\n" + line + "\n", ("agents",)), line
