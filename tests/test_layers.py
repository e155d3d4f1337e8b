"""The package's shape: import direction, and nothing heavy at import time."""

import ast
import subprocess
import sys
from pathlib import Path

import kmeanskit

PACKAGE = Path(kmeanskit.__file__).parent


def _imports(path: Path) -> set[str]:
    """Absolute module names imported by a file (relative imports resolved)."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = parts if path.name == "__init__.py" else parts[:-1]
    if path.name == "__init__.py":
        package = parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ((node.module,) if node.module else ()))
                found.add(module)
                if not node.module:
                    found.update(f"{module}.{alias.name}" for alias in node.names)
            else:
                found.add(node.module)
    return found


def test_engine_knows_nothing_above_it():
    for path in (PACKAGE / "_engine").rglob("*.py"):
        for name in _imports(path):
            assert not name.startswith("sklearn"), f"{path.name} imports {name}"
            if name.startswith("kmeanskit"):
                assert name.startswith("kmeanskit._engine"), f"{path.name} imports {name}"


def test_estimators_do_not_reach_into_later_layers():
    forbidden = ("kmeanskit.cli", "kmeanskit.images", "kmeanskit.report", "kmeanskit.pipeline")
    for path in (PACKAGE / "estimators").rglob("*.py"):
        for name in _imports(path):
            assert not name.startswith(forbidden), f"{path.name} imports {name}"


def test_tables_stand_alone():
    # kmeanskit.tables reads files and scales columns for every layer above it (the CLI,
    # the report, model files): it imports nothing else from kmeanskit, and no
    # scikit-learn; pandas only inside the Parquet reader (the tables extra)
    for path in (PACKAGE / "tables").rglob("*.py"):
        for name in _imports(path):
            assert not name.startswith("sklearn"), f"{path.name} imports {name}"
            if name.startswith("kmeanskit"):
                assert name.startswith("kmeanskit.tables"), f"{path.name} imports {name}"
    assert "import pandas" not in (PACKAGE / "tables" / "__init__.py").read_text()


def test_no_file_is_too_long():
    for path in PACKAGE.rglob("*.py"):
        assert len(path.read_text().splitlines()) <= 600, path


def test_import_loads_nothing_heavy():
    # pandas is not in the list: scikit-learn itself imports it whenever it is installed
    code = (
        "import sys, kmeanskit; "
        "heavy = {'PIL', 'dask', 'torch', 'matplotlib', 'jinja2', 'umap'}; "
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
