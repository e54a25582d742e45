"""A codec's top-k by its own estimator at any corpus size: searched as its library searches it, in bounded memory.

While ``queries × documents`` is at most ``DENSE_PAIRS``, a codec is scored as the study's stages score it
(``dense_top``: ``Format.score``'s (queries × documents) matrix of estimates, then ``top_k_of_scores``). Beyond
that the matrix does not fit (1,000 queries × 1M documents: 4 GB of scores, 8 GB of faiss labels) and a faiss
search asked for every document keeps a heap of every document per query, so each codec is searched without it:

* **RaBitQ, OPQ + PQ, PQ, PQ fast-scan** (``faiss_top``): the faiss index's own search, asked for k + 1 documents
  per query. faiss computes a (query, code) score the same way whatever k is asked for (``tests/test_advise_search.py``
  compares them), so its only freedom is which of several documents tied at its last place it returns. A query
  whose (k+1)-th score is below its k-th has every document scoring at least its k-th among those returned, and
  sorting them by (score, tie rank) gives exactly the dense path's top-k; a query whose last two scores tie is
  searched again for twice as many (PQ fast-scan's 8-bit look-up tables make ties common) until they differ.
  One exception, **multi-bit RaBitQ** (``rabitq2``, ``rabitq4``): faiss computes a code's full estimate only
  when the bound of its 1-bit estimate beats the running k-th score, so its search can skip a document that the
  full estimate would rank in the top k (the dense path asks faiss for every document, which turns that filter
  off). This path ranks as a deployed faiss ``IndexRaBitQ`` searching k does; the test bounds how far the two
  differ.
* **TurboQuant** (``decoded_top``): faiss' scalar quantizer scores ⟨q, decode(x)⟩ one code at a time, about 3.5 µs
  per pair at 768 dimensions (an hour per configuration at 1M documents × 1,000 queries). Codes are decoded a
  block at a time by faiss' own ``sa_decode`` and scored by one matrix product per block: the same estimate to
  float32 rounding (~1e-7), so top-k lists agree except among documents within that rounding of each other.
* **OSQ** and any other per-document estimator (``blocked_top``): ``Format.score`` on a block of documents at a
  time (codes unpacked a block at a time). With queries quantized like the documents every product is of small
  integers and exact, so the scores are the dense path's bit for bit; with float32 queries a block's matrix
  product may round the last bit differently from the dense one (as ``study.search.streaming`` explains for
  cosine), so lists agree except among documents within float32 rounding of each other.

Blocked paths visit documents in descending tie rank and keep each query's best k in ``TopKHeap``, trec_eval's
tie order as in ``study.search.streaming``. faiss runs on the caller's thread count (``codecs.fixed_threads``): each
query is searched by one thread, so the results do not depend on it.
"""

from __future__ import annotations

from collections.abc import Callable

import faiss
import numpy as np

from study.compress.codecs import _fast_scan_searcher, _prepared, _rabitq_searcher, _restore
from study.compress.formats import Quantized
from study.core.progress import progress_bar
from study.search.heap import TopKHeap
from study.search.ranking import top_k_of_scores
from study.search.streaming import iter_tie_order_blocks

DENSE_PAIRS = 1 << 25
"""Query-document pairs up to which a codec is scored densely, as the study's stages score it (33.5M: e.g. 1,000
queries × 33,554 documents, 134 MB of scores)."""
ESTIMATOR_BYTES = 1 << 30
"""Dense scores of a codec held at once: queries × documents × 12 bytes (the scores and faiss' labels)."""
SCORE_BLOCK_BYTES = 64 << 20
"""Scores of one document block (queries × block × 4 bytes) on the blocked paths."""
QUERY_BLOCK = 128
"""Queries per faiss search call on the search path (the progress bar's step; results do not depend on it)."""
Search = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]


def dense_top(packed: Quantized, queries: np.ndarray, query_format: str, doc_ids: list[str], k: int) -> np.ndarray:
    """The stage's path: ``Format.score`` for a block of queries at a time (``ESTIMATOR_BYTES`` of scores), then the
    trec_eval-ordered top-k (``top_k_of_scores``)."""
    rows = max(1, min(len(queries), ESTIMATOR_BYTES // (12 * max(1, packed.n))))
    return np.concatenate([
        top_k_of_scores(packed.format.score(queries[s : s + rows], packed, query_format), doc_ids, k).indices
        for s in range(0, len(queries), rows)])


def _order(rank: np.ndarray) -> np.ndarray:
    order = np.empty(len(rank), dtype=np.int64)
    order[rank] = np.arange(len(rank))
    return order


def exact_of_returned(scores: np.ndarray, labels: np.ndarray, rank: np.ndarray, k: int) -> np.ndarray:
    """The first k of each row of a search's (scores, labels) in trec_eval order: score high first, then tie rank
    high first."""
    order = np.lexsort((-rank[labels], -scores), axis=-1)[:, :k]
    return np.take_along_axis(labels, order, axis=1)


def faiss_top(search: Search, queries: np.ndarray, rank: np.ndarray, k: int, progress: bool = False) -> np.ndarray:
    """The trec_eval-ordered top-k of every query from a faiss search (``search(queries, k)`` → (scores, labels),
    best first), asking for k + 1 and again for twice as many where the last two returned tie (module docstring).
    ``rank``: each document's tie rank (``tie_rank`` of the ids)."""
    n = len(rank)
    k = min(k, n)
    out = np.empty((len(queries), k), dtype=np.int64)
    blocks = progress_bar(range(0, len(queries), QUERY_BLOCK), desc="search", unit="query block", leave=False,
                          disable=not progress)
    for start in blocks:
        todo = np.arange(start, min(start + QUERY_BLOCK, len(queries)))
        want = min(n, k + 1)
        while len(todo):
            scores, labels = search(np.ascontiguousarray(queries[todo]), want)
            done = (labels >= 0).all(axis=1) & (scores[:, want - 1] < scores[:, k - 1]) if want < n else np.ones(
                len(todo), dtype=bool)
            out[todo[done]] = exact_of_returned(scores[done], labels[done], rank, k)
            todo, want = todo[~done], min(n, 2 * want)
    return out


def faiss_search(packed: Quantized, queries: np.ndarray, query_format: str) -> tuple[Search, np.ndarray]:
    """(faiss' search over ``packed``'s codes, the queries it searches), set up as ``Format.score`` sets them up:
    unit queries rotated like the documents, and for ``same`` encoded and decoded by the codec, except RaBitQ,
    which quantizes queries inside its search (``qb``); PQ with 4-bit codes in fast-scan's layout."""
    index = _restore(packed.params)
    q = _prepared(np.asarray(queries, dtype=np.float32), packed.params)
    rabitq = isinstance(index, faiss.IndexRaBitQ)
    if query_format == "same" and not rabitq:
        q = index.sa_decode(index.sa_encode(q))
    index.add_sa_codes(np.ascontiguousarray(packed.packed))
    if rabitq:
        return _rabitq_searcher(index, query_format), q
    if isinstance(index, faiss.IndexPQ) and index.pq.nbits == 4:
        return _fast_scan_searcher(index, query_format), q
    return index.search, q


def blocked_top(score_block: Callable[[np.ndarray], np.ndarray], codes: np.ndarray, n_queries: int,
                rank: np.ndarray, k: int, progress: bool = False, desc: str = "score") -> np.ndarray:
    """The trec_eval-ordered top-k of every query, ``score_block(codes of a block)`` → (queries × block) scores,
    documents visited in blocks of descending tie rank (``SCORE_BLOCK_BYTES`` of scores each)."""
    n = codes.shape[0]
    k = min(k, n)
    rows = max(1, min(n, SCORE_BLOCK_BYTES // (4 * max(1, n_queries))))
    order = _order(rank)
    top = TopKHeap(n_queries, k)
    blocks = progress_bar(iter_tie_order_blocks(codes, rank, order, rows), total=-(-n // rows), desc=desc,
                          unit="block", leave=False, disable=not progress)
    for part in blocks:
        scores = np.ascontiguousarray(score_block(np.ascontiguousarray(part.rows)), dtype=np.float32)
        top.add_filtered(scores, part.ranks, spare_bytes=2 * scores.nbytes)
    return top.result(order)[0]


def decoded_scores(packed: Quantized, queries: np.ndarray, query_format: str) -> Callable[[np.ndarray], np.ndarray]:
    """⟨q, decode(x)⟩ of a block of codes, in the codec's rotated space, by faiss' ``sa_decode`` and one matrix
    product: what faiss' scalar quantizer search computes one code at a time."""
    index = _restore(packed.params)
    q = _prepared(np.asarray(queries, dtype=np.float32), packed.params)
    if query_format == "same":
        q = index.sa_decode(index.sa_encode(q))
    return lambda codes: q @ index.sa_decode(codes).T


def format_scores(packed: Quantized, queries: np.ndarray, query_format: str) -> Callable[[np.ndarray], np.ndarray]:
    """``Format.score`` of a block of codes (the codec's estimate for every query and document of the block)."""
    return lambda codes: packed.format.score(queries, Quantized(packed.format, codes, packed.params, packed.dims),
                                             query_format)


def estimator_top(packed: Quantized, queries: np.ndarray, query_format: str, doc_ids: list[str], rank: np.ndarray,
                  k: int, dense_pairs: int = DENSE_PAIRS, progress: bool = False) -> np.ndarray:
    """A codec's top-k by its own estimator: the stage's dense path up to ``dense_pairs`` query-document pairs,
    else the path of its kind (module docstring)."""
    q = np.asarray(queries, dtype=np.float32)
    if len(q) * packed.n <= dense_pairs:
        return dense_top(packed, q, query_format, doc_ids, k)
    name = packed.format.name
    if "index" not in packed.params:
        return blocked_top(format_scores(packed, q, query_format), packed.packed, len(q), rank, k, progress, name)
    if isinstance(_restore(packed.params), faiss.IndexScalarQuantizer):
        return blocked_top(decoded_scores(packed, q, query_format), packed.packed, len(q), rank, k, progress, name)
    search, prepared = faiss_search(packed, q, query_format)
    return faiss_top(search, prepared, rank, k, progress)
