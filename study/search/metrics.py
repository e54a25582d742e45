"""Per-query ranking metrics, defined as trec_eval (pytrec_eval, used by MTEB) defines them.

* nDCG@10: gain = the judged relevance (linear, trec_eval's default), discount log2(rank + 1),
  ideal DCG from all judged relevant documents of the query;
* recall@100: relevant documents in the top 100 / all relevant documents;
* MRR@10: 1 / rank of the first relevant document within the top 10, else 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

METRICS = ("ndcg_at_10", "recall_at_100", "mrr_at_10")
DEPTH = 100  # deepest cut-off any metric needs


def relevance_matrix(ranked_doc_ids: list[list[str]], qrels_rows: list[dict[str, int]]) -> np.ndarray:
    """rel[q, j] = judged relevance of the j-th ranked document of query q (0 if unjudged)."""
    depth = max((len(r) for r in ranked_doc_ids), default=0)
    rel = np.zeros((len(ranked_doc_ids), depth), dtype=np.float64)
    for q, (docs, judged) in enumerate(zip(ranked_doc_ids, qrels_rows, strict=True)):
        rel[q, : len(docs)] = [judged.get(d, 0) for d in docs]
    return rel


def ndcg_at(rel: np.ndarray, qrels_rows: list[dict[str, int]], k: int = 10) -> np.ndarray:
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    top = rel[:, :k]
    dcg = (top * discounts[: top.shape[1]]).sum(axis=1)
    plain = discounts.tolist()
    idcg = np.array([_ideal_dcg(row, plain) for row in qrels_rows], dtype=np.float64)
    return np.divide(dcg, idcg, out=np.zeros_like(dcg), where=idcg > 0)


def _ideal_dcg(judged: dict[str, int], discounts: list[float]) -> float:
    """DCG of the best possible ranking (plain Python: a query has a handful of judgments, where numpy's
    per-call overhead dominated the whole evaluation)."""
    gains = sorted((g for g in judged.values() if g > 0), reverse=True)[: len(discounts)]
    return float(sum(g * d for g, d in zip(gains, discounts)))


def neighbour_recall(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per query: share of the true top-k neighbours (rows of ``truth``, k = its width) among the first k
    ``found`` ones (-1 = no result; approximate search against exact search)."""
    k = truth.shape[1]
    return (truth[:, :, None] == found[:, None, :k]).any(axis=2).mean(axis=1)


def recall_at(rel: np.ndarray, qrels_rows: list[dict[str, int]], k: int = 100) -> np.ndarray:
    found = (rel[:, :k] > 0).sum(axis=1)
    total = np.array([sum(1 for g in judged.values() if g > 0) for judged in qrels_rows], dtype=np.float64)
    return np.divide(found, total, out=np.zeros(len(total)), where=total > 0)


def mrr_at(rel: np.ndarray, k: int = 10) -> np.ndarray:
    hits = rel[:, :k] > 0
    first = hits.argmax(axis=1)
    return np.where(hits.any(axis=1), 1.0 / (first + 1), 0.0)


def relevance_of_indices(indices: np.ndarray, doc_ids: list[str], qrels_rows: list[dict[str, int]]) -> np.ndarray:
    """rel[q, j] for ranked document *indices*, vectorised: judged (query, doc) pairs become sorted
    integer keys ``q * n_docs + doc``, looked up with ``searchsorted`` (no Python loop over ranks)."""
    n_docs = len(doc_ids)
    position = {d: i for i, d in enumerate(doc_ids)}
    keys, gains = [], []
    for q, judged in enumerate(qrels_rows):
        for d, g in judged.items():
            if d in position:
                keys.append(q * n_docs + position[d])
                gains.append(g)
    order = np.argsort(np.asarray(keys, dtype=np.int64))
    keys_sorted = np.asarray(keys, dtype=np.int64)[order]
    gains_sorted = np.asarray(gains, dtype=np.float64)[order]
    wanted = np.arange(indices.shape[0], dtype=np.int64)[:, None] * n_docs + indices
    at = np.clip(np.searchsorted(keys_sorted, wanted), 0, max(len(keys_sorted) - 1, 0))
    if not len(keys_sorted):
        return np.zeros(indices.shape)
    return np.where(keys_sorted[at] == wanted, gains_sorted[at], 0.0)


def per_query_metrics(
    query_ids: list[str], ranked_doc_ids: list[list[str]], qrels_rows: list[dict[str, int]]
) -> pd.DataFrame:
    """One row per query with every metric of ``METRICS``, from ranked document ids."""
    return metrics_from_relevance(query_ids, relevance_matrix(ranked_doc_ids, qrels_rows), qrels_rows)


def metrics_from_relevance(query_ids: list[str], rel: np.ndarray, qrels_rows: list[dict[str, int]]) -> pd.DataFrame:
    """One row per query with every metric of ``METRICS``, from the relevance of each rank."""
    return pd.DataFrame(
        {
            "query_id": query_ids,
            "ndcg_at_10": ndcg_at(rel, qrels_rows, 10),
            "recall_at_100": recall_at(rel, qrels_rows, 100),
            "mrr_at_10": mrr_at(rel, 10),
        }
    )
