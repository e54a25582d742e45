"""study.experiment.mteb_bridge: a tiny in-memory collection through the bridge gives the nDCG@10 that mteb gives
on an independently built task, that pytrec_eval gives on the same vectors, and that the study's evaluator gives.

MTEB rounds its scores to 5 decimals (``round(…, 5)`` in ``mteb._evaluators.retrieval_metrics``), so values from
mteb are compared within 5e-6; the others agree to float rounding. The vectors are random and continuous, so no
two documents tie within float32 rounding for any query (checked), and every path ranks alike.
"""

from __future__ import annotations

import numpy as np
import pytest
from oracles import trec_ndcg

from study.data.datasets import Collection
from study.experiment.configs import EvalData
from study.experiment.mteb_bridge import mteb_ndcg_at_10
from study.search.exact import evaluate

MTEB_ROUNDING = 5e-6
DIMS, N_DOCS, N_QUERIES = 24, 60, 12
TRANSFORMS = {
    "float32": lambda x: x,
    "signed_sqrt": lambda x: (np.sign(x) * np.sqrt(np.abs(x))).astype(np.float32),  # another ranking
    "shifted": lambda x: x + 0.3,  # not norm-preserving: cosine must still be computed on what encode returns
}


def tiny_collection() -> tuple[Collection, np.ndarray, np.ndarray]:
    """Texts, graded judgments (1–3 relevant documents per query, gains 1 or 2) and seeded random vectors; query
    vectors lean towards their relevant documents so the scores are not noise."""
    rng = np.random.default_rng(7)
    docs = rng.standard_normal((N_DOCS, DIMS)).astype(np.float32)
    doc_ids = [f"d{i:02d}" for i in range(N_DOCS)]
    qrels, queries = {}, []
    for q in range(N_QUERIES):
        relevant = rng.choice(N_DOCS, size=rng.integers(1, 4), replace=False)
        qrels[f"q{q}"] = {doc_ids[j]: int(rng.integers(1, 3)) for j in relevant}
        queries.append(docs[relevant].mean(axis=0) + 1.5 * rng.standard_normal(DIMS))
    collection = Collection(
        name="tiny", doc_ids=doc_ids, doc_texts=[f"document number {i}" for i in range(N_DOCS)],
        queries={f"q{q}": f"question number {q}" for q in range(N_QUERIES)}, qrels={"test": qrels},
        checksum="0" * 64, source="memory")
    return collection, docs, np.asarray(queries, dtype=np.float32)


@pytest.fixture(scope="module")
def data() -> EvalData:
    collection, docs, queries = tiny_collection()
    query_ids = sorted(collection.qrels["test"])
    order = [int(q[1:]) for q in query_ids]
    return EvalData(model="random", collection=collection, split="test", doc_ids=collection.doc_ids, docs=docs,
                    query_ids=query_ids, queries=queries[order], qrels=collection.qrels["test"])


def independent_mteb_ndcg(data: EvalData, transform) -> float:
    """mteb.evaluate on a task and an encoder written here from the offline recipe, not the bridge's."""
    import mteb
    from datasets import Dataset
    from mteb.abstasks.retrieval import AbsTaskRetrieval
    from mteb.abstasks.retrieval_dataset_loaders import RetrievalSplitData
    from mteb.abstasks.task_metadata import TaskMetadata
    from mteb.models.abs_encoder import AbsEncoder
    from mteb.models.model_meta import ModelMeta

    texts = dict(zip(data.collection.doc_texts, transform(data.docs), strict=True))
    texts |= dict(zip((data.collection.queries[q] for q in data.query_ids), transform(data.queries), strict=True))

    class Task(AbsTaskRetrieval):
        metadata = TaskMetadata(
            name="OracleTiny", type="Retrieval", main_score="ndcg_at_10", category="t2t", modalities=["text"],
            eval_splits=["test"], eval_langs=["eng-Latn"], dataset={"path": "local/oracle-tiny", "revision": "0"},
            description="tiny task of the bridge test", reference=None, date=None, domains=None,
            task_subtypes=None, license=None, annotations_creators=None, dialect=None, sample_creation=None,
            bibtex_citation=None)

        def load_data(self, num_proc=None, **kwargs):
            corpus = Dataset.from_list([{"id": d, "title": "", "text": t}
                                        for d, t in zip(data.doc_ids, data.collection.doc_texts, strict=True)])
            queries = Dataset.from_list([{"id": q, "text": data.collection.queries[q]} for q in data.query_ids])
            self.dataset = {"default": {"test": RetrievalSplitData(
                corpus=corpus, queries=queries, relevant_docs=data.qrels, top_ranked=None)}}
            self.data_loaded = True

    class Encoder(AbsEncoder):
        mteb_model_meta = ModelMeta(
            loader=None, name="local/oracle", revision="0", release_date=None, languages=["eng-Latn"],
            n_parameters=None, memory_usage_mb=None, max_tokens=None, embed_dim=DIMS, license=None,
            open_weights=True, public_training_code=None, public_training_data=None, framework=["NumPy"],
            reference=None, similarity_fn_name="cosine", use_instructions=False, training_datasets=None)

        def encode(self, inputs, *, task_metadata, hf_split, hf_subset, prompt_type=None, **kwargs):
            return np.stack([texts[t.strip()] for batch in inputs for t in batch["text"]])

    result = mteb.evaluate(Encoder(), Task(), cache=None, show_progress_bar=False)
    return float(result.task_results[0].scores["test"][0]["ndcg_at_10"])


def trec_eval_ndcg(data: EvalData, transform) -> float:
    """pytrec_eval on float64 cosines of the transformed vectors (every document in the run)."""
    q, d = (np.asarray(transform(x), dtype=np.float64) for x in (data.queries, data.docs))
    scores = (q / np.linalg.norm(q, axis=1, keepdims=True)) @ (d / np.linalg.norm(d, axis=1, keepdims=True)).T
    gaps = np.diff(np.sort(scores, axis=1), axis=1)
    assert gaps.min() > 1e-5  # no near-ties: every path must rank alike
    run = {qid: dict(zip(data.doc_ids, map(float, row), strict=True)) for qid, row in zip(data.query_ids, scores,
                                                                                            strict=True)}
    return float(np.mean(list(trec_ndcg(run, data.qrels).values())))


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_bridge_scores_as_mteb_trec_eval_and_our_evaluator(name, data):
    transform = TRANSFORMS[name]
    bridge = mteb_ndcg_at_10(data, transform)
    reference = trec_eval_ndcg(data, transform)
    ours, _ = evaluate(transform(data.queries), data.query_ids, transform(data.docs), data.doc_ids, data.qrels)
    assert abs(ours.ndcg_at_10.mean() - reference) <= 1e-9
    assert abs(bridge - reference) <= MTEB_ROUNDING
    assert abs(bridge - independent_mteb_ndcg(data, transform)) <= 1e-12  # the same mteb, the same rounding
    assert 0.2 < reference < 0.95  # a task neither trivial nor hopeless
