"""Exact Hamming-distance search over bit-packed codes (binary formats scored as real binary indexes do).

``hamming_distances`` (XOR + ``np.bitwise_count`` on the packed bytes viewed as 64-bit words) is the plain
reference; searches stream (``hamming_search``): each document block's nearest codes come from faiss'
XOR/popcount kernels (``faiss.knn_hamming``) and faiss' heaps merge them, documents visited in descending tie
rank so that faiss keeps trec_eval's choice among tied distances (``study.search.heap`` says why). The top-k is
ordered exactly like ``study.search.exact.search`` orders cosine scores (the trec_eval order): smallest
distance first, ties by document id in descending string order. faiss ``IndexBinaryFlat`` alone would keep
ties in insertion order, so its nDCG would not equal trec_eval's on the many tied distances 1-bit codes produce.
"""

from __future__ import annotations

import numpy as np

from study.search.metrics import DEPTH
from study.search.ranking import SearchResult
from study.search.streaming import as_words, least_budget, stream_search_hamming


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
    """Top-k documents per query by Hamming distance. ``scores`` holds ``-distance`` (higher is better).

    One Hamming path for the whole study: delegates to ``study.search.streaming.stream_search_hamming``
    (document blocks, running top-k) within ``block_bytes`` of working memory (raised to the least this shape
    needs); ``hamming_distances`` above is the plain reference the tests compare it with."""
    qb, db = np.asarray(query_bits, np.uint8), np.asarray(doc_bits, np.uint8)
    words = -(-qb.shape[1] // 8)
    least = least_budget(qb.shape[0], db.shape[0], 8 * words, k, hamming=True, raw_row_bytes=db[:1].nbytes)
    return stream_search_hamming(qb, db, doc_ids, k=k, memory_budget=max(int(block_bytes), least))
