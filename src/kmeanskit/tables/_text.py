"""Delimited text tables (.csv, .tsv, .txt, .dat) with the csv module and numpy.

The delimiter is sniffed from the first lines (comma, tab, semicolon or runs of
blanks) unless given; whether the first row is a header is decided by
:func:`looks_like_header` unless given.

The file must be UTF-8 (a BOM is allowed) with no NUL byte anywhere; anything else is
refused with the position of the first offending byte. Header names are kept as text,
stripped of surrounding blanks; a blank one becomes ``x<index>`` and is marked unnamed
(see :func:`kmeanskit.tables.read_table` for what that means).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ._common import MISSING_TOKENS, RawTable, TableError, check_width, name_columns, parse_numbers

__all__ = ["WHITESPACE", "looks_like_header", "read_text"]

#: the ``sep`` that splits fields on runs of spaces and tabs (as ``str.split()``)
WHITESPACE = "whitespace"
_SEP_ALIASES = {WHITESPACE: WHITESPACE, r"\s+": WHITESPACE, " ": WHITESPACE, "\\t": "\t"}
#: the delimiters tried when sniffing, in order of preference for each suffix
_PREFERENCE = {
    ".csv": (",", ";", "\t", WHITESPACE),
    ".tsv": ("\t", ",", ";", WHITESPACE),
}
_DEFAULT_PREFERENCE = (WHITESPACE, "\t", ",", ";")
_SNIFF_LINES = 50
_HEADER_PROBE_ROWS = 100


def _split(lines, sep: str):
    """Yield ``(line number, fields)`` for every non-blank row (1-based file lines)."""
    if sep == WHITESPACE:
        for number, line in enumerate(lines, start=1):
            fields = line.split()
            if fields:
                yield number, fields
        return
    reader = csv.reader(lines, delimiter=sep)
    start = 1
    for fields in reader:
        if fields and not (len(fields) == 1 and not fields[0].strip()):
            yield start, fields
        start = reader.line_num + 1


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _sniff(sample: list[str], preference) -> str:
    """The delimiter that splits every line of the sample into the same number (> 1)
    of fields with the most numeric fields, or failing that the one that does so for
    most lines; ties go to the suffix's preference."""
    best, best_score = preference[0], None
    for rank, sep in enumerate(preference):
        try:
            rows = [fields for _, fields in _split(sample, sep)]
        except csv.Error:  # a field past csv's limit (128 KiB) when split wrongly
            continue
        widths = [len(fields) for fields in rows]
        width = max(set(widths), key=widths.count, default=1)
        if width == 1:
            continue
        agree = widths.count(width)
        numeric = sum(_is_number(cell) for fields in rows for cell in fields)
        score = (agree == len(widths), agree, numeric, width, -rank)
        if best_score is None or score > best_score:
            best, best_score = sep, score
    return best


def looks_like_header(first: list[str], below: list[list[str]]) -> bool:
    """Whether the first row of a table is a header.

    It is when every field of it is a non-number (a row of names), or when one of its
    non-number fields sits above a column that is numeric in the rows below (numbers or
    missing values, at least one number). A row of numbers is never a header; a text
    field above a text column (a headerless id column) is not evidence of one. With no
    rows below, any non-number makes it a header.

    Examples
    --------
    >>> looks_like_header(["name", "x", "y"], [["ann", "1", "2"]])
    True
    >>> looks_like_header(["ann", "1", "2"], [["bob", "3", "4"]])
    False
    >>> looks_like_header(["157138", "565993"], [["139601", "914203"]])
    False
    """
    text = [j for j, cell in enumerate(first) if not _is_number(cell)]
    named = [j for j in text if first[j].strip().lower() not in MISSING_TOKENS]
    if not named:
        return False
    if not below or len(named) == len(first):
        return True
    for j in named:
        cells = [fields[j] for fields in below if j < len(fields)]
        values, bad = parse_numbers(cells)
        if bad is None and (values == values).any():
            return True
    return False


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise TableError(f"{path} is not a text table (encoding: UTF-16; save it as UTF-8)")
    zero = data.find(b"\x00")
    if zero >= 0:
        raise TableError(f"{path} is not a text table (it holds binary data: byte {zero} is NUL)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        raise TableError(
            f"{path} is not a text table (encoding: byte 0x{bad} at position {exc.start} "
            "is not UTF-8; save it as UTF-8)"
        ) from None


def _check_sep(sep):
    if sep is None:
        return None
    sep = _SEP_ALIASES.get(sep, sep)
    if not isinstance(sep, str) or (sep != WHITESPACE and len(sep) != 1):
        raise ValueError(f"sep={sep!r} should be None, one character or 'whitespace'")
    return sep


def read_text(path: Path, *, sep=None, header="auto") -> RawTable:
    """Read a delimited text file into a :class:`RawTable` of string columns."""
    sep = _check_sep(sep)
    text = _decode(path)
    if not text.strip():
        raise TableError(f"{path} is empty")
    if sep is None:
        sample = io.StringIO(text, newline="").readlines()[: _SNIFF_LINES * 4]
        sample = [line for line in sample if line.strip()][:_SNIFF_LINES]
        sep = _sniff(sample, _PREFERENCE.get(path.suffix.lower(), _DEFAULT_PREFERENCE))
    try:
        rows = list(_split(io.StringIO(text, newline=""), sep))
    except csv.Error as exc:
        raise TableError(f"{path} is not a readable table ({exc})") from None
    if not rows:
        raise TableError(f"{path} is empty")
    if header == "auto":
        probe = [fields for _, fields in rows[1 : 1 + _HEADER_PROBE_ROWS]]
        header = looks_like_header(rows[0][1], probe)
    names = None
    if header:
        names = [name.strip() for name in rows[0][1]]
        rows = rows[1:]
        if not rows:
            raise TableError(f"{path} has a header but no data rows")
    width = len(names) if names is not None else len(rows[0][1])
    check_width(path, width)
    for number, fields in rows:
        if len(fields) != width:
            against = "the header has" if names is not None else f"line {rows[0][0]} has"
            raise TableError(f"{path}: line {number} has {len(fields)} fields; {against} {width}")
    columns = [list(column) for column in zip(*(fields for _, fields in rows), strict=True)]
    given = names is not None
    names = names or [""] * width
    # a trailing delimiter on every line makes an empty, nameless last column: not data
    if width > 1 and not names[-1] and not any(cell.strip() for cell in columns[-1]):
        columns.pop()
        names.pop()
    names, unnamed = name_columns(names)
    lines = [number for number, _ in rows]
    return RawTable(
        source=str(path),
        names=names,
        n_rows=len(rows),
        column=columns.__getitem__,
        where=lambda i: f"line {lines[i]}",
        unnamed=unnamed if given else frozenset(),
    )
