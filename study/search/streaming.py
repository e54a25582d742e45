"""Exact top-k search in bounded memory: documents are scored in blocks against all queries and a
running top-k per query is kept, so memory is O(queries × k + block × dims), never queries × corpus.

Why not a library's exact index alone: faiss ``IndexFlat``/``IndexBinaryFlat`` and usearch's exact mode
keep documents in insertion order and cut ties at the k-th score by it, so nDCG computed from their runs
would not equal trec_eval's, and they hold the whole corpus in memory. Here the order is trec_eval's, exactly as
``study.search.exact.search`` defines it: score high first, then document id in descending string order.

How the order is kept exact and cheap: documents are visited in *descending* tie rank (their position in
ascending id order; ``iter_tie_order_blocks``), and each block's scores (one GEMM, or faiss' XOR/popcount
kernels for packed bits) go to faiss' C++ heaps, one per query, which keep the k best in one pass in parallel
over queries (``study.search.heap``: with that visiting order their strict admission and their eviction of the
smallest id among equal scores are trec_eval's tie order). A block's scores are first cut to each query's
candidates (``TopKHeap.add_filtered``: those at or above a threshold that at least k scores of the block reach),
so the heaps see about 1.2 k documents per query instead of the whole block and keep the very same pairs. Each
block's documents are normalised in place (``normalise_block``) and, when gathered, gathered into a reused
buffer. The kept (score, rank) pairs are then sorted as
one unsigned 64-bit key each, ``(order-preserving bits of the float32 score) << 32 | rank``. Loops run over
blocks, never over documents or queries.

Why scores do not depend on the block size: BLAS picks different kernels for very small products
(GEMV when a side is 1, "small matrix" kernels below a few million multiply-adds), and those sum in
another order, changing the last bit of some scores. Each GEMM here is kept in the regular regime:
queries are padded to at least ``MIN_QUERY_ROWS`` rows and each document block to at least
``MIN_GEMM_MACS`` multiply-adds (zero rows, dropped after the product). With that, on BLAS kernels
that sum each dot product in one order (e.g. OpenBLAS' Sandybridge kernel) results are identical
for every memory budget and equal to one unblocked ``queries @ docs.T``; FMA kernels (OpenBLAS'
Haswell kernel, what an AMD EPYC without ``OPENBLAS_CORETYPE`` gets) sum tile edges in another
order, so scores of two block sizes agree to float32 rounding (~1e-7) and rankings agree except
among documents within that rounding of each other (tests/test_streaming.py checks exactly that).
A given plan is deterministic: the same inputs and budget give the same bits on every run.

Memory: ``plan_blocks`` turns a budget in bytes into a block size from an upper bound of every
allocation this module makes (``bytes_needed``); ``tracemalloc`` confirms it in the tests. Blocks read
from a ``np.memmap`` are released from the process after use (``madvise(MADV_DONTNEED)`` on the block's
pages), so the mapped corpus does not accumulate in the resident set either.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from study.compress.formats import Params, Quantized, get_format, quantize
from study.core.errors import ParameterError
from study.core.io import atomic_path
from study.core.progress import progress_bar
from study.core.vectors import normalise, normalise_into
from study.search.heap import TopKHeap
from study.search.metrics import DEPTH
from study.search.ranking import SearchResult, tie_rank

DEFAULT_BUDGET = 256 << 20
MIN_QUERY_ROWS = 32
MIN_GEMM_MACS = 1 << 23
MAX_SCORE_BYTES = 64 << 20  # larger score blocks are no faster, only bigger (measured: bench/scaling.py)


# --- memory plan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockPlan:
    """Documents per block and the bytes that plan may allocate."""

    block_rows: int
    bytes_needed: int
    n_blocks: int


_SCRATCH: dict[str, np.ndarray] = {}
_SCRATCH_KEEP = 64 << 20  # buffers up to this size are kept for the next search (larger ones are freed)


def _scratch(name: str, size: int) -> np.ndarray:
    """A float32 work buffer of ``size`` elements, reused between searches when it is small: a fresh buffer
    costs its page faults on every call (about a third of a SciFact-sized search), a kept one does not. Every
    element the search reads is written first, so reuse cannot change a result."""
    kept = _SCRATCH.get(name)
    if kept is not None and kept.size >= size:
        return kept[:size]
    buffer = np.empty(size, dtype=np.float32)
    if size * 4 <= _SCRATCH_KEEP:
        _SCRATCH[name] = buffer
    return buffer


def _padded_queries(n_queries: int) -> int:
    return max(n_queries, MIN_QUERY_ROWS)


def min_block_rows(n_queries: int, dims: int, hamming: bool = False) -> int:
    """Rows a document block is padded to so that its GEMM stays in the regular BLAS regime (1 for bits)."""
    if hamming:
        return 1
    return max(1, -(-MIN_GEMM_MACS // (_padded_queries(n_queries) * max(1, dims))))


def bytes_needed(
    n_queries: int,
    n_docs: int,
    dims: int,
    k: int,
    block_rows: int,
    hamming: bool = False,
    raw_row_bytes: int | None = None,
) -> int:
    """Upper bound of the bytes ``stream_search`` allocates for this shape (excluding its inputs).

    Fixed: queries (converted, normalised, padded), tie ranks of the ids (object array, argsort, ranks,
    inverse, the check for row-number ranks), the heaps and the sorted, decoded output. Per block: its ranks
    and rows in descending tie rank (``raw_row_bytes`` each, default float32: resident while a
    memory-mapped block is scored, or gathered); for vectors the score block, the decoded, normalised
    (and, for tiny blocks, padded) documents and a contiguous copy of a short block's scores; for packed
    bits faiss' candidates per query (its own kernels allocate no per-pair memory).
    """
    qp = _padded_queries(n_queries)
    gemm_rows = max(block_rows, min_block_rows(n_queries, dims, hamming))
    fixed = 12 * qp * dims + 48 * n_docs + 56 * n_queries * k
    raw = 4 * dims if raw_row_bytes is None else raw_row_bytes
    if hamming:
        per_block = 48 * n_queries * k
    else:
        per_block = gemm_rows * (4 * qp + 4 * dims) + block_rows * (24 * dims + 4 * n_queries)
    return fixed + per_block + block_rows * (raw + 16)


def plan_blocks(
    n_queries: int,
    n_docs: int,
    dims: int,
    k: int = DEPTH,
    memory_budget: int = DEFAULT_BUDGET,
    hamming: bool = False,
    raw_row_bytes: int | None = None,
) -> BlockPlan:
    """The largest block (for vectors: score block ≤ ``MAX_SCORE_BYTES``) whose search fits ``memory_budget``.

    Vector blocks are at least ``min(n_docs, min_block_rows)`` documents (smaller GEMMs would change the
    last bit of scores).
    """
    if isinstance(memory_budget, bool) or not isinstance(memory_budget, int | np.integer) or memory_budget <= 0:
        raise ParameterError("memory_budget", memory_budget, "a positive number of bytes")
    k = min(k, n_docs)
    floor_rows = min(max(n_docs, 1), min_block_rows(n_queries, dims, hamming))

    def need(rows: int) -> int:
        return bytes_needed(n_queries, n_docs, dims, k, rows, hamming, raw_row_bytes)

    if need(floor_rows) > memory_budget:
        raise ParameterError(
            "memory_budget", int(memory_budget),
            f"at least {need(floor_rows)} bytes for {n_queries} queries × {n_docs} documents × {dims} dims, k={k}",
        )
    score_cap = n_docs if hamming else MAX_SCORE_BYTES // (4 * _padded_queries(n_queries))
    cap = max(floor_rows, min(max(n_docs, 1), score_cap))
    rows = _largest(floor_rows, cap, lambda r: need(r) <= memory_budget)
    n_blocks = -(-n_docs // rows) if n_docs else 0
    return BlockPlan(rows, need(rows), n_blocks)


def least_budget(
    n_queries: int, n_docs: int, dims: int, k: int = DEPTH, hamming: bool = False, raw_row_bytes: int | None = None
) -> int:
    """The smallest ``memory_budget`` (bytes) a search of this shape accepts."""
    k = min(k, n_docs)
    floor_rows = min(max(n_docs, 1), min_block_rows(n_queries, dims, hamming))
    return bytes_needed(n_queries, n_docs, dims, k, floor_rows, hamming, raw_row_bytes)


def _largest(lo: int, hi: int, fits: Callable[[int], bool]) -> int:
    """Largest value in [lo, hi] for which the monotone ``fits`` holds (``fits(lo)`` is assumed)."""
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


# --- reading blocks -------------------------------------------------------------------------------


def release_pages(block: np.ndarray) -> None:
    """Drop the pages of a shared ``np.memmap`` block from this process's resident set; the data stays
    in the page cache and the file (dirty pages included), and is read back on the next access. A no-op
    for ordinary arrays and for copy-on-write maps (mode "c", whose private pages would be lost).
    Keeps the resident set bounded while streaming a corpus."""
    mm = getattr(block, "_mmap", None)
    if not isinstance(mm, mmap.mmap) or getattr(block, "mode", "r") not in ("r", "r+", "w+") or block.size == 0:
        return
    try:
        base = np.frombuffer(mm, dtype=np.uint8).ctypes.data
    except (TypeError, ValueError):  # closed map
        return
    start = block.ctypes.data - base
    page = mmap.PAGESIZE
    lo = start // page * page
    hi = min(len(mm), -(-(start + block.nbytes) // page) * page)
    if 0 <= lo < hi:
        mm.madvise(mmap.MADV_DONTNEED, lo, hi - lo)


def iter_row_blocks(array: np.ndarray, block_rows: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(start, rows)`` views of consecutive row blocks; memmap pages are released after each."""
    for start in range(0, array.shape[0], block_rows):
        block = array[start : start + block_rows]
        yield start, block
        release_pages(block)


def _doc_reader(docs: np.ndarray | Quantized) -> tuple[int, int, Callable[[np.ndarray], np.ndarray], np.ndarray]:
    """(n, dims, decode(rows) → float32, raw rows array) for float arrays and ``Quantized`` codes."""
    if isinstance(docs, Quantized):
        def decode(rows: np.ndarray) -> np.ndarray:
            return docs.format.decode(np.ascontiguousarray(rows), docs.params, docs.dims)

        return docs.n, docs.dims, decode, docs.packed
    docs = docs if isinstance(docs, np.ndarray) else np.asarray(docs, dtype=np.float32)
    if docs.ndim != 2:
        raise ParameterError("docs", f"shape {docs.shape}", "a 2-D array (n_docs, dims) or Quantized codes")
    return docs.shape[0], docs.shape[1], lambda rows: np.asarray(rows, dtype=np.float32), docs


# --- documents in descending tie rank (the order study.search.heap needs) -------------------------


@dataclass(frozen=True)
class TieOrderBlock:
    """One block of documents in descending tie rank: their stored rows and their ranks (descending)."""

    rows: np.ndarray
    ranks: np.ndarray


def iter_tie_order_blocks(raw: np.ndarray, rank: np.ndarray, order: np.ndarray, block_rows: int,
                          out: np.ndarray | None = None) -> Iterator[TieOrderBlock]:
    """Consecutive blocks of ``raw`` in *descending* rank order (``order[rank]`` = row), each row once.

    Rank = row number (ids such as zero-padded numbers) reads blocks from the end, each a reversed view;
    rank = reversed row number reads them forward; any other order gathers each block's rows (a copy, into
    ``out``, an array of ``raw``'s dtype and width with at least ``block_rows`` rows, when given: a block is
    then valid until the next one is read).
    Pages of a memory-mapped ``raw`` are released after each block, as ``iter_row_blocks`` does."""
    n = raw.shape[0]
    ascending = bool(np.array_equal(order, np.arange(n)))
    descending = not ascending and bool(np.array_equal(order, np.arange(n - 1, -1, -1)))
    for s in range(0, n, block_rows):
        e = min(n, s + block_rows)  # positions s..e-1 of the descending order: ranks n-1-s down to n-e
        ranks = np.arange(n - 1 - s, n - 1 - e, -1, dtype=np.int64)
        if ascending:
            stored = raw[n - e : n - s]
            yield TieOrderBlock(stored[::-1], ranks)
            release_pages(stored)
        elif descending:
            stored = raw[s:e]
            yield TieOrderBlock(stored, ranks)
            release_pages(stored)
        elif out is not None:
            yield TieOrderBlock(np.take(raw, order[ranks], axis=0, out=out[: e - s], mode="clip"), ranks)  # in range
            release_pages(raw)
        else:
            yield TieOrderBlock(raw[order[ranks]], ranks)
            release_pages(raw)


def _ranks(doc_ids: list[str] | None, rank: np.ndarray | None, n_docs: int) -> tuple[np.ndarray, np.ndarray]:
    """(rank of each document in id string order, inverse permutation)."""
    if rank is None:
        if doc_ids is None or len(doc_ids) != n_docs:
            raise ParameterError("doc_ids", f"{None if doc_ids is None else len(doc_ids)} ids", f"{n_docs} ids")
        rank = tie_rank(doc_ids)
    rank = np.asarray(rank, dtype=np.int64)
    if rank.shape != (n_docs,):
        raise ParameterError("rank", f"shape {rank.shape}", f"a permutation of 0..{n_docs - 1}")
    order = np.empty(n_docs, dtype=np.int64)
    order[rank] = np.arange(n_docs)
    return rank, order


def _empty(n_queries: int) -> SearchResult:
    return SearchResult(np.empty((n_queries, 0), np.int64), np.empty((n_queries, 0), np.float32), 0, 0)


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k <= 0:
        raise ParameterError("k", k, "a positive integer")
    return int(k)


def stream_search(
    queries: np.ndarray | Quantized,
    docs: np.ndarray | Quantized,
    doc_ids: list[str] | None = None,
    k: int = DEPTH,
    memory_budget: int = DEFAULT_BUDGET,
    rank: np.ndarray | None = None,
    progress: bool = False,
) -> SearchResult:
    """Exact cosine top-k of every query over ``docs`` (float array, memmap or ``Quantized`` codes,
    decoded block by block) within ``memory_budget`` bytes of working memory.

    Ties are ordered by ``doc_ids`` in descending string order; pass ``rank`` (each document's
    position in ascending id order, e.g. ``np.arange(n)`` for zero-padded ids) instead of the ids
    to skip sorting millions of strings.
    """
    k = _check_k(k)
    n_docs, dims, decode, raw = _doc_reader(docs)
    if isinstance(queries, Quantized):
        queries = queries.decode()
    q = normalise(np.asarray(queries, dtype=np.float32))
    if q.ndim != 2 or (n_docs and q.shape[1] != dims):
        raise ParameterError("queries", f"shape {q.shape}", f"(n_queries, {dims})")
    n_q = q.shape[0]
    k = min(k, n_docs)
    if n_q == 0 or n_docs == 0:
        return _empty(n_q)
    plan = plan_blocks(n_q, n_docs, dims, k, memory_budget, raw_row_bytes=raw[:1].nbytes)
    rank, order = _ranks(doc_ids, rank, n_docs)
    qp = np.zeros((_padded_queries(n_q), dims), dtype=np.float32)
    qp[:n_q] = q
    zero_q = int((~q.any(axis=1)).sum())
    del q
    min_rows = min_block_rows(n_q, dims)
    gemm_rows = max(plan.block_rows, min_rows)
    score_buffer = _scratch("scores", qp.shape[0] * gemm_rows)  # contiguous views: BLAS writes in place
    normed = _scratch("block", gemm_rows * dims).reshape(gemm_rows, dims)  # short blocks: zero-padded below
    top = TopKHeap(n_q, k)
    zero_d = 0
    gathered = None  # float32 rows gathered in tie order go to a reused buffer (a fresh one costs page faults)
    if raw.dtype == np.float32 and raw.ndim == 2:
        gathered = _scratch("gathered", plan.block_rows * dims).reshape(plan.block_rows, dims)
    blocks = progress_bar(iter_tie_order_blocks(raw, rank, order, plan.block_rows, out=gathered), total=plan.n_blocks,
                          desc="scoring", unit="block", disable=not progress)
    for part in blocks:
        n = part.rows.shape[0]
        m = max(n, min_rows)  # a block smaller than the regular-GEMM size is padded with zero rows, dropped below
        block = normed[:m]
        zero_d += normalise_block(decode(part.rows), block[:n])
        block[n:] = 0
        product = score_buffer[: qp.shape[0] * m].reshape(qp.shape[0], m)
        np.matmul(qp, block.T, out=product)
        del block
        # finite: normalised rows are finite (non-finite ones were zeroed); the bytes the plan reserves for
        # decoding a block and copying its scores are free while its scores are selected
        top.add_filtered(product[:n_q, :n], part.ranks, spare_bytes=n * (24 * dims + 4 * n_q))
    indices, best = top.result(order)
    return SearchResult(indices, best, zero_q, zero_d)


def normalise_block(x: np.ndarray, out: np.ndarray) -> int:
    """``normalise_into(x, out)``, bit for bit, and the number of zero rows of ``out``; ``x`` and ``out`` must not
    overlap. When every row has a finite, positive norm (then every value is finite: a NaN or inf one makes
    its row's sum of squares NaN or inf), the squares are summed in ``out`` itself, by the same reduction
    ``np.linalg.norm`` makes, and divided as ``normalise_into`` divides: no temporaries, no finiteness pass,
    and no zero rows (a row divided by its positive norm keeps a value of at least 1/√dims). Any other block
    goes through ``normalise_into``."""
    if x.ndim == 2 and x.dtype == np.float32 and x.shape == out.shape and x.shape[0] and x.shape[1]:
        np.multiply(x, x, out=out)
        norms = np.sqrt(np.add.reduce(out, axis=1, keepdims=True))
        if np.isfinite(norms).all() and (norms > 0).all():
            np.divide(x, norms, out=out, dtype=np.float32, casting="same_kind")
            return 0
    normalise_into(x, out)
    return int((~out.any(axis=1)).sum())


# --- Hamming on packed bits -------------------------------------------------------------------


def as_words(packed: np.ndarray) -> np.ndarray:
    """Packed bits (n, bytes) as uint64 words (n, ceil(bytes / 8)), zero-padded: padding adds no distance."""
    packed = np.ascontiguousarray(packed, dtype=np.uint8)
    pad = -packed.shape[1] % 8
    if pad:
        packed = np.concatenate([packed, np.zeros((packed.shape[0], pad), np.uint8)], axis=1)
    return packed.view(np.uint64)


def hamming_block_candidates(query_bits: np.ndarray, block_bits: np.ndarray, k: int
                             ) -> tuple[np.ndarray, np.ndarray]:
    """(distances, positions) of each query's k nearest codes of one block, by faiss' ``knn_hamming``, each
    row in ascending position. Among codes tied at the k-th distance faiss keeps the earliest positions (its
    heap takes a newcomer only when strictly closer), which, for a block in descending tie rank, are
    trec_eval's choice."""
    distances, positions = faiss.knn_hamming(query_bits, np.ascontiguousarray(block_bits, dtype=np.uint8), k)
    by_position = np.argsort(positions, axis=1, kind="stable")
    return np.take_along_axis(distances, by_position, axis=1), np.take_along_axis(positions, by_position, axis=1)


def stream_search_hamming(
    query_bits: np.ndarray | Quantized,
    doc_bits: np.ndarray | Quantized,
    doc_ids: list[str] | None = None,
    k: int = DEPTH,
    memory_budget: int = DEFAULT_BUDGET,
    rank: np.ndarray | None = None,
    progress: bool = False,
) -> SearchResult:
    """Exact top-k by Hamming distance on bit-packed codes, streamed in document blocks. ``scores`` holds
    ``-distance`` (higher is better), ties in trec_eval order.

    Each block (in descending tie rank) gives its k nearest codes per query with faiss' XOR/popcount kernels
    (``hamming_block_candidates``); ``study.search.heap.TopKHeap`` merges them across blocks."""
    k = _check_k(k)
    qb = query_bits.packed if isinstance(query_bits, Quantized) else query_bits
    db = doc_bits.packed if isinstance(doc_bits, Quantized) else doc_bits
    if qb.ndim != 2 or db.ndim != 2 or qb.shape[1] != db.shape[1]:
        raise ParameterError("query_bits", f"shapes {qb.shape} and {db.shape}", "2-D packed codes of equal width")
    n_q, n_docs = qb.shape[0], db.shape[0]
    k = min(k, n_docs)
    if n_q == 0 or n_docs == 0:
        return _empty(n_q)
    qb = np.ascontiguousarray(qb, dtype=np.uint8)
    plan = plan_blocks(n_q, n_docs, 8 * -(-qb.shape[1] // 8), k, memory_budget, hamming=True,
                       raw_row_bytes=db[:1].nbytes)
    rank, order = _ranks(doc_ids, rank, n_docs)
    top = TopKHeap(n_q, k)
    blocks = progress_bar(iter_tie_order_blocks(db, rank, order, plan.block_rows), total=plan.n_blocks, desc="hamming",
                          unit="block", disable=not progress)
    for part in blocks:
        distances, positions = hamming_block_candidates(qb, part.rows, min(k, part.rows.shape[0]))
        top.add_candidates(-distances.astype(np.float32), part.ranks[positions])
    indices, best = top.result(order)
    return SearchResult(indices, best, 0, 0)


# --- block-wise compression and transforms ----------------------------------------------------------


def _check_rows(block_rows: int) -> int:
    if isinstance(block_rows, bool) or not isinstance(block_rows, int | np.integer) or block_rows <= 0:
        raise ParameterError("block_rows", block_rows, "a positive integer")
    return int(block_rows)


def _output(path: Path | str | None, shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    if path is None:
        return np.empty(shape, dtype=dtype)
    return np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)


def quantize_in_blocks(
    vectors: np.ndarray,
    name: str,
    params: Params | None = None,
    block_rows: int = 65536,
    path: Path | str | None = None,
    progress: bool = False,
) -> Quantized:
    """``study.compress.formats.quantize`` applied block by block: byte for byte the same codes, while only
    one block of float32 rows and its codes are in memory. With ``path`` the codes go to a ``.npy``
    file (written atomically) and come back memory-mapped, so a corpus larger than memory can be
    compressed; calibrated formats need ``params`` (from ``study.compress.formats.calibrate`` on a sample)."""
    fmt = get_format(name)
    block_rows = _check_rows(block_rows)
    if vectors.ndim != 2:
        raise ParameterError("vectors", f"shape {vectors.shape}", "a 2-D array (n, dims)")
    n, dims = vectors.shape
    width = quantize(np.zeros((1, dims), np.float32), name, params).packed.shape[1] if n else 0

    def fill(out: np.ndarray) -> None:
        for start, rows in progress_bar(iter_row_blocks(vectors, block_rows), total=-(-n // block_rows), desc=name,
                                        unit="block", disable=not progress):
            out[start : start + rows.shape[0]] = quantize(rows, name, params).packed
            release_pages(out[start : start + rows.shape[0]])

    if path is None:
        packed = _output(None, (n, width), np.uint8)
        fill(packed)
    else:
        with atomic_path(path) as tmp:
            out = _output(tmp, (n, width), np.uint8)
            fill(out)
            out.flush()
            del out
        packed = np.load(path, mmap_mode="r")
    return Quantized(fmt, packed, params or {}, dims)


def transform_in_blocks(
    reducer_transform_fn: Callable[[np.ndarray], np.ndarray],
    vectors: np.ndarray,
    block_rows: int = 65536,
    path: Path | str | None = None,
    progress: bool = False,
) -> np.ndarray:
    """Apply a row-wise transform (e.g. a fitted reducer's ``transform``) block by block into one
    preallocated float32 array (or a ``.npy`` memmap at ``path``, written atomically). The result
    equals ``reducer_transform_fn(vectors)`` for any transform that treats rows independently."""
    block_rows = _check_rows(block_rows)
    if vectors.ndim != 2:
        raise ParameterError("vectors", f"shape {vectors.shape}", "a 2-D array (n, dims)")
    n = vectors.shape[0]
    blocks = iter_row_blocks(vectors, block_rows)

    def fill(out_for: Callable[[int], np.ndarray], first: np.ndarray) -> np.ndarray:
        out = out_for(first.shape[1])
        out[: first.shape[0]] = first
        for start, rows in progress_bar(blocks, total=max(0, -(-n // block_rows) - 1), desc="transform", unit="block",
                                        disable=not progress):
            out[start : start + rows.shape[0]] = reducer_transform_fn(rows)
        return out

    first_rows = next(blocks, (0, vectors[:0]))[1]
    first = np.asarray(reducer_transform_fn(first_rows), dtype=np.float32)
    if first.ndim != 2 or first.shape[0] != first_rows.shape[0]:
        raise ParameterError("reducer_transform_fn", f"returned shape {first.shape}", "one output row per input row")
    if path is None:
        return fill(lambda width: np.empty((n, width), np.float32), first)
    with atomic_path(path) as tmp:
        out = fill(lambda width: _output(tmp, (n, width), np.float32), first)
        out.flush()
        del out
    return np.load(path, mmap_mode="r")
