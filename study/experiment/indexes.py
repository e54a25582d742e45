"""Stage 07's evaluation: one index kind built over a collection's vectors and measured — bytes it stores, build
time, queries per second, recall@10 against exact float32 search, nDCG@10 of what it returns, and the same
format searched exactly (``simulated_ndcg_at_10``), so the index's own loss is told apart from its format's.

The indexes themselves (usearch, faiss: flat and HNSW per format, IVF-PQ, RaBitQ) are ``study.search.indexes``;
this is the experiment run over them, on the ``EvalData`` every stage evaluates. A stage-07 configuration names
its index kind in ``Config.format`` and, for a kind that trains (faiss SQ ranges, PQ codebooks, IVF lists, RaBitQ's
centre), its training set in ``Config.calibrate_on`` (``self``: the corpus); ``IndexOptions`` holds what is the
same for every index of a run (threads, timed repeats, HNSW graph).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from study.core.progress import progress_bar
from study.experiment.configs import NONE, Config, EvalData
from study.search.exact import search
from study.search.indexes import (
    HNSWParams,
    K,
    agreement,
    build_index,
    get_kind,
    measure_qps,
    reference_search,
)
from study.search.metrics import neighbour_recall, per_query_metrics
from study.search.ranking import SearchResult


@dataclass(frozen=True)
class IndexOptions:
    """What every index of a stage-07 run shares: build/search threads (pinned), timed repeats (QPS is their
    median), queries timed one by one for the batch-1 QPS, and the HNSW graph parameters."""

    threads: int = 1
    repeats: int = 3
    batch1_queries: int = 100
    hnsw: HNSWParams = field(default_factory=HNSWParams)


def evaluate_index(
    cfg: Config,
    data: EvalData,
    truth: SearchResult,
    train: np.ndarray | None,
    options: IndexOptions,
) -> tuple[dict, pd.DataFrame]:
    """Build index kind ``cfg.format`` over a collection (trained on ``train``, default: the documents) and measure
    it: one results row and per-query scores."""
    name, threads = cfg.format, options.threads
    index = build_index(name, data.docs, train=train, threads=threads, hnsw=options.hnsw)
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
    row = {
        "model": data.model, "dataset": data.dataset, "split": data.split, "index": name,
        "library": kind.library, "format": kind.format, "search": kind.search, "paper_format": kind.paper_format,
        "n_docs": index.n, "n_queries": len(data.query_ids), "dims": index.dims, "threads": threads,
        "code_bytes": index.code_bytes, "bytes_per_vector": bytes_per_vector,
        "overhead_bytes_per_vector": bytes_per_vector - index.code_bytes,
        "compression_ratio": 4 * index.dims / bytes_per_vector,
        "build_s": index.build_s,
        "qps_b1": measure_qps(index, data.queries, 1, options.repeats, options.batch1_queries),
        "qps_b100": measure_qps(index, data.queries, 100, options.repeats),
        "recall_at_10": float(recall.mean()),
        "ndcg_at_10": float(metrics.ndcg_at_10.mean()),
        "mrr_at_10": float(metrics.mrr_at_10.mean()),
        "simulated_ndcg_at_10": float(ref_metrics.ndcg_at_10.mean()),
        "agree_top10": overlap, "agree_max_score_diff": score_diff,
        "same_arithmetic": kind.same_arithmetic, "reference": kind.reference, "train_on": cfg.calibrate_on,
        "params": index.params, "config_id": cfg.id,
    }
    per_query = pd.DataFrame({
        "config_id": cfg.id, "model": data.model, "dataset": data.dataset, "split": data.split, "index": name,
        "query_id": data.query_ids, "ndcg_at_10": metrics.ndcg_at_10.to_numpy(),
        "mrr_at_10": metrics.mrr_at_10.to_numpy(), "recall_at_10": recall,
        "simulated_ndcg_at_10": ref_metrics.ndcg_at_10.to_numpy(),
    })
    return row, per_query


def index_configs(model: str, dataset: str, split: str, names: list[str], train_on: str) -> list[Config]:
    """One configuration per index kind of ``names`` over a collection; kinds that train name ``train_on`` (their
    training set), the others ``none``."""
    return [Config(model, dataset, split, format=name, calibrate_on=train_on if get_kind(name).trained else NONE)
            for name in names]


def evaluate_indexes(
    data: EvalData,
    configs: list[Config],
    training: Callable[[str], np.ndarray | None],
    options: IndexOptions,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every index configuration over one collection (``training(name)``: the vectors of training set ``name``,
    ``None`` for ``none``); the baseline is exact float32 cosine search."""
    truth = search(data.queries, data.docs, data.doc_ids, K)
    baseline = per_query_metrics(data.query_ids, [[data.doc_ids[i] for i in row] for row in truth.indices],
                                 [data.qrels[q] for q in data.query_ids]).ndcg_at_10.mean()
    rows, per_query = [], []
    for cfg in progress_bar(configs, desc=f"indexes · {data.model} · {data.dataset}", unit="index"):
        row, pq = evaluate_index(cfg, data, truth, training(cfg.calibrate_on), options)
        rows.append(row | {"float32_ndcg_at_10": float(baseline)})
        per_query.append(pq)
    table = pd.DataFrame(rows)
    table["ndcg_change_pct"] = 100 * (table.ndcg_at_10 / table.float32_ndcg_at_10 - 1)
    return table, pd.concat(per_query, ignore_index=True)
