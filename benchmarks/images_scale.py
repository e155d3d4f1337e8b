"""The seed user's scale: 32,000 black-dot pictures of 200 x 200, clustered end to end.

Makes the images (white, with one to four black dots whose number and size set the
"kind", 8 kinds), then runs ``kmeanskit cluster DIR --out OUT`` with every default
(``--features auto --k auto``; a new, empty feature cache) as a child process and
reports its wall time, peak memory (the child's maximum resident set size), the k it
found and the accuracy against the kinds. Targets: under 15 minutes and under 3 GB on
the 2-core development machine.

    python benchmarks/images_scale.py                 # 32,000 images in a temp folder
    python benchmarks/images_scale.py --n 2000        # a quick look
    python benchmarks/images_scale.py --features svd  # the former default
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_images(folder: Path, n: int, seed: int = 0) -> list[int]:
    """``n`` PNGs of 200 x 200 in ``folder``; returns the kind of each (0-7)."""
    from PIL import Image, ImageDraw

    rng = np.random.RandomState(seed)
    kinds = []
    for i in range(n):
        kind = int(rng.randint(8))
        dots, radius = 1 + kind % 4, (6, 14)[kind // 4]
        img = Image.new("L", (200, 200), 255)
        draw = ImageDraw.Draw(img)
        for _ in range(dots):
            x, y = rng.randint(radius, 200 - radius, 2)
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=0)
        img.save(folder / f"img{i:05d}.png", optimize=False)
        kinds.append(kind)
    return kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=32000, help="number of images")
    parser.add_argument("--k", default="auto")
    parser.add_argument("--features", default="auto")
    parser.add_argument("--dir", help="work folder (default: a new temporary one)")
    args = parser.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="kmeanskit-scale-"))
    photos = work / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    kinds = make_images(photos, args.n)
    print(f"made {args.n} images of 200 x 200 in {time.perf_counter() - start:.0f} s: {photos}")

    cmd = [
        sys.executable,
        "-m",
        "kmeanskit",
        "cluster",
        str(photos),
        "--features",
        args.features,
        "--k",
        args.k,
        "--out",
        str(work / "out"),
        "--cache",
        str(work / "cache"),
        "--force",
    ]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB -> GiB
    print(done.stdout.strip())
    if done.returncode:
        print(done.stderr.strip(), file=sys.stderr)
        sys.exit(done.returncode)
    import csv

    from kmeanskit.metrics import evaluate

    with open(work / "out" / "assignments.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    truth = [kinds[int(Path(r["path"]).stem[3:])] for r in rows]
    found = [int(r["cluster"]) for r in rows]
    scores = evaluate(truth, found)
    print(
        f"\nkmeanskit cluster --features {args.features} --k {args.k}: {seconds / 60:.1f} min "
        f"(target < 15), peak memory {peak_gb:.2f} GiB (target < 3); k={len(set(found))} "
        f"(8 kinds), ACC {scores['accuracy']:.3f}, NMI {scores['nmi']:.3f}"
    )


if __name__ == "__main__":
    main()
