"""Index scaling on real embeddings: exact search and real indexes (usearch/faiss HNSW per format, IVF-PQ,
IVF-RaBitQ, RaBitQ) over the pooled shared collections, extended with vectors fitted to them, beside iid
random vectors as the labelled worst case.

    python -m bench.pool_scaling                 # the pool of MiniLM and WordLlama at N = 5k, 10k, 20k, all
                                                 # (45,031); fitted vectors of MiniLM to 1M; iid to 100k
    python -m bench.pool_scaling --quick         # N = 5k, two index kinds, no fitted/iid beyond 20k (minutes)
    python -m bench.pool_scaling --models minilm-l6 --indexes usearch-f16-hnsw --fitted-sizes 1000000

Data (``bench/pool.py``): ``pool:<model>`` is the first N documents of the pool (every judged-relevant
document first, then distractors) searched by every pooled query (documents of other collections count as
not relevant); ``pool-gmm:<model>`` is N vectors drawn from a Gaussian mixture fitted to that pool, searched
by the same real queries; ``iid`` is N independent uniform unit vectors with iid queries — where
``bench/scaling.py``'s recall of 0.13–0.18 at 100k comes from, a property of random high-dimensional data.

Per case (``<data>/<index>/d<dims>/N<n>``; ``study-f32-exact`` is the study's exact search,
``study.search.flat.FlatIndex``): ``build_s`` (all cores), ``bytes_per_vector`` (serialized index / N),
``qps_b1`` (one query per call, up to 100 queries) and ``qps_b100`` (median of 3), ``recall_at_10`` against
the exact float32 top-10, and, on the pool, ``ndcg_at_10`` of the pooled queries (mean over queries).
``n_queries`` says how many queries were scored (the pool: all; fitted and iid: a fixed sample of 1,000).
Faiss kinds train on the first ``--train-rows`` documents. The real pool gets every kind of ``--indexes``;
fitted and iid vectors get ``SYNTHETIC_INDEXES`` up to ``--small-max-n`` and ``LARGE_INDEXES`` (one HNSW kind
per library, the IVF kinds, exact) beyond it, to keep 1M within about a quarter of an hour on 2 cores (usearch's
e4m3 alone builds about 30× slower than f16 here). Each corpus' rows are merged into the table as soon as
they are measured.

Rows go to ``results/bench.csv`` (benchmark ``pool_scaling``); notebook 08 and ``bench/summary.py`` read them
through ``bench.analysis``'s pool tables. Timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from tqdm import tqdm

from bench.analysis import POOL_BENCHMARK, pool_case, pool_report
from bench.common import machine_description, make_rows, write_rows
from bench.pool import generator, iid_unit_vectors, load_pool, mean_kth_neighbour_cosine
from study.search.flat import FlatIndex
from study.search.metrics import neighbour_recall, per_query_metrics

MODELS = ["minilm-l6", "wordllama-256"]
SIZES = [5_000, 10_000, 20_000, 0]  # 0 = the whole pool
FITTED_MODEL = "minilm-l6"
FITTED_SIZES = [5_000, 20_000, 45_031, 100_000, 300_000, 1_000_000]
IID_SIZES = [5_000, 20_000, 45_031]
INDEXES = ["study-f32-exact", "usearch-f32-hnsw", "usearch-f16-hnsw", "usearch-e4m3-hnsw", "usearch-i8-hnsw",
           "usearch-b1-hnsw", "faiss-sq8-hnsw", "faiss-pq-ivf", "faiss-pqrflat-ivf", "faiss-rabitq-ivf",
           "faiss-rabitq-exact"]
SYNTHETIC_INDEXES = ["study-f32-exact", "usearch-f16-hnsw", "usearch-i8-hnsw", "faiss-sq8-hnsw", "faiss-pq-ivf",
                     "faiss-rabitq-ivf"]  # fitted and iid vectors (the real pool has every kind)
LARGE_INDEXES = ["study-f32-exact", "usearch-f16-hnsw", "faiss-sq8-hnsw", "faiss-pq-ivf",
                 "faiss-rabitq-ivf"]  # beyond --small-max-n: one HNSW kind per library, the IVF kinds, exact
EXACT = "study-f32-exact"
SAMPLE_QUERIES = 1_000
TRAIN_ROWS = 65_536
UNITS = {"build_s": "s", "bytes_per_vector": "bytes", "qps_b1": "queries/s", "qps_b100": "queries/s",
         "recall_at_10": "fraction", "ndcg_at_10": "nDCG", "n_queries": "count", "n_relevant": "count",
         "mean_10th_neighbour_cosine": "cosine"}


class _Exact:
    """The study's exact search as an index (``FlatIndex`` is its prepared form)."""

    def __init__(self, docs: np.ndarray) -> None:
        start = time.perf_counter()
        self.flat = FlatIndex(docs, rank=np.arange(len(docs)))
        self.build_s = time.perf_counter() - start
        self.bytes_per_vector = 4.0 * docs.shape[1]

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        result = self.flat.search(queries, k)
        return result.indices, result.scores


def build(name: str, docs: np.ndarray, train_rows: int, threads: int):
    """An index of kind ``name`` over ``docs`` (``study-f32-exact`` or a kind of ``study.search.indexes``)."""
    if name == EXACT:
        return _Exact(docs)
    from study.search.indexes import build_index

    return build_index(name, docs, train=docs[:train_rows], threads=threads)


def qps(index, queries: np.ndarray, batch: int, repeats: int = 3) -> float:
    """Queries per second (``study.search.indexes.measure_qps``, which any object with ``search`` can take)."""
    from study.search.indexes import measure_qps

    return measure_qps(index, queries, batch, repeats)


def ndcg(indices: np.ndarray, doc_ids: list[str], query_ids: list[str], qrels: dict) -> float:
    ranked = [[doc_ids[i] for i in row if i >= 0] for row in indices]
    return float(per_query_metrics(query_ids, ranked, [qrels[q] for q in query_ids]).ndcg_at_10.mean())


def measure_corpus(data: str, docs: np.ndarray, queries: np.ndarray, names: list[str], args: argparse.Namespace,
                   judged: tuple[list[str], list[str], dict] | None = None) -> list[dict]:
    """Every index kind of ``names`` over one corpus: the measurements as bench rows."""
    n, dims = docs.shape
    truth = FlatIndex(docs, rank=np.arange(n)).search(queries, 10).indices
    rows = [{"case": pool_case(data, "corpus", dims, n), "metric": "mean_10th_neighbour_cosine",
             "value": mean_kth_neighbour_cosine(queries[:SAMPLE_QUERIES], docs), "unit": "cosine"}]
    for name in names:
        index = build(name, docs, args.train_rows, args.threads)
        found, _ = index.search(queries, 10)
        result = {"build_s": index.build_s, "bytes_per_vector": index.bytes_per_vector,
                  "qps_b1": qps(index, queries, 1), "qps_b100": qps(index, queries, 100),
                  "recall_at_10": float(neighbour_recall(found, truth).mean()), "n_queries": len(queries)}
        if judged is not None:
            doc_ids, query_ids, qrels = judged
            result["ndcg_at_10"] = ndcg(found, doc_ids, query_ids, qrels)
        case = pool_case(data, name, dims, n)
        tqdm.write(f"{case}: " + ", ".join(f"{k} {v:.4g}" for k, v in result.items()))
        rows += [{"case": case, "metric": k, "value": float(v), "unit": UNITS[k]} for k, v in result.items()]
        del index
    return rows


def _kinds(n: int, args: argparse.Namespace, synthetic: bool = False) -> list[str]:
    kinds = [k for k in args.indexes if k in SYNTHETIC_INDEXES] if synthetic else args.indexes
    return kinds if n <= args.small_max_n else [k for k in kinds if k in LARGE_INDEXES]


def _save(rows: list[dict], machine: str) -> list[dict]:
    """Merge one corpus' rows into the bench table at once (a long run keeps what it measured)."""
    write_rows(make_rows(POOL_BENCHMARK, rows, machine), only_cases=True)
    return rows


def run(args: argparse.Namespace, machine: str) -> list[dict]:
    rows: list[dict] = []
    for model in args.models:
        pool = load_pool(model)
        print(f"== {model}: {pool.description()}", flush=True)
        for n in sorted({len(pool.docs) if s == 0 else min(s, len(pool.docs)) for s in args.sizes}):
            docs, ids = pool.docs[:n], pool.doc_ids[:n]
            relevant = [{"case": pool_case(f"pool:{model}", "corpus", pool.dims, n), "metric": "n_relevant",
                         "value": float(min(n, pool.n_relevant)), "unit": "count"}]
            rows += _save(relevant + measure_corpus(f"pool:{model}", docs, pool.queries, _kinds(n, args), args,
                                                    (ids, pool.query_ids, pool.qrels)), machine)
    if args.fitted_sizes:
        pool = load_pool(args.fitted_model)
        sample = np.random.default_rng(1).choice(len(pool.queries), min(SAMPLE_QUERIES, len(pool.queries)),
                                                 replace=False)
        queries = pool.queries[np.sort(sample)]
        start = time.perf_counter()
        gen = generator(args.fitted_model)
        print(f"== fitted mixture to the {args.fitted_model} pool in {time.perf_counter() - start:.0f} s", flush=True)
        for n in sorted(args.fitted_sizes):
            rows += _save(measure_corpus(f"pool-gmm:{args.fitted_model}", gen.sample(n), queries,
                                         _kinds(n, args, synthetic=True), args), machine)
    for n in sorted(args.iid_sizes):
        dims = load_pool(args.fitted_model).dims
        rows += _save(measure_corpus("iid", iid_unit_vectors(n, dims, 3), iid_unit_vectors(SAMPLE_QUERIES, dims, 4),
                                     _kinds(n, args, synthetic=True), args), machine)
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 5k, two index kinds (a smoke run)")
    parser.add_argument("--models", nargs="*", default=MODELS)
    parser.add_argument("--sizes", type=int, nargs="*", default=SIZES, help="pool prefixes N (0: the whole pool)")
    parser.add_argument("--fitted-model", default=FITTED_MODEL)
    parser.add_argument("--fitted-sizes", type=int, nargs="*", default=FITTED_SIZES)
    parser.add_argument("--iid-sizes", type=int, nargs="*", default=IID_SIZES)
    parser.add_argument("--indexes", nargs="+", default=INDEXES)
    parser.add_argument("--small-max-n", type=int, default=100_000,
                        help=f"largest N every kind is built for; beyond it only {', '.join(LARGE_INDEXES)}")
    parser.add_argument("--train-rows", type=int, default=TRAIN_ROWS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--merge", action="store_true", help="replace only the cases measured now")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.fitted_sizes, args.iid_sizes = [5_000], [5_000], [5_000]
        args.indexes = [EXACT, "usearch-f16-hnsw"]
    from study.core.errors import ParameterError
    from study.search.indexes import index_kinds

    allowed = [EXACT, *index_kinds()]
    for name in args.indexes:
        if name not in allowed:
            raise ParameterError("indexes", name, allowed)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    machine = machine_description()
    started = [{"case": "run", "metric": "threads", "value": float(args.threads), "unit": "count"}]
    write_rows(make_rows(POOL_BENCHMARK, started, machine), only_cases=args.merge)  # a new run drops the old rows
    run(args, machine)
    report = pool_report()
    print(report.recall.to_string(index=False), report.fitted_vs_real.to_string(index=False), sep="\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
