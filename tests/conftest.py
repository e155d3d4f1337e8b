"""Shared fixtures: seeded data sets made here or shipped by installed packages."""

import os
from pathlib import Path

# scikit-learn's array-API input check runs only in scipy's array-API mode, which must
# be switched on before scipy is imported; with numpy inputs nothing else changes.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits, make_blobs

try:  # property tests: new random examples at every local run, a fixed set in CI
    from hypothesis import settings as _hypothesis_settings

    _hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
    if os.environ.get("CI"):
        _hypothesis_settings.load_profile("ci")
except ImportError:  # pragma: no cover - hypothesis is in the test extra
    pass


@pytest.fixture(scope="session")
def digits():
    return load_digits().data.astype(np.float64)


@pytest.fixture(scope="session")
def blobs():
    X, _ = make_blobs(n_samples=2000, centers=6, n_features=5, random_state=42)
    return X


@pytest.fixture(scope="session")
def sparse_data():
    rng = np.random.RandomState(0)
    return sp.random(600, 40, density=0.15, format="csr", random_state=rng, dtype=np.float64)


def _find_shared_data():
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [
        os.environ.get("KMEANSKIT_SHARED_DATA", ""),
        os.path.join(here, "..", "..", "shared", "data"),
        "/work/shared/data",
    ]
    for path in candidates:
        if path and os.path.isdir(os.path.join(path, "sipu")):
            return Path(path).resolve()
    return None


@pytest.fixture(scope="session")
def shared_data():
    """``../shared/data`` (the project's real data sets); set KMEANSKIT_SHARED_DATA to
    point elsewhere. Missing data is a failure, not a skip."""
    path = _find_shared_data()
    if path is None:
        pytest.fail("../shared/data not found; set KMEANSKIT_SHARED_DATA to its path")
    return path


def load_sipu(root: Path, name: str):
    """A Fränti benchmark set: points, 0-based ground-truth labels, true centres."""
    X = np.loadtxt(root / "sipu" / f"{name}.txt")
    lines = (root / "sipu" / f"{name}-gt.pa").read_text().split("-----")[-1].split()
    labels = np.array([int(v) for v in lines if v.strip("-")]) - 1
    centers = np.loadtxt(root / "sipu" / f"{name}-gt.txt")
    return X, labels, centers


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """No test writes to the user's feature cache folder."""
    monkeypatch.setenv("KMEANSKIT_CACHE", str(tmp_path_factory.mktemp("cache")))


def write_levels(folder, n, levels, side, noise, seed):
    """``n`` grey PNGs ``folder/<i>.png`` of ``side`` x ``side``: image i is the grey level
    ``levels[i % len(levels)]`` plus Gaussian noise of sd ``noise`` (a clear k)."""
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(seed)
    for i in range(n):
        level = levels[i % len(levels)]
        pixels = np.clip(level + rng.normal(0, noise, (side, side)), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{i}.png")
    return folder


CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    """A headless Debian Chromium driven by Selenium, with the browser console logged.

    ``make test`` installs chromium and chromium-driver; without them the test is skipped
    on a developer's machine and fails in CI (``CI`` set), where nothing may skip.
    """
    pytest.importorskip("selenium")  # the 'test' extra
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        message = f"{CHROMIUM} and {CHROMEDRIVER} are needed: run 'make browser'"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
