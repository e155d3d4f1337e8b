"""The image model's file without pickle: ``model.kmk``.

An :class:`~kmeanskit.images.pipeline.ImageModel` is saved in the format of
:mod:`kmeanskit.model_io` (a zip of numpy arrays and ``model.json``) with kind
``"ImageModel"``; its ``params`` describe each part:

- ``features``: the feature name (a key of ``pipeline.FEATURES``);
- ``spec``: the image size, mode and fit (:class:`~kmeanskit.images.io.ImageSpec`);
- ``extractor``: ``{"kind": <class name>, "params": {...}}``, a registered extractor
  (:mod:`.extractors`: ``Pixels``, ``HOG``, ``ColorHistogram``, ``CNNEmbedding``...) and
  its parameters, written by its ``to_file_params`` and read back by its
  ``from_file_params``, checked against its ``param_schema`` (stateless: the CNN's
  weights come from the installed package, or from the user's ONNX file, whose absolute
  path is stored, not its contents); an extractor that is not registered is refused;
- ``reducer``: the ``'svd'`` features' PCA (its arrays: ``reducer.components_``,
  ``reducer.mean_``...), or null;
- ``kmeans``: the fitted :class:`~kmeanskit.KMeans` (``kmeans.cluster_centers_``...).

The ``umap``, ``cnn-umap`` and ``ae-umap`` features end in a UMAP fitted on all the
training rows, whose ``transform`` needs its neighbour graph, search index and numba
state (and, for ``ae-umap``, a PyTorch network): not plain arrays. Those models raise
:class:`~kmeanskit.model_io.UnsupportedModelError` here and are saved with joblib.
Loading checks every part and that the parts fit together (the extractor's row length
is what the PCA or k-means expects), so a file that loads also predicts.
"""

from __future__ import annotations

from pathlib import Path

from .. import _model_zip
from ..model_io import (
    ModelFileError,
    UnsupportedModelError,
    check_keys,
    describe,
    expected_shapes,
    rebuild,
)
from .extractors import EXTRACTORS
from .io import FITS, MODES, ImageSpec
from .pipeline import FEATURES, ImageModel

__all__ = ["KIND", "MODEL_FILE", "load_image_model", "save_image_model"]

MODEL_FILE = "model.kmk"
KIND = "ImageModel"
#: the longest image side a model file may ask for
MAX_SIDE = 16384


def save_image_model(model: ImageModel, path, *, overwrite: bool = False) -> Path:
    """Save ``model`` to a model file that loads without pickle (see the module's
    docstring); raises :class:`~kmeanskit.model_io.UnsupportedModelError` for the
    features ending in UMAP, and for an extractor that is not registered or whose
    parameters its ``param_schema`` does not allow.

    Examples
    --------
    See :func:`load_image_model`.
    """
    if model.embedder is not None:
        steps = ", ".join(name for name, _ in getattr(model.embedder, "steps", [("?", None)]))
        raise UnsupportedModelError(
            f"the {model.features!r} features end in fitted steps ({steps}) whose transform "
            "needs a neighbour graph and search index, not plain arrays: this model cannot "
            "be saved without pickle (use joblib)"
        )
    cls = type(model.extractor)
    kind = cls.__name__
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or EXTRACTORS.get(name) is not cls:
        raise UnsupportedModelError(
            f"the extractor {kind} is not registered (kmeanskit.images.extractors.register):"
            " a model file could not rebuild it"
        )
    recipe = FEATURES.get(model.features) if isinstance(model.features, str) else None
    pca = model.reducer is not None
    if (
        recipe is None
        or recipe.extractor != name
        or recipe.pca != pca
        or recipe.umap
        or recipe.autoencoder
    ):
        raise UnsupportedModelError(
            f"the features {model.features!r:.80} are not a recipe of FEATURES made of the "
            f"{name!r} extractor{' and a PCA' if pca else ''} alone: a model file could not "
            "rebuild them"
        )
    extractor = model.extractor.to_file_params()
    arrays = {}
    reducer = None
    if model.reducer is not None:
        reducer, arrays = describe(model.reducer, "reducer.")
    kmeans, km_arrays = describe(model.kmeans, "kmeans.")
    params = {
        "features": model.features,
        "spec": {"size": list(model.spec.size), "mode": model.spec.mode, "fit": model.spec.fit},
        "extractor": {"kind": kind, "params": extractor},
        "reducer": reducer,
        "kmeans": kmeans,
    }
    return _model_zip.write(path, KIND, params, {}, {**arrays, **km_arrays}, overwrite=overwrite)


def load_image_model(path) -> ImageModel:
    """The :class:`~kmeanskit.images.pipeline.ImageModel` of a file written by
    :func:`save_image_model`; never executes code from the file. A file that is not a
    model file, damaged, altered or from a newer kmeanskit raises
    :class:`~kmeanskit.model_io.ModelFileError` naming the file and the fault.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> from kmeanskit.images import cluster_images
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for i in range(6):
    ...     Image.new("L", (16, 16), 0 if i < 3 else 255).save(d / f"{i}.png")
    >>> result = cluster_images(d, k=2, features="svd", size=8, n_components=2)
    >>> path = save_image_model(result.model, d / "model.kmk")
    >>> model = load_image_model(path)
    >>> int(model.predict([d / "5.png"])[0][0]) == int(result.labels[5])
    True
    """
    where = f"model file {str(path)!r}"
    header, arrays = _model_zip.read(path, expect=_expected_shapes)
    if header["kind"] != KIND:
        raise ModelFileError(
            f"{where}: holds a {header['kind']!r:.80}, not an image model "
            "(use kmeanskit.load_model)"
        )
    params = check_keys(
        header["params"],
        ("features", "spec", "extractor", "reducer", "kmeans"),
        (),
        "params",
        where,
    )
    features = params["features"]
    recipe = FEATURES.get(features) if isinstance(features, str) else None
    if recipe is None or recipe.umap or recipe.autoencoder:
        saved = [n for n, r in FEATURES.items() if not (r.umap or r.autoencoder)]
        raise ModelFileError(
            f"{where}: features {features!r:.80} cannot be in a model file; "
            f"expected one of {', '.join(saved)}"
        )
    spec = _spec(params["spec"], where)
    cls = EXTRACTORS.get(recipe.extractor)
    if cls is None:
        raise ModelFileError(
            f"{where}: the {features!r} features' extractor {recipe.extractor!r} is not registered"
        )
    extractor = _extractor(params["extractor"], cls, where)
    used: set = set()
    reducer = None
    if recipe.pca != (params["reducer"] is not None):
        raise ModelFileError(
            f"{where}: the {features!r} features "
            f"{'need a' if recipe.pca else 'take no'} PCA reducer"
        )
    if recipe.pca:
        reducer = rebuild(params["reducer"], arrays, "reducer.", where, used, kinds=("PCA",))
    kmeans = rebuild(params["kmeans"], arrays, "kmeans.", where, used, kinds=("KMeans",))
    if set(arrays) - used:
        raise ModelFileError(f"{where}: unexpected arrays {sorted(set(arrays) - used)}")
    width = _width(extractor, spec, where)
    for part in (reducer, kmeans):
        if part is None:
            continue
        if width is not None and part.n_features_in_ != width:
            raise ModelFileError(
                f"{where}: the {type(part).__name__} expects rows of {part.n_features_in_} "
                f"features; the step before it gives {width}"
            )
        width = getattr(part, "n_components_", None)
    return ImageModel(spec, features, extractor, reducer, kmeans)


def _expected_shapes(header: dict) -> dict:
    """The shapes of the PCA's and the k-means' arrays as ``model.json`` declares them
    (:func:`kmeanskit.model_io.expected_shapes`), checked before the arrays are read."""
    params = header["params"] if isinstance(header.get("params"), dict) else {}
    return {
        **expected_shapes(params.get("reducer"), "reducer."),
        **expected_shapes(params.get("kmeans"), "kmeans."),
    }


def _spec(spec, where: str) -> ImageSpec:
    check_keys(spec, ("size", "mode", "fit"), (), "spec", where)
    size = spec["size"]
    if not (
        isinstance(size, list)
        and len(size) == 2
        and all(type(v) is int and 1 <= v <= MAX_SIDE for v in size)
    ):
        raise ModelFileError(
            f"{where}: spec size should be [width, height] of ints from 1 "
            f"to {MAX_SIDE}; got {size!r:.60}"
        )
    if spec["mode"] not in MODES or spec["fit"] not in FITS:
        raise ModelFileError(
            f"{where}: spec mode should be one of {MODES} and fit one of "
            f"{FITS}; got {spec['mode']!r:.30}, {spec['fit']!r:.30}"
        )
    return ImageSpec(tuple(size), spec["mode"], spec["fit"])


def _extractor(desc, cls, where: str):
    """The extractor of the file's ``extractor`` entry, of the registered class ``cls``."""
    check_keys(desc, ("kind", "params"), (), "extractor", where)
    if desc["kind"] != cls.__name__:
        raise ModelFileError(
            f"{where}: extractor should be {cls.__name__}; got {desc['kind']!r:.60}"
        )
    return cls.from_file_params(desc["params"], where)


def _width(extractor, spec: ImageSpec, where: str) -> int | None:
    """The length of the extractor's rows for images of ``spec`` (None: known only by
    running it, as the CNN's)."""
    try:
        return extractor.width(spec)
    except ValueError as exc:  # as HOG's for images smaller than a block
        raise ModelFileError(f"{where}: {exc}") from None
