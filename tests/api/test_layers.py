"""The package's folders are layers: a module imports from its own layer and the layers below, never above.

Checked on the source (every relative import, at module level or inside a function), so that a
convenient ``from ..stats import ...`` inside a ``data/`` function cannot slip back in.
"""

import ast
from pathlib import Path

import immune_correlates

PACKAGE = Path(immune_correlates.__file__).resolve().parent

#: Bottom to top; modules at the package root (errors, _params, _missing, multiplicity, ...) are layer 0.
LAYERS = {
    "data": 1,
    "datasets": 1,
    "features": 2,
    "stats": 3,
    "design": 4,
    "estimators": 4,  # scikit-learn wrappers of the stats layer (loaded lazily as ic.estimators)
    "plots": 5,
    "report": 6,
    "cli": 7,
}

#: The families inside ``stats/``, bottom to top (see each subpackage's docstring). A module
#: directly in ``stats/`` (the facade) sits above them all.
STATS_FAMILIES = {
    "engine": 0,
    "regression": 1,
    "longitudinal": 2,
    "survival": 3,
    "groups": 4,
    "missing": 5,
    "screening": 6,
    "highdim": 7,
}

#: Deliberate exceptions, with the reason.
ALLOWED: set[tuple[str, str]] = set()


def _layer(module: str) -> tuple[int, int]:
    parts = module.split(".")
    top = LAYERS.get(parts[0], 0)
    if parts[0] != "stats":
        return (top, 0)
    if len(parts) == 1 or parts[1] not in STATS_FAMILIES:
        return (top, len(STATS_FAMILIES))
    return (top, STATS_FAMILIES[parts[1]])


def _upward_imports(package: Path = PACKAGE):
    found = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).with_suffix("").parts
        module = ".".join(parts)
        if module == "__init__":  # the facade re-exports every layer
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and node.level):
                continue
            base = list(parts[:-1])[: len(parts) - node.level]
            target = ".".join(base + ([node.module] if node.module else []))
            if _layer(target) > _layer(module) and (module, target) not in ALLOWED:
                found.append(f"{module} -> {target} (line {node.lineno})")
    return found


def test_no_module_imports_from_a_layer_above_it():
    assert _upward_imports() == []


def test_the_check_sees_an_upward_import(tmp_path):
    """The walk itself works: a data module importing stats inside a function is reported."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.py").write_text("def f():\n    from ..stats import screen\n")
    (tmp_path / "stats").mkdir()
    (tmp_path / "stats" / "y.py").write_text("from ..data import x\nfrom . import z\n")
    assert _upward_imports(tmp_path) == ["data.x -> stats (line 2)"]


def test_the_check_sees_an_upward_import_between_stats_families(tmp_path):
    """Inside stats/, the engine may not call a regression module (nor regression the screen)."""
    (tmp_path / "stats" / "engine").mkdir(parents=True)
    (tmp_path / "stats" / "engine" / "a.py").write_text("from ..regression import cox\nfrom . import b\n")
    (tmp_path / "stats" / "regression").mkdir()
    (tmp_path / "stats" / "regression" / "cox.py").write_text("from ..engine import a\n")
    assert _upward_imports(tmp_path) == ["stats.engine.a -> stats.regression (line 1)"]
