"""Our evaluator equals pytrec_eval (what MTEB uses) on every query of real collections."""

import numpy as np
import pytest
import pytrec_eval

from study.compress.formats import calibrate, round_trip
from study.core.vectors import normalise
from study.search.exact import evaluate, search
from study.search.metrics import per_query_metrics


def _pytrec_reference(queries, query_ids, docs, doc_ids, qrels):
    """Full run (every document scored) through pytrec_eval; MRR@10 = recip_rank of the top-10 run."""
    scores = normalise(queries) @ normalise(docs).T
    run = {q: {d: float(s) for d, s in zip(doc_ids, row)} for q, row in zip(query_ids, scores)}
    full = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100"}).evaluate(run)
    # trec_eval order: score desc, then doc id desc; keep 10 for recip_rank.
    top10 = {q: dict(sorted(r.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)[:10]) for q, r in run.items()}
    rr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(top10)
    return (
        np.array([full[q]["ndcg_cut_10"] for q in query_ids]),
        np.array([full[q]["recall_100"] for q in query_ids]),
        np.array([rr[q]["recip_rank"] for q in query_ids]),
    )


@pytest.mark.parametrize("dataset", ["adi", "time"])
@pytest.mark.parametrize("fmt", ["float32", "float8_e4m3", "int8", "binary", "float4_e2m1"])
def test_every_query_matches_pytrec_eval(tiny_embeddings, dataset, fmt):
    collection, docs, queries = tiny_embeddings[dataset]
    qids = collection.split_query_ids("test")
    qrels = collection.split_qrels("test")
    params = calibrate(fmt, np.asarray(docs.vectors))
    d = round_trip(np.asarray(docs.vectors), fmt, params)
    q = round_trip(queries.rows(qids), fmt, params)
    ours, _ = evaluate(q, qids, d, docs.ids, qrels)
    ndcg, recall, mrr = _pytrec_reference(q, qids, d, docs.ids, {k: qrels[k] for k in qids})
    np.testing.assert_allclose(ours.ndcg_at_10, ndcg, atol=1e-6, rtol=0)
    np.testing.assert_allclose(ours.recall_at_100, recall, atol=1e-6, rtol=0)
    np.testing.assert_allclose(ours.mrr_at_10, mrr, atol=1e-6, rtol=0)
    assert ours.ndcg_at_10.mean() > (0.2 if fmt != "float4_e2m1" else 0.0)


def test_top_k_breaks_ties_by_descending_doc_id_like_trec_eval():
    docs = np.array([[1.0, 0], [1.0, 0], [0, 1.0], [1.0, 0]], dtype=np.float32)
    result = search(np.array([[1.0, 0]], dtype=np.float32), docs, ["a", "c", "z", "b"], k=3)
    assert list(result.indices[0]) == [1, 3, 0]  # c > b > a among the tied scores


def test_ties_at_the_cut_off_keep_the_right_documents():
    docs = np.ones((50, 4), dtype=np.float32)
    ids = [f"d{i:02d}" for i in range(50)]
    result = search(np.ones((1, 4), dtype=np.float32), docs, ids, k=5)
    assert [ids[i] for i in result.indices[0]] == ["d49", "d48", "d47", "d46", "d45"]


def test_query_blocks_do_not_change_results(tiny_embeddings):
    collection, docs, queries = tiny_embeddings["time"]
    q = np.asarray(queries.vectors)
    whole = search(q, docs.vectors, docs.ids, k=20)
    blocked = search(q, docs.vectors, docs.ids, k=20, block_bytes=4 * len(docs.ids) * 7)
    np.testing.assert_array_equal(whole.indices, blocked.indices)


def test_zero_vectors_score_zero_and_are_counted():
    docs = np.array([[1.0, 0], [0, 0]], dtype=np.float32)
    result = search(np.array([[0.0, 0], [1.0, 0]], dtype=np.float32), docs, ["a", "b"], k=2)
    assert result.zero_queries == 1 and result.zero_docs == 1
    assert np.all(np.isfinite(result.scores)) and result.scores[0].max() == 0


def test_metrics_by_hand():
    qrels = [{"a": 2, "b": 1}]
    pq = per_query_metrics(["q"], [["x", "a", "y", "b"]], qrels)
    dcg = 2 / np.log2(3) + 1 / np.log2(5)
    idcg = 2 / np.log2(2) + 1 / np.log2(3)
    assert pq.ndcg_at_10[0] == pytest.approx(dcg / idcg)
    assert pq.recall_at_100[0] == 1.0 and pq.mrr_at_10[0] == 0.5
