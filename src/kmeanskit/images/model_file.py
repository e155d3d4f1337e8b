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
- ``kmeans``: the fitted :class:`~kmeanskit.KMeans` (``kmeans.cluster_centers_``...);
- ``embedder`` (only in the files of the ``umap``, ``cnn-umap`` and ``ae-umap``
  features): the steps fitted on all the training rows, in order, each
  ``{"name", "kind", "params", "attributes"}``:

  - ``autoencoder``: an :class:`~kmeanskit.images.autoencoder.Autoencoder`, its layers'
    arrays ``embedder.autoencoder.weights.<i>`` ``(out, in)`` and
    ``embedder.autoencoder.biases.<i>`` ``(out,)`` (float32; at most
    :data:`MAX_LAYERS` hidden layers), run by numpy after loading;
  - ``umap``: a :class:`~kmeanskit.images.umap_embed.UMAPEmbedding`, its arrays
    ``embedder.umap.train_rows`` ``(n_train_, n_features_in_)`` and
    ``embedder.umap.embedding`` ``(n_train_, n_components_)`` (float32); umap-learn is
    not imported to load or use it.
- ``cluster_names`` and ``cluster_ids`` (only in the model of a run curated by
  ``kmeanskit review``, :func:`kmeanskit.images.export.load_model`): the name (1 to
  :data:`MAX_NAME` characters, no control characters) and the curated cluster id of
  each of the k-means' clusters.

Every array's shape is declared by ``model.json`` and checked before it is read; the
caps of :mod:`kmeanskit._model_zip` hold (an array of at most 2 GiB: the training rows
of about 400,000 images of 1280 CNN features; a model over the caps is refused when
saved, and the run writes ``model.joblib`` instead). Loading checks every part and that
the parts fit together (each step's row length is what the step before it gives), so a
file that loads also predicts. Files written before the ``embedder`` entry existed load
as they did; files with one are refused by the kmeanskit versions before it.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np

from .. import _model_zip
from .._model_zip import Array, check_array, scalar_ok
from ..model_io import (
    ModelFileError,
    UnsupportedModelError,
    check_keys,
    describe,
    expected_shapes,
    rebuild,
)
from .autoencoder import Autoencoder
from .extractors import EXTRACTORS
from .features import _plain, check_params
from .io import FITS, MODES, ImageSpec
from .pipeline import FEATURES, ImageModel
from .umap_embed import UMAPEmbedding

__all__ = ["KIND", "MAX_LAYERS", "MODEL_FILE", "STEPS", "load_image_model", "save_image_model"]

MODEL_FILE = "model.kmk"
KIND = "ImageModel"
#: the longest image side a model file may ask for
MAX_SIDE = 16384
#: the steps after the extractor (and the PCA) a recipe may have, in their order
STEPS = {"autoencoder": Autoencoder, "umap": UMAPEmbedding}
#: the most hidden layers of an autoencoder in a model file
MAX_LAYERS = 16
#: the longest cluster name (``cluster_names``, set by a curated run)
MAX_NAME = 100
#: the unicode categories a cluster name may not hold (control, format, lines)
_CONTROL = ("Cc", "Cf", "Cs", "Zl", "Zp")
_F4 = ("<f4",)
#: the fitted scalars of each step in a model file
_STEP_ATTRIBUTES = {
    "autoencoder": ("n_features_in_",),
    "umap": ("n_features_in_", "n_train_", "n_neighbors_", "n_components_"),
}


def save_image_model(model: ImageModel, path, *, overwrite: bool = False) -> Path:
    """Save ``model`` to a model file that loads without pickle (see the module's
    docstring); raises :class:`~kmeanskit.model_io.UnsupportedModelError` for a model
    that is not a recipe of ``FEATURES`` (an extractor that is not registered or whose
    parameters its ``param_schema`` does not allow, steps that are not the recipe's or
    not kmeanskit's classes) and for one over the caps of :mod:`kmeanskit._model_zip`.

    Examples
    --------
    See :func:`load_image_model`.
    """
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
    steps = _steps(model.embedder)
    names = [step for step, _ in steps]
    if recipe is None or recipe.extractor != name or recipe.pca != pca or names != _wants(recipe):
        then = ", ".join(f"{step} ({type(est).__name__})" for step, est in steps)
        raise UnsupportedModelError(
            f"the features {model.features!r:.80} are not a recipe of FEATURES made of the "
            f"{name!r} extractor{' and a PCA' if pca else ''}"
            f"{f' then the steps {then}' if steps else ' alone'}: a model file could not "
            "rebuild them (use joblib)"
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
    arrays.update(km_arrays)
    if steps:  # only then: the files of the other features stay those of before
        params["embedder"] = []
        for step, est in steps:
            desc, step_arrays = _describe_step(step, est, model.features)
            params["embedder"].append(desc)
            arrays.update(step_arrays)
    k = int(model.kmeans.n_clusters)
    for key in ("cluster_names", "cluster_ids"):  # only then: other files stay as before
        value = getattr(model, key, None)
        if value is not None:
            params[key] = _check_clusters(key, list(value), k, "the model", UnsupportedModelError)
    total = _check_caps(arrays)
    path = _model_zip.write(path, KIND, params, {}, arrays, overwrite=overwrite)
    if total > _model_zip.RATIO_FLOOR and total > _model_zip.MAX_RATIO * path.stat().st_size:
        path.unlink()  # its arrays compress so well that the reader would take it for a bomb
        raise UnsupportedModelError(
            f"the model's {total} bytes of arrays compress over {_model_zip.MAX_RATIO} "
            "times (identical images?): a model file would be refused when loaded (use joblib)"
        )
    return path


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
        ("embedder", "cluster_names", "cluster_ids"),
        "params",
        where,
    )
    features = params["features"]
    recipe = FEATURES.get(features) if isinstance(features, str) else None
    if recipe is None:
        raise ModelFileError(
            f"{where}: unknown features {features!r:.80}; expected one of {', '.join(FEATURES)}"
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
    steps = params.get("embedder")
    if steps is not None and not (isinstance(steps, list) and len(steps) <= len(STEPS)):
        raise ModelFileError(
            f"{where}: embedder should be a list of at most {len(STEPS)} steps; got {steps!r:.60}"
        )
    names = [desc.get("name") if isinstance(desc, dict) else desc for desc in steps or ()]
    if names != _wants(recipe):
        raise ModelFileError(
            f"{where}: the {features!r} features need the embedder steps {_wants(recipe)}; "
            f"got {names!r:.80}"
        )
    steps = [_rebuild_step(desc, arrays, where, used) for desc in steps or ()]
    kmeans = rebuild(params["kmeans"], arrays, "kmeans.", where, used, kinds=("KMeans",))
    if set(arrays) - used:
        raise ModelFileError(f"{where}: unexpected arrays {sorted(set(arrays) - used)}")
    width = _width(extractor, spec, where)
    for part in (reducer, *(est for _, est in steps), kmeans):
        if part is None:
            continue
        if width is not None and part.n_features_in_ != width:
            raise ModelFileError(
                f"{where}: the {type(part).__name__} expects rows of {part.n_features_in_} "
                f"features; the step before it gives {width}"
            )
        width = _out_width(part)
    embedder = None
    if steps:
        from sklearn.pipeline import Pipeline

        embedder = Pipeline(steps)
    names, ids = (
        None
        if params.get(key) is None
        else _check_clusters(key, params[key], kmeans.n_clusters, where, ModelFileError)
        for key in ("cluster_names", "cluster_ids")
    )
    return ImageModel(spec, features, extractor, reducer, kmeans, embedder, names, ids)


def _check_clusters(key: str, value, k: int, where: str, error) -> list:
    """``cluster_names`` (k texts of 1 to MAX_NAME characters, no control characters) or
    ``cluster_ids`` (k distinct ints from 0 to 2**31 - 1) of a model, checked."""
    if not isinstance(value, list) or len(value) != k:
        raise error(
            f"{where}: {key} should be a list of {k} entries (one per cluster); got {value!r:.80}"
        )
    for item in value:
        if key == "cluster_names":
            ok = (
                isinstance(item, str)
                and 1 <= len(item) <= MAX_NAME
                and not any(unicodedata.category(c) in _CONTROL for c in item)
            )
            what = f"a text of 1 to {MAX_NAME} characters without control characters"
        else:
            ok = type(item) is int and 0 <= item < 2**31
            what = "a cluster id (an int from 0 to 2**31 - 1)"
        if not ok:
            raise error(f"{where}: every entry of {key} should be {what}; got {item!r:.80}")
    if key == "cluster_ids" and len(set(value)) != k:
        raise error(f"{where}: cluster_ids should be distinct; got {value!r:.80}")
    return list(value)


def _wants(recipe) -> list[str]:
    """The names of the steps after the extractor (and the PCA) of a recipe."""
    return [name for name in STEPS if getattr(recipe, name)]


def _steps(embedder) -> list:
    """``[(name, step), ...]`` of an ImageModel's ``embedder`` (a Pipeline, or None)."""
    if embedder is None:
        return []
    steps = getattr(embedder, "steps", None)
    if not isinstance(steps, list):
        raise UnsupportedModelError(
            f"the embedder is a {type(embedder).__name__}, not a scikit-learn Pipeline: a "
            "model file could not rebuild it (use joblib)"
        )
    return [(str(name), est) for name, est in steps]


def _out_width(part) -> int | None:
    """The length of the rows a fitted part gives."""
    if isinstance(part, Autoencoder):
        return int(part.weights_[-1].shape[0])
    return getattr(part, "n_components_", None)


def _check_caps(arrays: dict) -> int:
    """The bytes of ``arrays``; UnsupportedModelError when the reader would refuse them
    (:mod:`kmeanskit._model_zip`'s caps on one array, all of them, the entries)."""
    sizes = {name: np.asarray(arr).nbytes for name, arr in arrays.items()}
    total = sum(sizes.values())
    largest = max(sizes, key=sizes.get)
    if (
        sizes[largest] > _model_zip.MAX_ARRAY_BYTES
        or total > _model_zip.MAX_TOTAL_BYTES
        or len(arrays) + 1 > _model_zip.MAX_ENTRIES
    ):
        raise UnsupportedModelError(
            f"the model's {len(arrays)} arrays ({total} bytes; {largest}: {sizes[largest]}) "
            f"are over a model file's limits (an array of {_model_zip.MAX_ARRAY_BYTES} bytes, "
            f"{_model_zip.MAX_TOTAL_BYTES} in all, {_model_zip.MAX_ENTRIES - 1} arrays): "
            "use joblib"
        )
    return total


def _describe_step(name: str, est, features: str) -> tuple[dict, dict]:
    """``(description, arrays)`` of a fitted step of the embedder."""
    cls = STEPS[name]
    if type(est) is not cls:
        raise UnsupportedModelError(
            f"the {features!r} features' {name} step is a {type(est).__name__}, not "
            f"kmeanskit's {cls.__name__}: a model file cannot hold it (use joblib)"
        )
    what = f"the {cls.__name__}"
    params = {k: _plain(v) for k, v in est.get_params(deep=False).items()}
    check_params(params, cls.param_schema, what, UnsupportedModelError)
    prefix = f"embedder.{name}."
    if not hasattr(est, "weights_" if name == "autoencoder" else "embedding_"):
        raise UnsupportedModelError(
            f"{what} is not fitted (or, pickled by an older kmeanskit, holds its encoder "
            "as a torch network only): a model file cannot hold it (use joblib)"
        )
    if name == "autoencoder":
        _check_autoencoder(params, UnsupportedModelError, what)
        arrays = {f"{prefix}weights.{i}": w for i, w in enumerate(est.weights_)}
        arrays.update({f"{prefix}biases.{i}": b for i, b in enumerate(est.biases_)})
        attributes = {"n_features_in_": int(est.n_features_in_)}
    else:
        arrays = {f"{prefix}train_rows": est.train_rows_, f"{prefix}embedding": est.embedding_}
        attributes = {
            "n_features_in_": int(est.n_features_in_),
            "n_train_": len(est.train_rows_),
            "n_neighbors_": int(est.n_neighbors_),
            "n_components_": int(est.n_components_),
        }
    arrays = {key: np.ascontiguousarray(arr, dtype=np.float32) for key, arr in arrays.items()}
    desc = {"name": name, "kind": cls.__name__, "params": params, "attributes": attributes}
    return desc, arrays


def _check_autoencoder(params: dict, error, what: str) -> None:
    """What the Autoencoder's param_schema cannot say: its layers and device."""
    hidden = params["hidden"]
    if not all(type(h) is int and 1 <= h <= 2**16 for h in hidden) or len(hidden) > MAX_LAYERS:
        raise error(
            f"{what} parameter hidden should be at most {MAX_LAYERS} layer sizes from 1 to "
            f"{2**16}; got {hidden!r:.60}"
        )
    if params["device"] not in ("auto", "cpu", "cuda"):
        raise error(f"{what} parameter device={params['device']!r:.30} is not auto, cpu or cuda")


def _sizes(name: str, params: dict, attributes: dict) -> dict:
    """The dimension sizes of a step's arrays (an entry None where the description
    gives no positive int)."""

    def size(value):
        return value if type(value) is int and value >= 1 else None

    if name == "autoencoder":
        hidden = params.get("hidden")
        if not isinstance(hidden, list) or len(hidden) > MAX_LAYERS:
            return {}  # no shapes to expect: the step is refused once read
        widths = [attributes.get("n_features_in_"), *hidden, params.get("n_components")]
        return {f"l{i}": size(w) for i, w in enumerate(widths)}
    return {
        "n": size(attributes.get("n_train_")),
        "d": size(attributes.get("n_features_in_")),
        "c": size(attributes.get("n_components_")),
    }


def _step_arrays(name: str, sizes: dict) -> dict:
    """``{array name: Array}`` of a step whose dimensions are ``sizes``."""
    prefix = f"embedder.{name}."
    if name == "umap":
        return {
            f"{prefix}train_rows": Array(_F4, ("n", "d")),
            f"{prefix}embedding": Array(_F4, ("n", "c")),
        }
    out = {}
    for i in range(len(sizes) - 1):
        out[f"{prefix}weights.{i}"] = Array(_F4, (f"l{i + 1}", f"l{i}"))
        out[f"{prefix}biases.{i}"] = Array(_F4, (f"l{i + 1}",))
    return out


def _rebuild_step(desc, arrays: dict, where: str, used: set) -> tuple:
    """``(name, step)`` of an ``embedder`` entry, every value and array checked."""
    check_keys(desc, ("name", "kind", "params", "attributes"), (), "an embedder step", where)
    name = desc["name"]
    cls = STEPS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ModelFileError(
            f"{where}: unknown embedder step {name!r:.60}; expected one of {', '.join(STEPS)}"
        )
    kind = cls.__name__
    if desc["kind"] != kind:
        raise ModelFileError(f"{where}: the {name} step should be {kind}; got {desc['kind']!r:.60}")
    params = check_keys(desc["params"], cls.param_schema, (), f"{kind} params", where)
    check_params(params, cls.param_schema, f"{where}: {kind}", ModelFileError)
    if name == "autoencoder":
        _check_autoencoder(params, ModelFileError, f"{where}: {kind}")
    attrs = check_keys(desc["attributes"], _STEP_ATTRIBUTES[name], (), f"{kind} attributes", where)
    for key, value in attrs.items():
        if not scalar_ok(value, "int>=1"):
            raise ModelFileError(
                f"{where}: {kind} attribute {key} should be int>=1; got {value!r:.60}"
            )
    sizes = _sizes(name, params, attrs)
    for key, spec in _step_arrays(name, sizes).items():
        if key not in arrays:
            raise ModelFileError(f"{where}: array {key!r} is missing")
        check_array(arrays[key], spec, dict(sizes), key, where)
        used.add(key)
    prefix = f"embedder.{name}."
    est = cls(**{k: tuple(v) if k == "hidden" else v for k, v in params.items()})
    est.n_features_in_ = attrs["n_features_in_"]
    if name == "autoencoder":
        layers = len(sizes) - 1
        est.weights_ = [arrays[f"{prefix}weights.{i}"] for i in range(layers)]
        est.biases_ = [arrays[f"{prefix}biases.{i}"] for i in range(layers)]
        return name, est
    n, k, c = attrs["n_train_"], attrs["n_neighbors_"], attrs["n_components_"]
    if k > n or k > params["n_neighbors"] or c > params["n_components"]:
        raise ModelFileError(
            f"{where}: {kind} n_neighbors_={k} should be at most n_train_={n} and "
            f"n_neighbors={params['n_neighbors']}, n_components_={c} at most "
            f"n_components={params['n_components']}"
        )
    est.train_rows_ = arrays[f"{prefix}train_rows"]
    est.embedding_ = arrays[f"{prefix}embedding"]
    est.n_neighbors_, est.n_components_ = k, c
    return name, est


def _expected_shapes(header: dict) -> dict:
    """The shapes of the arrays as ``model.json`` declares them (the PCA's and the
    k-means' by :func:`kmeanskit.model_io.expected_shapes`, the embedder steps' by
    their parameters and attributes), checked before the arrays are read."""
    params = header["params"] if isinstance(header.get("params"), dict) else {}
    shapes = {
        **expected_shapes(params.get("reducer"), "reducer."),
        **expected_shapes(params.get("kmeans"), "kmeans."),
    }
    steps = params.get("embedder")
    for desc in steps[: len(STEPS)] if isinstance(steps, list) else ():
        if not (isinstance(desc, dict) and isinstance(desc.get("name"), str)):
            continue
        if desc["name"] not in STEPS:
            continue
        step_params, attrs = desc.get("params"), desc.get("attributes")
        if not (isinstance(step_params, dict) and isinstance(attrs, dict)):
            continue
        sizes = _sizes(desc["name"], step_params, attrs)
        for key, spec in _step_arrays(desc["name"], sizes).items():
            shapes[key] = tuple((sym, sizes.get(sym)) for sym in spec.shape)
    return shapes


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
