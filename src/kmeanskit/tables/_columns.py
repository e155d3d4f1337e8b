"""Choosing the feature and id columns of a table, and parsing the features."""

from __future__ import annotations

import numpy as np

from ._common import RawTable, TableError, column_label, parse_numbers, show

__all__ = ["choose", "parse_features"]

_CHOOSE_HINT = "choose columns with columns=... or name it with id_column=..."


def _as_list(columns) -> list:
    if columns is None:
        return []
    if isinstance(columns, str):
        return [token.strip() for token in columns.split(",") if token.strip()]
    if isinstance(columns, int | np.integer):
        return [int(columns)]
    return list(columns)


def _resolve(raw: RawTable, key) -> int:
    """The index of a column given by name or 0-based index (a name wins over a
    string of digits that is also a column name)."""
    names, width, source = raw.names, len(raw.names), raw.source
    if isinstance(key, str):
        matches = [j for j, name in enumerate(names) if name == key]
        if len(matches) > 1:
            raise TableError(
                f"{source}: column name {show(key)} is ambiguous (columns {_listed(matches)}); "
                "choose it by index"
            )
        if matches:
            return matches[0]
        if not (key.isascii() and key.isdigit()):  # int() of '²' fails
            listed = ", ".join(show(name)[1:-1] for name in names[:20])
            listed += ", ..." if width > 20 else ""
            raise TableError(f"{source}: no column {show(key)}; the columns are {listed}")
        key = int(key)
    if isinstance(key, bool) or not isinstance(key, int | np.integer):
        raise TypeError(f"a column should be a name or an index, got {key!r}")
    if not 0 <= key < width:
        raise TableError(
            f"{source}: column index {key} is out of range; the table has {width} "
            f"column{'s' * (width != 1)} (0-{width - 1})"
        )
    return int(key)


def _listed(indices: list[int]) -> str:
    text = ", ".join(str(j) for j in indices[:-1]) + f" and {indices[-1]}"
    return text if len(text) <= 80 else text[:77] + "..."


def _check_names(raw: RawTable, chosen: list[int], ident, implicit: bool) -> None:
    """A nameless header column is a feature only when chosen, and no two columns
    used (features and the id column) may share a name."""
    if implicit:
        for j in chosen:
            if j in raw.unnamed:
                raise TableError(
                    f"{raw.source}: column {j} has no name in the header; choose the "
                    f"features with columns=... (it is '{raw.names[j]}' or {j}) or name "
                    f"it with id_column={j}"
                )
    by_name: dict[str, list[int]] = {}
    for j in sorted(chosen if ident is None else [*chosen, ident]):
        by_name.setdefault(raw.names[j], []).append(j)
    for name, indices in by_name.items():
        if len(indices) > 1:
            raise TableError(
                f"{raw.source}: column name {show(name)} is used by columns "
                f"{_listed(indices)}; rename them in the file, or choose one of them "
                "by index with columns=... or id_column=..."
            )


def choose(raw: RawTable, columns, id_column) -> tuple[list[int], int | None]:
    """The feature columns and the id column (indices), checked: each used once, none
    both, none nameless unless chosen, no two of the same name."""
    ident = None if id_column is None else _resolve(raw, id_column)
    chosen = [_resolve(raw, key) for key in _as_list(columns)]
    implicit = columns is None or not chosen
    if implicit:
        chosen = [j for j in range(len(raw.names)) if j != ident]
    seen = set()
    for j in chosen:
        if j == ident:
            raise TableError(
                f"{raw.source}: column {column_label(raw.names, j)} cannot be both "
                "the id column and a feature"
            )
        if j in seen:
            raise TableError(f"{raw.source}: column {column_label(raw.names, j)} is chosen twice")
        seen.add(j)
    if not chosen:
        raise TableError(f"{raw.source}: no feature columns are left besides the id column")
    _check_names(raw, chosen, ident, implicit)
    return chosen, ident


def parse_features(raw: RawTable, chosen: list[int]) -> np.ndarray:
    """The chosen columns as float64, missing values NaN; a column of text (or of a
    type ``raw.refuse`` names) is refused with the first offending cell."""
    X = np.empty((raw.n_rows, len(chosen)), dtype=np.float64)
    for k, j in sorted(enumerate(chosen), key=lambda item: item[1]):  # in file order
        reason = None if raw.refuse is None else raw.refuse(j)
        if reason is not None:
            raise TableError(
                f"{raw.source}: column {column_label(raw.names, j)} is not numeric: "
                f"{reason}; {_CHOOSE_HINT}"
            )
        cells = raw.column(j)
        values, bad = parse_numbers(cells)
        if bad is not None:
            raise TableError(
                f"{raw.source}: column {column_label(raw.names, j)} is not numeric: "
                f"{raw.where(bad)} has {show(cells[bad])}; {_CHOOSE_HINT}"
            )
        X[:, k] = values
    return X
