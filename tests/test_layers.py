"""The package's shape: import direction, and nothing heavy at import time."""

import ast
import subprocess
import sys
from pathlib import Path

import kmeanskit

PACKAGE = Path(kmeanskit.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if path.name == "__init__.py" else parts)


#: every module of the package, by name
MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path) -> set[str]:
    """Absolute module names imported by a file, anywhere in it (relative imports
    resolved; ``from P import name`` names the module ``P.name`` when there is one)."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ((node.module,) if node.module else ()))
            else:
                module = node.module
            subs = [f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in MODULES]
            found.update(subs)
            if len(subs) < len(node.names):
                found.add(module)
    return found


def _graph() -> dict[str, set[str]]:
    """Module -> the package's modules it makes Python run: what it imports, and the
    ``__init__`` of every package above those that is not above the importer itself
    (the top package's face is the entry point, run first in any case)."""
    graph = {}
    for name, path in MODULES.items():
        edges = set()
        for target in _imports(path):
            while target and target not in MODULES:  # a name inside a module
                target = target.rpartition(".")[0]
            if not target.startswith("kmeanskit") or target == name:
                continue
            edges.add(target)
            parent = target.rpartition(".")[0]
            while parent not in ("", "kmeanskit"):
                if not (name + ".").startswith(parent + "."):
                    edges.add(parent)
                parent = parent.rpartition(".")[0]
        graph[name] = edges - {name}
    return graph


#: the floors of the house, lowest first: a module imports only from its own floor and
#: the floors below (prefixes; the longest matching prefix decides)
FLOORS = [
    (
        "leaves",
        [
            "kmeanskit._version",
            "kmeanskit.errors",
            "kmeanskit._atomic",
            "kmeanskit._model_zip",
            "kmeanskit._imagefiles",
        ],
    ),
    ("engine", ["kmeanskit._engine"]),
    ("tables", ["kmeanskit.tables"]),
    (
        "model",
        [
            "kmeanskit.estimators",
            "kmeanskit.metrics",
            "kmeanskit.relabel",
            "kmeanskit.model_io",
            "kmeanskit.vq",
            "kmeanskit.kmeans_features",
            "kmeanskit.distributed",
        ],
    ),
    (
        "choosing k",
        [
            "kmeanskit.sweep",
            "kmeanskit._gap",
            "kmeanskit._k_progress",
            "kmeanskit.choose_k",
            "kmeanskit.search",
            "kmeanskit.plot",
            "kmeanskit.views",
        ],
    ),
    ("runs", ["kmeanskit.runs"]),
    ("images", ["kmeanskit.images"]),
    ("report", ["kmeanskit.report"]),
    ("review", ["kmeanskit.review"]),
    ("face", ["kmeanskit"]),
    (
        "command line",
        ["kmeanskit.cli", "kmeanskit._cli_images", "kmeanskit._cli_tables", "kmeanskit.__main__"],
    ),
]


def _floor(module: str) -> int:
    best, floor = -1, None
    for level, (_, prefixes) in enumerate(FLOORS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, floor = len(prefix), level
    assert floor is not None, f"{module} is on no floor of tests/test_layers.py"
    return floor


def test_no_import_cycle():
    graph = _graph()
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(node, stack):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


def test_no_import_goes_up_a_floor():
    upward = [
        f"{a} ({FLOORS[_floor(a)][0]}) imports {b} ({FLOORS[_floor(b)][0]})"
        for a, targets in sorted(_graph().items())
        for b in sorted(targets)
        if _floor(b) > _floor(a)
    ]
    assert not upward, "\n".join(upward)


def _imports_under(folder: str):
    for path in (PACKAGE / folder).rglob("*.py"):
        for name in _imports(path):
            yield path, name


def test_runs_know_no_images_report_or_command_line():
    forbidden = ("kmeanskit.images", "kmeanskit.report", "kmeanskit.cli", "kmeanskit._cli")
    for path, name in _imports_under("runs"):
        assert not name.startswith(forbidden), f"{path.name} imports {name}"


def test_report_knows_no_images_or_estimators():
    for path, name in _imports_under("report"):
        assert not name.startswith(("kmeanskit.images", "kmeanskit.estimators")), (
            f"{path.name} imports {name}"
        )


def test_images_know_no_report():
    for path, name in _imports_under("images"):
        assert not name.startswith("kmeanskit.report"), f"{path.name} imports {name}"


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
    # the report, model files): it imports nothing else from kmeanskit but the error
    # base, and no scikit-learn; pandas only inside the Parquet reader (the tables extra)
    for path in (PACKAGE / "tables").rglob("*.py"):
        for name in _imports(path):
            assert not name.startswith("sklearn"), f"{path.name} imports {name}"
            if name.startswith("kmeanskit"):
                assert name.startswith(("kmeanskit.tables", "kmeanskit.errors")), (
                    f"{path.name} imports {name}"
                )
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
