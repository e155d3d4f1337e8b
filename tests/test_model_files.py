"""Model files without pickle: round trips, and every kind of bad file refused clearly."""

import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError

from kmeanskit import (
    KMeans,
    KMedoids,
    MiniBatchKMeans,
    ModelFileError,
    SphericalKMeans,
    load_model,
    save_model,
)
from kmeanskit.model_io import UnsupportedModelError

X = np.random.RandomState(0).rand(200, 4)


def read_parts(path):
    """(header, {name: npy bytes}) of a model file."""
    with zipfile.ZipFile(path) as zf:
        header = json.loads(zf.read("model.json"))
        return header, {n[:-4]: zf.read(n) for n in zf.namelist() if n != "model.json"}


def npy(arr, allow_pickle=False) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=allow_pickle)
    return buf.getvalue()


def rewrite(path, out, edit=None, arrays=None):
    """Write ``out``: the model file ``path`` with ``edit(header)`` applied to its JSON
    (a dict, or the text when ``edit`` returns a str) and ``arrays`` (name -> npy bytes,
    or None to drop one) replacing its entries. ``model.json``'s "arrays" is left as is."""
    header, entries = read_parts(path)
    if edit is not None:
        header = edit(header) or header
    entries.update(arrays or {})
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("model.json", header if isinstance(header, str) else json.dumps(header))
        for name, data in entries.items():
            if data is not None:
                zf.writestr(f"{name}.npy", data)
    return out


def _estimators():
    import pandas as pd

    frame = pd.DataFrame(X, columns=list("abcd"))
    return {
        "kmeans": KMeans(3, random_state=0).fit(X),
        "float32": KMeans(3, random_state=0, cluster_order="size").fit(X.astype(np.float32)),
        "given_init_frozen": KMeans(3, init=X[:3], n_init=1, frozen=[0]).fit(X),
        "feature_names": KMeans(2, random_state=0).fit(frame),
        "spherical": SphericalKMeans(3, random_state=0, transform_mode="soft").fit(X),
        "minibatch": MiniBatchKMeans(3, batch_size=50, random_state=0).fit(X),
        "minibatch_no_labels": MiniBatchKMeans(3, random_state=0, compute_labels=False).fit(X),
        "pca": PCA(2, whiten=True, svd_solver="randomized", random_state=0).fit(X),
    }


@pytest.fixture(scope="module")
def fitted():
    return _estimators()


@pytest.fixture()
def model_path(tmp_path, fitted):
    return save_model(fitted["kmeans"], tmp_path / "km.kmk")


@pytest.mark.parametrize("name", list(_estimators()))
def test_round_trip_predicts_the_same(fitted, name, tmp_path):
    est = fitted[name]
    path = save_model(est, tmp_path / f"{name}.kmk")
    back = load_model(path)
    assert type(back) is type(est)
    Z = X
    if name == "feature_names":
        import pandas as pd

        Z = pd.DataFrame(X, columns=est.feature_names_in_)
    assert_array_equal(back.transform(Z), est.transform(Z))
    if hasattr(est, "predict"):
        assert_array_equal(back.predict(Z), est.predict(Z))
        assert_array_equal(back.cluster_centers_, est.cluster_centers_)
        assert back.cluster_centers_.dtype == est.cluster_centers_.dtype
    for key, value in est.get_params().items():
        assert_array_equal(np.asarray(back.get_params()[key]), np.asarray(value))
    for key, value in vars(est).items():
        if key.endswith("_") and not key.startswith("_"):
            assert_array_equal(np.asarray(getattr(back, key)), np.asarray(value), err_msg=key)
    # the numpy .npz layout: numpy itself reads the arrays without pickle
    header, _ = read_parts(path)
    with np.load(path, allow_pickle=False) as npz:
        assert set(npz.files) == {"model.json", *header["arrays"]}
        for name in header["arrays"]:
            assert npz[name].dtype != object


def test_minibatch_partial_fit_goes_on_the_same_after_loading(tmp_path):
    a = MiniBatchKMeans(3, random_state=0).partial_fit(X[:80])
    b = load_model(save_model(a, tmp_path / "mb.kmk"))
    a.partial_fit(X[80:])
    b.partial_fit(X[80:])
    assert_array_equal(a.cluster_centers_, b.cluster_centers_)


def test_what_cannot_be_saved_is_refused(tmp_path):
    path = tmp_path / "m.kmk"
    with pytest.raises(UnsupportedModelError, match="parameter init=<function"):
        save_model(KMeans(2, init=lambda X, k, random_state: X[:k], n_init=1).fit(X), path)
    with pytest.raises(UnsupportedModelError, match="random_state=RandomState"):
        save_model(KMeans(2, random_state=np.random.RandomState(0)).fit(X), path)
    with pytest.raises(UnsupportedModelError, match="got KMedoids"):
        save_model(KMedoids(2).fit(X), path)

    class Mine(KMeans):
        pass

    with pytest.raises(UnsupportedModelError, match="got Mine"):
        save_model(Mine(2).fit(X), path)
    with pytest.raises(NotFittedError):
        save_model(KMeans(2), path)
    assert not path.exists() and not list(tmp_path.iterdir())


def test_an_existing_file_is_kept_without_overwrite(model_path, fitted):
    before = model_path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_model(fitted["minibatch"], model_path)
    assert model_path.read_bytes() == before
    save_model(fitted["minibatch"], model_path, overwrite=True)
    assert type(load_model(model_path)) is MiniBatchKMeans
    assert [p.name for p in model_path.parent.iterdir()] == [model_path.name]  # no temp left
    with pytest.raises(IsADirectoryError):
        save_model(fitted["kmeans"], model_path.parent)


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99])
def test_truncated_files_are_refused(model_path, tmp_path, fraction):
    data = model_path.read_bytes()
    cut = tmp_path / "cut.kmk"
    cut.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ModelFileError, match=r"model file '.*cut\.kmk'"):
        load_model(cut)


def test_flipped_bytes_are_refused(model_path, tmp_path):
    data = bytearray(model_path.read_bytes())
    bad = tmp_path / "bad.kmk"
    for pos in range(40, len(data), max(1, len(data) // 60)):
        flipped = bytearray(data)
        flipped[pos] ^= 0xFF
        bad.write_bytes(bytes(flipped))
        try:
            back = load_model(bad)
        except ModelFileError:
            continue
        # a flip in a part nobody checks (a zip timestamp) leaves the same model
        assert_array_equal(back.cluster_centers_, load_model(model_path).cluster_centers_)


def test_not_a_model_file(tmp_path):
    for name, content, why in [
        ("empty.kmk", b"", "not a zip archive"),
        ("text.kmk", b"hello, this is text", "not a zip archive"),
        ("pickle.kmk", pickle.dumps({"a": 1}), "pickle"),
    ]:
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ModelFileError, match=why):
            load_model(tmp_path / name)
    zip_path = tmp_path / "other.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(ModelFileError, match=r"no model\.json"):
        load_model(zip_path)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.kmk")
    os.mkfifo(tmp_path / "fifo.kmk")
    with pytest.raises(ModelFileError, match="not a regular file"):
        load_model(tmp_path / "fifo.kmk")  # refused, not waited on


def _set(key, value):
    def edit(header):
        target = header
        *path, last = key.split("/")
        for part in path:
            target = target[part]
        target[last] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "arrays", "message"),
    [
        (_set("version", 2), None, r"newer kmeanskit \(format version 2; this one reads up to 1\)"),
        (_set("version", "1"), None, "version must be a positive integer"),
        (_set("format", "something"), None, "not a kmeanskit model file"),
        (_set("kind", "os.system"), None, "unknown kind 'os.system'"),
        (_set("kind", "ImageModel"), None, "kmeanskit.images.load_model"),
        (_set("params/n_clusters", "three"), None, "n_clusters"),
        (_set("params/n_clusters", -3), None, "n_clusters"),
        (_set("params/algorithm", {"__class__": "x"}), None, "algorithm"),
        (_set("params/no_such_param", 1), None, r"unexpected \['no_such_param'\]"),
        (_set("attributes/inertia_", "big"), None, "inertia_ should be float>=0"),
        (_set("attributes/n_features_in_", 5), None, "cluster_centers_.*dimension d should be 5"),
        (_set("attributes/secret_", 1), None, r"unexpected \['secret_'\]"),
        (_set("extra", 1), None, r"unexpected \['extra'\]"),
        (_set("params", []), None, "params must be a JSON object"),
        (lambda h: "{not json", None, "not valid JSON"),
        (lambda h: "[" * 100_000, None, "nested too deeply|not valid JSON"),
        (lambda h: json.dumps(h).replace("0.0001", "NaN"), None, "not valid JSON"),
        (None, {"cluster_centers_": None}, r"missing \['cluster_centers_.npy'\]"),
        (None, {"surprise": npy([1.0])}, r"unexpected \['surprise.npy'\]"),
        (
            _set(
                "arrays",
                ["cluster_centers_", "labels_", "inertia_history_", "init_centers_", "surprise"],
            ),
            {"surprise": npy([1.0])},
            r"unexpected arrays",
        ),
        (None, {"cluster_centers_": npy(np.zeros((4, 4)))}, "dimension k should be 3"),
        (None, {"cluster_centers_": npy(np.zeros((3, 4), np.int64))}, "has dtype int64"),
        (None, {"cluster_centers_": npy(np.zeros((3, 4), ">f8"))}, "little-endian"),
        (None, {"cluster_centers_": npy(np.zeros(12))}, "expected 2 dimensions"),
        (None, {"cluster_centers_": npy(np.full((3, 4), np.nan))}, "NaN or infinite"),
        (None, {"labels_": npy(np.full(200, 7, np.int32))}, r"labels outside 0\.\.2"),
        (None, {"cluster_centers_": npy(np.zeros((3, 4)))[:-8]}, "needs 96 bytes; the file holds"),
        (None, {"cluster_centers_": b"\x93NUMPY\x03\x00" + b"x" * 20}, "npy format version"),
        (None, {"cluster_centers_": b"garbage"}, "bad npy header"),
    ],
)
def test_tampered_files_are_refused(model_path, tmp_path, edit, arrays, message):
    bad = rewrite(model_path, tmp_path / "bad.kmk", edit, arrays)
    with pytest.raises(ModelFileError, match=message) as info:
        load_model(bad)
    assert "bad.kmk" in str(info.value)


def test_array_parameters_are_checked(tmp_path, fitted):
    path = save_model(fitted["given_init_frozen"], tmp_path / "g.kmk")
    edit = _set("params/init", {"array": "cluster_centers_"})
    with pytest.raises(ModelFileError, match="parameter init names a missing array"):
        load_model(rewrite(path, tmp_path / "b1.kmk", edit))
    with pytest.raises(ModelFileError, match=r"array 'params\.init' has dtype <U1"):
        load_model(rewrite(path, tmp_path / "b2.kmk", None, {"params.init": npy(["a", "b"])}))


def test_object_arrays_are_refused_and_never_unpickled(model_path, tmp_path):
    marker = tmp_path / "marker"

    class Payload:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    evil = npy(np.array([Payload()], dtype=object), allow_pickle=True)
    with pytest.raises(ModelFileError, match=r"holds Python objects \(pickled data\); refused"):
        load_model(rewrite(model_path, tmp_path / "evil.kmk", None, {"cluster_centers_": evil}))
    assert not marker.exists()
    # a whole file that is a pickle, and one hidden as model.json's bytes
    (tmp_path / "evil2.kmk").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ModelFileError, match="pickle"):
        load_model(tmp_path / "evil2.kmk")
    with zipfile.ZipFile(tmp_path / "evil3.kmk", "w") as zf:
        zf.writestr("model.json", pickle.dumps(Payload()))
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load_model(tmp_path / "evil3.kmk")
    assert not marker.exists()
    # the check itself: unpickling the payload would have made the marker
    pickle.loads(pickle.dumps(Payload()))
    assert marker.exists()


def test_odd_zip_entries_are_refused(model_path, tmp_path):
    header, _ = read_parts(model_path)
    bad = tmp_path / "dup.kmk"
    with zipfile.ZipFile(bad, "w") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        zf.writestr("model.json", json.dumps(header))
        zf.writestr("model.json", json.dumps(header))
    with pytest.raises(ModelFileError, match="two entries of the same name"):
        load_model(bad)
    bz = tmp_path / "bz.kmk"
    with zipfile.ZipFile(bz, "w", zipfile.ZIP_BZIP2) as zf:
        zf.writestr("model.json", json.dumps(header))
    with pytest.raises(ModelFileError, match="compression method 12"):
        load_model(bz)


# -- found by benchmarks/fuzz/fuzz_model_loader.py -----------------------------------------
def test_fuzz_npy_header_with_an_open_bracket(model_path, tmp_path):
    """numpy's npy header parser raised tokenize.TokenError, not a ValueError."""
    head = b"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), "
    entry = b"\x93NUMPY\x01\x00" + len(head).to_bytes(2, "little") + head
    bad = rewrite(model_path, tmp_path / "bad.kmk", None, {"cluster_centers_": entry})
    with pytest.raises(ModelFileError, match="array 'cluster_centers_': bad npy header"):
        load_model(bad)


def test_fuzz_npy_header_in_python2_style(model_path, tmp_path):
    """A header that is not a Python literal made numpy parse it again as a Python 2
    header, with a UserWarning (an error under -W error), instead of refusing it."""
    head = b"{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 4L), }"
    head += b" " * (-(len(head) + 11) % 64) + b"\n"
    entry = b"\x93NUMPY\x01\x00" + len(head).to_bytes(2, "little") + head + bytes(96)
    bad = rewrite(model_path, tmp_path / "bad.kmk", None, {"cluster_centers_": entry})
    with pytest.raises(ModelFileError, match=r"bad npy header.*Python 2"):
        load_model(bad)


def test_fuzz_npy_header_with_a_deprecated_dtype_alias(model_path, tmp_path):
    """numpy 2 warns (DeprecationWarning) on the dtype alias 'a' instead of refusing."""
    head = b"{'descr': '<a8', 'fortran_order': False, 'shape': (0,), }"
    head += b" " * (-(len(head) + 11) % 64) + b"\n"
    entry = b"\x93NUMPY\x01\x00" + len(head).to_bytes(2, "little") + head
    bad = rewrite(model_path, tmp_path / "bad.kmk", None, {"labels_": entry})
    with pytest.raises(ModelFileError, match="array 'labels_': bad npy header"):
        load_model(bad)


def test_a_forged_random_state_is_refused(tmp_path, fitted):
    """numpy's RandomState.set_state accepts a position past 624, and the generator then
    reads out of bounds (a segmentation fault at the next draw): found while writing the
    loader, beyond what fuzz_model_loader.py reached."""
    path = save_model(fitted["minibatch"], tmp_path / "mb.kmk")
    for key, value in [("_rs.pos", 10**6), ("_rs.pos", 625), ("_rs.has_gauss", 2)]:
        with pytest.raises(ModelFileError, match="random state: needs"):
            load_model(rewrite(path, tmp_path / "bad.kmk", _set(f"attributes/{key}", value)))
    with pytest.raises(ModelFileError, match="random state: needs"):
        load_model(
            rewrite(
                path,
                tmp_path / "bad.kmk",
                lambda h: h["arrays"].remove("_rs.keys"),
                {"_rs.keys": None},
            )
        )
