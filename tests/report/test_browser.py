"""report.html in a real headless Chromium: the COIL-20 run, and file names that try to
inject HTML. A screenshot of each page is kept under the test's temp folder."""

import base64
import csv
import json
import logging
import time

import pytest

pytest.importorskip("PIL")  # the 'images' extra; installed in CI
pytest.importorskip("jinja2")
from PIL import Image

from kmeanskit.cli import main

logger = logging.getLogger(__name__)


def _wait(driver, script, timeout=20.0):
    """Poll ``script`` (returning a truthy value when done) until it holds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {script}")


def open_report(driver, page):
    driver.get("about:blank")
    driver.get_log("browser")  # drop what came before
    driver.get(page.resolve().as_uri())
    _wait(driver, "return document.readyState === 'complete'")


def console_errors(driver):
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def show_every_gallery(driver):
    """Scroll down the whole page as a user would, until every section's gallery is
    built, then wait for every image; returns the number of sections."""
    n = driver.execute_script("return document.querySelectorAll('section.cluster').length")
    height = driver.execute_script("return document.body.scrollHeight")
    y = 0
    while y <= height:
        driver.execute_script(f"window.scrollTo(0, {y})")
        time.sleep(0.02)
        y += 600
        height = driver.execute_script("return document.body.scrollHeight")
    _wait(
        driver,
        "return Array.from(document.querySelectorAll('section.cluster'))"
        ".every(s => s.dataset.filled === '1')",
    )
    _wait(driver, "return Array.from(document.images).every(i => i.complete)")
    driver.execute_script("window.scrollTo(0, 0)")
    return n


def save_page_screenshot(driver, path, max_height=5000):
    """The whole page (up to ``max_height`` pixels down) as a PNG, through Chromium's
    DevTools protocol (a plain screenshot holds only the window)."""
    width, height = driver.execute_script(
        "return [document.documentElement.scrollWidth, document.body.scrollHeight]"
    )
    clip = {"x": 0, "y": 0, "width": width, "height": min(height, max_height), "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"captureBeyondViewport": True, "clip": clip}
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def images_state(driver):
    return driver.execute_script(
        "return Array.from(document.images).map(i => [i.alt, i.naturalWidth, i.title])"
    )


def visible_clusters(driver):
    return set(
        driver.execute_script(
            "return Array.from(document.querySelectorAll('section.cluster'))"
            ".filter(s => s.offsetParent !== null).map(s => Number(s.dataset.cluster))"
        )
    )


def type_search(driver, text):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element(By.ID, "search")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE)
    if text:
        box.send_keys(text)


def test_coil20_report_in_chromium(chromium, shared_data, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    run = tmp_path / "run"
    assert (
        main(
            [
                "cluster",
                str(shared_data / "coil20" / "images"),
                "--k",
                "20",
                "--features",
                "pixels",
                "--size",
                "32",
                "--labels-from",
                r"obj(\d+)__",
                "--out",
                str(run),
                "--link",
                "--no-cache",
            ]
        )
        == 0
    )
    summary = json.loads((run / "summary.json").read_text())
    with open(run / "assignments.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1440 and summary["k"] == 20
    open_report(chromium, run / "report.html")

    # one section per cluster, each gallery built and every image loaded
    assert show_every_gallery(chromium) == 20
    imgs = images_state(chromium)
    # 18 nearest and farthest, and a random sample of up to 12 others
    shown = sum(min(size, 18) + min(max(size - 18, 0), 12) for size in summary["cluster_sizes"])
    assert len(imgs) == shown
    assert all(width > 0 for _, width, _ in imgs), [a for a, w, _ in imgs if w == 0]

    # the map is drawn: one point per image, and pixels painted
    drawn = chromium.execute_script(
        "const c = document.getElementById('map');"
        "const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "let painted = 0; for (let i = 3; i < px.length; i += 4) if (px[i] > 0) painted++;"
        "return [Number(c.dataset.drawn), painted];"
    )
    assert drawn[0] == 1440 and drawn[1] > 1000

    # the search box filters the clusters to those holding a match, and lists matches
    type_search(chromium, "OBJ7__")
    expect = {int(r["cluster"]) for r in rows if "obj7__" in r["path"].rsplit("/", 1)[-1]}
    assert visible_clusters(chromium) == expect
    assert len(chromium.find_elements(By.CSS_SELECTOR, "#matches li")) == 20
    assert "72 files match" in chromium.find_element(By.ID, "found").text
    type_search(chromium, "no such file")
    assert visible_clusters(chromium) == set()
    type_search(chromium, "")
    assert visible_clusters(chromium) == set(range(20))

    shot = tmp_path / "report.png"
    save_page_screenshot(chromium, shot)
    logger.info("screenshot of the COIL-20 report: %s", shot)
    with Image.open(shot) as im:
        assert im.size[0] >= 1000 and im.size[1] > 3000

    # a click on a point of the map highlights that point's cluster
    canvas = chromium.find_element(By.ID, "map")
    x, y, c, w, h = chromium.execute_script(
        "const c = document.getElementById('map');"
        "return [data.x[0] * (c.width - 8) + 4, (1 - data.y[0]) * (c.height - 8) + 4, data.c[0],"
        " c.width, c.height];"
    )
    chromium.execute_script("window.scrollTo(0, 0)")
    ActionChains(chromium).move_to_element_with_offset(
        canvas, int(x - w / 2), int(y - h / 2)
    ).click().perform()
    hit = chromium.execute_script(
        "return Array.from(document.querySelectorAll('section.hit')).map(s => s.dataset.cluster)"
    )
    assert hit == [str(c)]
    save_page_screenshot(chromium, tmp_path / "highlighted.png")
    assert console_errors(chromium) == []


NASTY = [
    "with space.png",
    'quote"double.png',
    "quote'single.png",
    "<script>alert(1)<\\script>.png",
    "<img src=x onerror=alert(2)>.png",
    "--><!--x.png",
    "<b>bold<b>.png",
    "é-ünïcode-日本.png",
    "amp&lt;.png",
]


def test_nasty_names_show_as_text_in_chromium(chromium, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i, name in enumerate(NASTY):
        Image.new("L", (16, 16), 20 if i % 2 else 230).save(photos / name, "PNG")
    run = tmp_path / "run"
    assert (
        main(
            [
                "cluster",
                str(photos),
                "--k",
                "2",
                "--features",
                "pixels",
                "--size",
                "8",
                "--out",
                str(run),
                "--no-cache",
            ]
        )
        == 0
    )
    open_report(chromium, run / "report.html")
    show_every_gallery(chromium)  # an alert() would stop selenium here
    imgs = images_state(chromium)
    assert sorted(alt for alt, _, _ in imgs) == sorted(NASTY)
    assert all(width > 0 for _, width, _ in imgs)
    assert {title.rsplit("/", 1)[-1] for _, _, title in imgs} == set(NASTY)
    captions = chromium.execute_script(
        "return Array.from(document.querySelectorAll('figcaption')).map(f => f.textContent)"
    )
    assert sorted(captions) == sorted(NASTY)
    # no element made from a name: only the page's own tags
    tags = set(
        chromium.execute_script(
            "return Array.from(document.querySelectorAll('body *')).map(e => e.tagName)"
        )
    )
    assert "B" not in tags and tags <= {
        "H1",
        "H2",
        "H3",
        "SECTION",
        "TABLE",
        "TBODY",
        "TR",
        "TH",
        "TD",
        "P",
        "CANVAS",
        "SVG",
        "RECT",
        "TITLE",
        "DIV",
        "INPUT",
        "SPAN",
        "OL",
        "LI",
        "A",
        "FIGURE",
        "IMG",
        "FIGCAPTION",
        "SCRIPT",
        "POLYLINE",
        "LINE",
        "TEXT",
        "svg",
        "rect",
        "title",
        "polyline",
        "line",
        "text",
        "UL",
        "BR",
        "BUTTON",
        "SELECT",
        "OPTION",
        "LABEL",
    }
    assert chromium.execute_script("return document.querySelectorAll('script').length") == 2
    type_search(chromium, "<SCRIPT>")
    assert chromium.find_element("id", "found").text.startswith("1 file matches, in 1 cluster")
    assert console_errors(chromium) == []
    save_page_screenshot(chromium, tmp_path / "nasty.png")
