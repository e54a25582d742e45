"""Exact search over (decoded) vectors and the evaluation of a ranking against qrels.

Scores are cosine similarities. The top-k is found with ``argpartition`` per block of queries
(no Python loop over documents) and ordered exactly as trec_eval orders a run: by score, high
first, then by document id in *descending* string order for ties — so our metrics equal
pytrec_eval's even when a lossy format produces many tied scores.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from study.search.metrics import DEPTH, metrics_from_relevance, relevance_of_indices
from study.search.ranking import SearchResult
from study.search.streaming import least_budget, stream_search


def search(
    queries: np.ndarray,
    docs: np.ndarray,
    doc_ids: list[str],
    k: int = DEPTH,
    block_bytes: int = 256 << 20,
) -> SearchResult:
    """Cosine top-k of every query over all documents (ties in trec_eval order).

    Delegates to ``study.search.streaming.stream_search``: documents are scored in blocks with a running
    top-k, so memory stays within ``block_bytes`` (raised to the least this shape needs) instead
    of queries × documents. A vector with a NaN or inf component (e.g. a format that overflowed)
    is a zero vector, as ``study.encoders.registry.normalise`` defines it: it scores 0 and is counted.
    """

    docs = docs if isinstance(docs, np.ndarray) else np.asarray(docs, dtype=np.float32)
    n_q = len(queries)
    budget = max(int(block_bytes), least_budget(n_q, docs.shape[0], docs.shape[1], k, raw_row_bytes=docs[:1].nbytes))
    return stream_search(queries, docs, doc_ids, k=k, memory_budget=budget)


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
    packed bits, ``study.search.hamming.hamming_search``); it must order ties the same way."""
    result = (search_fn or search)(queries, docs, doc_ids)
    qrels_rows = [qrels[qid] for qid in query_ids]
    rel = relevance_of_indices(result.indices, doc_ids, qrels_rows)
    return metrics_from_relevance(query_ids, rel, qrels_rows), result
