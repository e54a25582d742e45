"""The real-embedding benchmarks' data and analysis: the pooled corpus, vectors fitted to it, the index-scaling
rows and their tables, and the exact-search-vs-faiss rows (functional checks; speed claims live in docs/)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from bench import analysis, exact_vs_faiss, pool, pool_scaling, summary
from bench.common import make_rows
from study.core.vectors import normalise
from study.experiment.configs import EvalData


def _clustered(n: int, dims: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((6, dims))
    return normalise((centres[rng.integers(0, 6, n)] + 0.3 * rng.standard_normal((n, dims))).astype(np.float32))


def test_fitted_vectors_are_unit_deterministic_nested_and_closer_to_the_data_than_iid():
    data = _clustered(3200)
    real, queries = data[:3000], data[3000:]
    gen = pool.FittedGenerator(real, pcs=8, components=6)
    a, b = gen.sample(1000), gen.sample(1000)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    big = gen.sample(pool.SAMPLE_ROWS + 10)
    np.testing.assert_array_equal(big[:1000], a)
    fitted = pool.mean_kth_neighbour_cosine(queries, a)
    iid = pool.mean_kth_neighbour_cosine(queries, pool.iid_unit_vectors(1000, 32, 0))
    assert fitted > iid + 0.2


def _fake_collection(name: str, n_docs: int, n_queries: int, seed: int) -> EvalData:
    rng = np.random.default_rng(seed)
    doc_ids = [f"d{i}" for i in range(n_docs)]
    query_ids = [f"q{i}" for i in range(n_queries)]
    qrels = {q: {f"d{(3 * i) % n_docs}": 1, f"d{(3 * i + 1) % n_docs}": 0} for i, q in enumerate(query_ids)}
    return EvalData(model="m", collection=None, split="test", doc_ids=doc_ids,
                    docs=rng.standard_normal((n_docs, 8)).astype(np.float32), query_ids=query_ids,
                    queries=rng.standard_normal((n_queries, 8)).astype(np.float32), qrels=qrels)


def test_pool_prefixes_collection_ids_and_puts_every_relevant_document_first(monkeypatch):
    fakes = {"alpha": _fake_collection("alpha", 40, 5, 0), "beta": _fake_collection("beta", 25, 4, 1)}
    monkeypatch.setattr(pool, "full_profile_collections", lambda model: list(fakes))
    monkeypatch.setattr(pool, "is_cached", lambda model, collection, role: True)
    monkeypatch.setattr(pool, "load_collection", lambda name: name)
    monkeypatch.setattr(pool, "load_eval_data", lambda model, name: fakes[name])
    pool.load_pool.cache_clear()
    try:
        p = pool.load_pool("fake-model")
    finally:
        pool.load_pool.cache_clear()
    assert len(p.docs) == 65 and len(p.queries) == 9 and p.collections == ["alpha", "beta"]
    relevant = {d for judged in p.qrels.values() for d, g in judged.items() if g > 0}
    assert p.n_relevant == len(relevant) == 9
    assert set(p.doc_ids[: p.n_relevant]) == relevant  # nesting order: the relevant documents first
    assert p.qrels["beta/q2"] == {"beta/d6": 1, "beta/d7": 0}
    i = p.doc_ids.index("alpha/d7")
    np.testing.assert_array_equal(p.docs[i], fakes["alpha"].docs[7])


def test_measure_corpus_scores_exact_and_an_index(monkeypatch):
    docs, queries = _clustered(2000, seed=2), _clustered(60, seed=3)
    ids = [f"x{i}" for i in range(2000)]
    qids = [f"q{i}" for i in range(60)]
    qrels = {q: {f"x{i}": 1} for i, q in enumerate(qids)}
    args = pool_scaling.parse_args(["--indexes", "study-f32-exact", "usearch-f16-hnsw", "--threads", "1"])
    rows = pd.DataFrame(pool_scaling.measure_corpus("pool:toy", docs, queries, args.indexes, args, (ids, qids, qrels)))
    wide = rows.pivot_table(index="case", columns="metric", values="value")
    exact = wide.loc["pool:toy/study-f32-exact/d32/N2000"]
    assert exact.recall_at_10 == 1.0 and exact.bytes_per_vector == 128 and exact.n_queries == 60
    assert 0 <= wide.loc["pool:toy/usearch-f16-hnsw/d32/N2000"].recall_at_10 <= 1
    assert np.isfinite(wide.ndcg_at_10.dropna()).all() and len(wide.ndcg_at_10.dropna()) == 2


def test_pool_scaling_refuses_an_unknown_index_kind():
    from study.core.errors import ParameterError

    with pytest.raises(ParameterError, match="indexes"):
        pool_scaling.parse_args(["--indexes", "usearch-f33-hnsw"])


def _pool_rows() -> pd.DataFrame:
    measured = []
    for data, recall in (("pool:minilm-l6", 0.97), ("pool-gmm:minilm-l6", 0.93), ("iid", 0.41)):
        for n in (20_000, 45_031):
            measured += [{"case": f"{data}/usearch-f16-hnsw/d384/N{n}", "metric": "recall_at_10",
                          "value": recall - (n > 20_000) * 0.01, "unit": "fraction"},
                         {"case": f"{data}/usearch-f16-hnsw/d384/N{n}", "metric": "qps_b1", "value": 5000.0,
                          "unit": "q/s"},
                         {"case": f"{data}/usearch-f16-hnsw/d384/N{n}", "metric": "build_s", "value": 3.0, "unit": "s"},
                         {"case": f"{data}/usearch-f16-hnsw/d384/N{n}", "metric": "bytes_per_vector", "value": 916.0,
                          "unit": "B"},
                         {"case": f"{data}/corpus/d384/N{n}", "metric": "mean_10th_neighbour_cosine",
                          "value": recall / 2, "unit": "cosine"}]
            if data.startswith("pool:"):
                measured += [{"case": f"{data}/study-f32-exact/d384/N{n}", "metric": m, "value": v, "unit": "x"}
                             for m, v in (("ndcg_at_10", 0.62 - (n > 20_000) * 0.02), ("n_queries", 5413.0),
                                          ("recall_at_10", 1.0), ("qps_b1", 700.0), ("build_s", 0.1))]
                measured.append({"case": f"{data}/corpus/d384/N{n}", "metric": "n_relevant", "value": 12165.0,
                                 "unit": "count"})
    return make_rows(analysis.POOL_BENCHMARK, measured, machine="box")


def test_pool_tables_compare_real_fitted_and_iid_from_the_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDY_OUTPUT_DIR", str(tmp_path))
    path = tmp_path / "bench.csv"
    _pool_rows().to_csv(path, index=False)
    report = analysis.pool_report(path)
    recall = report.recall.set_index("index").loc["usearch-f16-hnsw"]  # the exact search is no row of its own
    assert report.recall["index"].tolist() == ["usearch-f16-hnsw"]
    assert (recall.model, recall.n_docs, recall.dims, recall.iid_dims) == ("minilm-l6", 45_031, 384, 384)
    assert (recall.recall_at_10, recall.iid_recall_at_10) == pytest.approx((0.96, 0.40))
    assert report.quality.ndcg_at_10.tolist() == pytest.approx([0.62, 0.60])
    assert report.quality.all_relevant.tolist() == [True, True] and report.quality.n_queries.iloc[0] == 5413
    gap = report.fitted_vs_real
    assert gap.n_docs.tolist() == [20_000, 45_031] and gap.difference.tolist() == pytest.approx([-0.04, -0.04])
    assert gap.tenth_neighbour_cosine_real.iloc[0] == pytest.approx(0.97 / 2)
    assert gap.tenth_neighbour_cosine_fitted.iloc[0] == pytest.approx(0.93 / 2)
    assert report.fitted_largest["index"].tolist() == ["usearch-f16-hnsw"]
    assert report.fitted_largest.recall_at_10.iloc[0] == pytest.approx(0.92)
    assert report.figure["png"].exists()
    assert list(report.table.source.unique()) == ["pool", "pool-gmm", "iid"]  # real curves first


def test_pool_quality_marks_the_prefixes_without_every_relevant_document():
    rows = _pool_rows()
    rows.loc[(rows.case == "pool:minilm-l6/corpus/d384/N20000") & (rows.metric == "n_relevant"), "value"] = 9000.0
    quality = analysis.pool_quality(analysis.pool_table(rows))
    assert quality.n_relevant.tolist() == [9000, 12165] and quality.all_relevant.tolist() == [False, True]


def test_exact_vs_faiss_rows_and_their_readme_table(monkeypatch):
    docs, queries = _clustered(3000, dims=64, seed=4), _clustered(50, dims=64, seed=5)
    rows = pd.DataFrame(exact_vs_faiss.measure("pool:toy", docs, queries, [1, 50], repeats=1))
    wide = rows.pivot_table(index="case", columns="metric", values="value")
    assert set(wide.index) == {"pool:toy/d64/N3000/q1", "pool:toy/d64/N3000/q50"}
    assert (wide.same_top100 == 1.0).all()  # untied data: the same sets as faiss
    np.testing.assert_allclose(wide.ratio_vs_faiss, wide.faiss_s / wide.study_s)
    block = "\n".join(summary.exact_vs_faiss_section(make_rows("exact_vs_faiss", rows.to_dict("records"),
                                                                 machine="box")))
    assert "pool:toy" in block and re.search(rf"\|\s+{wide.ratio_vs_faiss.iloc[0]:.2f}\s+\|", block)
