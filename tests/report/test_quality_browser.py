"""report.html tells good clusters from bad, in a real headless Chromium: a run with a
cluster that mixes two classes is ranked first by "least coherent first", its header
shows its majority class and purity, its random sample both classes, "show all" pages
through every member and a click opens a larger view; at 100 clusters, the map names
the cluster and file under the mouse and no caption loses the end of its name."""

import csv
import json
import logging
from collections import Counter

import numpy as np
import pytest

pytest.importorskip("PIL")
pytest.importorskip("jinja2")
from PIL import Image
from sklearn.metrics import silhouette_samples
from test_browser import (
    _wait,
    console_errors,
    open_report,
    save_page_screenshot,
    show_every_gallery,
)

from kmeanskit.cli import main

logger = logging.getLogger(__name__)


def _run(tmp_path, photos, k, *extra):
    run = tmp_path / "run"
    args = ["cluster", str(photos), "--k", str(k), "--features", "pixels", "--size", "8"]
    assert main([*args, *extra, "--out", str(run), "--no-cache"]) == 0
    with open(run / "assignments.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return run, json.loads((run / "summary.json").read_text()), rows


def _four_classes(folder, n=60, seed=0):
    """``4 * n`` grey pictures ``c<class>_<i>.png``, one grey level per class."""
    folder.mkdir()
    rng = np.random.RandomState(seed)
    for cls, level in enumerate((20, 95, 165, 235)):
        for i in range(n):
            pixels = np.clip(level + rng.normal(0, 12, (12, 12)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"c{cls}_{i:03d}.png")
    return folder


def test_the_mixed_cluster_comes_first_and_shows_what_it_holds(chromium, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    photos = _four_classes(tmp_path / "photos")
    run, summary, rows = _run(tmp_path, photos, 3, "--labels-from", r"c(\d)_")
    # the summary's scores are the clusters' mean silhouettes of the features
    X = np.load(run / "features.npy")
    labels = np.array([int(r["cluster"]) for r in rows])
    s = silhouette_samples(X, labels)
    expected = [float(s[labels == j].mean()) for j in range(3)]
    quality = summary["cluster_quality"]
    assert [q["silhouette"] for q in quality] == pytest.approx(expected, abs=1e-3)
    worst = int(np.argmin(expected))
    members = [r for r in rows if int(r["cluster"]) == worst]
    counts = Counter(r["label"] for r in members)
    majority, count = counts.most_common(1)[0]
    assert len(counts) > 1 and len(members) > 100  # two classes: one mixed cluster
    assert quality[worst]["majority"] == majority and quality[worst]["majority_count"] == count

    open_report(chromium, run / "report.html")
    Select(chromium.find_element(By.ID, "order")).select_by_visible_text("least coherent first")
    order = chromium.execute_script(
        "return Array.from(document.querySelectorAll('section.cluster'))"
        ".map(s => Number(s.dataset.cluster))"
    )
    assert order[0] == worst and sorted(order) == [0, 1, 2]
    assert chromium.find_element(By.CSS_SELECTOR, "#worst-coherent li a").text == (
        f"cluster {worst}"
    )
    section = chromium.find_element(By.ID, f"cluster-{worst}")
    header = section.find_element(By.TAG_NAME, "h3").text
    assert f"mostly {majority} ({100 * count // len(members)} %)" in header
    assert f"silhouette {expected[worst]:.3f}" in header
    chromium.execute_script("arguments[0].scrollIntoView()", section)
    _wait(chromium, f"return document.getElementById('cluster-{worst}').dataset.filled === '1'")
    sample = chromium.execute_script(
        "return Array.from(arguments[0].querySelectorAll('.sample img')).map(i => i.alt)", section
    )
    assert len(sample) == 12 and len({name.split("_")[0] for name in sample}) > 1

    # "show all": every member, 100 a page, each once
    section.find_element(By.CSS_SELECTOR, "button.all").click()
    seen = []
    while True:
        _wait(chromium, "return document.querySelectorAll('.members .page img').length > 0")
        seen += chromium.execute_script(
            "return Array.from(arguments[0].querySelectorAll('.members .page img'))"
            ".map(i => i.alt)",
            section,
        )
        nxt = section.find_element(By.CSS_SELECTOR, ".members button.next")
        if not nxt.is_enabled():
            break
        nxt.click()
    names = sorted(r["path"].rsplit("/", 1)[-1] for r in members)
    assert sorted(seen) == names and len(seen) == len(members)
    shown = section.find_element(By.CSS_SELECTOR, ".members .page img")
    chromium.execute_script("arguments[0].scrollIntoView({block: 'center'})", shown)
    _wait(
        chromium,
        "return Array.from(document.querySelectorAll('.members img'))"
        ".filter(i => i.getBoundingClientRect().top > 0).every(i => i.complete)",
    )

    # a click on an image opens the larger view of its file; Esc closes it
    shown.click()
    _wait(
        chromium,
        "const i = document.querySelector('#lightbox img');"
        "return i && i.complete && i.naturalWidth === 12",
    )
    big = chromium.execute_script(
        "return document.querySelector('#lightbox img').getBoundingClientRect().width"
    )
    assert big >= 256
    save_page_screenshot(chromium, tmp_path / "lightbox.png")
    chromium.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    assert chromium.find_elements(By.ID, "lightbox") == []
    save_page_screenshot(chromium, tmp_path / "quality.png")
    assert console_errors(chromium) == []


def _blobs(folder, n, seed=0):
    """``n`` pictures of a grey blob, with long names ending in ``__<i % 7>.png``."""
    folder.mkdir()
    rng = np.random.RandomState(seed)
    names = []
    for i in range(n):
        arr = np.full((16, 16), 255, np.uint8)
        x, y, r = rng.randint(3, 13), rng.randint(3, 13), rng.randint(2, 5)
        yy, xx = np.mgrid[:16, :16]
        arr[(yy - y) ** 2 + (xx - x) ** 2 <= r * r] = rng.randint(0, 200)
        name = f"obj{i}__{i % 7}{i % 5}5.png" if i % 3 else f"a rather long object name {i}.png"
        Image.fromarray(arr).save(folder / name)
        names.append(name)
    return folder, names


def test_100_clusters_name_the_point_under_the_mouse_and_keep_caption_ends(chromium, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    photos, _ = _blobs(tmp_path / "photos", 500)
    run, summary, rows = _run(tmp_path, photos, 100)
    assert summary["k"] == 100
    open_report(chromium, run / "report.html")
    assert len(chromium.find_elements(By.CSS_SELECTOR, "#legend li")) == 100

    # points with no other within 6 pixels, hovered at their centre with the mouse
    canvas = chromium.find_element(By.ID, "map")
    xs, ys, cs, names, box, inner = chromium.execute_script(
        "const c = document.getElementById('map');"
        "return [data.x.map(v => v * (c.width - 8) + 4),"
        " data.y.map(v => (1 - v) * (c.height - 8) + 4),"
        " data.c, data.names, [c.offsetWidth, c.offsetHeight], [c.clientLeft, c.clientTop]];"
    )
    xy = np.array([xs, ys]).T
    d = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1)) + np.eye(len(xy)) * 1e9
    lonely = [i for i in np.argsort(d.min(axis=1))[::-1][:10]]
    assert d[lonely].min() > 6
    chromium.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
    for i in lonely:
        dx = round(xs[i] + inner[0] - box[0] / 2)
        dy = round(ys[i] + inner[1] - box[1] / 2)
        ActionChains(chromium).move_to_element_with_offset(canvas, dx, dy).perform()
        tip = chromium.find_element(By.ID, "tip")
        assert tip.is_displayed()
        assert tip.text == f"cluster {cs[i]}: {names[i]}"
        assert cs[i] == int(rows[i]["cluster"]) and names[i] == rows[i]["path"].rsplit("/", 1)[-1]
    save_page_screenshot(chromium, tmp_path / "hover.png", max_height=1200)
    ActionChains(chromium).move_to_element_with_offset(canvas, -box[0] // 2 + 2, 0).perform()

    # the legend highlights a cluster
    chromium.find_element(By.CSS_SELECTOR, "#legend li[data-cluster='57']").click()
    assert chromium.execute_script(
        "return Array.from(document.querySelectorAll('section.hit')).map(s => s.dataset.cluster)"
    ) == ["57"]

    # every caption: the whole name in its text and title, its last 8 characters shown
    show_every_gallery(chromium)
    captions = chromium.execute_script(
        "return Array.from(document.querySelectorAll('figcaption')).map(f => {"
        " const t = f.querySelector('.tail'), h = f.querySelector('.head');"
        " return [f.textContent, f.title, f.parentNode.querySelector('img').alt,"
        "  t.textContent, t.getBoundingClientRect().right - f.getBoundingClientRect().right,"
        "  t.scrollWidth - t.clientWidth, h.scrollWidth > h.clientWidth]; })"
    )
    assert len(captions) == len(rows)  # clusters of 5 or so: every image shown once
    assert sum(cut for *_, cut in captions) > 100  # long names are cut, at the head
    for text, title, alt, tail, overflow, clipped, _ in captions:
        assert text == alt and title.endswith("/" + alt)
        assert alt.endswith(tail) and len(tail) == min(8, len(alt))
        assert overflow <= 0.5 and clipped <= 0, (alt, overflow, clipped)
    save_page_screenshot(chromium, tmp_path / "captions.png", max_height=3000)
    logger.info("screenshots: %s", tmp_path)
    assert console_errors(chromium) == []


def test_a_run_without_scores_gets_them_from_its_features_or_shows_sizes(tmp_path):
    from kmeanskit.errors import RunFolderError
    from kmeanskit.report import build_report

    photos = _four_classes(tmp_path / "photos", n=10)
    run, summary, _ = _run(tmp_path, photos, 3)
    page = (run / "report.html").read_text()
    first = summary["cluster_quality"][0]["silhouette"]
    assert f"silhouette {first:.3f}" in page and 'id="worst-coherent"' in page
    del summary["cluster_quality"]  # a run of an earlier kmeanskit
    (run / "summary.json").write_text(json.dumps(summary))
    page = build_report(run).read_text()
    assert f"silhouette {first:.3f}" in page  # computed from features.npy
    (run / "features.npy").unlink()
    page = build_report(run).read_text()
    assert "silhouette 0." not in page and "least coherent first" not in page
    assert "Cluster 0: " in page
    summary["cluster_quality"] = [{"silhouette": "<b>"}] * 3  # damaged
    (run / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(RunFolderError, match="cluster_quality"):
        build_report(run)


def test_a_thumbnail_is_made_by_the_image_readers_decoders_only(tmp_path):
    import shutil

    from kmeanskit.report import build_report

    photos = _four_classes(tmp_path / "photos", n=3)
    run, _, rows = _run(tmp_path, photos, 2)
    swapped = rows[0]["path"]
    Image.new("RGB", (16, 16), "red").save(swapped, format="ICO")  # swapped after the run
    shutil.rmtree(run / "thumbs")
    page = build_report(run).read_text()
    assert '"missing": [0]' in page and not (run / "thumbs" / "t0.jpg").exists()
    assert len(list((run / "thumbs").iterdir())) == len(rows) - 1
