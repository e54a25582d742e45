"""Exact search side by side with faiss: the study's exact top-100 against faiss ``IndexFlatIP`` (float32) and
``IndexBinaryFlat`` (sign bits), and against a bare GEMM, in one process, on real pooled embeddings and on
vectors fitted to them.

    python -m bench.exact_vs_faiss            # N = 10k, 100k, 1M × batch 1, 100, 1000 × d = 384, 768
    python -m bench.exact_vs_faiss --quick    # N = 10k only

Data (``bench/pool.py``): ``pool:<model>`` = the first N documents of the real pool (MiniLM for d = 384,
MPNet for d = 768; the pools hold 45k and 16k documents, so only N = 10k is real), ``pool-gmm:<model>`` = N
vectors drawn from a mixture fitted to that pool. Queries are the pool's real queries (the first ``batch``
of a fixed shuffle).

Both sides are prepared before timing, as a user of either would: faiss' ``add`` (a copy of the vectors)
against the study's ``FlatIndex`` / ``BinaryFlatIndex`` (normalised copy in descending tie rank, or the bits
in a faiss binary index in that order). Per case (``<data>/d<dims>/N<n>/q<batch>``), the best of
``--repeats`` runs, methods interleaved:

* ``study_s`` — ``FlatIndex.search(queries, 100)``: blocked GEMM, faiss' heaps, one sort of the kept
  (score, rank) pairs (the tie-ordering pass, timed alone as ``tie_pass_s``);
* ``faiss_s`` — ``IndexFlatIP.search(queries, 100)``;
* ``gemm_s`` — the study's products alone, same blocks, no selection (``FlatIndex.scan`` with a no-op);
* ``stream_s`` — ``stream_search``, the one-shot path that decodes and normalises every block per call
  (what the stages use, within a memory budget);
* ``study_binary_s`` / ``faiss_binary_s`` — the same for sign bits (``BinaryFlatIndex`` vs ``IndexBinaryFlat``).

and ``ratio_vs_faiss`` = faiss_s / study_s (above 1: the study is faster), ``gemm_share`` = gemm_s / study_s
(the share of the study's time spent in the products), ``binary_ratio_vs_faiss``, and ``same_top100``
(share of queries whose top-100 set equals faiss': ties and float32 rounding can make it < 1).
Rows go to ``results/bench.csv`` (benchmark ``exact_vs_faiss``). Speeds are read in ``docs/benchmarks.md``
(its table written by ``bench/summary.py``), never asserted in tests.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import faiss
import numpy as np

from bench.common import machine_description, make_rows, write_rows
from bench.pool import generator, load_pool
from study.compress.formats import quantize
from study.core.vectors import normalise
from study.search.flat import BinaryFlatIndex, FlatIndex
from study.search.ranking import score_keys
from study.search.streaming import stream_search

BENCHMARK = "exact_vs_faiss"
MODELS = {384: "minilm-l6", 768: "mpnet-base"}
SIZES = [10_000, 100_000, 1_000_000]
BATCHES = [1, 100, 1000]
K = 100
UNITS = {"study_s": "s", "faiss_s": "s", "gemm_s": "s", "stream_s": "s", "tie_pass_s": "s", "study_binary_s": "s",
         "faiss_binary_s": "s", "ratio_vs_faiss": "x", "gemm_share": "fraction", "binary_ratio_vs_faiss": "x",
         "same_top100": "fraction", "stream_ratio_vs_faiss": "x"}


def case_name(data: str, dims: int, n: int, batch: int) -> str:
    return f"{data}/d{dims}/N{n}/q{batch}"


SETTLE_S = 0.2  # pause before each timed call: numpy's BLAS threads spin for a while after a product and
# would take a core from whatever runs next (faiss' OpenMP threads), penalising the method timed after a GEMM


def best_times(methods: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Best wall time of each method over ``repeats`` rounds (one warm-up each first; methods interleaved, each
    after ``SETTLE_S`` of rest)."""
    for fn in methods.values():
        fn()
    best = dict.fromkeys(methods, np.inf)
    for _ in range(repeats):
        for name, fn in methods.items():
            time.sleep(SETTLE_S)
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def tie_pass(n_queries: int) -> Callable[[], object]:
    """The tie-ordering pass alone: one sort of ``n_queries`` × 100 (score, rank) keys."""
    rng = np.random.default_rng(0)
    values = rng.standard_normal((n_queries, K)).astype(np.float32)
    ranks = rng.integers(0, 1 << 30, (n_queries, K))
    return lambda: np.sort(score_keys(values, ranks), axis=1)[:, ::-1]


def measure(data: str, docs: np.ndarray, all_queries: np.ndarray, batches: list[int], repeats: int) -> list[dict]:
    """Every batch size over one corpus: the bench rows."""
    n, dims = docs.shape
    docs = normalise(docs)
    flat = FlatIndex(docs, rank=np.arange(n))
    faiss_flat = faiss.IndexFlatIP(dims)
    faiss_flat.add(docs)
    bits = quantize(docs, "binary")
    binary = BinaryFlatIndex(bits, rank=np.arange(n))
    faiss_binary = faiss.IndexBinaryFlat(dims)
    faiss_binary.add(np.ascontiguousarray(bits.packed))
    rows = []
    for batch in batches:
        q = normalise(all_queries[:batch])
        qbits = np.ascontiguousarray(quantize(q, "binary").packed)
        times = best_times({
            "study_s": lambda q=q: flat.search(q, K),
            "faiss_s": lambda q=q: faiss_flat.search(q, K),
            "gemm_s": lambda q=q: flat.scan(q, lambda rows, scores, ranks: None),
            "stream_s": lambda q=q: stream_search(q, docs, k=K, rank=np.arange(n)),
            "tie_pass_s": tie_pass(batch),
            "study_binary_s": lambda b=qbits: binary.search(b, K),
            "faiss_binary_s": lambda b=qbits: faiss_binary.search(b, K),
        }, repeats if n * batch < 10**8 else max(1, repeats - 1))
        ours, theirs = flat.search(q, K).indices, faiss_flat.search(q, K)[1]
        same = float(np.mean([set(a) == set(b) for a, b in zip(ours, theirs, strict=True)]))
        result = times | {
            "ratio_vs_faiss": times["faiss_s"] / times["study_s"], "gemm_share": times["gemm_s"] / times["study_s"],
            "stream_ratio_vs_faiss": times["faiss_s"] / times["stream_s"],
            "binary_ratio_vs_faiss": times["faiss_binary_s"] / times["study_binary_s"], "same_top100": same,
        }
        case = case_name(data, dims, n, batch)
        print(f"{case}: study {times['study_s']:.4f} s, faiss {times['faiss_s']:.4f} s "
              f"({result['ratio_vs_faiss']:.2f}×), "
              f"GEMM share {result['gemm_share']:.0%}, stream {times['stream_s']:.4f} s, binary "
              f"{result['binary_ratio_vs_faiss']:.2f}×, same top-100 {same:.3f}", flush=True)
        rows += [{"case": case, "metric": m, "value": float(v), "unit": UNITS[m]} for m, v in result.items()]
    return rows


def corpora(dims: int, sizes: list[int]):
    """(data name, documents, queries) per size: the real pool where it is large enough, then fitted vectors."""
    model = MODELS[dims]
    pool = load_pool(model)
    queries = pool.queries[np.random.default_rng(2).permutation(len(pool.queries))]
    for n in sizes:
        if n <= len(pool.docs):
            yield f"pool:{model}", pool.docs[:n], queries
    gen = generator(model)
    for n in sizes:
        yield f"pool-gmm:{model}", gen.sample(n), queries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 10k only")
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    parser.add_argument("--batches", type=int, nargs="+", default=BATCHES)
    parser.add_argument("--dims", type=int, nargs="+", default=sorted(MODELS), choices=sorted(MODELS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--merge", action="store_true", help="replace only the cases measured now")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes = [10_000]
    machine = machine_description()
    rows = [{"case": "run", "metric": "omp_threads", "value": float(faiss.omp_get_max_threads()), "unit": "count"}]
    for dims in args.dims:
        for data, docs, queries in corpora(dims, args.sizes):
            rows += measure(data, docs, queries, args.batches, args.repeats)
    write_rows(make_rows(BENCHMARK, rows, machine), only_cases=args.merge)
    return 0


if __name__ == "__main__":
    sys.exit(main())
