"""The harnesses' plain mode (``--plain``): a seeded mutation loop that needs no atheris.

Every finding is saved (``<artifact_prefix>crash-<sha1>``) and the loop goes on; file
arguments are replayed instead.
"""

from __future__ import annotations

import hashlib
import os
import random
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path


def _flag(name: str, default: str) -> str:
    for arg in sys.argv[1:]:
        if arg.startswith(f"-{name}="):
            return arg.split("=", 1)[1]
    return default


def run(check: Callable[[bytes], None], seeds: Callable[[], dict], mutate) -> None:
    """A plain mutation loop over the seeds and the corpus folders; every finding is
    saved (``<artifact_prefix>crash-<sha1>``) and the loop goes on."""
    files = [a for a in sys.argv[1:] if not a.startswith("-") and os.path.isfile(a)]
    if files:  # replay
        for name in files:
            check(Path(name).read_bytes())
            print(f"{name}: no finding")
        return
    limit = float(_flag("max_total_time", "60"))
    prefix = _flag("artifact_prefix", "./")
    rnd = random.Random(int(_flag("seed", "0")))
    pool = list(seeds().values())
    for folder in [a for a in sys.argv[1:] if not a.startswith("-") and os.path.isdir(a)]:
        pool += [p.read_bytes() for p in sorted(Path(folder).iterdir()) if p.is_file()]
    start, runs, found = time.monotonic(), 0, {}
    while time.monotonic() - start < limit:
        data = bytes(mutate(bytearray(rnd.choice(pool)), rnd))
        runs += 1
        try:
            check(data)
        except Exception as exc:
            key = (type(exc).__name__, traceback.extract_tb(exc.__traceback__)[-1][:2])
            if key not in found:
                found[key] = hashlib.sha1(data).hexdigest()
                Path(f"{prefix}crash-{found[key]}").write_bytes(data)
                print(f"FINDING {key}: {exc!r:.300}", file=sys.stderr)
                traceback.print_exc()
        if rnd.random() < 0.05:  # keep some mutants to mutate again
            pool.append(data)
    elapsed = time.monotonic() - start
    print(
        f"plain: {runs} runs in {elapsed:.0f} s ({runs / elapsed:.0f}/s), "
        f"{len(found)} distinct findings",
        file=sys.stderr,
    )


def mutate(
    data: bytearray,
    rnd: random.Random,
    tokens: list,
    *,
    header: int,
    max_len: int,
    replace: bool = False,
) -> bytearray:
    """One to four random edits of ``data``: flip a bit, insert random bytes, delete or
    duplicate a range, splice in one of ``tokens``, change one of the first ``header``
    bytes (the harness's mode bytes), and with ``replace`` put a token in place of a
    range (a JSON value); cut to ``max_len`` bytes."""
    for _ in range(rnd.randint(1, 4)):
        op = rnd.randrange(7 if replace else 6)
        at = rnd.randrange(len(data) + 1)
        if op == 0 and data:  # flip bits of a byte
            data[min(at, len(data) - 1)] ^= 1 << rnd.randrange(8)
        elif op == 1:  # insert random bytes
            data[at:at] = rnd.randbytes(rnd.randint(1, 8))
        elif op == 2 and data:  # delete a range
            del data[at : at + rnd.randint(1, 16)]
        elif op == 3:  # splice in a token
            data[at:at] = rnd.choice(tokens)
        elif op == 4 and data:  # duplicate a range
            end = min(len(data), at + rnd.randint(1, 64))
            data[at:at] = data[at:end]
        elif op == 5 and len(data) > header:  # another mode byte
            data[rnd.randrange(header)] = rnd.randrange(256)
        elif op == 6 and len(data) > header:  # replace a value with a token
            end = min(len(data), at + rnd.randint(1, 12))
            data[at:end] = rnd.choice(tokens)
    return data[:max_len]
