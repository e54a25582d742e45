"""Streaming exact search: same rankings as one unblocked product, in bounded memory."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from study.compress.formats import PAPER_FORMATS, calibrate, quantize
from study.core.errors import ParameterError
from study.core.vectors import normalise
from study.search.exact import search
from study.search.ranking import key_ranks, key_scores, score_keys
from study.search.streaming import (
    plan_blocks,
    quantize_in_blocks,
    stream_search,
    stream_search_hamming,
    transform_in_blocks,
)

REPO = Path(__file__).resolve().parents[1]


def _trec_top_k(scores: np.ndarray, doc_ids: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Reference: sort every row fully by (score desc, doc id desc) with Python's own string order."""
    by_id = sorted(range(len(doc_ids)), key=doc_ids.__getitem__)
    rank = np.empty(len(doc_ids), np.int64)
    rank[by_id] = np.arange(len(doc_ids))
    top = np.stack([np.lexsort((-rank, -row))[:k] for row in scores])
    return top, np.take_along_axis(scores, top, axis=1)


# A float32 dot product of unit vectors is exact to a few units in the last place (~6e-8 each); how a BLAS
# splits a product into tiles (FMA kernels such as OpenBLAS' Haswell one) moves scores by that much, so two
# shapes of the same product agree to float32 rounding, not bit for bit.
ROUNDING = 2e-6


def _unblocked(queries: np.ndarray, docs: np.ndarray, doc_ids: list[str], k: int):
    q, d = normalise(np.asarray(queries, np.float32)), normalise(np.asarray(docs, np.float32))
    top, scores = _trec_top_k(q @ d.T, doc_ids, k)
    return top, scores, q.astype(np.float64) @ d.astype(np.float64).T


def _assert_same(result, reference) -> None:
    """Same scores to float32 rounding, and the same ranking except among documents whose exact scores lie
    within that rounding of each other (near-ties a BLAS may order either way)."""
    top, scores = reference[0], reference[1]
    np.testing.assert_allclose(result.scores, scores, rtol=0, atol=ROUNDING)
    if len(reference) == 3:
        rows = np.arange(len(top))[:, None]
        np.testing.assert_allclose(reference[2][rows, result.indices], reference[2][rows, top], rtol=0,
                                   atol=2 * ROUNDING)
    else:  # integer (Hamming) scores are exact: the very same ranking
        np.testing.assert_array_equal(result.indices, top)


@pytest.fixture(scope="module")
def cisi(cache_dir):
    """The real CISI collection embedded with the static (fast, offline) WordLlama model: 1460 × 256."""
    from study.data.datasets import load_collection
    from study.encoders.cache import load_embeddings

    collection = load_collection("cisi")
    docs = load_embeddings("wordllama-256", collection, "docs")
    queries = load_embeddings("wordllama-256", collection, "queries")
    return docs, np.asarray(queries.vectors)


@pytest.mark.parametrize("budget", [4 << 20, 8 << 20, 1 << 30])
def test_streaming_equals_unblocked_search_on_cisi(cisi, budget):
    docs, queries = cisi
    plan = plan_blocks(len(queries), len(docs.ids), docs.vectors.shape[1], 100, budget)
    if budget < 1 << 30:
        assert plan.n_blocks > 1, "the budget must split the corpus"
    result = stream_search(queries, docs.vectors, docs.ids, k=100, memory_budget=budget)
    _assert_same(result, _unblocked(queries, docs.vectors, docs.ids, 100))


@pytest.mark.parametrize("fmt", ["float8_e4m3", "int8", "binary"])
def test_streaming_decodes_compressed_blocks_like_the_whole_array(cisi, fmt):
    docs, queries = cisi
    params = calibrate(fmt, np.asarray(docs.vectors))
    codes = quantize(np.asarray(docs.vectors), fmt, params)
    q = quantize(queries, fmt, params).decode()
    assert plan_blocks(len(q), codes.n, codes.dims, 100, 4 << 20, raw_row_bytes=codes.packed.shape[1]).n_blocks > 1
    result = stream_search(q, codes, docs.ids, k=100, memory_budget=4 << 20)
    _assert_same(result, _unblocked(q, codes.decode(), docs.ids, 100))


def test_streaming_equals_unblocked_on_minilm_time(tiny_embeddings):
    _, docs, queries = tiny_embeddings["time"]
    q = np.asarray(queries.vectors)
    for budget in (4 << 20, 1 << 30):
        _assert_same(stream_search(q, docs.vectors, docs.ids, 50, budget), _unblocked(q, docs.vectors, docs.ids, 50))


def test_retrieval_search_delegates_to_streaming(cisi):
    docs, queries = cisi
    via_search = search(queries, docs.vectors, docs.ids, k=100)
    _assert_same(via_search, _unblocked(queries, docs.vectors, docs.ids, 100))


def test_many_ties_keep_trec_eval_order():
    """1-bit codes scored by cosine tie constantly, duplicates tie exactly; ids are shuffled strings."""
    rng = np.random.default_rng(3)
    base = rng.standard_normal((3000, 64)).astype(np.float32)
    docs = quantize(np.concatenate([base, base[:3000], base[:500]]), "binary").decode()  # exact duplicates
    queries = quantize(rng.standard_normal((90, 64)).astype(np.float32), "binary").decode()
    ids = [f"d{i}" for i in rng.permutation(len(docs))]  # string order ≠ numeric order ("d10" < "d9")
    reference = _unblocked(queries, docs, ids, 100)
    tied = (reference[1][:, :-1] == reference[1][:, 1:]).mean()
    assert tied > 0.5, "the case must be dominated by ties"
    for budget in (5 << 20, 8 << 20, 1 << 30):
        assert plan_blocks(len(queries), len(docs), 64, 100, budget).n_blocks >= (1 if budget == 1 << 30 else 3)
        _assert_same(stream_search(queries, docs, ids, 100, budget), reference)


def test_all_equal_scores_return_the_largest_ids():
    docs = np.ones((20_000, 64), np.float32)
    ids = [f"x{i:05d}" for i in range(20_000)]
    assert plan_blocks(64, 20_000, 64, 10, 7 << 20).n_blocks > 1
    result = stream_search(np.ones((64, 64), np.float32), docs, ids, k=10, memory_budget=7 << 20)
    expected = [f"x{i:05d}" for i in range(19_999, 19_989, -1)]
    assert all([ids[i] for i in row] == expected for row in result.indices)


def test_zero_and_non_finite_vectors_score_zero_and_are_counted():
    """Zero vectors, and vectors with a NaN or inf component (``normalise`` zeroes them), score 0."""
    docs = np.array([[1.0, 0], [0, 0], [np.inf, 1.0], [0.5, 0.5], [np.nan, 1.0]], np.float32)
    with np.errstate(invalid="ignore"):
        result = stream_search(np.array([[0.0, 0], [1.0, 0]], np.float32), docs, list("abcde"), k=5)
    assert result.zero_queries == 1 and result.zero_docs == 3
    assert list(result.indices[1]) == [0, 3, 4, 2, 1]  # 1, 0.707, then the zero rows in id-descending order
    assert np.isfinite(result.scores).all()


def test_block_normalisation_is_bit_identical_to_models_normalise():
    from study.core.vectors import normalise_into

    rng = np.random.default_rng(4)
    x = rng.standard_normal((300, 33)).astype(np.float32) * rng.uniform(1e-3, 1e3, (300, 1)).astype(np.float32)
    for clean in (x, np.concatenate([x, np.zeros((2, 33), np.float32)])):
        assert normalise_into(clean, np.empty_like(clean)).tobytes() == normalise(clean).tobytes()
    x[5, 3], x[9, 0], x[11] = np.nan, -np.inf, 0.0
    with np.errstate(invalid="ignore"):
        assert normalise_into(x, np.full_like(x, 7.0)).tobytes() == normalise(x).tobytes()


def test_in_place_block_normalisation_is_bit_identical_and_counts_zero_rows():
    """``normalise_block`` (squares summed in the output, no finiteness pass when every norm is finite and
    positive) writes ``normalise_into``'s bits, for contiguous, reversed and gathered rows, and counts the zero
    rows; a block with a zero, NaN, inf or overflowing row takes ``normalise_into``'s own path."""
    from study.core.vectors import normalise_into
    from study.search.streaming import normalise_block

    rng = np.random.default_rng(5)
    x = rng.standard_normal((700, 384)).astype(np.float32) * rng.uniform(1e-3, 1e3, (700, 1)).astype(np.float32)
    for rows in (x, x[::-1], x[rng.permutation(700)], x[:1], x[:, :1], x[:5, :3]):
        out = np.full(rows.shape, 7.0, np.float32)
        assert normalise_block(rows, out) == 0
        assert out.tobytes() == normalise_into(rows, np.empty(rows.shape, np.float32)).tobytes()
    for bad in ("zero", "nan", "inf", "huge"):
        y = x[:50].copy()
        y[3] = {"zero": 0.0, "nan": np.nan, "inf": np.inf, "huge": 3e38}[bad]
        out = np.full(y.shape, 7.0, np.float32)
        with np.errstate(invalid="ignore", over="ignore"):
            zeros = normalise_block(y, out)
            assert out.tobytes() == normalise_into(y, np.empty(y.shape, np.float32)).tobytes()
        assert zeros == int((~out.any(axis=1)).sum()) == 1


def test_keys_round_trip_scores_and_ranks():
    scores = np.array([-np.inf, -1.5, -0.0, 0.0, 1e-30, 0.25, 3.0, np.inf], np.float32)
    ranks = np.arange(len(scores))[::-1]
    keys = score_keys(scores, ranks)
    np.testing.assert_array_equal(key_scores(keys), scores + np.float32(0))
    np.testing.assert_array_equal(key_ranks(keys), ranks)
    assert np.all(np.diff(keys[[0, 1, 2, 4, 5, 6, 7]].astype(np.float64)) > 0)
    assert keys[2] > keys[3]  # -0.0 and +0.0 tie on score, then the larger rank wins


def _hamming_brute_force(q_bits: np.ndarray, d_bits: np.ndarray) -> np.ndarray:
    """Distances from unpacked bits, without popcount."""
    qu, du = np.unpackbits(q_bits, axis=1).astype(np.int32), np.unpackbits(d_bits, axis=1).astype(np.int32)
    return (qu[:, None, :] != du[None, :, :]).sum(axis=2)


@pytest.mark.parametrize("dims", [100, 384])
def test_hamming_streaming_equals_brute_force(dims):
    rng = np.random.default_rng(dims)
    docs = quantize(rng.standard_normal((1500, dims)).astype(np.float32), "binary")
    queries = quantize(rng.standard_normal((40, dims)).astype(np.float32), "binary")
    ids = [f"{i}" for i in rng.permutation(1500)]
    reference = _trec_top_k(-_hamming_brute_force(queries.packed, docs.packed).astype(np.float32), ids, 100)
    for budget in (560_000, 1 << 30):
        plan = plan_blocks(40, 1500, docs.packed.shape[1], 100, budget, hamming=True)
        assert budget == 1 << 30 or plan.n_blocks > 1  # several blocks at the small budget
        _assert_same(stream_search_hamming(queries, docs, ids, 100, budget), reference)


def _traced_peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("case", ["random", "all_tied"])
def test_peak_memory_stays_within_the_budget(case):
    rng = np.random.default_rng(0)
    n_q, n_docs, dims = 200, 30_000, 64
    if case == "random":
        queries, docs = rng.standard_normal((n_q, dims)), rng.standard_normal((n_docs, dims))
    else:
        queries, docs = np.ones((n_q, dims)), np.ones((n_docs, dims))
    queries, docs = queries.astype(np.float32), docs.astype(np.float32)
    ids = [str(i) for i in range(n_docs)]
    budget = 6 << 20
    full_matrix = 4 * n_q * n_docs  # 24 MB: what an unblocked search would hold
    peak = _traced_peak(lambda: stream_search(queries, docs, ids, 100, budget))
    assert peak <= budget < full_matrix / 3
    bits_q, bits_d = quantize(queries, "binary").packed, quantize(docs, "binary").packed
    peak = _traced_peak(lambda: stream_search_hamming(bits_q, bits_d, ids, 100, 5 << 20))
    assert peak <= 5 << 20


def test_memory_mapped_corpus_is_streamed_not_loaded(tmp_path):
    """Neither a copy (tracemalloc) nor the mapped pages (resident set) of the corpus accumulate."""
    rng = np.random.default_rng(1)
    n_docs, dims = 60_000, 256  # 61 MB of float32
    path = tmp_path / "docs.npy"
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n_docs, dims))
    for start in range(0, n_docs, 15_000):
        out[start : start + 15_000] = rng.standard_normal((15_000, dims), dtype=np.float32)
    out.flush()
    del out
    docs = np.load(path, mmap_mode="r")
    queries = rng.standard_normal((50, dims)).astype(np.float32)
    rank = np.arange(n_docs)
    before = _resident_bytes()
    peak = _traced_peak(lambda: stream_search(queries, docs, k=10, memory_budget=12 << 20, rank=rank))
    grown = _resident_bytes() - before
    assert peak <= 12 << 20 and grown < docs.nbytes / 2
    expected = _unblocked(queries, np.asarray(docs), [f"{i:06d}" for i in range(n_docs)], 10)
    _assert_same(stream_search(queries, docs, k=10, memory_budget=12 << 20, rank=rank), expected)


def _resident_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.parametrize("fmt", PAPER_FORMATS)
def test_block_wise_quantization_is_byte_identical(tmp_path, fmt):
    rng = np.random.default_rng(5)
    x = normalise(rng.standard_normal((1003, 77)).astype(np.float32))
    params = calibrate(fmt, x[:200])
    whole = quantize(x, fmt, params)
    in_memory = quantize_in_blocks(x, fmt, params, block_rows=128)
    on_disk = quantize_in_blocks(x, fmt, params, block_rows=250, path=tmp_path / f"{fmt}.npy")
    for blocked in (in_memory, on_disk):
        assert blocked.packed.tobytes() == whole.packed.tobytes() and blocked.dims == whole.dims
    assert isinstance(on_disk.packed, np.memmap)
    np.testing.assert_array_equal(on_disk.decode(), whole.decode())


def test_transform_in_blocks_equals_whole_transform(tmp_path):
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(2)
    x = rng.standard_normal((2000, 48)).astype(np.float32)
    pca = PCA(16, random_state=0).fit(x[:500])
    np.testing.assert_allclose(transform_in_blocks(pca.transform, x, 333), pca.transform(x), rtol=1e-5, atol=1e-5)

    def truncate(v):
        return normalise(v[:, :12])

    blocked = transform_in_blocks(truncate, x, 97, path=tmp_path / "t.npy")
    np.testing.assert_array_equal(blocked, truncate(x))


@pytest.mark.parametrize("budget", [0, -5, 1.5, "4GiB", True, None, 100])
def test_bad_budget_is_a_parameter_error(budget):
    with pytest.raises(ParameterError, match="memory_budget"):
        stream_search(np.ones((2, 4), np.float32), np.ones((10, 4), np.float32), list("abcdefghij"), 5, budget)


def test_bad_block_rows_and_k_are_parameter_errors():
    x = np.ones((10, 4), np.float32)
    with pytest.raises(ParameterError, match="block_rows"):
        quantize_in_blocks(x, "float16", block_rows=0)
    with pytest.raises(ParameterError, match="'k'"):
        stream_search(x, x, list("abcdefghij"), k=0)
    with pytest.raises(ParameterError, match="format"):
        quantize_in_blocks(x, "float7", block_rows=4)


def test_scaling_benchmark_quick_mode_and_its_notebook_run(output_dir, tmp_path):
    import nbformat
    import papermill as pm

    env = os.environ | {"STUDY_OUTPUT_DIR": str(output_dir)}
    (output_dir / "results").mkdir(parents=True)
    other = "benchmark,case,metric,value,unit,machine,date\nother,c,m,1.5,s,here,today\nscaling,old,m,9,s,here,today\n"
    (output_dir / "results" / "bench.csv").write_text(other)
    cmd = [sys.executable, "-m", "bench.scaling", "--quick", "--dims", "384", "--queries", "200",
           "--workdir", str(tmp_path / "work")]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not (tmp_path / "work" / "d384").exists(), "generated corpora are removed without --keep"
    rows = pd.read_csv(output_dir / "results" / "bench.csv")
    assert rows[rows.benchmark == "other"].value.tolist() == [1.5]  # other benchmarks' rows are kept
    assert "old" not in set(rows.case)  # this benchmark's earlier rows are replaced
    rows = rows[rows.benchmark == "scaling"]
    times = rows[rows.metric == "wall_time_s"]
    exact = times[~times.case.str.contains("-hnsw/")]
    assert len(exact) == 5 and (times.value > 0).all()  # five formats at N = 10k (and HNSW indexes)
    hnsw = rows[rows.case.str.contains("-hnsw/")].pivot(index="case", columns="metric", values="value")
    assert "usearch-f16-hnsw/d384/N10000" in hnsw.index  # --quick builds HNSW indexes too
    assert hnsw.recall_at_10.between(0, 1).all() and hnsw.recall_at_10_planted.between(0, 1).all()
    assert (hnsw.build_s > 0).all() and (hnsw.bytes_per_vector > hnsw.code_bytes).all()
    assert "fraction_of_gemm_peak" not in hnsw  # no GEMM in a graph search
    assert (rows[rows.metric == "peak_rss_within_budget"].value == 1).all()
    recall = rows[rows.metric == "recall_at_10_planted"].set_index("case").value
    assert recall["float32/d384/N10000"] > 0.9
    stored = rows[rows.metric == "stored_bytes"].set_index("case").value
    assert stored["float32/d384/N10000"] == 10_000 * 384 * 4 and stored["binary/d384/N10000"] == 10_000 * 48

    executed = tmp_path / "08.ipynb"
    pm.execute_notebook(str(REPO / "notebooks" / "08-scaling.ipynb"), str(executed), parameters={"budget": "2GiB"},
                        cwd=str(REPO), progress_bar=False, kernel_name="python3")
    printed = "".join(o.get("text", "") for o in nbformat.read(executed, as_version=4).cells[-1].outputs)
    assert "within the budget in 5 of 5 cases" in printed
    assert "usearch-f16-hnsw d=384: " in printed  # where HNSW beats exact search, or that it does not
    assert (output_dir / "figures" / "bench" / "scaling.png").stat().st_size > 0


def test_time_exponent_is_the_log_log_slope():
    from bench.analysis import fit_exponents

    n = np.array([1e4, 1e5, 1e6])
    table = pd.DataFrame({"format": "f", "dims": 8, "n_docs": n.astype(int), "wall_time_s": 3e-6 * n**1.2})
    fitted = fit_exponents(table)
    assert fitted.exponent.iloc[0] == pytest.approx(1.2) and fitted.points.iloc[0] == 3
    assert fit_exponents(table.iloc[:1]).empty  # one size: nothing to fit
