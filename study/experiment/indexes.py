"""Stage 07's evaluation: one index kind built over a collection's vectors and measured — bytes it stores, build
time, queries per second, recall@10 against exact float32 search, nDCG@10 of what it returns, and the same
format searched exactly (``simulated_ndcg_at_10``), so the index's own loss is told apart from its format's.

The indexes themselves (usearch, faiss: flat and HNSW per format, IVF-PQ, RaBitQ) are ``study.search.indexes``;
this is the experiment run over them, on the ``EvalData`` every stage evaluates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from tqdm import tqdm

from study.experiment.configs import EvalData
from study.search.exact import search
from study.search.indexes import (
    HNSWParams,
    K,
    agreement,
    build_index,
    measure_qps,
    reference_search,
)
from study.search.metrics import neighbour_recall, per_query_metrics
from study.search.ranking import SearchResult


def evaluate_index(
    name: str,
    data: EvalData,
    truth: SearchResult,
    *,
    train: np.ndarray | None = None,
    threads: int = 1,
    hnsw: HNSWParams | None = None,
    repeats: int = 3,
    batch1_queries: int = 100,
) -> tuple[dict, pd.DataFrame]:
    """Build one index over a collection and measure it: one results row and per-query scores."""
    index = build_index(name, data.docs, train=train, threads=threads, hnsw=hnsw)
    kind = index.kind
    indices, scores = index.search(data.queries, K)
    qrels = [data.qrels[q] for q in data.query_ids]
    ranked = [[data.doc_ids[i] for i in row if i >= 0] for row in indices]
    metrics = per_query_metrics(data.query_ids, ranked, qrels)
    ref = reference_search(index, data.docs, data.queries, data.doc_ids, K)
    ref_metrics = per_query_metrics(data.query_ids, [[data.doc_ids[i] for i in row] for row in ref.indices], qrels)
    recall = neighbour_recall(indices, truth.indices[:, :K])
    overlap, score_diff = agreement(indices, scores, ref)
    bytes_per_vector = index.bytes_per_vector
    config_id = f"model={data.model}|dataset={data.dataset}|split={data.split}|index={name}|threads={threads}"
    row = {
        "model": data.model, "dataset": data.dataset, "split": data.split, "index": name,
        "library": kind.library, "format": kind.format, "search": kind.search, "paper_format": kind.paper_format,
        "n_docs": index.n, "n_queries": len(data.query_ids), "dims": index.dims, "threads": threads,
        "code_bytes": index.code_bytes, "bytes_per_vector": bytes_per_vector,
        "overhead_bytes_per_vector": bytes_per_vector - index.code_bytes,
        "compression_ratio": 4 * index.dims / bytes_per_vector,
        "build_s": index.build_s,
        "qps_b1": measure_qps(index, data.queries, 1, repeats, batch1_queries),
        "qps_b100": measure_qps(index, data.queries, 100, repeats),
        "recall_at_10": float(recall.mean()),
        "ndcg_at_10": float(metrics.ndcg_at_10.mean()),
        "mrr_at_10": float(metrics.mrr_at_10.mean()),
        "simulated_ndcg_at_10": float(ref_metrics.ndcg_at_10.mean()),
        "agree_top10": overlap, "agree_max_score_diff": score_diff,
        "same_arithmetic": kind.same_arithmetic, "reference": kind.reference, "params": index.params,
        "config_id": config_id,
    }
    per_query = pd.DataFrame({
        "config_id": config_id, "model": data.model, "dataset": data.dataset, "split": data.split, "index": name,
        "query_id": data.query_ids, "ndcg_at_10": metrics.ndcg_at_10.to_numpy(),
        "mrr_at_10": metrics.mrr_at_10.to_numpy(), "recall_at_10": recall,
        "simulated_ndcg_at_10": ref_metrics.ndcg_at_10.to_numpy(),
    })
    return row, per_query


def evaluate_indexes(
    data: EvalData,
    names: list[str],
    *,
    train: np.ndarray | None = None,
    threads: int = 1,
    hnsw: HNSWParams | None = None,
    repeats: int = 3,
    batch1_queries: int = 100,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every index kind of ``names`` over one collection; the baseline is exact float32 cosine search."""
    truth = search(data.queries, data.docs, data.doc_ids, K)
    baseline = per_query_metrics(data.query_ids, [[data.doc_ids[i] for i in row] for row in truth.indices],
                                 [data.qrels[q] for q in data.query_ids]).ndcg_at_10.mean()
    rows, per_query = [], []
    for name in tqdm(names, desc=f"indexes · {data.model} · {data.dataset}", unit="index"):
        row, pq = evaluate_index(name, data, truth, train=train, threads=threads, hnsw=hnsw, repeats=repeats,
                                 batch1_queries=batch1_queries)
        rows.append(row | {"float32_ndcg_at_10": float(baseline)})
        per_query.append(pq)
    table = pd.DataFrame(rows)
    table["ndcg_change_pct"] = 100 * (table.ndcg_at_10 / table.float32_ndcg_at_10 - 1)
    return table, pd.concat(per_query, ignore_index=True)
