"""The library's exceptions: every error kmeanskit raises on purpose derives from
:class:`KmeanskitError` (and from the built-in class that says what kind of error it is,
``ValueError``, ``FileExistsError``..., so ``except ValueError`` keeps working).

A leaf: imports nothing from kmeanskit.

Examples
--------
>>> issubclass(InputError, KmeanskitError) and issubclass(InputError, ValueError)
True
"""

from __future__ import annotations

__all__ = [
    "InputError",
    "KmeanskitError",
    "NotARunFolderError",
    "OutputExistsError",
    "RunFolderError",
]


class KmeanskitError(Exception):
    """The base of kmeanskit's own errors. Messages name the Python parameter and the
    value received (``out='runs/a'``); the command line shows its flags instead
    (``--out``)."""


class InputError(KmeanskitError, ValueError):
    """A parameter or an input file holds a value kmeanskit cannot use."""


class OutputExistsError(KmeanskitError, FileExistsError):
    """An output is already there and ``force`` was not given."""


class RunFolderError(KmeanskitError, ValueError):
    """A run folder (``summary.json`` and the files it names) is missing, damaged or
    not kmeanskit's: everything read back from one is untrusted input."""


class NotARunFolderError(KmeanskitError, FileNotFoundError):
    """A path given as a run folder holds no ``summary.json``."""
