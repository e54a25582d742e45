"""Two-stage search (first stage on compressed vectors, re-ranking with a finer tier) and asymmetric queries."""

import math
from dataclasses import replace

import numpy as np
import pytest

from study.core.errors import ParameterError
from study.experiment.configs import Config, load_eval_data
from study.experiment.evaluate import evaluate_format
from study.experiment.rescore import final_run, parse_rescore, rerank, rescore_sweep
from study.search.exact import search


@pytest.fixture(scope="module")
def adi(tiny_embeddings):
    return load_eval_data("minilm-l6", "adi")


def test_parse_rescore_accepts_format_times_m_and_rejects_the_rest():
    spec = parse_rescore("float32x4")
    assert (spec.format, spec.oversample, spec.label) == ("float32", 4, "float32x4")
    assert parse_rescore("int8_clippedx10").format == "int8_clipped"
    for bad in ("float32", "float32x0", "float32x04", "float32x-1", "float7x4", "x4"):
        with pytest.raises(ParameterError, match="rescore|format"):
            parse_rescore(bad)


def test_rerank_orders_by_cosine_and_breaks_ties_by_descending_id():
    docs = np.array([[1, 0], [1, 0], [0, 1], [1, 1]], dtype=np.float32)  # docs 0 and 1 tie
    ids = ["a", "b", "c", "d"]
    out = rerank(np.array([[2, 0, 3, 1]]), np.array([[1, 0.1]], dtype=np.float32), docs, ids)
    assert [ids[i] for i in out[0]] == ["b", "a", "d", "c"]


def test_final_run_puts_reranked_candidates_before_the_rest_of_the_first_stage():
    first = np.array([[5, 4, 3, 2, 1, 0]])
    np.testing.assert_array_equal(final_run(first, np.array([[3, 5, 4]]), depth=5), [[3, 5, 4, 2, 1]])


def test_rescoring_every_document_with_float32_reproduces_the_float32_ranking_exactly(adi):
    first = search(adi.queries, adi.docs, adi.doc_ids, k=len(adi.doc_ids)).indices  # any order would do
    shuffled = np.random.default_rng(0).permuted(first, axis=1)
    exact = search(adi.queries, adi.docs, adi.doc_ids, k=len(adi.doc_ids)).indices
    np.testing.assert_array_equal(rerank(shuffled, adi.queries, adi.docs, adi.doc_ids), exact)


def test_binary_first_stage_with_large_m_scores_exactly_like_float32(adi):
    m = math.ceil(len(adi.doc_ids) / 10)  # k·m ≥ every document
    cfg = Config("minilm-l6", "adi", adi.split, format="binary_sign")
    tidy, per_query = rescore_sweep(cfg, adi, adi.docs, adi.queries, None, ["float32"], [1, m], "test")
    base_rows, base = evaluate_format(Config("minilm-l6", "adi", adi.split), adi, adi.docs, adi.queries, None, "t")
    full = per_query[per_query.config_id == replace(cfg, rescore=f"float32x{m}").id]
    for metric in ("ndcg_at_10", "recall_at_100", "mrr_at_10"):
        np.testing.assert_array_equal(full[metric].to_numpy(), base[metric].to_numpy())
    # m = 1 only re-orders the binary top 10: the recall@100 is the binary first stage's
    binary_rows, binary = evaluate_format(cfg, adi, adi.docs, adi.queries, None, "t")
    one = per_query[per_query.config_id.str.endswith("rescore=float32x1|query_format=same")]
    np.testing.assert_array_equal(one.recall_at_100.to_numpy(), binary.recall_at_100.to_numpy())
    assert not np.array_equal(one.ndcg_at_10.to_numpy(), binary.ndcg_at_10.to_numpy())


def test_tidy_rows_carry_both_tiers_and_oversampling(adi):
    cfg = Config("minilm-l6", "adi", adi.split, format="binary_sign", calibrate_on="self")
    tidy, per_query = rescore_sweep(cfg, adi, adi.docs, adi.queries, adi.docs, ["float32", "int8_clipped"], [2],
                                    "test")
    rows = tidy[tidy.metric == "ndcg_at_10"].set_index("rescore")
    assert rows.loc["float32x2", "bytes_per_vector"] == 48 and rows.loc["float32x2", "compression_ratio"] == 32
    assert rows.loc["float32x2", "rescore_bytes_per_vector"] == 1536
    assert rows.loc["int8_clippedx2", "rescore_bytes_per_vector"] == 384
    assert rows.loc["int8_clippedx2", "overhead_bytes"] == 2 * 4 * 384  # int8 offsets and half-ranges
    assert rows.loc["float32x2", "calibrate_on"] == "none"  # neither tier needs calibration
    assert rows.loc["int8_clippedx2", "calibrate_on"] == "self"
    assert (rows.oversample == 2).all() and (rows.candidates == 20).all()
    assert set(per_query.config_id) == set(rows.config_id)


def test_evaluate_format_dispatches_a_rescore_config(adi):
    cfg = Config("minilm-l6", "adi", adi.split, format="binary_sign", rescore="float32x2")
    rows, per_query = evaluate_format(cfg, adi, adi.docs, adi.queries, None, "t")
    _, swept = rescore_sweep(Config("minilm-l6", "adi", adi.split, format="binary_sign"), adi, adi.docs,
                             adi.queries, None, ["float32"], [2], "t")
    assert set(rows.config_id) == {cfg.id}
    np.testing.assert_array_equal(per_query.ndcg_at_10.to_numpy(), swept.ndcg_at_10.to_numpy())


def test_a_tier_that_needs_calibration_without_a_calibration_set_fails_clearly(adi):
    cfg = Config("minilm-l6", "adi", adi.split, format="binary_sign")
    with pytest.raises(ParameterError, match="calibrate_on"):
        rescore_sweep(cfg, adi, adi.docs, adi.queries, None, ["int8_clipped"], [1], "t")


def test_asymmetric_float32_queries_change_nothing_for_float32_and_skip_query_quantization(adi):
    sym_rows, sym = evaluate_format(Config("minilm-l6", "adi", adi.split), adi, adi.docs, adi.queries, None, "t")
    cfg = Config("minilm-l6", "adi", adi.split, query_format="float32")
    asym_rows, asym = evaluate_format(cfg, adi, adi.docs, adi.queries, None, "t")
    np.testing.assert_array_equal(sym.ndcg_at_10.to_numpy(), asym.ndcg_at_10.to_numpy())
    # binary documents: float32 queries against ±1 codes rank differently from Hamming between codes
    binary = Config("minilm-l6", "adi", adi.split, format="binary_sign")
    _, ham = evaluate_format(binary, adi, adi.docs, adi.queries, None, "t")
    rows, cos = evaluate_format(replace(binary, query_format="float32"), adi, adi.docs, adi.queries, None, "t")
    assert rows.query_format.eq("float32").all() and rows.bytes_per_vector.eq(48).all()
    assert not np.array_equal(ham.ndcg_at_10.to_numpy(), cos.ndcg_at_10.to_numpy())
