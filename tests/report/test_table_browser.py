"""The report of a table run in a real headless Chromium: the map with ids on hover,
the centres table, and ids that try to inject HTML shown as text only."""

import csv
import json
import time

import numpy as np
import pytest

pytest.importorskip("jinja2")
pytest.importorskip("PIL")  # the 'images' extra, which the run folder's writer needs

from kmeanskit.cli import main

NASTY_IDS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    'quote"double',
    "quote'single",
    "amp&lt;",
    "--><!--x",
    "<b>bold</b>",
    "é-ünïcode-日本",
]
FEATURES = ["weight", "length & width"]


def _wait(driver, script, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {script}")


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("table")
    rng = np.random.RandomState(0)
    data = folder / "items.csv"
    ids = NASTY_IDS + [f"item-{i}" for i in range(60 - len(NASTY_IDS))]
    with open(data, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", *FEATURES])
        for i, name in enumerate(ids):
            centre = (i % 3) * 10.0
            w.writerow([name, centre + rng.normal(0, 1), 100 + centre + rng.normal(0, 1)])
    run = folder / "run"
    assert (
        main(
            [
                "cluster",
                str(data),
                "--k",
                "2:5",
                "--id-column",
                "id",
                "--scale",
                "standard",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    return run, ids


def test_table_report_in_chromium(chromium, table_run, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    run, ids = table_run
    summary = json.loads((run / "summary.json").read_text())
    k = summary["k"]
    assert k == 3
    chromium.get("about:blank")
    chromium.get_log("browser")
    chromium.get((run / "report.html").resolve().as_uri())  # an alert() would stop here
    _wait(chromium, "return document.readyState === 'complete'")

    # the map is drawn: one point per row, and pixels painted
    drawn = chromium.execute_script(
        "const c = document.getElementById('map');"
        "const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "let painted = 0; for (let i = 3; i < px.length; i += 4) if (px[i] > 0) painted++;"
        "return [Number(c.dataset.drawn), painted];"
    )
    assert drawn[0] == 60 and drawn[1] > 100

    # hovering over a point shows its id, as text
    canvas = chromium.find_element(By.ID, "map")
    x, y, w, h = chromium.execute_script(
        "const c = document.getElementById('map');"
        "return [data.x[0] * (c.width - 8) + 4, (1 - data.y[0]) * (c.height - 8) + 4,"
        " c.width, c.height];"
    )
    # the whole canvas in view: an offset outside the view lands elsewhere
    chromium.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
    ActionChains(chromium).move_to_element_with_offset(
        canvas, int(x - w / 2), int(y - h / 2)
    ).perform()
    tip = _wait(
        chromium,
        "const t = document.getElementById('tip');"
        "return !t.classList.contains('hidden') && t.textContent",
    )
    hit = chromium.execute_script(f"return hitTest({x}, {y})")
    assert hit >= 0 and tip == f"{ids[hit]} (cluster {_cluster(run, hit)})"
    # every nasty id, through the page's own hit test and tooltip: text, never markup
    for i, name in enumerate(NASTY_IDS):
        shown = chromium.execute_script(
            f"const c = document.getElementById('map');"
            f"const px = data.x[{i}] * (c.width - 8) + 4,"
            f" py = (1 - data.y[{i}]) * (c.height - 8) + 4;"
            f"const j = hitTest(px, py); showTip(j, px, py);"
            f"return [j, document.getElementById('tip').textContent];"
        )
        # the nearest point: this one, or one drawn on the same spot
        assert shown[1] == f"{ids[shown[0]]} (cluster {_cluster(run, shown[0])})"
        tip = chromium.execute_script(
            f"showTip({i}, 10, 10); const t = document.getElementById('tip');"
            "return [t.textContent, t.children.length];"
        )
        assert tip == [f"{name} (cluster {_cluster(run, i)})", 0]
    assert chromium.execute_script("return data.ids.slice(0, 8)") == NASTY_IDS

    # the centres table: k rows, the feature names as headers
    headers = [th.text for th in chromium.find_elements(By.CSS_SELECTOR, "#centres thead th")]
    assert headers == ["cluster", "size", *FEATURES]
    body = chromium.find_elements(By.CSS_SELECTOR, "#centres tbody tr")
    assert len(body) == k
    sizes = [int(tr.find_elements(By.TAG_NAME, "td")[0].text) for tr in body]
    assert sizes == summary["cluster_sizes"]
    assert len(chromium.find_elements(By.CSS_SELECTOR, "#profile tbody tr")) == k
    assert chromium.find_elements(By.CSS_SELECTOR, "svg.kcurve")

    # no element made from an id: only the page's own tags, and its two scripts
    tags = set(
        chromium.execute_script(
            "return Array.from(document.querySelectorAll('body *')).map(e => e.tagName)"
        )
    )
    assert "B" not in tags and "IMG" not in tags
    assert chromium.execute_script("return document.querySelectorAll('script').length") == 2
    assert [e for e in chromium.get_log("browser") if e["level"] == "SEVERE"] == []
    chromium.save_screenshot(str(tmp_path / "table-report.png"))


def _cluster(run, i):
    with open(run / "assignments.csv", newline="", encoding="utf-8") as fh:
        return int(list(csv.DictReader(fh))[i]["cluster"])
