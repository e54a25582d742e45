"""Rankings as trec_eval orders them: top-k indices and scores, ties broken by document id.

By score, high first, then by document id in *descending* string order for ties — so our metrics equal
pytrec_eval's even when a lossy format produces many tied scores. The base of every search path
(``exact``, ``streaming``, ``hamming``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_SIGN = np.uint32(0x80000000)


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


def top_k_of_scores(scores: np.ndarray, doc_ids: list[str], k: int) -> SearchResult:
    """The trec_eval-ordered top-k of a dense (queries × documents) score matrix (a codec's estimates)."""
    rank = tie_rank(doc_ids)
    k = min(k, scores.shape[1])
    indices = _top_k_block(scores, k, rank) if len(scores) else np.empty((0, k), dtype=np.int64)
    return SearchResult(indices, np.take_along_axis(scores, indices, axis=1), 0, 0)


# --- keys: (score, rank) as one sortable uint64 -------------------------------------------------


def score_keys(scores: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """uint64 keys ordered like (score, rank); -0.0 counts as +0.0 (they tie in trec_eval too)."""
    s = np.asarray(scores, dtype=np.float32) + np.float32(0.0)  # -0.0 + 0.0 = +0.0
    bits = s.view(np.uint32)
    ordered = np.where(bits & _SIGN, ~bits, bits | _SIGN)
    return (ordered.astype(np.uint64) << np.uint64(32)) | np.asarray(ranks).astype(np.uint64)


def key_scores(keys: np.ndarray) -> np.ndarray:
    """The float32 scores encoded in ``keys`` (inverse of ``score_keys``)."""
    ordered = (keys >> np.uint64(32)).astype(np.uint32)
    bits = np.where(ordered & _SIGN, ordered ^ _SIGN, ~ordered)
    return bits.view(np.float32)


def key_ranks(keys: np.ndarray) -> np.ndarray:
    return (keys & np.uint64(0xFFFFFFFF)).astype(np.int64)
