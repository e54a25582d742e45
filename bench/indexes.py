"""Benchmark of real indexes (usearch, faiss): serialized bytes per vector, build time, queries per second at
batch 1 and batch 100 (pinned threads, median of repeats), recall@10 against exact float32 search.

    python -m bench.indexes                          # 20,000 random unit vectors of 384 dims
    python -m bench.indexes --data random scifact    # and a collection's MiniLM embeddings (encoded if not cached)
    python -m bench.indexes --indexes usearch-f16-hnsw faiss-sq8-hnsw --threads 2

Writes the rows of benchmark ``indexes`` into ``results/bench.csv``, replacing that benchmark's rows of an
earlier run (the last run wins) and keeping every other benchmark's rows.
Random vectors have no cluster structure: their neighbours are nearly equidistant, so recall there is a
pessimistic bound; a collection name measures real embeddings. Timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import make_rows, write_rows
from study.search import indexes as ix
from study.search.exact import search

BENCHMARK = "indexes"
RANDOM = "random"
UNITS = {"bytes_per_vector": "bytes", "code_bytes": "bytes", "build_s": "s", "qps_b1": "queries/s",
         "qps_b100": "queries/s", "recall_at_10": "fraction"}


def random_unit_vectors(n: int, dims: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dims)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def load_vectors(dataset: str, model: str, n: int, dims: int, n_queries: int, seed: int
                 ) -> tuple[str, np.ndarray, np.ndarray]:
    """(description, documents, queries): random unit vectors (``dataset="random"``) or a collection's embeddings."""
    if dataset != RANDOM:
        from study.experiment.configs import load_eval_data

        data = load_eval_data(model, dataset)
        return f"{model}/{dataset}", data.docs, data.queries[:n_queries]
    return "random", random_unit_vectors(n, dims, seed), random_unit_vectors(n_queries, dims, seed + 1)


def measure(names: list[str], docs: np.ndarray, queries: np.ndarray, threads: int, repeats: int,
            batch1_queries: int, hnsw: ix.HNSWParams) -> pd.DataFrame:
    """One row per index kind with every metric of ``UNITS``."""
    truth = search(queries, docs, [str(i) for i in range(len(docs))], ix.K).indices
    rows = []
    for name in names:
        index = ix.build_index(name, docs, threads=threads, hnsw=hnsw)
        found, _ = index.search(queries, ix.K)
        rows.append({
            "index": name, "bytes_per_vector": index.bytes_per_vector, "code_bytes": index.code_bytes,
            "build_s": index.build_s,
            "qps_b1": ix.measure_qps(index, queries, 1, repeats, batch1_queries),
            "qps_b100": ix.measure_qps(index, queries, 100, repeats),
            "recall_at_10": float(ix.neighbour_recall(found, truth).mean()),
        })
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in rows[-1].items()),
              flush=True)
    return pd.DataFrame(rows)


def to_bench_rows(table: pd.DataFrame, case_suffix: str) -> pd.DataFrame:
    """The tidy rows of ``results/bench.csv``: case = index kind + data + threads."""
    return make_rows(BENCHMARK, [
        {"case": f"{r['index']} | {case_suffix}", "metric": m, "value": float(r[m]), "unit": unit}
        for r in table.to_dict("records") for m, unit in UNITS.items()
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", nargs="+", default=[RANDOM], help="'random' and/or collection names")
    parser.add_argument("--model", default="minilm-l6")
    parser.add_argument("--n", type=int, default=20_000, help="random vectors: how many documents")
    parser.add_argument("--dims", type=int, default=384, help="random vectors: dimensions (a multiple of 8)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--indexes", nargs="+", default=["all"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch1-queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, help="default: results/bench.csv under the output root")
    args = parser.parse_args(argv)

    names = ix.check_index_names("all" if args.indexes == ["all"] else args.indexes)
    parts = []
    for dataset in args.data:
        source, docs, queries = load_vectors(dataset, args.model, args.n, args.dims, args.queries, args.seed)
        print(f"== {source}: {len(docs)} documents, {len(queries)} queries", flush=True)
        table = measure(names, docs, queries, args.threads, args.repeats, args.batch1_queries, ix.HNSWParams())
        suffix = f"{source} n={len(docs)} d={docs.shape[1]} queries={len(queries)} threads={args.threads}"
        parts.append(to_bench_rows(table, suffix))
    rows = pd.concat(parts, ignore_index=True)
    path = write_rows(rows, args.output)
    print(f"wrote {len(rows)} rows of benchmark {BENCHMARK!r} to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
