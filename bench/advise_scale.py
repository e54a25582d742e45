"""``study advise`` at scale: N × 768 float32 vectors advised end to end, timed, with the peak memory of the run.

    python -m bench.advise_scale                          # N = 100k, 300k, 1M, one after the other
    python -m bench.advise_scale --sizes 100000           # one size
    python -m bench.advise_scale --resume                 # continue a stopped run from its per-configuration cache

**Data.** Vectors drawn from the Gaussian mixture ``bench.pool`` fits to MPNet's (``mpnet-base``, 768-d) pooled
real embeddings (``FittedGenerator``; the embedding cache is ``STUDY_CACHE_DIR``'s, the full profile's): the
documents are the first N rows of stream 0 (so the corpus of a smaller N is the start of a larger one's), the
1,000 queries are stream 1, a separate file (``--queries``), so the index is exactly N documents. Both are
written once as float32 ``.npy`` under ``--workdir`` (default ``build/bench/advise-scale/``, ignored by git) and
read memory-mapped by advise.

**Run.** ``python -m study.cli advise docs.npy --queries queries.npy --n N --ram 512MiB --threads 2 --out
<workdir>/n<N>/out`` in its own process, under ``nice``, with a fit cache of its own (``STUDY_CACHE_DIR`` =
``<workdir>/n<N>/cache``): a fresh run starts with both empty, so the codecs are trained, not looked up. Measured:
the wall time, the peak resident set of advise with the process that trains its PQ codecs ahead (their sum,
sampled from ``/proc`` every half second, or ``os.wait4``'s ``ru_maxrss`` of the largest where that is higher; the
latter is kept too), the load average before and after,
and, from the run's ``timings.csv``, the seconds of each grid step (``STEPS``); ``other`` is the rest of the wall
time (reading and checking the vectors, the exact reference, the analysis, the outputs). ``--resume`` keeps the
folder: advise computes only the configurations not yet in its cache, and the case is marked ``resumed`` (its
time covers the last attempt only). Rows of benchmark ``advise_scale`` go to ``results/bench.csv``; ``python -m
bench.summary`` writes their tables into ``docs/benchmarks.md``. Target on 2 cores: 1M in ≤ 30 min, ≤ 8 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import make_rows, write_rows
from study.advise.report import MANIFEST
from study.core.io import atomic_path

BENCHMARK = "advise_scale"
REPO = Path(__file__).resolve().parents[1]
MODEL = "mpnet-base"
SIZES = [100_000, 300_000, 1_000_000]
QUERIES = 1000
RAM = "512MiB"
THREADS = 2
SAMPLE_S = 0.5
DOC_STREAM, QUERY_STREAM = 0, 1
STEPS = {"rescore": "two-tier", "reducer": "PCA", "rabitq": "RaBitQ", "turboquant": "TurboQuant", "osq": "OSQ",
         "opq": "OPQ", "pq": "PQ / fast-scan", "binary_centred": "binary fixes", "binary_rotated": "binary fixes"}
"""A configuration's step: two-tier if it rescores, PCA if reduced, else by its format's prefix (the first that
matches, in this order); any other format is a number format."""
NUMBER_FORMATS = "number formats"


def step_of(config_id: str) -> str:
    """The grid step of a configuration id (``...|reducer=pca|...|format=int8|...``)."""
    fields = dict(part.split("=", 1) for part in config_id.split("|") if "=" in part)
    if fields.get("rescore", "none") != "none":
        return STEPS["rescore"]
    if fields.get("reducer", "none") != "none":
        return STEPS["reducer"]
    fmt = fields.get("format", "")
    return next((step for prefix, step in STEPS.items() if fmt.startswith(prefix)), NUMBER_FORMATS)


def step_seconds(timings: pd.DataFrame) -> pd.Series:
    """Seconds per grid step (a unit's reducer fit counted in its step) from advise's ``timings.csv``."""
    if timings.empty:
        return pd.Series(dtype=float)
    steps = timings.configuration.map(step_of)
    return timings.seconds.groupby(steps, sort=False).sum()


def write_vectors(path: Path, n: int, stream: int) -> Path:
    """``n`` vectors of the fitted mixture's ``stream`` as a float32 ``.npy`` (kept when already there)."""
    if path.exists() and np.load(path, mmap_mode="r").shape == (n, 768):
        return path
    from bench.pool import generator

    vectors = generator(MODEL).sample(n, stream=stream)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=vectors.shape)
        out[:] = vectors
        out.flush()
        del out
    return path


def advise_command(docs: Path, queries: Path, n: int, out: Path, threads: int) -> list[str]:
    """The advise run of one size, under ``nice``."""
    return ["nice", "-n", "10", sys.executable, "-m", "study.cli", "advise", str(docs), "--queries", str(queries),
            "--n", str(n), "--ram", RAM, "--threads", str(threads), "--out", str(out)]


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants now (``/proc``; 0 for one that is gone)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")) * 1024
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total


def timed(command: list[str], env: dict[str, str], log: Path) -> dict[str, float]:
    """Wall seconds, the largest process's peak resident bytes (``ru_maxrss``: the run's, or its training process's),
    the peak of their sum (sampled every ``SAMPLE_S``) and the exit status of a command; its output in ``log``."""
    start = time.perf_counter()
    peak = [0]
    with open(log, "ab") as fh:
        child = subprocess.Popen(command, env=env, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT)
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(SAMPLE_S):
                peak[0] = max(peak[0], tree_rss(child.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        stop.set()
        sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": time.perf_counter() - start, "peak_rss": usage.ru_maxrss * 1024, "peak_tree_rss": peak[0],
            "code": child.returncode}


def measure(n: int, workdir: Path, threads: int, resume: bool) -> list[dict]:
    """One size advised end to end (module docstring): its rows."""
    docs = write_vectors(workdir / "data" / f"docs-{n}.npy", n, DOC_STREAM)
    queries = write_vectors(workdir / "data" / f"queries-{QUERIES}.npy", QUERIES, QUERY_STREAM)
    folder = workdir / f"n{n}"
    if not resume and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    env = os.environ | {"STUDY_CACHE_DIR": str(folder / "cache"), "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    before = os.getloadavg()[0]
    run = timed(advise_command(docs, queries, n, folder / "out", threads), env, folder / "advise.log")
    seconds, peak, code = run["seconds"], max(run["peak_rss"], run["peak_tree_rss"]), run["code"]
    after = os.getloadavg()[0]
    if code:
        raise SystemExit(f"advise failed at N={n} (exit {code}); see {folder / 'advise.log'}")
    manifest = json.loads((folder / "out" / MANIFEST).read_text())
    steps = step_seconds(pd.read_csv(folder / "out" / "timings.csv"))
    case = f"n={n},d=768,queries={QUERIES},threads={threads}" + (",resumed" if manifest["from_cache"] else "")
    rows = [{"case": case, "metric": m, "value": v, "unit": u} for m, v, u in (
        ("wall_seconds", seconds, "s"), ("peak_rss_bytes", peak, "bytes"),
        ("largest_process_peak_rss_bytes", run["peak_rss"], "bytes"), ("load_avg_before", before, "load"),
        ("load_avg_after", after, "load"), ("configurations", manifest["configurations"], "count"),
        ("computed", manifest["computed"], "count"), ("from_cache", manifest["from_cache"], "count"),
        ("docs_bytes", docs.stat().st_size, "bytes"), ("cores", os.cpu_count() or 1, "cores"))]
    rows += [{"case": f"{case},step={step}", "metric": "seconds", "value": float(s), "unit": "s"}
             for step, s in steps.items()]
    rows.append({"case": f"{case},step=other", "metric": "seconds", "value": seconds - float(steps.sum()), "unit": "s"})
    print(f"N={n:,}: {seconds / 60:.1f} min, peak {peak / 2**30:.2f} GiB, load {before:.1f} -> {after:.1f}; "
          + ", ".join(f"{step} {s:.0f} s" for step, s in steps.items()), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--workdir", type=Path, default=REPO / "build" / "bench" / "advise-scale")
    parser.add_argument("--resume", action="store_true", help="keep each size's folder: finish a stopped run")
    args = parser.parse_args(argv)
    for n in args.sizes:
        write_rows(make_rows(BENCHMARK, measure(n, args.workdir, args.threads, args.resume)), only_cases=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
