"""How fast a big report opens: 500 clusters over 20,000 small images.

Makes 20,000 pictures of 24 x 24 (random grey blobs), runs
``kmeanskit cluster DIR --k 500 --features pixels --size 12``, then opens the
``report.html`` in headless Chromium (Debian's ``chromium`` and ``chromium-driver``,
driven by Selenium) five times and prints the time to DOM ready
(``domContentLoadedEventEnd - startTime`` of the navigation entry) and to the load event.
Target: DOM ready under 3 seconds.

    python benchmarks/report_scale.py [--n 20000] [--k 500]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_images(folder: Path, n: int) -> None:
    from PIL import Image

    rng = np.random.RandomState(0)
    for i in range(n):
        arr = np.full((24, 24), 255, np.uint8)
        x, y, r = rng.randint(4, 20), rng.randint(4, 20), rng.randint(2, 6)
        yy, xx = np.mgrid[:24, :24]
        arr[(yy - y) ** 2 + (xx - x) ** 2 <= r * r] = rng.randint(0, 200)
        Image.fromarray(arr).save(folder / f"img {i:05d}.png")


def chromium():
    """Debian's headless Chromium, driven by Selenium."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1280,900",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
    ):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def open_times(page: Path, runs: int = 5) -> list[tuple[float, float]]:
    driver = chromium()
    out = []
    try:
        for _ in range(runs):
            driver.get("about:blank")
            driver.get(page.resolve().as_uri())
            deadline = time.perf_counter() + 60
            while driver.execute_script("return document.readyState") != "complete":
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"{page} did not finish loading in 60 s")
                time.sleep(0.01)
            nav = driver.execute_script(
                "const e = performance.getEntriesByType('navigation')[0];"
                "return [e.domContentLoadedEventEnd - e.startTime, e.loadEventEnd - e.startTime];"
            )
            out.append((nav[0] / 1000, nav[1] / 1000))
    finally:
        driver.quit()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--k", type=int, default=500)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kmeanskit-report-"))
    photos = work / "photos"
    photos.mkdir()
    start = time.perf_counter()
    make_images(photos, args.n)
    print(f"made {args.n} images in {time.perf_counter() - start:.0f} s")
    cmd = [
        sys.executable,
        "-m",
        "kmeanskit",
        "cluster",
        str(photos),
        "--k",
        str(args.k),
        "--features",
        "pixels",
        "--size",
        "12",
        "--out",
        str(work / "run"),
        "--no-cache",
    ]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    page = work / "run" / "report.html"
    print(
        f"cluster + report: {time.perf_counter() - start:.0f} s; report.html "
        f"{page.stat().st_size / 2**20:.1f} MiB"
    )
    times = open_times(page)
    dom = [t[0] for t in times]
    print("DOM ready (s):", ", ".join(f"{t:.2f}" for t in dom))
    print("load (s):     ", ", ".join(f"{t[1]:.2f}" for t in times))
    print(f"median DOM ready {np.median(dom):.2f} s (target < 3)")


if __name__ == "__main__":
    main()
