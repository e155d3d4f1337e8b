"""How fast the review page is on a big run: 500 clusters over 20,000 small images.

Makes 20,000 pictures of 24 x 24 (random grey blobs, as ``report_scale.py``), runs
``kmeanskit cluster DIR --k 500 --features pixels --size 12``, starts the review server
(:class:`kmeanskit.review.app.ReviewServer`) and opens its page in headless Chromium
(Debian's ``chromium`` and ``chromium-driver``, driven by Selenium) five times, printing
the time from navigation start to the page being interactive (``body[data-ready=1]``: the
clusters listed, the first cluster's grid and the map drawn). Then, from inside the page,
times 50 edit round trips (``fetch`` POST to ``/api/edit`` until its JSON is read: moves
of 20 images, renames, undo) and 50 "similar images" requests.

Targets: interactive under 1 s; an edit round trip under 100 ms.

    python benchmarks/review_scale.py [--n 20000] [--k 500]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report_scale import chromium, make_images

TIMED_EDITS = """
const done = arguments[arguments.length - 1];
const token = new URLSearchParams(location.search).get('token');
const headers = {'Content-Type': 'application/json', 'X-Kmeanskit-Token': token};
(async () => {
  const state = await (await fetch('/api/state', {headers})).json();
  const labels = state.labels;
  const times = [], similar = [];
  for (let i = 0; i < 50; i++) {
    let edit;
    if (i % 5 === 4) edit = {op: 'undo'};
    else if (i % 5 === 3) edit = {op: 'rename', cluster: i, name: 'cluster ' + i};
    else {
      const rows = [];
      for (let r = i * 20; r < i * 20 + 20; r++) rows.push(r);
      edit = {op: 'move', rows, to: (labels[i * 20] + 1) % state.clusters.length};
    }
    const t0 = performance.now();
    const answer = await fetch('/api/edit', {method: 'POST', headers, body: JSON.stringify(edit)});
    await answer.json();
    times.push(performance.now() - t0);
    const t1 = performance.now();
    await (await fetch('/api/similar/' + (i * 97) + '?n=12', {headers})).json();
    similar.push(performance.now() - t1);
  }
  done([times, similar]);
})();
"""


def interactive_ms(d, url: str) -> float:
    d.get("about:blank")
    d.get(url)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        ms = d.execute_script(
            "return document.body && document.body.dataset.ready === '1' ? "
            "(document.body.dataset.readyMs ? +document.body.dataset.readyMs : "
            "performance.now()) : null"
        )
        if ms is not None:
            return float(ms)
        time.sleep(0.005)
    raise RuntimeError("the page did not become ready in 30 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--k", type=int, default=500)
    args = parser.parse_args()
    from kmeanskit.review.app import ReviewServer

    with tempfile.TemporaryDirectory() as tmp:
        src, run = Path(tmp) / "images", Path(tmp) / "run"
        src.mkdir()
        make_images(src, args.n)
        command = [
            sys.executable,
            "-m",
            "kmeanskit",
            "cluster",
            str(src),
            "--k",
            str(args.k),
            "--features",
            "pixels",
            "--size",
            "12",
            "--out",
            str(run),
        ]
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        print(f"cluster: {args.n} images, k={args.k}: {time.perf_counter() - start:.1f} s")
        server = ReviewServer(run).start()
        d = chromium()
        try:
            opened = [interactive_ms(d, server.url) for _ in range(5)]
            print(
                "page interactive (ms, 5 loads): "
                + ", ".join(f"{v:.0f}" for v in opened)
                + f"; median {statistics.median(opened):.0f} (target < 1000)"
            )
            d.set_script_timeout(120)
            edits, similar = d.execute_async_script(TIMED_EDITS)
            q = statistics.quantiles(edits, n=20)
            print(
                f"edit round trip (ms, 50 edits from the page): median "
                f"{statistics.median(edits):.1f}, 95th percentile {q[-1]:.1f}, max "
                f"{max(edits):.1f} (target < 100)"
            )
            slow = max(range(len(edits)), key=edits.__getitem__)
            print(f"slowest edit: number {slow + 1} of 50 ({edits[slow]:.1f} ms)")
            print(
                f"similar images (ms, 50 requests): median {statistics.median(similar):.1f}, "
                f"max {max(similar):.1f}"
            )
            errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
            print(f"SEVERE console entries: {len(errors)}")
        finally:
            d.quit()
            server.stop()


if __name__ == "__main__":
    main()
