"""Prepared exact indexes: the study's exact search held in memory and searched many times, as faiss'
``IndexFlatIP`` and ``IndexBinaryFlat`` are by their users, with trec_eval's tie order.

``study.search.streaming`` decodes and normalises every block at every call, so that a corpus larger than
memory can be searched within a budget. A corpus searched again and again (a served index, a benchmark)
pays that once here: ``FlatIndex`` stores the normalised float32 vectors, ``BinaryFlatIndex`` the packed
bits in a faiss ``IndexBinaryFlat``, both in *descending* tie rank, the order in which faiss' heaps keep
trec_eval's choice among tied scores (``study.search.heap``). A search is then what faiss' is: a blocked
GEMM into per-query heaps (float), or faiss' own XOR/popcount search (bits), plus one sort of the k kept
(score, rank) pairs per query — the tie-ordering pass.

Scores equal ``stream_search``'s to float32 rounding: both pad queries to ``MIN_QUERY_ROWS`` rows and blocks to
the regular GEMM regime, but their blocks differ. A batch of fewer than ``GEMV_BELOW`` queries is scored by one
matrix-vector product per query (BLAS GEMV: memory-bound, so about 8× cheaper than a padded GEMM here), which
sums in another order: again equal to float32 rounding, rankings equal except among documents within it.

A batch of ``PARALLEL_FROM`` or more queries is split over the usable cores; ``workers=`` (``search``, ``scan``)
or the environment variable ``STUDY_SEARCH_WORKERS`` forces that number of threads instead (1: the one-thread
scan), e.g. to exercise the parallel path on a one-core machine.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import faiss
import numpy as np
from threadpoolctl import ThreadpoolController

from study.compress.codecs import faiss_threads
from study.compress.formats import Quantized
from study.core.errors import ParameterError
from study.core.vectors import normalise
from study.search.heap import TopKHeap
from study.search.metrics import DEPTH
from study.search.ranking import SearchResult, key_ranks, key_scores, score_keys
from study.search.streaming import MIN_QUERY_ROWS, _check_k, _ranks, min_block_rows

GEMV_BELOW = 8  # batches smaller than this are scored one matrix-vector product per query
PARALLEL_FROM = 2 * MIN_QUERY_ROWS  # batches from this size are split over the cores (each part ≥ MIN_QUERY_ROWS)
BLOCK_ROWS = 16_384  # documents per product in the parallel scan (measured: bench/exact_vs_faiss.py)
SCORE_BYTES = 256 << 20  # score block of the one-thread scan (8–63 queries)
WORKERS_ENV = "STUDY_SEARCH_WORKERS"  # forces the threads of a parallel scan (default: the usable cores)
_BLAS = ThreadpoolController()


def _tie_order(doc_ids: list[str] | None, rank: np.ndarray | None, n_docs: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows in descending tie rank, their ranks): ``rows[p]`` is the document visited p-th."""
    _, order = _ranks(doc_ids, rank, n_docs)
    return order[::-1].copy(), np.arange(n_docs - 1, -1, -1, dtype=np.int64)


def search_workers(workers: int | None = None) -> int:
    """Threads for a batch of ``PARALLEL_FROM``+ queries: ``workers``, else ``$STUDY_SEARCH_WORKERS``, else the
    usable cores."""
    if workers is None:
        value = os.environ.get(WORKERS_ENV, "")
        if not value:
            return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        if not value.isdigit() or int(value) < 1:
            raise ParameterError(WORKERS_ENV, value, "a positive integer (threads)")
        return int(value)
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1:
        raise ParameterError("workers", workers, "a positive integer (threads) or None")
    return int(workers)


def _check_queries(queries: np.ndarray, width: int, what: str) -> np.ndarray:
    if queries.ndim != 2 or queries.shape[1] != width:
        raise ParameterError("queries", f"shape {queries.shape}", f"(n_queries, {width}) {what}")
    return queries


class FlatIndex:
    """Exact cosine top-k over normalised float32 vectors kept in memory (4 bytes × dims per document)."""

    def __init__(self, docs: np.ndarray | Quantized, doc_ids: list[str] | None = None,
                 rank: np.ndarray | None = None) -> None:
        vectors = docs.decode() if isinstance(docs, Quantized) else np.asarray(docs, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] == 0:
            raise ParameterError("docs", f"shape {vectors.shape}", "a non-empty 2-D array (n_docs, dims)")
        rows, self.ranks = _tie_order(doc_ids, rank, vectors.shape[0])
        self.vectors = np.ascontiguousarray(normalise(vectors[rows]))
        self.rows = rows  # rows[p] = the document at position p
        self.zero_docs = int((~self.vectors.any(axis=1)).sum())

    @property
    def n_docs(self) -> int:
        return self.vectors.shape[0]

    @property
    def dims(self) -> int:
        return self.vectors.shape[1]

    def search(self, queries: np.ndarray, k: int = DEPTH, workers: int | None = None) -> SearchResult:
        """The k most similar documents of every query (cosine; ties in trec_eval order); ``workers``: see
        ``search_workers``."""
        k = min(_check_k(k), self.n_docs)
        q = normalise(_check_queries(np.asarray(queries, dtype=np.float32), self.dims, "float vectors"))
        top = TopKHeap(q.shape[0], k)
        self.scan(q, top.add_rows, workers)
        position_order = self.rows[::-1]  # rank r ↦ document: the position of rank r is n - 1 - r
        indices, scores = top.result(position_order)
        return SearchResult(indices, scores, int((~q.any(axis=1)).sum()), self.zero_docs)

    def scan(self, q: np.ndarray, take: Callable[[slice, np.ndarray, np.ndarray], None],
             workers: int | None = None) -> None:
        """Score normalised queries ``q`` against every document, block by block, handing each block to
        ``take(query rows, scores, ranks)`` (``TopKHeap.add_rows`` in ``search``; a no-op times the products
        alone, as ``bench/exact_vs_faiss.py`` does); ``PARALLEL_FROM``+ queries over ``search_workers(workers)``
        threads."""
        if q.shape[0] < GEMV_BELOW:
            scores = np.empty((1, self.n_docs), dtype=np.float32)
            for i, query in enumerate(q):
                np.matmul(self.vectors, query, out=scores[0])
                take(slice(i, i + 1), scores, self.ranks)
            return
        threads = search_workers(workers)
        if q.shape[0] >= PARALLEL_FROM and threads > 1:
            self._scan_parallel(q, take, min(threads, q.shape[0] // MIN_QUERY_ROWS))
            return
        n_q = q.shape[0]
        qp = np.zeros((max(n_q, MIN_QUERY_ROWS), self.dims), dtype=np.float32)
        qp[:n_q] = q
        least = min_block_rows(n_q, self.dims)
        block = max(least, SCORE_BYTES // (4 * qp.shape[0]))
        product = np.empty((qp.shape[0], min(block, max(self.n_docs, least))), np.float32)
        everyone = slice(0, n_q)
        for start in range(0, self.n_docs, block):
            rows = self.vectors[start : start + block]
            n = rows.shape[0]
            m = max(n, least)
            if m > n:  # a short last block, padded with zero rows to stay in the regular GEMM regime
                rows = np.concatenate([rows, np.zeros((m - n, self.dims), np.float32)])
            out = product[:, :m] if m == product.shape[1] else np.empty((qp.shape[0], m), np.float32)
            np.matmul(qp, rows.T, out=out)
            take(everyone, out[:n_q, :n], self.ranks[start : start + n])

    def _scan_parallel(self, q: np.ndarray, take: Callable[[slice, np.ndarray, np.ndarray], None], threads: int
                       ) -> None:
        """The scan split by queries over ``threads`` threads, each multiplying its queries by blocks of
        ``BLOCK_ROWS`` documents on one core and handing each block on at once, while its scores are still in
        cache. BLAS and faiss run one thread each meanwhile: numpy's BLAS threads and faiss' OpenMP ones
        taking turns on the same cores cost milliseconds per block (measured: bench/exact_vs_faiss.py). Each
        part has at least ``MIN_QUERY_ROWS`` queries, so every product stays in the regular GEMM regime; the
        parts' shapes depend on the number of cores, so scores equal a one-thread scan's to float32 rounding."""
        parts = np.array_split(np.arange(q.shape[0]), threads)
        least = min_block_rows(MIN_QUERY_ROWS, self.dims)

        def scan_part(rows: np.ndarray) -> None:
            lo, hi = int(rows[0]), int(rows[-1]) + 1
            part = np.ascontiguousarray(q[lo:hi])
            out = np.empty((hi - lo, BLOCK_ROWS), np.float32)
            for start in range(0, self.n_docs, BLOCK_ROWS):
                docs = self.vectors[start : start + BLOCK_ROWS]
                n = docs.shape[0]
                if n < least:  # a short last block, padded with zero rows to stay in the regular GEMM regime
                    padded = np.zeros((least, self.dims), np.float32)
                    padded[:n] = docs
                    scores = (part @ padded.T)[:, :n]
                else:
                    scores = out[:, :n] if n == BLOCK_ROWS else np.empty((hi - lo, n), np.float32)
                    np.matmul(part, docs.T, out=scores)
                take(slice(lo, hi), scores, self.ranks[start : start + n])

        with _BLAS.limit(limits=1, user_api="blas"), faiss_threads(1), ThreadPoolExecutor(threads) as pool:
            list(pool.map(scan_part, parts))


class BinaryFlatIndex:
    """Exact Hamming top-k over packed bits in a faiss ``IndexBinaryFlat`` (dims / 8 bytes per document).

    ``scores`` are ``-distance`` (higher is better), as ``study.search.streaming.stream_search_hamming``."""

    def __init__(self, packed: np.ndarray | Quantized, doc_ids: list[str] | None = None,
                 rank: np.ndarray | None = None) -> None:
        codes = packed.packed if isinstance(packed, Quantized) else np.asarray(packed)
        if codes.ndim != 2 or codes.shape[0] == 0 or codes.dtype != np.uint8:
            raise ParameterError("packed", f"{codes.dtype} array of shape {codes.shape}",
                                 "non-empty packed bits: uint8 (n_docs, bytes)")
        rows, self.ranks = _tie_order(doc_ids, rank, codes.shape[0])
        self.rows = rows
        self.index = faiss.IndexBinaryFlat(8 * codes.shape[1])
        self.index.add(np.ascontiguousarray(codes[rows]))

    @property
    def n_docs(self) -> int:
        return self.index.ntotal

    def search(self, query_bits: np.ndarray | Quantized, k: int = DEPTH) -> SearchResult:
        """The k nearest documents of every query by Hamming distance (ties in trec_eval order)."""
        qb = query_bits.packed if isinstance(query_bits, Quantized) else np.asarray(query_bits)
        qb = np.ascontiguousarray(_check_queries(qb, self.index.code_size, "packed bytes"), dtype=np.uint8)
        k = min(_check_k(k), self.n_docs)
        distances, positions = self.index.search(qb, k)  # ties: the earliest positions (largest ranks) kept
        keys = np.sort(score_keys(-distances.astype(np.float32), self.ranks[positions]), axis=1)[:, ::-1]
        position_order = self.rows[::-1]
        return SearchResult(position_order[key_ranks(keys)], key_scores(keys).copy(), 0, 0)
