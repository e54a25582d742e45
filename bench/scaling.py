"""Scaling of exact search with corpus size: time, peak memory and the fraction of the machine's GEMM peak.

    python -m bench.scaling              # N = 10k, 100k, 1M; d = 384, 768; 1,000 queries; 5 formats; 4 GiB
    python -m bench.scaling --quick      # N = 10k only (seconds)
    python -m bench.scaling --sizes 10000 100000 --dims 384 --budget 1GiB --keep

Corpora are synthetic unit vectors (seeded) with planted relevant documents: each query has
``--planted`` documents at cosine ``--cosine`` to it, placed among the first ``min(sizes)`` rows, so
every corpus holds the same task and larger ones add distractors. The float32 corpus is written
block by block to a ``.npy`` file; each compressed copy is produced from it block by block
(``study.streaming.quantize_in_blocks``), so no step holds a corpus in memory.

Each case (format × dims × N) runs in its own process, which memory-maps the stored corpus, runs
``study.streaming.stream_search`` (``stream_search_hamming`` on the packed bits for ``binary``) with
the budget left after its own start-up, and reports:

* ``wall_time_s`` — the search alone (``time.perf_counter``), queries already encoded;
* ``peak_rss_bytes`` — the process's peak resident set, read in the process right after the search
  from the kernel's high-water mark ``VmHWM`` in ``/proc/self/status``: interpreter, libraries, BLAS
  buffers, the memory-mapped pages of the block being scored, and the search's own arrays; compared
  with ``--budget``. (Not ``getrusage(...).ru_maxrss``: Linux carries the parent's peak over
  fork + exec into it, so a child would report at least the parent's peak, here the corpus
  generation's.) No swap is involved: the machine has none, so the peak is all in RAM;
* ``fraction_of_gemm_peak`` — multiply-adds per second of the search (queries × N × dims; for
  ``binary`` one bit-operation per dimension) divided by the rate of a float32 GEMM of the search's
  block shape (queries × dims by dims × block rows, in memory, best of ``--gemm-repeats``), timed in
  the same process right after the search: the physical limit the blocked search runs against.

Per format and dims, the exponent of time against N is fitted by least squares on log-log axes.
Rows go to ``results/bench.csv`` (benchmark ``scaling``; other benchmarks' rows are kept) and the
figure to ``figures/bench/scaling.{pdf,png}``. Timings depend on the machine and its load; the load
average at the start and end of the run is recorded beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bench.common import machine_description, make_rows, write_rows
from study.io import write_json_atomic
from study.models import normalise
from study.paths import REPO_ROOT
from study.quantize import Quantized, calibrate, get_format, quantize
from study.scaling import BENCHMARK, case_name, scaling_report
from study.streaming import (
    MIN_QUERY_ROWS,
    plan_blocks,
    quantize_in_blocks,
    release_pages,
    stream_search,
    stream_search_hamming,
)
from study.tradeoff import format_bytes, parse_budget

FORMATS = ["float32", "float16", "float8_e4m3", "int8", "binary"]
SIZES = [10_000, 100_000, 1_000_000]
DIMS = [384, 768]
GEN_ROWS = 1 << 16  # rows generated (and compressed) per block
DATA_VERSION = 1


# --- synthetic corpora ----------------------------------------------------------------------------


def _spec(args: argparse.Namespace, dims: int) -> dict:
    return {"version": DATA_VERSION, "dims": dims, "n_docs": max(args.sizes), "n_queries": args.queries,
            "planted": args.planted, "planted_among": min(args.sizes), "cosine": args.cosine, "seed": args.seed}


def generate(folder: Path, spec: dict) -> None:
    """Write ``docs.npy`` (random unit vectors + planted ones), ``queries.npy`` and ``planted.npy``."""
    dims, n, seed = spec["dims"], spec["n_docs"], spec["seed"]
    folder.mkdir(parents=True, exist_ok=True)
    queries = normalise(np.random.default_rng([seed, dims, 1]).standard_normal((spec["n_queries"], dims),
                                                                                 dtype=np.float32))
    rng = np.random.default_rng([seed, dims, 2])
    if spec["n_queries"] * spec["planted"] > spec["planted_among"]:
        raise SystemExit("--queries × --planted must not exceed the smallest corpus size")
    planted = rng.choice(spec["planted_among"], size=(spec["n_queries"], spec["planted"]), replace=False)
    noise = normalise(rng.standard_normal(planted.shape + (dims,), dtype=np.float32).reshape(-1, dims))
    c = np.float32(spec["cosine"])
    relevant = normalise(c * np.repeat(queries, spec["planted"], axis=0) + np.sqrt(1 - c * c) * noise)
    tmp = folder / "docs.npy.tmp"
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, dims))
    for start in tqdm(range(0, n, GEN_ROWS), desc=f"corpus d={dims}", unit="block"):
        rows = min(GEN_ROWS, n - start)
        out[start : start + rows] = normalise(
            np.random.default_rng([seed, dims, 3, start]).standard_normal((rows, dims), dtype=np.float32))
        release_pages(out[start : start + rows])
    out[planted.ravel()] = relevant
    out.flush()
    del out
    os.replace(tmp, folder / "docs.npy")
    np.save(folder / "queries.npy", queries)
    np.save(folder / "planted.npy", planted)
    write_json_atomic(folder / "spec.json", spec)


def compress(folder: Path, fmt: str, calibration_rows: int) -> float:
    """Write ``<fmt>.npy`` block by block from the float32 corpus; returns the seconds it took."""
    docs = np.load(folder / "docs.npy", mmap_mode="r")
    params = calibrate(fmt, np.asarray(docs[:calibration_rows]))
    np.savez(folder / f"{fmt}-params.npz", **params)
    if fmt == "float32":
        return 0.0  # the corpus itself
    start = time.perf_counter()
    quantize_in_blocks(docs, fmt, params, block_rows=GEN_ROWS, path=folder / f"{fmt}.npy", progress=True)
    return time.perf_counter() - start


def prepare(args: argparse.Namespace, dims: int) -> tuple[Path, dict[str, float]]:
    """The data folder of ``dims`` (reused when its spec matches) and compression seconds per format."""
    folder = Path(args.workdir) / f"d{dims}"
    spec = _spec(args, dims)
    spec_file = folder / "spec.json"
    if not (spec_file.exists() and json.loads(spec_file.read_text()) == spec and (folder / "docs.npy").exists()):
        shutil.rmtree(folder, ignore_errors=True)
        generate(folder, spec)
    seconds = {}
    for fmt in args.formats:
        done = folder / f"{fmt}-compress.json"
        if not done.exists() or not (fmt == "float32" or (folder / f"{fmt}.npy").exists()):
            write_json_atomic(done, {"seconds": compress(folder, fmt, min(args.sizes))})
        seconds[fmt] = json.loads(done.read_text())["seconds"]
    return folder, seconds


# --- one case, in its own process -------------------------------------------------------------------


def _resident_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_resident_bytes() -> int:
    """High-water mark of this process's resident set (``VmHWM``, Linux), in bytes."""
    with open("/proc/self/status") as fh:
        line = next(line for line in fh if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def _gemm_rate(n_queries: int, dims: int, block_rows: int, repeats: int) -> float:
    """Multiply-adds per second of the best of ``repeats`` float32 GEMMs of the search's block shape."""
    rng = np.random.default_rng(0)
    q = rng.standard_normal((max(n_queries, MIN_QUERY_ROWS), dims), dtype=np.float32)
    d = rng.standard_normal((block_rows, dims), dtype=np.float32)
    out = np.empty((q.shape[0], block_rows), np.float32)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(q, d.T, out=out)
        best = min(best, time.perf_counter() - start)
    return n_queries * dims * block_rows / best


def run_case(case: dict) -> dict:
    """Search one stored corpus prefix; the measurements as a dict (called in a fresh process)."""
    folder, fmt, n, budget = Path(case["folder"]), case["format"], case["n_docs"], case["budget"]
    np.matmul(np.ones((64, 64), np.float32), np.ones((64, 64), np.float32))  # BLAS buffers before the baseline
    queries = np.load(folder / "queries.npy")
    planted = np.load(folder / "planted.npy")
    params = dict(np.load(folder / f"{fmt}-params.npz"))
    dims = queries.shape[1]
    name = "docs.npy" if fmt == "float32" else f"{fmt}.npy"
    packed = np.load(folder / name, mmap_mode="r")[:n]
    rank = np.arange(n)  # ids are zero-padded row numbers: string order = row order
    q_codes = quantize(queries, fmt, params)
    baseline = _resident_bytes()
    search_budget = budget - baseline
    if fmt == "binary":
        plan = plan_blocks(len(queries), n, packed.shape[1], 100, search_budget, hamming=True,
                           raw_row_bytes=packed.shape[1])
        start = time.perf_counter()
        result = stream_search_hamming(q_codes, Quantized(get_format(fmt), packed, params, dims), k=100,
                                       memory_budget=search_budget, rank=rank)
    else:
        docs = packed if fmt == "float32" else Quantized(get_format(fmt), packed, params, dims)
        plan = plan_blocks(len(queries), n, dims, 100, search_budget, raw_row_bytes=packed.shape[1] * packed.itemsize)
        q = q_codes.decode()
        start = time.perf_counter()
        result = stream_search(q, docs, k=100, memory_budget=search_budget, rank=rank)
    seconds = time.perf_counter() - start
    peak = _peak_resident_bytes()
    found = (result.indices[:, :10, None] == planted[:, None, :]).any(axis=1).mean()
    macs = len(queries) * n * dims
    gemm = _gemm_rate(len(queries), dims, plan.block_rows, case["gemm_repeats"])
    return {
        "wall_time_s": seconds, "peak_rss_bytes": peak, "baseline_rss_bytes": baseline, "budget_bytes": budget,
        "search_budget_bytes": search_budget, "planned_bytes": plan.bytes_needed,
        "peak_rss_within_budget": int(peak <= budget), "block_rows": plan.block_rows, "n_blocks": plan.n_blocks,
        "stored_bytes": packed.nbytes, "multiply_adds": macs, "achieved_macs_per_s": macs / seconds,
        "gemm_peak_macs_per_s": gemm, "fraction_of_gemm_peak": macs / seconds / gemm,
        "recall_at_10_planted": float(found),
    }


UNITS = {"wall_time_s": "s", "peak_rss_bytes": "bytes", "baseline_rss_bytes": "bytes", "budget_bytes": "bytes",
         "search_budget_bytes": "bytes", "planned_bytes": "bytes", "peak_rss_within_budget": "bool",
         "block_rows": "rows", "n_blocks": "count", "stored_bytes": "bytes", "multiply_adds": "count",
         "achieved_macs_per_s": "1/s", "gemm_peak_macs_per_s": "1/s", "fraction_of_gemm_peak": "fraction",
         "recall_at_10_planted": "fraction", "time_exponent": "exponent", "compress_s": "s",
         "compress_rows_per_s": "rows/s", "load_avg_start": "load", "load_avg_end": "load", "cpu_count": "count",
         "n_queries": "count"}


def _in_subprocess(case: dict) -> dict:
    cmd = [sys.executable, "-m", "bench.scaling", "--worker", json.dumps(case)]
    done = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"case {case} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the whole benchmark ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 10k only (a smoke run)")
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES, help="corpus sizes N")
    parser.add_argument("--dims", type=int, nargs="+", default=DIMS)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--formats", nargs="+", default=FORMATS)
    parser.add_argument("--budget", default="4GiB", help="peak memory allowed to each case, e.g. 4GiB")
    parser.add_argument("--planted", type=int, default=3, help="relevant documents planted per query")
    parser.add_argument("--cosine", type=float, default=0.35, help="cosine of a planted document to its query")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gemm-repeats", type=int, default=5)
    parser.add_argument("--workdir", default=str(REPO_ROOT / "build" / "bench" / "scaling"),
                        help="where the corpora are written (several GB at N = 1M)")
    parser.add_argument("--keep", action="store_true", help="keep the generated corpora for a rerun")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes = [10_000]
    for fmt in args.formats:
        get_format(fmt)
    args.sizes = sorted(set(args.sizes))
    args.budget = parse_budget(args.budget, "budget")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(run_case(json.loads(args.worker))))
        return 0
    machine = machine_description()
    measurements = [{"case": "run", "metric": "load_avg_start", "value": os.getloadavg()[0], "unit": "load"},
                    {"case": "run", "metric": "cpu_count", "value": os.cpu_count(), "unit": "count"},
                    {"case": "run", "metric": "n_queries", "value": args.queries, "unit": "count"}]
    print(f"scaling: N {args.sizes}, d {args.dims}, {args.queries} queries, formats {args.formats}, "
          f"budget {format_bytes(args.budget)} per case; {machine}")
    for dims in args.dims:
        folder, compress_s = prepare(args, dims)
        for fmt in args.formats:
            if fmt != "float32":
                measurements += [
                    {"case": f"{fmt}/d{dims}", "metric": "compress_s", "value": compress_s[fmt], "unit": "s"},
                    {"case": f"{fmt}/d{dims}", "metric": "compress_rows_per_s",
                     "value": max(args.sizes) / max(compress_s[fmt], 1e-9), "unit": "rows/s"},
                ]
        cases = [(fmt, n) for n in args.sizes for fmt in args.formats]
        for fmt, n in tqdm(cases, desc=f"cases d={dims}", unit="case"):
            case = {"folder": str(folder), "format": fmt, "n_docs": n, "budget": args.budget,
                    "gemm_repeats": args.gemm_repeats}
            result = _in_subprocess(case)
            tqdm.write(f"{case_name(fmt, dims, n):>24}: {result['wall_time_s']:8.2f} s, "
                       f"peak {result['peak_rss_bytes'] / 2**30:.2f} GiB, "
                       f"{result['fraction_of_gemm_peak']:.0%} of GEMM peak, "
                       f"recall@10 {result['recall_at_10_planted']:.3f}")
            measurements += [{"case": case_name(fmt, dims, n), "metric": m, "value": v, "unit": UNITS[m]}
                             for m, v in result.items()]
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    measurements.append({"case": "run", "metric": "load_avg_end", "value": os.getloadavg()[0], "unit": "load"})
    rows = make_rows(BENCHMARK, measurements, machine)
    write_rows(rows)
    report = scaling_report()
    exponents = [{"case": f"{r.format}/d{r.dims}", "metric": "time_exponent", "value": r.exponent, "unit": "exponent"}
                 for r in report.exponents.itertuples()]
    if exponents:
        write_rows(make_rows(BENCHMARK, measurements + exponents, machine))
    print(report.conclusions)
    return 0 if report.table.peak_rss_within_budget.all() else 1


if __name__ == "__main__":
    sys.exit(main())
