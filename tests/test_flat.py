"""Prepared exact indexes and faiss' heaps: exact trec_eval order under heavy ties, equal to the streaming
search, the parallel scan (forced to 2 and 3 threads, so it runs on any machine) equal to one thread's, and bad
input refused by name."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from study.compress.formats import quantize
from study.core.errors import ParameterError
from study.core.vectors import normalise
from study.search import flat
from study.search.flat import GEMV_BELOW, PARALLEL_FROM, WORKERS_ENV, BinaryFlatIndex, FlatIndex
from study.search.heap import TopKHeap
from study.search.streaming import iter_tie_order_blocks, stream_search, stream_search_hamming

BLOCKS = 4  # document blocks of the parallel scan in the tests below (the last one short, padded)


def _trec_top_k(scores: np.ndarray, rank: np.ndarray, k: int) -> np.ndarray:
    """Reference: a full sort of every row by (score desc, rank desc)."""
    return np.stack([np.lexsort((-rank, -row))[:k] for row in scores])


@pytest.mark.parametrize("block", [7, 64, 5000])
def test_heap_keeps_trec_eval_ties_when_fed_in_descending_rank(block):
    rng = np.random.default_rng(block)
    scores = rng.integers(0, 12, size=(9, 5000)).astype(np.float32)  # a dozen values: ties everywhere
    rank = rng.permutation(5000)
    by_rank = np.argsort(-rank)  # documents in descending rank
    top = TopKHeap(9, 50)
    for start in range(0, 5000, block):
        cols = by_rank[start : start + block]
        top.add(scores[:, cols], rank[cols])
    order = np.argsort(rank)  # order[rank] = document
    indices, values = top.result(order)
    expected = _trec_top_k(scores, rank, 50)
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_array_equal(values, np.take_along_axis(scores, expected, axis=1))


def _heap_state(top: TopKHeap) -> np.ndarray:
    """What a heap holds, as sorted (score, rank) keys: the same pairs whatever their places in the heap."""
    from study.search.ranking import score_keys

    return np.sort(score_keys(top.values, top.ranks), axis=1)


@pytest.mark.parametrize("case", ["random", "dozen values", "all tied", "short blocks", "non-contiguous"])
def test_filtered_heap_keeps_the_same_pairs_as_offering_every_document(case):
    """``add_filtered`` offers the heaps only the documents at or above a threshold no better-kept document can be
    under: the heaps end with exactly the pairs ``add`` leaves, block after block (the threshold rises with the
    k-th best kept), ties included; a block too small, or too tied for the spare bytes, goes through ``add``."""
    rng = np.random.default_rng(len(case))
    n_q, n, k = 37, 6000, 50
    scores = {"random": rng.standard_normal((n_q, n)), "dozen values": rng.integers(0, 12, (n_q, n)),
              "all tied": np.ones((n_q, n)), "short blocks": rng.standard_normal((n_q, n)),
              "non-contiguous": rng.standard_normal((n_q, n))}[case].astype(np.float32)
    rank = rng.permutation(n)
    by_rank = np.argsort(-rank)
    block = 300 if case == "short blocks" else 2000
    plain, filtered = TopKHeap(n_q, k), TopKHeap(n_q, k)
    for start in range(0, n, block):
        cols = by_rank[start : start + block]
        part = scores[:, cols]
        plain.add(part, rank[cols])
        if case == "non-contiguous":  # a view into a wider score buffer, as stream_search passes
            wide = np.zeros((n_q + 3, len(cols) + 5), np.float32)
            wide[:n_q, : len(cols)] = part
            part = wide[:n_q, : len(cols)]
        filtered.add_filtered(part, rank[cols], spare_bytes=64 << 20)
        np.testing.assert_array_equal(_heap_state(filtered), _heap_state(plain))
    order = np.argsort(rank)
    for got, want in zip(filtered.result(order), plain.result(order), strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(filtered.result(order)[0], _trec_top_k(scores, rank, k))


def test_filtered_heap_falls_back_when_the_candidates_would_not_fit(monkeypatch):
    rng = np.random.default_rng(0)
    scores, rank = rng.standard_normal((20, 4000)).astype(np.float32), np.arange(3999, -1, -1)
    calls = []
    monkeypatch.setattr(TopKHeap, "add_candidates", lambda self, *a: calls.append("filtered"))
    TopKHeap(20, 10).add_filtered(scores, rank, spare_bytes=64 << 20)
    assert calls == ["filtered"]
    monkeypatch.setattr(TopKHeap, "add", lambda self, *a: calls.append("plain"))
    TopKHeap(20, 10).add_filtered(scores, rank, spare_bytes=20 * 4000)  # the mask alone takes that
    TopKHeap(20, 10).add_filtered(np.ones_like(scores), rank, spare_bytes=300_000)  # every score a candidate
    one_tied = scores.copy()
    one_tied[3] = 1.0  # one query's every document a candidate: its row of candidates would not fit
    TopKHeap(20, 10).add_filtered(one_tied, rank, spare_bytes=400_000)
    TopKHeap(20, 600).add_filtered(scores, rank, spare_bytes=64 << 20)  # too few documents per k
    with np.errstate(invalid="ignore"):
        TopKHeap(20, 10).add_filtered(np.full_like(scores, np.nan), rank, spare_bytes=64 << 20)
    assert calls == ["filtered", "plain", "plain", "plain", "plain", "plain"]


def test_heap_fed_in_ascending_rank_would_break_ties_the_other_way():
    """The visiting order matters: the check above can fail."""
    scores = np.zeros((1, 100), np.float32)
    rank = np.arange(100)
    top = TopKHeap(1, 10)
    top.add(scores, rank)  # ascending: the heap keeps the first ten, trec_eval wants the last ten
    assert set(top.result(np.arange(100))[0][0]) == set(range(10))
    assert set(_trec_top_k(scores, rank, 10)[0]) == set(range(90, 100))


@pytest.mark.parametrize("into", [False, True])
@pytest.mark.parametrize("kind", ["row numbers", "reversed", "shuffled"])
def test_tie_order_blocks_visit_every_row_once_in_descending_rank(kind, into):
    """... the same rows when a gathered block is written into a given buffer (valid until the next block)."""
    n = 1003
    rank = {"row numbers": np.arange(n), "reversed": np.arange(n)[::-1].copy(),
            "shuffled": np.random.default_rng(0).permutation(n)}[kind]
    order = np.empty(n, np.int64)
    order[rank] = np.arange(n)
    raw = np.arange(n, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)
    out = np.full((100, 3), -1, np.float32) if into else None
    blocks = [(b.rows[:, 0].copy(), b.ranks) for b in iter_tie_order_blocks(raw, rank, order, 100, out=out)]
    ranks = np.concatenate([r for _, r in blocks])
    rows = np.concatenate([rows for rows, _ in blocks]).astype(int)
    np.testing.assert_array_equal(ranks, np.arange(n - 1, -1, -1))
    np.testing.assert_array_equal(rank[rows], ranks)


def _tied_corpus(seed: int = 3):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((1500, 64)).astype(np.float32)
    docs = quantize(np.concatenate([base, base, base[:300]]), "binary").decode()  # duplicates tie exactly
    ids = [f"d{i}" for i in rng.permutation(len(docs))]  # string order ≠ numeric order
    return rng, docs, ids


def test_flat_index_equals_stream_search_under_ties():
    """One-thread scan (fewer than PARALLEL_FROM queries): the same products as stream_search, the same ranking."""
    rng, docs, ids = _tied_corpus()
    queries = quantize(rng.standard_normal((PARALLEL_FROM - 1, 64)).astype(np.float32), "binary").decode()
    expected = stream_search(queries, docs, ids, 100)
    got = FlatIndex(docs, ids).search(queries, 100)
    np.testing.assert_array_equal(got.indices, expected.indices)
    np.testing.assert_allclose(got.scores, expected.scores, atol=2e-6, rtol=0)


class ScanSpy:
    """Records what a search does: the threads of each parallel scan, and every (query rows, block) handed on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.threads: list[int] = []
        self.handed: list[tuple[int, int, bool]] = []  # (first query, end query, from the calling thread)
        parallel, add_rows = FlatIndex._scan_parallel, TopKHeap.add_rows
        caller = threading.get_ident()

        def scan_parallel(index, q, take, threads):
            self.threads.append(threads)
            return parallel(index, q, take, threads)

        def take(heap, rows, scores, ranks):
            self.handed.append((rows.start, rows.stop, threading.get_ident() == caller))
            return add_rows(heap, rows, scores, ranks)

        monkeypatch.setattr(FlatIndex, "_scan_parallel", scan_parallel)
        monkeypatch.setattr(TopKHeap, "add_rows", take)

    def parts(self) -> list[tuple[int, int]]:
        return sorted({(lo, hi) for lo, hi, _ in self.handed})

    def reset(self) -> None:
        self.threads.clear()
        self.handed.clear()


@pytest.fixture()
def spy(monkeypatch) -> ScanSpy:
    return ScanSpy(monkeypatch)


def _parallel_case(monkeypatch, seed: int, signs: bool = False):
    """``_tied_corpus`` as ``BLOCKS`` blocks of the parallel scan (smaller blocks than in use, the same code):
    (index, ids, docs, rng); ``signs``: its {0, 1} bits as ±1."""
    monkeypatch.setattr(flat, "BLOCK_ROWS", 1024)
    rng, docs, ids = _tied_corpus(seed)
    docs = 2 * docs - 1 if signs else docs
    assert -(-len(docs) // flat.BLOCK_ROWS) == BLOCKS
    return FlatIndex(docs, ids), ids, docs, rng


@pytest.mark.parametrize("how", ["argument", "environment"])
@pytest.mark.parametrize("workers", [2, 3])
def test_forced_workers_take_the_parallel_path_and_equal_one_worker(monkeypatch, spy, workers, how):
    """On a machine of one core (as seen by the search). ±1 queries and documents of 64 dims: normalised, their
    products are multiples of 1/64, exact in any summation order, so every score is the same in any split and
    heavy exact ties test the tie order. ({0, 1} bits would not do: normalised by their count, their products
    round, and BLAS rounds a row differently in calls of other shapes on some CPUs.)"""
    index, _, _, rng = _parallel_case(monkeypatch, workers, signs=True)
    queries = np.sign(rng.standard_normal((3 * PARALLEL_FROM, 64))).astype(np.float32)
    monkeypatch.setattr(flat.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    monkeypatch.setattr(flat.os, "cpu_count", lambda: 1)
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    one = index.search(queries, 100)
    assert spy.threads == [] and spy.parts() == [(0, len(queries))]  # one core: the one-thread scan, the reference
    spy.reset()
    if how == "environment":
        monkeypatch.setenv(WORKERS_ENV, str(workers))
    got = index.search(queries, 100, workers=workers if how == "argument" else None)
    bounds = np.cumsum([0] + [len(p) for p in np.array_split(queries, workers)])
    assert spy.threads == [workers]
    assert spy.parts() == list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))  # the batch split in `workers`
    assert len(spy.handed) == workers * BLOCKS and not any(caller for _, _, caller in spy.handed)  # by the pool
    np.testing.assert_array_equal(got.indices, one.indices)
    np.testing.assert_array_equal(got.scores, one.scores)  # exact here; to float32 rounding in general


def test_parallel_scan_agrees_with_stream_search_to_rounding(monkeypatch, spy):
    """Batches split over 3 threads: scores equal to float32 rounding; exact ties (duplicates) still ordered by
    id; any other difference in the ranking is between documents whose scores lie within that rounding."""
    index, ids, docs, rng = _parallel_case(monkeypatch, 4)
    queries = rng.standard_normal((3 * PARALLEL_FROM, 64)).astype(np.float32)
    expected = stream_search(queries, docs, ids, 100)
    got = index.search(queries, 100, workers=3)
    assert spy.threads == [3]
    np.testing.assert_allclose(got.scores, expected.scores, atol=2e-6, rtol=0)
    rows, cols = np.nonzero(got.indices != expected.indices)
    exact = normalise(queries).astype(np.float64) @ normalise(docs).astype(np.float64).T
    swapped = np.abs(exact[rows, got.indices[rows, cols]] - exact[rows, expected.indices[rows, cols]])
    assert (swapped < 2e-6).all()


@pytest.mark.parametrize(("value", "env"), [(0, None), (-2, None), (1.5, None), (True, None), (None, "0"),
                                            (None, "two"), (None, "-1")])
def test_a_bad_worker_count_is_refused_by_name(monkeypatch, value, env):
    index = FlatIndex(np.eye(8, dtype=np.float32), rank=np.arange(8))
    if env is not None:
        monkeypatch.setenv(WORKERS_ENV, env)
    with pytest.raises(ParameterError, match=WORKERS_ENV if env is not None else "'workers'"):
        index.search(np.ones((PARALLEL_FROM, 8), np.float32), 5, workers=value)


def test_small_batches_agree_to_float32_rounding():
    """Fewer than GEMV_BELOW queries are scored by GEMV: same scores to rounding, same sets on untied data."""
    rng = np.random.default_rng(5)
    docs = rng.standard_normal((4000, 48)).astype(np.float32)
    queries = rng.standard_normal((GEMV_BELOW - 1, 48)).astype(np.float32)
    index = FlatIndex(docs, rank=np.arange(4000))
    small = index.search(queries, 20)
    big = index.search(np.concatenate([queries, rng.standard_normal((40, 48)).astype(np.float32)]), 20)
    np.testing.assert_allclose(small.scores, big.scores[: len(queries)], atol=2e-6, rtol=0)
    assert all(set(a) == set(b) for a, b in zip(small.indices, big.indices[: len(queries)], strict=True))


def test_flat_index_counts_zero_vectors_and_caps_k():
    docs = np.eye(5, 8, dtype=np.float32)
    docs[2] = 0
    result = FlatIndex(docs, [f"x{i}" for i in range(5)]).search(np.ones((2, 8), np.float32), k=50)
    assert result.indices.shape == (2, 5) and result.zero_docs == 1 and result.zero_queries == 0


@pytest.mark.parametrize("dims", [64, 200])
def test_binary_flat_index_equals_brute_force_hamming(dims):
    rng = np.random.default_rng(dims)
    base = rng.standard_normal((900, dims)).astype(np.float32)
    docs = quantize(np.concatenate([base, base]), "binary")
    queries = quantize(rng.standard_normal((30, dims)).astype(np.float32), "binary")
    ids = [f"{i}" for i in rng.permutation(1800)]
    order = np.argsort(np.asarray(ids, dtype=object), kind="stable")
    rank = np.empty(1800, np.int64)
    rank[order] = np.arange(1800)
    bits_q, bits_d = np.unpackbits(queries.packed, axis=1), np.unpackbits(docs.packed, axis=1)
    distances = (bits_q[:, None, :] != bits_d[None, :, :]).sum(axis=2)
    expected = _trec_top_k(-distances.astype(np.float32), rank, 100)
    got = BinaryFlatIndex(docs, ids).search(queries, 100)
    np.testing.assert_array_equal(got.indices, expected)
    np.testing.assert_array_equal(stream_search_hamming(queries, docs, ids, 100).indices, expected)


def test_bad_inputs_name_the_parameter():
    index = FlatIndex(np.ones((4, 8), np.float32), rank=np.arange(4))
    with pytest.raises(ParameterError, match="queries"):
        index.search(np.ones((2, 7), np.float32))
    with pytest.raises(ParameterError, match="'k'"):
        index.search(np.ones((2, 8), np.float32), k=0)
    with pytest.raises(ParameterError, match="docs"):
        FlatIndex(np.ones((0, 8), np.float32), rank=np.arange(0))
    with pytest.raises(ParameterError, match="packed"):
        BinaryFlatIndex(np.ones((3, 4), np.float32), rank=np.arange(3))
