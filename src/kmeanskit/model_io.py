"""Saving fitted estimators without pickle: :func:`save_model` and :func:`load_model`.

A model file (``.kmk``) is a zip of numpy arrays (the ``.npz`` layout, written with
``allow_pickle=False``) and ``model.json``::

    {"format": "kmeanskit-model", "version": 1, "kind": "KMeans",
     "kmeanskit_version": "0.1.0",
     "params": {"n_clusters": 8, "init": {"array": "params.init"}, ...},
     "attributes": {"n_features_in_": 2, "inertia_": 1.5, ...},
     "arrays": ["cluster_centers_", "labels_", ...]}

``params`` are the constructor's arguments (JSON values; an array argument names its
array), ``attributes`` the fitted scalars; the fitted arrays are entries of the zip.
Loading accepts only the kinds of :data:`SCHEMAS` (a whitelist), checks every value
against the kind's table and the estimator's own parameter constraints, and rebuilds the
estimator through its constructor: loading a file never executes code from it. Any fault
is a :class:`ModelFileError` (a ``ValueError``) naming the file and what is wrong.
Pickle (joblib) still works on every estimator, for files from trusted sources.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import _model_zip
from ._model_zip import (
    FORMAT,
    VERSION,
    Array,
    ModelFileError,
    UnsupportedModelError,
    check_array,
    check_keys,
    scalar_ok,
)

logger = logging.getLogger(__name__)

__all__ = [
    "FORMAT",
    "VERSION",
    "ModelFileError",
    "UnsupportedModelError",
    "load_model",
    "save_model",
]

_F, _I = ("<f4", "<f8"), ("<i4", "<i8")


@dataclass(frozen=True)
class Schema:
    """What a kind's model file holds."""

    factory: str  # 'module:Class'
    arrays: dict
    #: fitted scalars: name -> (rule, required); rules: int>=0, int>=1, float>=0, float>0,
    #: or a tuple of allowed strings
    scalars: dict
    #: shape names fixed by a parameter or a scalar
    bind: dict = field(default_factory=dict)
    #: parameters that may be arrays, and their dtypes
    array_params: dict = field(default_factory=dict)
    #: refuse to save a fitted attribute the table does not know (else it is dropped)
    strict: bool = True


_KM_ARRAYS = {
    "cluster_centers_": Array(_F, ("k", "d")),
    "labels_": Array(_I, ("n",), required=False, check="labels"),
    "inertia_history_": Array(("<f8",), ("m",), required=False),
    "init_centers_": Array(_F, ("k", "d"), required=False),
}
_KM_SCALARS = {
    "n_features_in_": ("int>=1", True),
    "inertia_": ("float>=0", True),
    "n_iter_": ("int>=0", True),
    "temperature_": ("float>0", True),
    "_n_features_out": ("int>=1", True),
}
_NUMBERS = _model_zip.NUMBERS
_KM = dict(
    bind={"k": "n_clusters", "d": "n_features_in_"},
    array_params={"init": _NUMBERS, "frozen": _NUMBERS},
)
_MB_ARRAYS = {
    **{k: v for k, v in _KM_ARRAYS.items() if k in ("cluster_centers_", "labels_")},
    "counts_": Array(("<f8",), ("k",)),
    "_stats.mean": Array(("<f8",), ("d",), required=False),
    "_stats.var": Array(("<f8",), ("d",), required=False),
    "_rs.keys": Array(("<u4",), (624,), required=False, check="any"),
}
_MB_SCALARS = {
    **_KM_SCALARS,
    "inertia_": ("float>=0", False),
    "n_steps_": ("int>=0", True),
    "_rs.pos": ("int>=0", False),
    "_rs.has_gauss": ("int>=0", False),
    "_rs.cached_gaussian": ("float", False),
}
_PCA_VEC = Array(_F, ("c",))
_SOLVERS = ("auto", "full", "covariance_eigh", "arpack", "randomized")

#: the kinds a model file may hold (a whitelist)
# fmt: off
SCHEMAS = {
    "KMeans": Schema("kmeanskit.estimators:KMeans", _KM_ARRAYS, _KM_SCALARS, **_KM),
    "SphericalKMeans": Schema("kmeanskit.estimators:SphericalKMeans", _KM_ARRAYS, _KM_SCALARS,
                              **_KM),
    "MiniBatchKMeans": Schema("kmeanskit.estimators:MiniBatchKMeans", _MB_ARRAYS, _MB_SCALARS,
                              **_KM),
    "PCA": Schema(
        "sklearn.decomposition:PCA",
        {"components_": Array(_F, ("c", "d")), "mean_": Array(_F, ("d",)),
         "explained_variance_": _PCA_VEC, "explained_variance_ratio_": _PCA_VEC,
         "singular_values_": _PCA_VEC},
        {"n_features_in_": ("int>=1", True), "n_components_": ("int>=1", True),
         "n_samples_": ("int>=1", True), "noise_variance_": ("float>=0", True),
         "_fit_svd_solver": (_SOLVERS, False)},
        bind={"c": "n_components_", "d": "n_features_in_"}, strict=False,
    ),
}
# fmt: on


def _class(schema: Schema):
    import importlib

    module, name = schema.factory.split(":")
    return getattr(importlib.import_module(module), name)


def describe(est, prefix: str = "") -> tuple[dict, dict]:
    """``({"kind", "params", "attributes"}, arrays)`` of a fitted estimator of a kind of
    :data:`SCHEMAS`, array names prefixed with ``prefix``; raises
    :class:`UnsupportedModelError` for anything else."""
    from sklearn.utils.validation import check_is_fitted

    kind = type(est).__name__
    schema = SCHEMAS.get(kind)
    if schema is None or type(est) is not _class(schema):
        raise UnsupportedModelError(
            f"the pickle-free model file holds {', '.join(SCHEMAS)}; got {type(est).__name__}"
            " (save other estimators with joblib)"
        )
    check_is_fitted(est)
    params, arrays = {}, {}
    for name, value in est.get_params(deep=False).items():
        if value is None or isinstance(value, bool | int | float | str):
            params[name] = value
        elif isinstance(value, np.integer | np.floating):
            params[name] = value.item()
        elif name in schema.array_params and isinstance(value, np.ndarray | list | tuple):
            arr = np.asarray(value)
            if arr.dtype not in [np.dtype(d) for d in schema.array_params[name]]:
                raise UnsupportedModelError(
                    f"the {kind}'s parameter {name} is an array of "
                    f"{arr.dtype}; only numbers can be saved"
                )
            arrays[f"{prefix}params.{name}"] = arr
            params[name] = {"array": f"{prefix}params.{name}"}
        else:
            raise UnsupportedModelError(
                f"the {kind}'s parameter {name}={value!r:.60} cannot be saved without pickle "
                "(give a number, string or None, or save with joblib)"
            )
    state = dict(vars(est))
    if "_rs" in state:  # MiniBatchKMeans' random state, for partial_fit after loading
        _, keys, pos, has_gauss, cached = state.pop("_rs").get_state()
        state.update(
            {
                "_rs.keys": keys,
                "_rs.pos": pos,
                "_rs.has_gauss": has_gauss,
                "_rs.cached_gaussian": cached,
            }
        )
    if "_stats" in state:
        stats = state.pop("_stats")
        state.update({"_stats.mean": stats.mean, "_stats.var": stats.var})
    attributes = {}
    if "feature_names_in_" in state:
        attributes["feature_names_in_"] = [str(v) for v in state.pop("feature_names_in_")]
    for name, value in state.items():
        if name in params:
            continue
        if name in schema.arrays:
            arrays[prefix + name] = np.asarray(value)
        elif name in schema.scalars:
            attributes[name] = value.item() if isinstance(value, np.generic) else value
        elif schema.strict:
            raise UnsupportedModelError(f"the {kind}'s attribute {name} is not in the format")
        else:
            logger.debug("%s.%s is not saved (not needed to transform)", kind, name)
    return {"kind": kind, "params": params, "attributes": attributes}, arrays


def expected_shapes(desc, prefix: str = "") -> dict:
    """The shapes that ``model.json`` declares for the fitted arrays of an estimator,
    checked by :func:`kmeanskit._model_zip.read` against each ``.npy`` header before the
    array is read (an array larger than its model says is never inflated).

    Parameters
    ----------
    desc : object
        The estimator's description in ``model.json`` (``kind``, ``params``,
        ``attributes``), not yet checked.
    prefix : str, default=""
        The prefix of its array names (``"kmeans."`` in an image model).

    Returns
    -------
    dict
        ``{array name: ((dimension, size or None), ...)}``: the size a positive integer
        of the description binds (``k`` from ``n_clusters``, ``d`` from
        ``n_features_in_``...), None where nothing does; ``{}`` for a description of no
        known kind (:func:`rebuild` refuses it later, with the reason).
    """
    if not isinstance(desc, dict) or not isinstance(desc.get("kind"), str):
        return {}
    schema = SCHEMAS.get(desc["kind"])
    if schema is None:
        return {}
    given = {}
    for key in ("params", "attributes"):
        if isinstance(desc.get(key), dict):
            given.update(desc[key])
    sizes = {
        sym: given[src]
        for sym, src in schema.bind.items()
        if type(given.get(src)) is int and given[src] >= 1
    }
    return {
        prefix + name: tuple(
            (str(s), sizes.get(s) if isinstance(s, str) else s) for s in spec.shape
        )
        for name, spec in schema.arrays.items()
    }


def rebuild(desc, arrays: dict, prefix: str, where: str, used: set, kinds=None):
    """The estimator that :func:`describe` gave ``desc`` and ``arrays`` for, every value
    checked; the array names it takes are added to ``used``."""
    check_keys(desc, ("kind", "params", "attributes"), (), "an estimator", where)
    kind = desc["kind"]
    if not isinstance(kind, str) or kind not in (kinds or SCHEMAS):
        raise ModelFileError(
            f"{where}: unknown kind {kind!r:.80}; expected one of {', '.join(kinds or SCHEMAS)}"
        )
    schema = SCHEMAS[kind]
    est = _class(schema)()
    params = check_keys(desc["params"], (), est.get_params(deep=False), f"{kind} params", where)
    values = {}
    for name, value in params.items():
        if isinstance(value, dict) and name in schema.array_params:
            ref = check_keys(value, ("array",), (), f"{kind} parameter {name}", where)["array"]
            if ref != f"{prefix}params.{name}" or ref not in arrays:
                raise ModelFileError(f"{where}: {kind} parameter {name} names a missing array")
            if arrays[ref].dtype not in [np.dtype(d) for d in schema.array_params[name]]:
                raise ModelFileError(f"{where}: {kind} parameter {name} has a bad dtype")
            used.add(ref)
            value = arrays[ref]
        elif not (value is None or isinstance(value, bool | int | float | str)):
            raise ModelFileError(
                f"{where}: {kind} parameter {name}={value!r:.60} is not a "
                "number, string, boolean or null"
            )
        values[name] = value
    est.set_params(**values)
    try:
        est._validate_params()  # the estimator's own table of allowed values
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{where}: {exc}") from None
    attrs = check_keys(
        desc["attributes"], (), [*schema.scalars, "feature_names_in_"], f"{kind} attributes", where
    )
    for name, (rule, required) in schema.scalars.items():
        if name not in attrs:
            if required:
                raise ModelFileError(f"{where}: {kind} attribute {name} is missing")
        elif not scalar_ok(attrs[name], rule):
            raise ModelFileError(
                f"{where}: {kind} attribute {name} should be {rule}; got {attrs[name]!r:.60}"
            )
    given = {**est.get_params(deep=False), **attrs}
    sizes = {sym: given[src] for sym, src in schema.bind.items() if given.get(src) is not None}
    if "_n_features_out" in attrs and attrs["_n_features_out"] != sizes.get("k"):
        raise ModelFileError(
            f"{where}: {kind} attribute _n_features_out should be "
            f"{sizes.get('k')}; got {attrs['_n_features_out']!r:.60}"
        )
    found = {}
    for name, spec in schema.arrays.items():
        key = prefix + name
        if key not in arrays:
            if spec.required:
                raise ModelFileError(f"{where}: array {key!r} is missing")
            continue
        found[name] = check_array(arrays[key], spec, sizes, key, where)
        used.add(key)
    _restore(est, kind, attrs, found, where)
    return est


def _restore(est, kind, attrs, found, where) -> None:
    """Set the fitted attributes (the arrays and scalars already checked)."""
    attrs = dict(attrs)
    names = attrs.pop("feature_names_in_", None)
    if names is not None:
        if not (
            isinstance(names, list)
            and all(isinstance(v, str) for v in names)
            and len(names) == attrs["n_features_in_"]
        ):
            raise ModelFileError(
                f"{where}: {kind} feature_names_in_ should be n_features_in_ strings"
            )
        est.feature_names_in_ = np.asarray(names, dtype=object)
    if "_stats.mean" in found or "_stats.var" in found:
        from ._engine import ColumnStats

        if not ("_stats.mean" in found and "_stats.var" in found):
            raise ModelFileError(f"{where}: {kind} needs both _stats arrays or neither")
        est._stats = ColumnStats(found.pop("_stats.mean"), found.pop("_stats.var"))
    rs = [attrs.pop(k, None) for k in ("_rs.pos", "_rs.has_gauss", "_rs.cached_gaussian")]
    keys = found.pop("_rs.keys", None)
    if keys is not None or any(v is not None for v in rs):
        # numpy checks little here: a position past 624 makes the generator read out of
        # bounds and crash the process later, so every part is checked first
        pos, has_gauss, cached = rs
        if (
            keys is None
            or pos is None
            or not pos <= 624
            or has_gauss not in (0, 1)
            or cached is None
        ):
            raise ModelFileError(
                f"{where}: {kind} random state: needs _rs.keys, _rs.pos "
                f"(0 to 624), _rs.has_gauss (0 or 1), _rs.cached_gaussian; "
                f"got pos={pos!r:.30}, has_gauss={has_gauss!r:.30}"
            )
        est._rs = np.random.RandomState()
        est._rs.set_state(("MT19937", keys, pos, has_gauss, cached))
    for name, value in {**attrs, **found}.items():
        setattr(est, name, value)


def save_model(estimator, path, *, overwrite: bool = False) -> Path:
    """Save a fitted estimator to a model file that loads without pickle.

    Parameters
    ----------
    estimator : KMeans, MiniBatchKMeans, SphericalKMeans or scikit-learn's PCA
        Fitted. Its parameters must be numbers, strings, None or arrays (a callable
        ``init`` or a ``RandomState`` cannot be saved: use joblib for those).
    path : str or Path
        The file to write (``.kmk`` by convention); written whole or not at all.
    overwrite : bool, default=False
        Replace an existing file (else ``FileExistsError``).

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from kmeanskit import KMeans, save_model
    >>> km = KMeans(2, random_state=0).fit([[0.0], [1.0], [10.0], [11.0]])
    >>> save_model(km, pathlib.Path(tempfile.mkdtemp()) / "km.kmk").name
    'km.kmk'
    """
    desc, arrays = describe(estimator)
    return _model_zip.write(
        path, desc["kind"], desc["params"], desc["attributes"], arrays, overwrite=overwrite
    )


def load_model(path):
    """Load an estimator saved by :func:`save_model`; never executes code from the file.

    Raises :class:`ModelFileError` (a ``ValueError``) naming the file and the fault when
    it is not a model file, is damaged or altered, or was written by a newer kmeanskit.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from kmeanskit import KMeans, load_model, save_model
    >>> X = [[0.0], [1.0], [10.0], [11.0]]
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "km.kmk"
    >>> km = KMeans(2, random_state=0).fit(X)
    >>> _ = save_model(km, path)
    >>> load_model(path).predict(X).tolist() == km.predict(X).tolist()
    True
    """
    where = f"model file {str(path)!r}"
    header, arrays = _model_zip.read(path, expect=expected_shapes)
    if header["kind"] == "ImageModel":
        raise ModelFileError(f"{where}: holds an image model (use kmeanskit.images.load_model)")
    used: set = set()
    desc = {key: header[key] for key in ("kind", "params", "attributes")}
    est = rebuild(desc, arrays, "", where, used)
    if set(arrays) - used:
        raise ModelFileError(f"{where}: unexpected arrays {sorted(set(arrays) - used)}")
    return est
