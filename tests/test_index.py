"""Real indexes (usearch, faiss): every kind builds and searches, bytes are measured from the serialized
index, exact float32 indexes rank like our evaluator, and indexes agree with the simulated formats where
the arithmetic is the same. No test looks at a timing."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from usearch.index import Index

from study.compress.formats import quantize
from study.core.errors import ParameterError
from study.experiment.configs import References, load_eval_data
from study.experiment.indexes import IndexOptions, evaluate_indexes, index_configs
from study.search import indexes as ix
from study.search.exact import search

ALL = list(ix.KINDS)
SAME_ARITHMETIC_EXACT = [n for n, k in ix.KINDS.items() if k.search == "exact" and k.same_arithmetic]
# largest rank-wise score difference allowed against the simulated counterpart: float32 rounding for usearch
# (it scores the same codes), the decoded documents' norm (1 ± ~1e-3) for faiss' inner products, none for bits
SCORE_TOL = {"usearch": 1e-5, "faiss": 2e-3, "b1": 0.0}


def raw_code_bytes(kind: ix.IndexKind, dims: int) -> float:
    """Bytes of one vector's code from the format alone (PQ: what faiss reports, it depends on training; RaBitQ:
    the sign bits + faiss' 8 bytes of per-vector factors)."""
    if kind.format == "rabitq":
        return dims / 8 + 8
    return dims * kind.bits / 8


def assert_same_top_k(indices, scores, ref, atol):
    """Rank-wise scores equal within ``atol``, and every document the reference ranks strictly above its
    k-th score is in the index's top-k (documents tied at the cut-off may be exchanged)."""
    ours = np.sort(scores, axis=1)[:, ::-1]
    np.testing.assert_allclose(ours, ref.scores, atol=atol, rtol=0)
    for row, ref_row, ref_scores in zip(indices, ref.indices, ref.scores, strict=True):
        strictly_above = set(ref_row[ref_scores > ref_scores[-1] + atol])
        assert strictly_above <= set(row)


@pytest.fixture(scope="module")
def random_docs():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 384)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def time_data(tiny_embeddings):
    return load_eval_data("minilm-l6", "time")


@pytest.mark.parametrize("name", ALL)
def test_every_kind_builds_and_searches_random_unit_vectors(name, unit_vectors):
    index = ix.build_index(name, unit_vectors)
    indices, scores = index.search(unit_vectors[:8], 10)
    assert indices.shape == scores.shape == (8, 10)
    assert ((indices >= 0) & (indices < len(unit_vectors))).all()
    assert (np.diff(scores, axis=1) <= 1e-6).all(), "scores are ranked best first"
    one_indices, one_scores = index.search(unit_vectors[3], 10)  # a single query (the batch-1 path)
    np.testing.assert_array_equal(one_scores[0], scores[3])
    if index.kind.search == "exact":
        np.testing.assert_array_equal(one_indices[0], indices[3])
    if index.kind.format not in ("pq", "b1", "sq4", "rabitq") and index.kind.search != "ivf":
        assert (indices[:, 0] == np.arange(8)).all(), "a stored vector finds itself first"
    serialized = index.serialize()
    assert len(serialized) / len(unit_vectors) == index.bytes_per_vector
    assert index.bytes_per_vector >= index.code_bytes >= 1
    if index.kind.format not in ("pq", "pqrflat"):
        assert index.code_bytes == raw_code_bytes(index.kind, 384)


@pytest.mark.parametrize("dataset", ["adi", "time"])
def test_every_kind_on_real_collections(dataset, tiny_embeddings):
    data = load_eval_data("minilm-l6", dataset)
    configs = index_configs(data.model, data.dataset, data.split, ALL, "self")
    table, per_query = evaluate_indexes(data, configs, References(data.model, data),
                                        IndexOptions(repeats=1, batch1_queries=3))
    assert list(table["index"]) == ALL
    assert len(per_query) == len(ALL) * len(data.query_ids)
    assert (table.bytes_per_vector >= table.code_bytes).all()
    assert np.isfinite(table[["qps_b1", "qps_b100", "build_s"]].to_numpy()).all()
    assert (table[["qps_b1", "qps_b100"]] > 0).all().all()
    assert table.recall_at_10.between(0, 1).all() and table.ndcg_at_10.between(0, 1).all()
    exact_f32 = table[(table.format == "f32") & (table.search == "exact")]
    assert (exact_f32.recall_at_10 == 1.0).all()
    np.testing.assert_allclose(exact_f32.ndcg_at_10, exact_f32.float32_ndcg_at_10, atol=1e-12)
    # the HNSW graph costs bytes on top of the codes: more than the exact index of the same format
    wide = table.pivot_table(index=["library", "format"], columns="search", values="bytes_per_vector").dropna()
    assert (wide["hnsw"] > wide["exact"] + 8).all()


@pytest.mark.parametrize("name", ["usearch-f32-exact", "faiss-f32-exact"])
def test_exact_float32_indexes_rank_like_our_evaluator(name, time_data):
    index = ix.build_index(name, time_data.docs)
    indices, scores = index.search(time_data.queries, 10)
    ref = search(time_data.queries, time_data.docs, time_data.doc_ids, 10)
    assert_same_top_k(indices, scores, ref, atol=1e-5)


@pytest.mark.parametrize("name", SAME_ARITHMETIC_EXACT)
def test_indexes_agree_with_the_simulated_format_where_arithmetic_matches(name, time_data):
    index = ix.build_index(name, time_data.docs)
    indices, scores = index.search(time_data.queries, 10)
    ref = ix.reference_search(index, time_data.docs, time_data.queries, time_data.doc_ids, 10)
    tol = SCORE_TOL["b1" if index.kind.format == "b1" else index.kind.library]
    assert_same_top_k(indices, scores, ref, atol=max(tol, 1e-6))


def test_hnsw_on_a_small_collection_finds_the_exact_neighbours(time_data):
    """423 documents: the graph search (ef = 64) should miss (almost) nothing."""
    index = ix.build_index("usearch-f16-hnsw", time_data.docs)
    exact = ix.build_index("usearch-f16-exact", time_data.docs)
    found, _ = index.search(time_data.queries, 10)
    truth, _ = exact.search(time_data.queries, 10)
    assert ix.neighbour_recall(found, truth).mean() >= 0.98


@pytest.mark.parametrize("fmt,dtype", [("f16", np.float16), ("e4m3", ml_dtypes.float8_e4m3fn),
                                       ("e5m2", ml_dtypes.float8_e5m2), ("i8", None), ("bf16", ml_dtypes.bfloat16)])
def test_usearch_stores_the_codes_we_simulate(fmt, dtype, random_docs):
    x = random_docs.copy()
    x[0, :3] = [500.0, -1000.0, 3e-3]  # outside E4M3's range: usearch saturates at ±448
    index = Index(ndim=x.shape[1], metric="cos", dtype=fmt)
    index.add(np.arange(len(x), dtype=np.uint64), x, threads=1)
    ours = ix.usearch_codes(x, fmt)
    stored = np.stack(index.get(np.arange(len(x), dtype=np.uint64))).reshape(len(x), -1)
    if fmt == "bf16":  # numpy has no bf16 view: usearch hands back float32 values
        np.testing.assert_array_equal(stored, ours.view(ml_dtypes.bfloat16).astype(np.float32))
    else:
        np.testing.assert_array_equal(stored.view(ours.dtype), ours)
    if fmt in ("f16", "e5m2"):  # the same bits as study.compress.formats's ml_dtypes casts
        paper = ix.USEARCH_FORMATS[fmt][3]
        np.testing.assert_array_equal(ours.view(np.uint8), quantize(x, paper).packed)
    if fmt == "e4m3":  # study.compress.formats follows ml_dtypes: NaN beyond ±448, where usearch saturates
        paper_codes = quantize(x, "float8_e4m3").packed
        assert np.isnan(paper_codes[0, :2].view(dtype).astype(np.float32)).all()
        assert (ours[0, :2].view(dtype).astype(np.float32) == [448.0, -448.0]).all()
        np.testing.assert_array_equal(ours[1:], paper_codes[1:])


def test_usearch_i8_is_not_the_papers_int8(random_docs):
    """usearch: trunc(127·x/‖x‖), symmetric; the paper: uint8 steps of per-dimension calibrated ranges."""
    codes = ix.usearch_i8(random_docs * 3.0)
    np.testing.assert_array_equal(codes, ix.usearch_i8(random_docs))  # scale-free: it normalises first
    assert codes.min() < 0 < codes.max()
    assert ix.get_kind("usearch-i8-exact").paper_format is None


def test_faiss_sq8_decodes_within_trained_per_dimension_ranges(random_docs):
    train = random_docs[:150]
    index = ix.build_index("faiss-sq8-exact", random_docs, train=train)
    decoded = index.decoded_docs()
    lo, hi = train.min(axis=0), train.max(axis=0)
    half_step = (hi - lo) / 255 / 2 + 1e-6  # faiss decodes to the centre of a cell: (code + 0.5) / 255
    assert (decoded >= lo - half_step).all() and (decoded <= hi + half_step).all()
    assert (decoded.max(axis=0) > hi - 3 * half_step).all()  # the ranges are the training set's, per dimension
    assert not np.allclose(decoded, random_docs, atol=1e-4)
    assert not index.kind.same_arithmetic


def test_faiss_binary_is_hamming_on_the_papers_bits(random_docs):
    index = ix.build_index("faiss-b1-exact", random_docs)
    _, scores = index.search(random_docs[:5], 5)
    bits = np.unpackbits(quantize(random_docs, "binary").packed, axis=1)
    hamming = (bits[:5, None, :] != bits[None, :, :]).sum(-1)
    np.testing.assert_array_equal(-scores, np.sort(hamming, axis=1)[:, :5])


@pytest.mark.parametrize("name", ["usearch-f16-hnsw", "faiss-sq8-hnsw", "faiss-pq-exact"])
def test_builds_are_deterministic_with_one_thread(name, random_docs):
    first = ix.build_index(name, random_docs, threads=1).serialize()
    assert ix.build_index(name, random_docs, threads=1).serialize() == first


def test_pq_uses_fewer_bits_when_training_set_is_small():
    assert ix.pq_settings(384, 5000) == (48, 8)
    assert ix.pq_settings(384, 82) == (48, 6)
    with pytest.raises(ParameterError):
        ix.pq_settings(100, 5000)


def test_unknown_names_raise_parameter_errors(unit_vectors):
    with pytest.raises(ParameterError, match="'index'"):
        ix.build_index("usearch-f64-exact", unit_vectors)
    with pytest.raises(ParameterError, match="index formats"):
        ix.index_kinds(formats=["f64"])
    with pytest.raises(ParameterError, match="libraries"):
        ix.index_kinds(libraries=["annoy"])
    with pytest.raises(ParameterError):
        ix.check_index_names(["faiss-pq-hnsw"])
    with pytest.raises(ParameterError):
        ix.check_hnsw({"M": 16})
    with pytest.raises(ParameterError):
        ix.check_hnsw({"connectivity": 0})
    assert ix.index_kinds(libraries=["faiss"], searches=["hnsw"]) == [
        "faiss-f32-hnsw", "faiss-f16-hnsw", "faiss-bf16-hnsw", "faiss-sq8-hnsw", "faiss-sq4-hnsw", "faiss-b1-hnsw"]
    assert ix.check_index_names("all") == ALL


def test_rabitq_and_inverted_file_kinds_store_what_they_say(rng=None):
    """IndexRaBitQ, IVF-RaBitQ, IVF-PQ and IVF-PQ + float32 refine: bytes measured from the serialized index (the
    refine tier's float32 vectors included), neighbours found."""
    rng = np.random.default_rng(0)
    docs = rng.standard_normal((2000, 64)).astype(np.float32)
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    queries = docs[:20] + 0.05 * rng.standard_normal((20, 64)).astype(np.float32)
    for name, code in [("faiss-rabitq-exact", 8 + 8), ("faiss-rabitq-ivf", 8 + 8), ("faiss-pq-ivf", 8),
                       ("faiss-pqrflat-ivf", 8 + 256)]:
        index = ix.build_index(name, docs)
        assert index.code_bytes == code, name
        ids = 8 if name.endswith("ivf") else 0  # an inverted list stores each vector's id beside its code
        assert index.bytes_per_vector >= code + ids, (name, index.bytes_per_vector)
        found, _ = index.search(queries, 10)
        assert (found[:, 0] == np.arange(20)).mean() >= 0.8, name  # each query's own document first
    assert ix.ivf_lists(10_000, 100_000) == (100, 13) and ix.ivf_lists(10_000, 390) == (10, 2)
    assert "usearch-f32-ivf" not in ix.KINDS and "faiss-pqrflat-exact" not in ix.KINDS
