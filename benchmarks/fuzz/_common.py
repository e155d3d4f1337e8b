"""What both harnesses share: instrumenting chosen modules after they are imported."""

from __future__ import annotations

import gc
import sys

import atheris


def instrument_modules(prefixes: tuple[str, ...], exclude: tuple[str, ...] = ()) -> int:
    """Add atheris' coverage instrumentation to every Python function of the modules
    named by ``prefixes`` (already imported), except those under ``exclude``; returns
    how many. ``atheris.instrument_imports`` sees only modules imported inside it, and
    ``kmeanskit._engine`` must stay out: numba cannot compile instrumented bytecode."""

    def wanted(module: str) -> bool:
        return module.startswith(prefixes) and not module.startswith(exclude)

    count = 0
    for obj in gc.get_objects():
        try:
            module = getattr(obj, "__module__", None)
            ok = isinstance(obj, type(instrument_modules)) and isinstance(module, str)
        except Exception:  # an object whose attributes raise is not ours
            continue
        if ok and wanted(module) and module in sys.modules:
            try:
                atheris.instrument_func(obj)
                count += 1
            except Exception as exc:  # some functions cannot be patched; say so, go on
                print(f"INFO: not instrumented {obj!r}: {exc}", file=sys.stderr)
    print(f"INFO: instrumented {count} functions of {', '.join(prefixes)}", file=sys.stderr)
    return count
