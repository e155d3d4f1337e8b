"""The image model's file without pickle: ``model.kmk``.

An :class:`~kmeanskit.images.pipeline.ImageModel` is saved in the format of
:mod:`kmeanskit.model_io` (a zip of numpy arrays and ``model.json``) with kind
``"ImageModel"``; its ``params`` describe each part:

- ``features``: the feature name (a key of ``pipeline.FEATURES``);
- ``spec``: the image size, mode and fit (:class:`~kmeanskit.images.io.ImageSpec`);
- ``extractor``: ``Pixels``, ``HOG``, ``ColorHistogram`` or ``CNNEmbedding`` and its
  parameters (stateless: the CNN's weights come from the installed package, or from
  the user's ONNX file, whose absolute path is stored, not its contents);
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

import math
from pathlib import Path

from .. import _model_zip
from ..model_io import ModelFileError, UnsupportedModelError, check_keys, describe, rebuild
from .cnn import CNNEmbedding
from .features import HOG, ColorHistogram, Pixels
from .io import FITS, MODES, ImageSpec
from .pipeline import FEATURES, ImageModel

__all__ = ["KIND", "MODEL_FILE", "load_image_model", "save_image_model"]

MODEL_FILE = "model.kmk"
KIND = "ImageModel"
#: the longest image side a model file may ask for
MAX_SIDE = 16384

# name -> {parameter: (type, low, high)}; for CNNEmbedding the checks are in _extractor
_EXTRACTORS = {
    "Pixels": {},
    "HOG": {"orientations": (int, 1, 360), "pixels_per_cell": (int, 1, MAX_SIDE),
            "cells_per_block": (int, 1, 64)},
    "ColorHistogram": {"bins": (int, 1, 64)},
    "CNNEmbedding": {"onnx_path": (str, 1, 4096), "input_range": (list, 2, 2),
                     "batch_size": (int, 1, 65536), "runtime": (str, 0, 8)},
}  # fmt: skip
_CLASSES = {"Pixels": Pixels, "HOG": HOG, "ColorHistogram": ColorHistogram,
            "CNNEmbedding": CNNEmbedding}  # fmt: skip
#: the extractor of each recipe
_RECIPE = {"pixels": "Pixels", "hog": "HOG", "color": "ColorHistogram", "cnn": "CNNEmbedding"}


def save_image_model(model: ImageModel, path, *, overwrite: bool = False) -> Path:
    """Save ``model`` to a model file that loads without pickle (see the module's
    docstring); raises :class:`~kmeanskit.model_io.UnsupportedModelError` for the
    features ending in UMAP.

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
    kind = type(model.extractor).__name__
    if _CLASSES.get(kind) is not type(model.extractor):
        raise UnsupportedModelError(f"the extractor {kind} cannot be saved without pickle")
    extractor = model.extractor.get_params(deep=False)
    if kind == "CNNEmbedding":
        path_ = extractor["onnx_path"]
        extractor["onnx_path"] = None if path_ is None else str(Path(path_).resolve())
        extractor["input_range"] = [float(v) for v in extractor["input_range"]]
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
    return _model_zip.write(path, KIND, params, {}, {**arrays, **km_arrays},
                            overwrite=overwrite)  # fmt: skip


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
    header, arrays = _model_zip.read(path)
    if header["kind"] != KIND:
        raise ModelFileError(f"{where}: holds a {header['kind']!r:.80}, not an image model "
                             "(use kmeanskit.load_model)")  # fmt: skip
    params = check_keys(header["params"], ("features", "spec", "extractor", "reducer", "kmeans"),
                        (), "params", where)  # fmt: skip
    features = params["features"]
    recipe = FEATURES.get(features) if isinstance(features, str) else None
    if recipe is None or recipe.umap or recipe.autoencoder:
        raise ModelFileError(f"{where}: features {features!r:.80} cannot be in a model file; "
                             f"expected one of pixels, svd, hog, color, cnn")  # fmt: skip
    spec = _spec(params["spec"], where)
    extractor = _extractor(params["extractor"], _RECIPE[recipe.extractor], where)
    used: set = set()
    reducer = None
    if recipe.pca != (params["reducer"] is not None):
        raise ModelFileError(f"{where}: the {features!r} features "
                             f"{'need a' if recipe.pca else 'take no'} PCA reducer")  # fmt: skip
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


def _spec(spec, where: str) -> ImageSpec:
    check_keys(spec, ("size", "mode", "fit"), (), "spec", where)
    size = spec["size"]
    if not (isinstance(size, list) and len(size) == 2
            and all(type(v) is int and 1 <= v <= MAX_SIDE for v in size)):  # fmt: skip
        raise ModelFileError(f"{where}: spec size should be [width, height] of ints from 1 "
                             f"to {MAX_SIDE}; got {size!r:.60}")  # fmt: skip
    if spec["mode"] not in MODES or spec["fit"] not in FITS:
        raise ModelFileError(f"{where}: spec mode should be one of {MODES} and fit one of "
                             f"{FITS}; got {spec['mode']!r:.30}, {spec['fit']!r:.30}")  # fmt: skip
    return ImageSpec(tuple(size), spec["mode"], spec["fit"])


def _extractor(desc, expected: str, where: str):
    check_keys(desc, ("kind", "params"), (), "extractor", where)
    if desc["kind"] != expected:
        raise ModelFileError(f"{where}: extractor should be {expected}; got {desc['kind']!r:.60}")
    table = _EXTRACTORS[expected]
    params = check_keys(desc["params"], table, (), f"{expected} params", where)
    for name, (kind, low, high) in table.items():
        value = params[name]
        if name == "onnx_path" and value is None:
            continue
        size = value if kind is int else len(value) if isinstance(value, kind) else None
        if type(value) is not kind or not low <= size <= high:
            raise ModelFileError(f"{where}: {expected} parameter {name}={value!r:.60} is out "
                                 "of range")  # fmt: skip
    if expected != "CNNEmbedding":
        return _CLASSES[expected](**params)
    low_high = params["input_range"]
    if not (all(type(v) in (int, float) and math.isfinite(v) for v in low_high)
            and low_high[0] < low_high[1] and params["runtime"] in ("auto", "onnx", "torch")):
        raise ModelFileError(f"{where}: CNNEmbedding input_range {low_high!r:.60} or runtime "
                             f"{params['runtime']!r:.20} is invalid")  # fmt: skip
    return CNNEmbedding(**{**params, "input_range": tuple(float(v) for v in low_high)})


def _width(extractor, spec: ImageSpec, where: str) -> int | None:
    """The length of the extractor's rows for images of ``spec`` (None: the CNN's, known
    only by running it)."""
    w, h = spec.size
    channels = 3 if spec.mode == "rgb" else 1
    if isinstance(extractor, Pixels):
        return w * h * channels
    if isinstance(extractor, ColorHistogram):
        return extractor.bins ** (3 if channels == 3 else 1)
    if isinstance(extractor, HOG):
        cell, block = extractor.pixels_per_cell, extractor.cells_per_block
        rows, cols = h // cell - block + 1, w // cell - block + 1
        if rows < 1 or cols < 1:
            raise ModelFileError(f"{where}: images of {w} x {h} are too small for its HOG")
        return rows * cols * block * block * extractor.orientations
    return None
