"""Scaling of exact search with corpus size: time, peak memory and the fraction of the machine's GEMM peak,
beside real HNSW indexes (usearch, faiss) on the same corpora.

    python -m bench.scaling              # N = 10k, 100k, 1M; d = 384, 768; 1,000 queries; 5 formats; 4 GiB;
                                         # 3 HNSW kinds up to N = 100k
    python -m bench.scaling --quick      # N = 10k only (about a minute)
    python -m bench.scaling --sizes 10000 100000 --dims 384 --budget 1GiB --keep
    python -m bench.scaling --index-max-n 1000000                # HNSW at 1M too (hours on 2 cores)
    python -m bench.scaling --indexes usearch-f16-hnsw           # one index kind; --indexes alone: none

Corpora are synthetic unit vectors (seeded) with planted relevant documents: each query has
``--planted`` documents at cosine ``--cosine`` to it, placed among the first ``min(sizes)`` rows, so
every corpus holds the same task and larger ones add distractors. The float32 corpus is written
block by block to a ``.npy`` file; each compressed copy is produced from it block by block
(``study.search.streaming.quantize_in_blocks``), so no step holds a corpus in memory.

Each case (format × dims × N) runs in its own process, which memory-maps the stored corpus, runs
``study.search.streaming.stream_search`` (``stream_search_hamming`` on the packed bits for ``binary``) with
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
  the same process right after the search: the physical limit the blocked search runs against;
* ``recall_at_10`` — share of the exact float32 top-10 (saved by the ``float32`` case of the same N)
  found in the case's top-10;
* ``recall_at_10_planted`` — share of the planted relevant documents found in the top-10.

Each HNSW case (``--indexes``: index kind of ``study.search.indexes`` × dims × N, up to ``--index-max-n``)
runs in its own process too. It memory-maps the float32 corpus and builds the index with
``study.search.indexes.build_index`` (the study's HNSW parameters: connectivity 16, expansion_add 128,
expansion_search 64; all cores), fed ``GEN_ROWS`` documents at a time whose pages are then released;
faiss's scalar quantizer is trained on the first ``min(--sizes)`` documents (as int8 is calibrated).
It reports ``build_s``; ``wall_time_s``, one search call with all queries at once, top-10 (the exact
cases keep a top-100: exact search costs the same scan either way); ``peak_rss_bytes`` (build and
search); ``bytes_per_vector`` (serialized index / N: codes, graph and keys) and ``stored_bytes``; the
two recalls above (the exact float32 top-10 is computed there with ``stream_search`` if no float32
case left it). The fraction of the GEMM peak does not apply to a graph search and is not reported,
and the index is not held to ``--budget``: its whole graph lives in memory (the peak is still
compared with it). ``--index-max-n`` defaults to 100k: these corpora are independent random vectors,
the worst case for a graph, and the build time measured here grew about as N^2 from 10k to 100k, so
1M takes hours per index on 2 cores.

Per format (or index kind) and dims, the exponent of time against N is fitted by least squares on
log-log axes (and, for indexes, that of the build time).
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

from bench.analysis import BENCHMARK, case_name, is_index, scaling_report
from bench.common import machine_description, make_rows, write_rows
from study.analysis.tradeoff import format_bytes, parse_budget
from study.compress.formats import Quantized, calibrate, get_format, quantize
from study.core.io import write_json_atomic, write_npy_atomic
from study.core.paths import REPO_ROOT
from study.core.vectors import normalise
from study.search.metrics import neighbour_recall
from study.search.streaming import (
    DEFAULT_BUDGET,
    MIN_QUERY_ROWS,
    plan_blocks,
    quantize_in_blocks,
    release_pages,
    stream_search,
    stream_search_hamming,
)

FORMATS = ["float32", "float16", "float8_e4m3", "int8", "binary"]
SIZES = [10_000, 100_000, 1_000_000]
DIMS = [384, 768]
INDEXES = ["usearch-f16-hnsw", "usearch-i8-hnsw", "faiss-sq8-hnsw"]
INDEX_MAX_N = 100_000  # HNSW builds grow ~N^2 on iid random vectors: 1M is opt-in (--index-max-n 1000000)
TOP = 10  # recall@10: the top-10 compared with the exact float32 one
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


def truth_path(folder: Path, n_docs: int) -> Path:
    """Where the exact float32 top-10 of the first ``n_docs`` documents is kept."""
    return folder / f"truth-N{n_docs}.npy"


def planted_recall(indices: np.ndarray, planted: np.ndarray) -> float:
    """Share of the planted relevant documents found in each query's top-10."""
    return float((indices[:, :TOP, None] == planted[:, None, :]).any(axis=1).mean())


def _recall_vs_float32(folder: Path, n_docs: int, indices: np.ndarray) -> dict:
    """``{"recall_at_10": …}`` against the saved exact float32 top-10, or nothing when none was saved."""
    path = truth_path(folder, n_docs)
    return {"recall_at_10": float(neighbour_recall(indices, np.load(path)).mean())} if path.exists() else {}


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
    found = planted_recall(result.indices, planted)
    if fmt == "float32" and not truth_path(folder, n).exists():
        write_npy_atomic(truth_path(folder, n), result.indices[:, :TOP])
    macs = len(queries) * n * dims
    gemm = _gemm_rate(len(queries), dims, plan.block_rows, case["gemm_repeats"])
    return {
        "wall_time_s": seconds, "peak_rss_bytes": peak, "baseline_rss_bytes": baseline, "budget_bytes": budget,
        "search_budget_bytes": search_budget, "planned_bytes": plan.bytes_needed,
        "peak_rss_within_budget": int(peak <= budget), "block_rows": plan.block_rows, "n_blocks": plan.n_blocks,
        "stored_bytes": packed.nbytes, "multiply_adds": macs, "achieved_macs_per_s": macs / seconds,
        "gemm_peak_macs_per_s": gemm, "fraction_of_gemm_peak": macs / seconds / gemm,
        "recall_at_10_planted": found,
    } | _recall_vs_float32(folder, n, result.indices)


def _exact_truth(folder: Path, docs: np.ndarray, queries: np.ndarray, budget: int) -> np.ndarray:
    """The exact float32 top-10 of ``docs``: the saved one, else computed now (streamed) and saved."""
    path = truth_path(folder, docs.shape[0])
    if not path.exists():
        search_budget = max(DEFAULT_BUDGET, budget - _resident_bytes())
        top = stream_search(queries, docs, k=TOP, memory_budget=search_budget, rank=np.arange(docs.shape[0]))
        write_npy_atomic(path, top.indices)
    return np.load(path)


def run_index_case(case: dict) -> dict:
    """Build one HNSW index over a stored corpus prefix and search it; the measurements (fresh process)."""
    from study.search.indexes import HNSWParams, build_index, get_kind  # faiss and usearch: only in index workers

    folder, name, n, budget = Path(case["folder"]), case["index"], case["n_docs"], case["budget"]
    queries = np.load(folder / "queries.npy")
    planted = np.load(folder / "planted.npy")
    docs = np.load(folder / "docs.npy", mmap_mode="r")[:n]
    train = None
    if get_kind(name).library == "faiss":  # scalar-quantizer ranges, from the rows int8 is calibrated on
        train = np.array(docs[: case["train_rows"]])
        release_pages(docs[: case["train_rows"]])
    threads = os.cpu_count() or 1
    hnsw = HNSWParams()
    baseline = _resident_bytes()
    index = build_index(name, docs, train=train, threads=threads, hnsw=hnsw, block_rows=GEN_ROWS)
    start = time.perf_counter()
    indices, _ = index.search(queries, TOP)
    seconds = time.perf_counter() - start
    peak = _peak_resident_bytes()
    stored = index.serialized_bytes()
    result = {
        "build_s": index.build_s, "wall_time_s": seconds, "peak_rss_bytes": peak, "baseline_rss_bytes": baseline,
        "budget_bytes": budget, "peak_rss_within_budget": int(peak <= budget), "stored_bytes": stored,
        "bytes_per_vector": stored / n, "code_bytes": index.code_bytes, "threads": threads,
        "hnsw_connectivity": hnsw.connectivity, "hnsw_expansion_add": hnsw.expansion_add,
        "hnsw_expansion_search": hnsw.expansion_search, "recall_at_10_planted": planted_recall(indices, planted),
    }
    del index
    truth = _exact_truth(folder, docs, queries, budget)
    return result | {"recall_at_10": float(neighbour_recall(indices, truth).mean())}


UNITS = {"wall_time_s": "s", "peak_rss_bytes": "bytes", "baseline_rss_bytes": "bytes", "budget_bytes": "bytes",
         "search_budget_bytes": "bytes", "planned_bytes": "bytes", "peak_rss_within_budget": "bool",
         "block_rows": "rows", "n_blocks": "count", "stored_bytes": "bytes", "multiply_adds": "count",
         "achieved_macs_per_s": "1/s", "gemm_peak_macs_per_s": "1/s", "fraction_of_gemm_peak": "fraction",
         "recall_at_10_planted": "fraction", "time_exponent": "exponent", "compress_s": "s",
         "compress_rows_per_s": "rows/s", "load_avg_start": "load", "load_avg_end": "load", "cpu_count": "count",
         "n_queries": "count", "recall_at_10": "fraction", "build_s": "s", "bytes_per_vector": "bytes",
         "code_bytes": "bytes", "threads": "count", "hnsw_connectivity": "count", "hnsw_expansion_add": "count",
         "hnsw_expansion_search": "count", "build_exponent": "exponent"}


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
    parser.add_argument("--formats", nargs="*", default=FORMATS, help="exact-search formats (none: indexes only)")
    parser.add_argument("--merge", action="store_true",
                        help="a partial rerun: replace only the cases measured now, keep the other rows of this "
                             "benchmark (e.g. indexes added to an earlier exact-search run)")
    parser.add_argument("--indexes", nargs="*", default=INDEXES,
                        help="HNSW index kinds of study.search.indexes (e.g. usearch-e4m3-hnsw); none: exact search "
                             "only")
    parser.add_argument("--index-max-n", type=int, default=INDEX_MAX_N,
                        help="largest N an index is built for (larger cases are skipped)")
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
    if not args.worker:  # study.search.indexes imports faiss and usearch, which the exact workers do without
        check_indexes(args.indexes)
    args.budget = parse_budget(args.budget, "budget")
    return args


def check_indexes(names: list[str]) -> None:
    """Each name must be an HNSW kind of ``study.search.indexes``."""
    from study.core.errors import ParameterError
    from study.search.indexes import get_kind, index_kinds

    for name in names:
        if get_kind(name).search != "hnsw":
            raise ParameterError("indexes", name, index_kinds(searches=["hnsw"]))


def _report_line(name: str, result: dict) -> str:
    """One progress line for a finished case."""
    head = f"{name:>28}: {result['wall_time_s']:8.2f} s, peak {result['peak_rss_bytes'] / 2**30:.2f} GiB, "
    recall = f"recall@10 {result.get('recall_at_10', float('nan')):.3f} (planted {result['recall_at_10_planted']:.3f})"
    if "build_s" in result:
        return head + f"build {result['build_s']:.1f} s, {result['bytes_per_vector']:.0f} B/vector, " + recall
    return head + f"{result['fraction_of_gemm_peak']:.0%} of GEMM peak, " + recall


def _cases(args: argparse.Namespace, folder: Path, dims: int) -> list[tuple[str, dict]]:
    """(case name, worker input) of every case of one dims, exact ones first, float32 first per N."""
    formats = sorted(args.formats, key=lambda f: f != "float32")  # its top-10 is the others' reference
    cases = [(case_name(fmt, dims, n), {"folder": str(folder), "format": fmt, "n_docs": n, "budget": args.budget,
                                        "gemm_repeats": args.gemm_repeats})
             for n in args.sizes for fmt in formats]
    for n in args.sizes:
        if n > args.index_max_n and args.indexes:
            print(f"skipped: HNSW indexes at d={dims} N={n:,} (above --index-max-n {args.index_max_n:,})")
            continue
        cases += [(case_name(name, dims, n), {"folder": str(folder), "index": name, "n_docs": n,
                                               "budget": args.budget, "train_rows": min(args.sizes)})
                  for name in args.indexes]
    return cases


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        case = json.loads(args.worker)
        print(json.dumps(run_index_case(case) if "index" in case else run_case(case)))
        return 0
    machine = machine_description()
    run = "run/merged" if args.merge else "run"  # a merged run keeps the earlier run's own rows beside its own
    measurements = [{"case": run, "metric": "load_avg_start", "value": os.getloadavg()[0], "unit": "load"},
                    {"case": run, "metric": "cpu_count", "value": os.cpu_count(), "unit": "count"},
                    {"case": run, "metric": "n_queries", "value": args.queries, "unit": "count"}]
    print(f"scaling: N {args.sizes}, d {args.dims}, {args.queries} queries, formats {args.formats}, "
          f"indexes {args.indexes} up to N={args.index_max_n:,}, budget {format_bytes(args.budget)} per case; "
          f"{machine}")
    for dims in args.dims:
        folder, compress_s = prepare(args, dims)
        for fmt in args.formats:
            if fmt != "float32":
                measurements += [
                    {"case": f"{fmt}/d{dims}", "metric": "compress_s", "value": compress_s[fmt], "unit": "s"},
                    {"case": f"{fmt}/d{dims}", "metric": "compress_rows_per_s",
                     "value": max(args.sizes) / max(compress_s[fmt], 1e-9), "unit": "rows/s"},
                ]
        for name, case in tqdm(_cases(args, folder, dims), desc=f"cases d={dims}", unit="case"):
            result = _in_subprocess(case)
            tqdm.write(_report_line(name, result))
            measurements += [{"case": name, "metric": m, "value": v, "unit": UNITS[m]} for m, v in result.items()]
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    measurements.append({"case": run, "metric": "load_avg_end", "value": os.getloadavg()[0], "unit": "load"})
    rows = make_rows(BENCHMARK, measurements, machine)
    write_rows(rows, only_cases=args.merge)
    report = scaling_report()
    exponents = [{"case": f"{r.format}/d{r.dims}", "metric": metric, "value": value, "unit": "exponent"}
                 for r in report.exponents.itertuples()
                 for metric, value in (("time_exponent", r.exponent), ("build_exponent", r.build_exponent))
                 if np.isfinite(value)]
    if exponents:
        write_rows(make_rows(BENCHMARK, measurements + exponents, machine), only_cases=args.merge)
    print(report.series.to_string(index=False), report.crossovers.to_string(index=False), sep="\n\n")
    exact = report.table[~report.table.format.map(is_index)]  # the budget binds the streaming search only
    return 0 if exact.peak_rss_within_budget.all() else 1


if __name__ == "__main__":
    sys.exit(main())
