"""Exact Hamming-distance search over bit-packed codes (binary formats scored as real binary indexes do).

Distances are XOR + popcount (``np.bitwise_count``) on the packed bytes viewed as 64-bit words,
in blocks of queries. The top-k is ordered exactly like ``study.retrieval.search`` orders cosine
scores (the trec_eval order): smallest distance first, ties by document id in descending string
order. Hand-written because library binary indexes (faiss ``IndexBinaryFlat``, usearch) break
ties by insertion order and cut ties at the k-th distance arbitrarily, so their nDCG would not
equal trec_eval's on the many tied distances that 1-bit codes produce.
"""

from __future__ import annotations

import numpy as np

from .metrics import DEPTH
from .retrieval import SearchResult, _top_k_block, tie_rank


def as_words(packed: np.ndarray) -> np.ndarray:
    """Packed bits (n, bytes) as uint64 words (n, ceil(bytes / 8)), zero-padded: padding adds no distance."""
    packed = np.ascontiguousarray(packed, dtype=np.uint8)
    pad = -packed.shape[1] % 8
    if pad:
        packed = np.concatenate([packed, np.zeros((packed.shape[0], pad), np.uint8)], axis=1)
    return packed.view(np.uint64)


def hamming_distances(query_bits: np.ndarray, doc_bits: np.ndarray) -> np.ndarray:
    """Number of differing bits between every query and every document code: (n_queries, n_docs) int32."""
    q, d = as_words(query_bits), as_words(doc_bits)
    if q.shape[1] != d.shape[1]:
        raise ValueError(f"query codes have {query_bits.shape[1]} bytes, document codes {doc_bits.shape[1]}")
    out = np.zeros((q.shape[0], d.shape[0]), dtype=np.int32)
    for w in range(q.shape[1]):  # one 64-bit word at a time keeps the temporaries at n_queries × n_docs
        out += np.bitwise_count(q[:, w, None] ^ d[None, :, w])
    return out


def hamming_search(
    query_bits: np.ndarray,
    doc_bits: np.ndarray,
    doc_ids: list[str],
    k: int = DEPTH,
    block_bytes: int = 64 << 20,
) -> SearchResult:
    """Top-k documents per query by Hamming distance. ``scores`` holds ``-distance`` (higher is better)."""
    rank = tie_rank(doc_ids)
    n_docs = doc_bits.shape[0]
    rows = max(1, block_bytes // max(1, 8 * n_docs))
    k = min(k, n_docs)
    indices = np.empty((query_bits.shape[0], k), dtype=np.int64)
    scores = np.empty((query_bits.shape[0], k), dtype=np.float32)
    for start in range(0, query_bits.shape[0], rows):
        block = -hamming_distances(query_bits[start : start + rows], doc_bits)
        top = _top_k_block(block, k, rank)
        indices[start : start + rows] = top
        scores[start : start + rows] = np.take_along_axis(block, top, axis=1)
    return SearchResult(indices, scores, zero_queries=0, zero_docs=0)
