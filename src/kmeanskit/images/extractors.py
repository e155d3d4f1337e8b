"""The registry of image feature extractors: registry name -> class.

The feature recipes (``pipeline.FEATURES``) name their extractor by its registry name;
the pipeline builds it from here, and the model file (:mod:`.model_file`) saves and
loads every registered extractor, checks its parameters against its ``param_schema``
and the rows' length against its ``width``, and refuses one that is not registered.

Adding an extractor is one class and one line::

    class Edges(Extractor):             # kmeanskit.images.features.Extractor
        name = "edges"                  # its registry name
        param_schema = {"sigma": (float, 0.1, 10.0)}   # every __init__ parameter

        def __init__(self, sigma=1.0):
            self.sigma = sigma

        def width(self, spec):          # row length for an ImageSpec; None if unknown
            return 8

        def transform(self, X):         # images -> float32 rows
            ...

    register(Edges)

and, to offer it as ``features="edges"`` (and ``--features edges``), a recipe in
``pipeline.FEATURES``: ``"edges": Recipe("edges")``. In a model file an extractor is
``{"kind": <its class name>, "params": <to_file_params()>}``: renaming a registered
class makes the files written before unreadable.

This module imports :mod:`.cnn`, which imports neither onnxruntime nor PyTorch until
the CNN runs.
"""

from __future__ import annotations

from contextlib import contextmanager

from .cnn import CNNEmbedding
from .cnn_pixels import CNNPixels
from .features import HOG, SCHEMA_TYPES, ColorHistogram, Extractor, Pixels

__all__ = ["EXTRACTORS", "by_kind", "extractor_class", "register", "registered", "unregister"]

#: registry name -> extractor class
EXTRACTORS: dict[str, type[Extractor]] = {}


def _check_class(cls) -> None:
    """TypeError unless ``cls`` declares what the registry and the model file need."""
    if not (isinstance(cls, type) and issubclass(cls, Extractor)):
        raise TypeError(f"an extractor must be a subclass of Extractor; got {cls!r:.80}")
    what = f"extractor {cls.__name__}"
    if not (isinstance(cls.name, str) and cls.name):
        raise TypeError(f"{what} declares no registry name (class attribute name = '...')")
    if cls.width is Extractor.width:
        raise TypeError(f"{what} declares no width(spec) (None when known only by running it)")
    schema = cls.param_schema
    params = cls._get_param_names()
    if not isinstance(schema, dict) or set(schema) != set(params):
        raise TypeError(
            f"{what}: param_schema {schema!r:.80} should name every __init__ parameter, {params}"
        )
    for key, entry in schema.items():
        kinds = entry[0] if isinstance(entry, tuple) and len(entry) == 3 else ()
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        if not kinds or any(k not in SCHEMA_TYPES for k in kinds):
            raise TypeError(
                f"{what}: param_schema[{key!r}] should be (type, low, high), "
                f"the type(s) among {SCHEMA_TYPES}; got {entry!r:.80}"
            )


def register(*classes) -> dict:
    """Add extractor classes to :data:`EXTRACTORS` under their ``name``; returns it.

    TypeError for a class that does not declare ``name``, ``param_schema`` (every
    ``__init__`` parameter) and ``width``; ValueError for a name or class name (its kind
    in model files) that another registered class has.

    Examples
    --------
    >>> from kmeanskit.images.features import Pixels
    >>> class Flat(Pixels):
    ...     name = "flat"
    >>> register(Flat)["flat"] is Flat
    True
    >>> unregister(Flat)
    """
    for cls in classes:
        _check_class(cls)
        other = EXTRACTORS.get(cls.name)
        if other is not None and other is not cls:
            raise ValueError(f"the extractor name {cls.name!r} is taken by {other.__name__}")
        same = by_kind(cls.__name__)
        if same is not None and same is not cls:
            raise ValueError(
                f"another extractor class is named {cls.__name__} (registered as "
                f"{same.name!r}): model files name extractors by class"
            )
    for cls in classes:
        EXTRACTORS[cls.name] = cls
    return EXTRACTORS


def unregister(*classes) -> None:
    """Remove extractor classes from :data:`EXTRACTORS` (those not there are ignored).

    Examples
    --------
    See :func:`register`.
    """
    for cls in classes:
        if EXTRACTORS.get(getattr(cls, "name", None)) is cls:
            del EXTRACTORS[cls.name]


@contextmanager
def registered(*classes):
    """Register ``classes`` for the ``with`` block only (tests, experiments).

    Examples
    --------
    >>> from kmeanskit.images.features import Pixels
    >>> class Flat(Pixels):
    ...     name = "flat"
    >>> with registered(Flat):
    ...     extractor_class("flat").__name__
    'Flat'
    >>> "flat" in EXTRACTORS
    False
    """
    new = [cls for cls in classes if EXTRACTORS.get(getattr(cls, "name", None)) is not cls]
    register(*new)
    try:
        yield EXTRACTORS
    finally:
        unregister(*new)


def extractor_class(name: str) -> type[Extractor]:
    """The class registered as ``name``; ValueError naming the registered ones if none.

    Examples
    --------
    >>> extractor_class("hog").__name__
    'HOG'
    """
    try:
        return EXTRACTORS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"no extractor is registered as {name!r:.80}; registered: {sorted(EXTRACTORS)}"
        ) from None


def by_kind(kind: str) -> type[Extractor] | None:
    """The registered class whose model-file kind (class name) is ``kind``, or None.

    Examples
    --------
    >>> by_kind("ColorHistogram").name
    'color'
    """
    return next((cls for cls in EXTRACTORS.values() if cls.__name__ == kind), None)


register(Pixels, HOG, ColorHistogram, CNNEmbedding, CNNPixels)
