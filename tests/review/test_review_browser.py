"""`kmeanskit review` in a real headless Chromium: a user who knows the true object of every
COIL-20 image (its file name, objN__P.png) corrects an imperfect clustering (svd features,
k=20) with clicks and keys only (merge, move, move to a new cluster, undo and redo, rename),
until every cluster holds exactly one object; then the page is reloaded, the run exported
and an image predicted, and all of them show the edits."""

import collections
import logging
import re
import time

import pytest

pytest.importorskip("PIL")  # the 'images' extra
pytest.importorskip("jinja2")

from conftest import _find_shared_data
from kmeanskit.cli import main

logger = logging.getLogger(__name__)

OBJ = re.compile(r"obj(\d+)__")


def obj_of(name):
    return int(OBJ.search(name).group(1))


@pytest.fixture(scope="module")
def coil20():
    root = _find_shared_data()
    if root is None or not (root / "coil20" / "images").is_dir():
        pytest.skip("the shared COIL-20 images (../shared/data/coil20/images) are absent")
    return root / "coil20" / "images"


@pytest.fixture
def review_run(coil20, tmp_path):
    run = tmp_path / "run"
    args = ["cluster", str(coil20), "--features", "svd", "--k", "20", "--out", str(run)]
    assert main([*args, "--labels-from", r"obj(\d+)__"]) == 0
    return run


@pytest.fixture
def server(review_run):
    from kmeanskit.review.app import ReviewServer

    srv = ReviewServer(review_run, port=0)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


# ------------------------------------------------------------------ the page, as a user
class Page:
    """The review page in the driver: reads the DOM, acts by clicks and keys only."""

    def __init__(self, driver):
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        from selenium.webdriver.support.ui import Select

        self.d, self.AC, self.By, self.Keys, self.Select = driver, ActionChains, By, Keys, Select

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def wait(self, script, timeout=20.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            value = self.js(script)
            if value:
                return value
            time.sleep(0.03)
        raise AssertionError(f"timed out waiting for: {script}")

    def load(self, url):
        self.d.get(url)
        self.wait("return document.body && document.body.dataset.ready === '1'")

    def answers(self):
        return int(self.js("return Number(document.body.dataset.answers || 0)"))

    def wait_answer(self, before):
        """Wait for the edit sent after ``answers() == before`` to be answered, and check
        that the server took it."""
        self.wait(
            f"return Number(document.body.dataset.answers || 0) > {before}"
            " && document.body.dataset.busy === '0'"
        )
        status = self.d.find_element(self.By.ID, "status")
        assert "error" not in (status.get_attribute("class") or ""), status.text

    def clusters(self):
        """{id: (name, size)} of the cluster list, in its order."""
        items = self.js(
            "return Array.from(document.querySelectorAll('li.cluster')).map(li =>"
            " [Number(li.dataset.id), li.querySelector('.name').textContent,"
            " Number(li.querySelector('.size').textContent)])"
        )
        return {i: (name, size) for i, name, size in items}

    def li(self, cid):
        return self.d.find_element(self.By.CSS_SELECTOR, f'li.cluster[data-id="{cid}"]')

    def open(self, cid):
        """Click the cluster; its members, every page of them: [(row, file name)]."""
        self.AC(self.d, duration=0).click(self.li(cid)).perform()
        while True:
            more, tiles = self.js(
                "return [!document.getElementById('more').classList.contains('hidden'),"
                " Array.from(document.querySelectorAll('#grid .tile'))"
                ".map(t => [Number(t.dataset.row), t.title])]"
            )
            if not more:
                return [(r, t) for r, t in tiles]
            self.d.find_element(self.By.ID, "more").click()

    def tiles(self, rows):
        """The grid's tiles of ``rows`` (one round trip)."""
        found = self.js(
            'return arguments[0].map(r => document.querySelector(`#grid .tile[data-row="${r}"]`))',
            list(rows),
        )
        assert all(found), rows
        return found

    def select_tiles(self, rows):
        """A click on the first, Ctrl-clicks on the others: one round of actions."""
        tiles = self.tiles(rows)
        chain = self.AC(self.d, duration=0).click(tiles[0])
        if len(tiles) > 1:
            chain.key_down(self.Keys.CONTROL)
            for t in tiles[1:]:
                chain.click(t)
            chain.key_up(self.Keys.CONTROL)
        chain.perform()
        chosen = self.js(
            "return Array.from(document.querySelectorAll('#grid .tile.selected'))"
            ".map(t => Number(t.dataset.row))"
        )
        assert sorted(chosen) == sorted(rows), (sorted(chosen), sorted(rows))

    def move(self, rows, to):
        """Select ``rows`` in the open cluster and move them to cluster ``to`` (or "new");
        returns the id of the cluster they went to."""
        before_ids = set(self.clusters())
        self.select_tiles(rows)
        self.Select(self.d.find_element(self.By.ID, "move-to")).select_by_value(str(to))
        n = self.answers()
        self.d.find_element(self.By.ID, "move").click()
        self.wait_answer(n)
        if to != "new":
            return to
        (made,) = set(self.clusters()) - before_ids
        return made

    def merge(self, ids):
        """Click the first, Ctrl-click the others, then Merge: all go into the first."""
        chain = self.AC(self.d, duration=0).click(self.li(ids[0])).key_down(self.Keys.CONTROL)
        for cid in ids[1:]:
            chain.click(self.li(cid))
        chain.key_up(self.Keys.CONTROL).perform()
        n = self.answers()
        self.d.find_element(self.By.ID, "merge").click()
        self.wait_answer(n)

    def rename(self, cid, name):
        """Double-click the name, type the new one, Enter."""
        target = self.li(cid).find_element(self.By.CSS_SELECTOR, ".name")
        self.AC(self.d, duration=0).double_click(target).perform()
        box = self.d.find_element(self.By.ID, "rename-input")
        n = self.answers()
        box.send_keys(self.Keys.CONTROL, "a")
        box.send_keys(name, self.Keys.ENTER)
        self.wait_answer(n)

    def keys(self, *combo):
        """Press a key combination on the page (modifiers first)."""
        chain = self.AC(self.d, duration=0)
        for k in combo[:-1]:
            chain.key_down(k)
        chain.send_keys(combo[-1])
        for k in reversed(combo[:-1]):
            chain.key_up(k)
        n = self.answers()
        chain.perform()
        self.wait_answer(n)

    def read_all(self):
        """{id: (name, [file names])} of every cluster, opening each in turn."""
        names = {cid: name for cid, (name, _) in self.clusters().items()}
        return {cid: (name, [t for _, t in self.open(cid)]) for cid, name in names.items()}


def majority(files):
    return collections.Counter(obj_of(f) for f in files).most_common(1)[0][0]


def play_user(page):
    """Correct the clustering until every cluster holds one object; returns
    {cluster id: object}."""
    content = page.read_all()
    assert -1 not in content

    def same_majority():
        by_obj = collections.defaultdict(list)
        for cid, (_, files) in content.items():
            by_obj[majority(files)].append(cid)
        groups = [sorted(g, key=lambda c: -len(content[c][1])) for g in by_obj.values()]
        return [g for g in groups if len(g) > 1]

    # 1. merge the clusters whose majority is the same object, into the largest; when
    #    there are none, merge the two smallest anyway (moving fixes the result)
    groups = same_majority() or [sorted(content, key=lambda c: len(content[c][1]))[:2]]
    while groups:
        for g in groups:
            page.merge(g)
        content = page.read_all()
        groups = same_majority()
    owner = {}
    for cid, (_, files) in content.items():
        owner[majority(files)] = cid
    assert len(owner) == len(content)

    # 2. move each image that is not in its object's cluster; "new cluster" for an
    #    object without one; undo and redo the first move
    own = {cid: obj for obj, cid in owner.items()}
    undo_checked = False
    for cid in list(content):
        foreign = collections.defaultdict(list)
        for row, name in page.open(cid):
            if obj_of(name) != own[cid]:
                foreign[obj_of(name)].append(row)
        for obj, rows in sorted(foreign.items()):
            before = page.clusters()
            target = owner.get(obj, "new")
            owner[obj] = page.move(rows, target)
            after = page.clusters()
            assert after[cid][1] == before[cid][1] - len(rows)
            shown = {r for r, _ in page.open(cid)}
            assert not shown & set(rows)
            if not undo_checked:
                undo_checked = True
                page.keys(page.Keys.CONTROL, "z")
                assert page.clusters() == before
                assert set(rows) <= {r for r, _ in page.open(cid)}
                page.keys(page.Keys.CONTROL, page.Keys.SHIFT, "z")
                assert page.clusters() == after
                assert not {r for r, _ in page.open(cid)} & set(rows)
    assert undo_checked

    # 3. name every cluster after its object
    for obj, cid in sorted(owner.items()):
        page.rename(cid, f"object {obj}")
    return {cid: obj for obj, cid in owner.items()}


def check_page(page, expect, by_obj):
    """Every cluster of the page is named after its object and holds exactly its files."""
    shown = page.read_all()
    assert set(shown) == set(expect)
    for cid, (name, files) in shown.items():
        obj = expect[cid]
        assert name == f"object {obj}"
        assert sorted(files) == sorted(by_obj[obj])


def look_around(page, expect):
    """The views that edit nothing: similar images, near-duplicates, the map."""
    from selenium.webdriver.common.actions.wheel_input import ScrollOrigin

    d, By, Keys = page.d, page.By, page.Keys
    cid = next(iter(expect))
    members = page.open(cid)
    # double-click an image: its larger view and its similar images, mostly its object
    page.AC(d, duration=0).double_click(page.tiles([members[0][0]])[0]).perform()
    page.wait("return document.querySelectorAll('#similar .tile[data-row]').length === 12")
    similar = d.find_elements(By.CSS_SELECTOR, "#similar .tile[data-row]")
    names = [t.get_attribute("title") for t in similar]
    assert sum(obj_of(n) == expect[cid] for n in names) >= 6, names
    assert members[0][1] not in names
    similar[0].click()  # a similar image opens in its turn
    page.wait(f"return document.getElementById('detail-name').textContent === {names[0]!r}")
    page.wait(
        "const i = document.querySelector('#detail-view img');"
        " return i && i.complete && i.naturalWidth > 0 && i.src.includes('full=1')"
    )

    # near-duplicates: groups of 2+ images, more of them as the slider grows
    d.find_element(By.ID, "dups").click()
    page.wait("return document.getElementById('dup-count').dataset.rows !== undefined")
    low = int(d.find_element(By.ID, "dup-count").get_attribute("data-rows"))
    d.find_element(By.ID, "dup-threshold").send_keys(Keys.END)
    page.wait(f"return Number(document.getElementById('dup-count').dataset.rows) > {low}")
    groups = page.js(
        "return Array.from(document.querySelectorAll('#dup-groups .group'))"
        ".map(g => g.querySelectorAll('.tile[data-row]').length)"
    )
    assert groups and min(groups) >= 2

    # the map: Shift+drag over all of it selects every image; zoomed in, thumbnails
    canvas = d.find_element(By.ID, "map")
    side = canvas.size["width"]
    corner = -side // 2 + 1
    chain = page.AC(d, duration=0).move_to_element_with_offset(canvas, corner, corner)
    chain.key_down(Keys.SHIFT).click_and_hold().move_by_offset(side - 2, side - 2).release()
    chain.key_up(Keys.SHIFT).perform()
    assert d.find_element(By.ID, "selection").text == "1440 selected"
    assert d.find_element(By.ID, "grid-title").text.endswith("1440")
    page.AC(d, duration=0).send_keys(Keys.ESCAPE).perform()  # closes the image's panel
    assert not d.find_element(By.ID, "detail").is_displayed()
    page.AC(d, duration=0).send_keys(Keys.ESCAPE).perform()  # then clears the selection
    assert d.find_element(By.ID, "selection").text == ""
    origin = ScrollOrigin.from_element(canvas)
    for _ in range(40):
        page.AC(d, duration=0).scroll_from_origin(origin, 0, -200).perform()
        if page.js("return document.getElementById('map').dataset.thumbs === '1'"):
            break
    page.wait("return document.getElementById('map').dataset.thumbs === '1'")
    assert 0 < int(canvas.get_attribute("data-visible")) < 300


def test_review_by_clicks_and_keys(chromium, server, review_run, coil20, tmp_path, capsys):
    start = time.monotonic()
    files = sorted(p.name for p in coil20.iterdir() if OBJ.search(p.name))
    by_obj = collections.defaultdict(list)
    for f in files:
        by_obj[obj_of(f)].append(f)
    assert len(by_obj) == 20

    page = Page(chromium)
    chromium.get("about:blank")
    chromium.get_log("browser")  # drop what came before
    page.load(server.url)
    assert len(page.clusters()) == 20
    expect = play_user(page)
    assert sorted(expect.values()) == sorted(by_obj)
    check_page(page, expect, by_obj)

    # a reload shows the edits: the server kept them
    page.load(server.url)
    check_page(page, expect, by_obj)
    look_around(page, expect)
    severe = [e for e in chromium.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []
    chromium.save_screenshot(str(tmp_path / "review.png"))
    logger.info("review: %.1f s in the browser", time.monotonic() - start)

    # the export: one folder per cluster, named after it, holding its object's files
    out = tmp_path / "export"
    assert main(["export", str(review_run), "--out", str(out)]) == 0
    folders = {p.name: sorted(f.name for f in p.iterdir()) for p in out.iterdir() if p.is_dir()}
    assert folders == {f"object {obj}": sorted(names) for obj, names in by_obj.items()}

    # predict names the cluster of a training image
    image = coil20 / by_obj[7][0]
    capsys.readouterr()
    assert main(["predict", str(review_run), str(image)]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "name object 7" in line.split("\t"), line


def test_review_table_run_shows_rows_as_text(chromium, tmp_path):
    """A table run from an older kmeanskit (no features.npy, no map.npy): rows as text
    tiles (hostile ids stay text), no map, split and near-duplicates off, a rename and a
    move by clicks, and no image requested."""
    import numpy as np

    rng = np.random.RandomState(0)
    ids = [f"<img src=x onerror=alert({i})> row {i}" for i in range(90)]
    table = tmp_path / "t.csv"
    with open(table, "w", encoding="utf-8") as fh:
        fh.write("id,a,b\n")
        for i, name in enumerate(ids):
            a, b = rng.normal(0, 0.3, 2) + (i % 3) * 5
            fh.write(f'"{name}",{a:.4f},{b:.4f}\n')
    run = tmp_path / "run"
    assert main(["cluster", str(table), "--k", "3", "--id-column", "id", "--out", str(run)]) == 0
    for name in ("features.npy", "map.npy"):
        (run / name).unlink(missing_ok=True)

    from kmeanskit.review.app import ReviewServer

    srv = ReviewServer(run, port=0).start()
    try:
        page = Page(chromium)
        chromium.get("about:blank")
        chromium.get_log("browser")
        page.load(srv.url)
        assert sorted(size for _, size in page.clusters().values()) == [30, 30, 30]
        cid = next(iter(page.clusters()))
        members = page.open(cid)
        assert {name for _, name in members} <= set(ids)
        texts = page.js(
            "return Array.from(document.querySelectorAll('#grid .tile .text'))"
            ".map(t => t.textContent)"
        )
        assert sorted(texts) == sorted(name for _, name in members)
        assert page.js("return document.querySelectorAll('#grid img, #similar img').length") == 0
        By = page.By
        assert not chromium.find_element(By.ID, "map").is_displayed()
        assert chromium.find_element(By.ID, "map-none").is_displayed()
        assert not chromium.find_element(By.ID, "split").is_enabled()
        assert not chromium.find_element(By.ID, "dups").is_enabled()
        page.AC(chromium, duration=0).double_click(page.tiles([members[1][0]])[0]).perform()
        note = chromium.find_element(By.ID, "similar-note")
        assert note.is_displayed() and "no features" in note.text
        page.rename(cid, "<b>first</b>")
        assert page.clusters()[cid][0] == "<b>first</b>"
        other = next(c for c in page.clusters() if c != cid)
        page.move([members[0][0]], other)
        assert page.clusters()[cid][1] == 29
        assert page.js("return document.querySelectorAll('b, img').length") == 0
        assert [e for e in chromium.get_log("browser") if e["level"] == "SEVERE"] == []
    finally:
        srv.stop()
