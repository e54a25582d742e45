"""Per-query top-k selection with faiss' C++ heaps, kept in trec_eval's tie order.

Why faiss: numpy has no streaming top-k, and selecting with ``argpartition`` and masks costs several passes
over every score block in one thread (about 40 % of an exact search's time beside a multithreaded GEMM).
faiss' ``float_minheap_array_t`` keeps the k largest (score, id) pairs per query in one pass, in parallel over
queries (OpenMP): the same selection ``IndexFlatIP`` uses.

Why the order is still trec_eval's (score high first, then document id in *descending* string order): the
heap takes a newcomer only when it beats the k-th score *strictly*, and among equal scores it evicts the
smallest id first. Fed with ids = tie ranks (a document's position in ascending id order) in *descending*
rank order, a document that ties with the k-th score arrives after every tied document of larger rank, so
refusing it is trec_eval's choice, and evicting the smallest rank is too. The set kept is then exactly
trec_eval's top-k; ``result`` sorts it by (score, rank). Callers (``study.search.streaming``,
``study.search.flat``) feed documents in that order; ``tests/test_streaming.py`` checks heavy ties against a
full sort.
"""

from __future__ import annotations

import faiss
import numpy as np

from study.search.ranking import key_ranks, key_scores, score_keys


class TopKHeap:
    """The k best (score, rank) pairs per query so far; documents must arrive in descending rank order."""

    def __init__(self, n_queries: int, k: int) -> None:
        self.k = k
        self.n_queries = n_queries
        # empty heaps, as faiss' heapify() leaves them, filled here: its OpenMP start costs milliseconds
        self.values = np.full((n_queries, k), -np.inf, dtype=np.float32)
        self.ranks = np.full((n_queries, k), -1, dtype=np.int64)
        heaps = faiss.float_minheap_array_t()  # a min-heap of the k largest values (faiss' keep_max)
        heaps.k, heaps.nh = k, n_queries
        heaps.val, heaps.ids = faiss.swig_ptr(self.values), faiss.swig_ptr(self.ranks)
        self._heaps = heaps

    def add(self, scores: np.ndarray, ranks: np.ndarray) -> None:
        """Offer every document of a block: ``scores`` (queries × documents, C-contiguous float32) of documents
        with ``ranks`` (one per column, descending, all below the ranks offered before)."""
        scores = np.ascontiguousarray(scores, dtype=np.float32)
        ranks = np.ascontiguousarray(ranks, dtype=np.int64)
        self._heaps.addn_with_ids(scores.shape[1], faiss.swig_ptr(scores), faiss.swig_ptr(ranks), 0, 0,
                                  self.n_queries)

    def add_rows(self, rows: slice, scores: np.ndarray, ranks: np.ndarray) -> None:
        """``add`` for the queries ``rows`` only (``scores`` has one row per query of the slice)."""
        scores = np.ascontiguousarray(scores, dtype=np.float32)
        ranks = np.ascontiguousarray(ranks, dtype=np.int64)
        start, stop, _ = rows.indices(self.n_queries)
        self._heaps.addn_with_ids(scores.shape[1], faiss.swig_ptr(scores), faiss.swig_ptr(ranks), 0, start,
                                  stop - start)

    def add_candidates(self, scores: np.ndarray, ranks: np.ndarray) -> None:
        """Offer per-query candidates of a block: ``scores`` and ``ranks`` both (queries × c), each row's
        ranks descending and all below the ranks offered before."""
        scores = np.ascontiguousarray(scores, dtype=np.float32)
        ranks = np.ascontiguousarray(ranks, dtype=np.int64)
        self._heaps.addn_with_ids(scores.shape[1], faiss.swig_ptr(scores), faiss.swig_ptr(ranks),
                                  scores.shape[1], 0, self.n_queries)

    def result(self, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(indices, scores) per query in trec_eval order; ``order[rank]`` = document index."""
        keys = np.sort(score_keys(self.values, self.ranks), axis=1)[:, ::-1]
        return order[key_ranks(keys)], key_scores(keys).copy()
