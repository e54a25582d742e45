"""Exact search over (decoded) vectors and the evaluation of a ranking against qrels.

Scores are cosine similarities. The top-k is found with ``argpartition`` per block of queries
(no Python loop over documents) and ordered exactly as trec_eval orders a run: by score, high
first, then by document id in *descending* string order for ties — so our metrics equal
pytrec_eval's even when a lossy format produces many tied scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .metrics import DEPTH, metrics_from_relevance, relevance_of_indices
from .models import normalise


@dataclass
class SearchResult:
    """Top-k document indices and scores per query, and how many vectors were all-zero."""

    indices: np.ndarray
    scores: np.ndarray
    zero_queries: int
    zero_docs: int


def tie_rank(doc_ids: list[str]) -> np.ndarray:
    """rank[i] = position of doc i in ascending string order (ties go to the larger id first)."""
    order = np.argsort(np.asarray(doc_ids, dtype=object), kind="stable")
    rank = np.empty(len(doc_ids), dtype=np.int64)
    rank[order] = np.arange(len(doc_ids))
    return rank


def _top_k_block(scores: np.ndarray, k: int, rank: np.ndarray) -> np.ndarray:
    """Exact top-k of each row in trec_eval order; ties at the k-th score are resolved by id."""
    k = min(k, scores.shape[1])
    kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1]
    out = np.empty((scores.shape[0], k), dtype=np.int64)
    for q, row in enumerate(scores):
        cand = np.flatnonzero(row >= kth[q])
        out[q] = cand[np.lexsort((-rank[cand], -row[cand]))[:k]]
    return out


def search(
    queries: np.ndarray,
    docs: np.ndarray,
    doc_ids: list[str],
    k: int = DEPTH,
    block_bytes: int = 256 << 20,
) -> SearchResult:
    """Cosine top-k of every query over all documents, in blocks of queries bounded by ``block_bytes``."""
    q = normalise(np.asarray(queries, dtype=np.float32))
    d = normalise(np.asarray(docs, dtype=np.float32))
    rank = tie_rank(doc_ids)
    rows = max(1, block_bytes // max(1, 4 * d.shape[0]))
    k = min(k, d.shape[0])
    indices = np.empty((q.shape[0], k), dtype=np.int64)
    scores = np.empty((q.shape[0], k), dtype=np.float32)
    for start in range(0, q.shape[0], rows):
        block = q[start : start + rows] @ d.T
        nan = np.isnan(block)
        if nan.any():  # e.g. a format that overflowed: such a score ranks last
            block[nan] = -np.inf
        top = _top_k_block(block, k, rank)
        indices[start : start + rows] = top
        scores[start : start + rows] = np.take_along_axis(block, top, axis=1)
    zero_q = int((~q.any(axis=1)).sum())
    zero_d = int((~d.any(axis=1)).sum())
    return SearchResult(indices, scores, zero_q, zero_d)


def evaluate(
    queries: np.ndarray,
    query_ids: list[str],
    docs: np.ndarray,
    doc_ids: list[str],
    qrels: dict[str, dict[str, int]],
    search_fn: Callable[..., SearchResult] | None = None,
) -> tuple[pd.DataFrame, SearchResult]:
    """Search and score every query of ``query_ids`` against ``qrels``; one row per query.

    ``search_fn(queries, docs, doc_ids)`` replaces the cosine ``search`` (e.g. Hamming search on
    packed bits, ``study.hamming.hamming_search``); it must order ties the same way."""
    result = (search_fn or search)(queries, docs, doc_ids)
    qrels_rows = [qrels[qid] for qid in query_ids]
    rel = relevance_of_indices(result.indices, doc_ids, qrels_rows)
    return metrics_from_relevance(query_ids, rel, qrels_rows), result
