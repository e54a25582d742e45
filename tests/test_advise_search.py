"""``study.advise.search``: every codec of advise's grid searched the scalable way equals the study's dense path on
a mid-size set (6,000 documents × 200 queries, several document and query blocks), as the module promises:

* faiss' own search (OPQ + PQ, PQ, PQ fast-scan, 1-bit RaBitQ): the very same top-k, ties included (fast-scan's
  8-bit look-up tables tie at the cut-off for many queries here, so the re-search of spilled ties is exercised);
* multi-bit RaBitQ: faiss' search skips codes whose 1-bit bound loses, so its lists may differ; they hold at least
  99 % of the dense top-k and are ordered by the same scores;
* TurboQuant decoded a block at a time and OSQ with float32 queries: the same lists except among documents within
  float32 rounding of the k-th score; OSQ with quantized queries: the same lists, bit for bit;
* the spill rule itself, on a search that returns the wrong one of tied documents on purpose.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_advise import clustered

from study.advise import grid, search
from study.compress.formats import calibrate, quantize
from study.search.ranking import tie_rank, top_k_of_scores

N_DOCS, N_QUERIES, DIMS = 6000, 200, 96
ROUNDING = 1e-5  # scores within this of the k-th may swap places between two float32 computations
EXACT = ["rabitq1", "rabitq1_rr"]
MULTI_BIT = ["rabitq2", "rabitq4"]
ROUNDED = ["turboquant2", "turboquant4"]
OSQ = ["osq1", "osq4", "osq7"]


@pytest.fixture(scope="module")
def corpus() -> dict:
    x = clustered(N_DOCS + N_QUERIES, DIMS, seed=3, unit=True)
    docs, queries = x[:N_DOCS], x[N_DOCS:]
    ids = [f"{i:05d}" for i in range(N_DOCS)]
    pq = [c.format for c in (grid.pq_choice(f, r, DIMS) for f, r in grid.PQ_TARGETS) if c.format]
    return {"docs": docs, "queries": queries, "ids": ids, "rank": tie_rank(ids), "pq": pq, "codes": {}}


def _codes(corpus: dict, fmt: str):
    if fmt not in corpus["codes"]:
        corpus["codes"][fmt] = quantize(corpus["docs"], fmt, calibrate(fmt, corpus["docs"][:3000]))
    return corpus["codes"][fmt]


def both(corpus: dict, fmt: str, query_format: str, k: int, monkeypatch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dense scores, dense top-k, scalable top-k) with small blocks: several document and query blocks."""
    monkeypatch.setattr(search, "SCORE_BLOCK_BYTES", 4 * N_QUERIES * 1000)
    monkeypatch.setattr(search, "QUERY_BLOCK", 64)
    packed, q = _codes(corpus, fmt), corpus["queries"]
    dense_scores = packed.format.score(q, packed, query_format)
    dense = search.estimator_top(packed, q, query_format, corpus["ids"], corpus["rank"], k, dense_pairs=10**12)
    assert np.array_equal(dense, top_k_of_scores(dense_scores, corpus["ids"], k).indices)
    scaled = search.estimator_top(packed, q, query_format, corpus["ids"], corpus["rank"], k, dense_pairs=0)
    return dense_scores, dense, scaled


@pytest.mark.parametrize("k", [10, 100])
def test_faiss_search_gives_the_dense_top_k_ties_included(corpus, k, monkeypatch):
    spilled = 0
    for fmt in [*corpus["pq"], *EXACT]:
        query_formats = ["float32"] if fmt in corpus["pq"] else ["same"]
        for query_format in query_formats:
            scores, dense, scaled = both(corpus, fmt, query_format, k, monkeypatch)
            assert np.array_equal(scaled, dense), (fmt, query_format)
            kth = np.take_along_axis(scores, dense[:, k - 1 : k], axis=1)
            spilled += int(((scores == kth).sum(axis=1) > 1).sum())
    assert spilled > 20, "ties at the cut-off must occur (fast-scan), or the re-search is not tested"


def test_multi_bit_rabitq_is_faiss_search_close_to_the_dense_top_k(corpus, monkeypatch):
    for fmt in MULTI_BIT:
        scores, dense, scaled = both(corpus, fmt, "same", 100, monkeypatch)
        kept = np.mean([len(set(a) & set(b)) / 100 for a, b in zip(scaled.tolist(), dense.tolist())])
        assert kept >= 0.99, (fmt, kept)
        mine = np.take_along_axis(scores, scaled, axis=1)
        assert (np.diff(mine, axis=1) <= 0).all(), "ordered by the same scores"


def _agree_up_to_rounding(scores: np.ndarray, dense: np.ndarray, scaled: np.ndarray) -> int:
    """Queries whose lists differ; every document in a difference scores within ``ROUNDING`` of the k-th."""
    k = dense.shape[1]
    differ = 0
    for row, a, b in zip(scores, dense, scaled):
        swapped = np.array(sorted(set(a.tolist()) ^ set(b.tolist())), dtype=np.int64)
        if len(swapped):
            differ += 1
            assert np.abs(row[swapped] - row[a[k - 1]]).max() <= ROUNDING
    return differ


@pytest.mark.parametrize("k", [10, 100])
def test_decoded_and_blocked_estimators_agree_up_to_float32_rounding(corpus, k, monkeypatch):
    for fmt, query_format in [*((f, "same") for f in ROUNDED), ("turboquant2", "float32"), ("osq1", "float32"),
                              ("osq4", "float32")]:
        scores, dense, scaled = both(corpus, fmt, query_format, k, monkeypatch)
        assert _agree_up_to_rounding(scores, dense, scaled) <= N_QUERIES // 20, fmt


def test_osq_with_quantized_queries_is_the_dense_path_bit_for_bit(corpus, monkeypatch):
    for fmt in OSQ:
        _, dense, scaled = both(corpus, fmt, "same", 100, monkeypatch)
        assert np.array_equal(scaled, dense), fmt


def test_ties_spilling_past_the_cut_off_are_searched_again():
    """Scores with heavy ties; the search returns, among tied documents, the smallest indices (not trec_eval's
    choice, the larger ids): the top-k is still trec_eval's."""
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 6, size=(40, 500)).astype(np.float32)
    ids = [f"{i:03d}" for i in range(500)]
    calls = []

    def tie_blind(queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        rows = scores[queries[:, 0].astype(int)]
        order = np.lexsort((np.arange(500)[None, :].repeat(len(rows), 0), -rows), axis=-1)[:, :k]
        calls.append(k)
        return np.take_along_axis(rows, order, axis=1), order

    queries = np.arange(40, dtype=np.float32)[:, None]
    found = search.faiss_top(tie_blind, queries, tie_rank(ids), 10)
    assert np.array_equal(found, top_k_of_scores(scores, ids, 10).indices)
    assert max(calls) > 11, "ties spilled and were searched again"


def test_every_format_of_the_grid_encodes_the_same_in_advises_blocks(monkeypatch):
    """advise encodes a block of rows per call (small ones for the numpy formats): at 768 dimensions, with blocks
    of 64 rows (unaligned ones, e.g. 85, change OSQ's codes), the codes of one call."""
    from study.advise import evaluate

    monkeypatch.setattr(evaluate, "QUANTIZE_BLOCK_ROWS", 704)
    monkeypatch.setattr(evaluate, "ENCODE_BLOCK_VALUES", 85 * 768)
    x = clustered(3000, 768, seed=5, unit=True)
    docs, training = x[:2000], x
    plan = grid.grid("m", "d", "s", 768, len(training))
    for fmt in dict.fromkeys(c.format for c in plan.configs if c.reducer == "none" and not c.format.startswith("opq")):
        packed, params = evaluate._packed(fmt, docs, training)
        assert np.array_equal(packed.packed, quantize(docs, fmt, params).packed), fmt
