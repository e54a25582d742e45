"""Run our cached (and quantized) vectors through MTEB's own retrieval evaluation, fully offline.

This is the paper's path (mteb scoring whatever vectors the encoder returns, so simulated
quantization is "quantize -> dequantize inside encode"); we use it as the reference our
evaluator is checked against and benchmarked with (``bench/evaluator.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from study.core.offline import offline_by_default
from study.experiment.configs import EvalData


def make_task(data: EvalData):
    """A custom mteb ``AbsTaskRetrieval`` holding one collection split in memory."""
    offline_by_default()
    from datasets import Dataset
    from mteb.abstasks.retrieval import AbsTaskRetrieval
    from mteb.abstasks.retrieval_dataset_loaders import RetrievalSplitData
    from mteb.abstasks.task_metadata import TaskMetadata

    name = f"Local{data.dataset.title().replace('-', '')}"
    metadata = TaskMetadata(
        name=name, type="Retrieval", main_score="ndcg_at_10", category="t2t", modalities=["text"],
        eval_splits=[data.split], eval_langs=["eng-Latn"], dataset={"path": f"local/{name}", "revision": "0"},
        description=f"{data.dataset} loaded from the study's BEIR folder", reference=None, date=None,
        domains=None, task_subtypes=None, license=None, annotations_creators=None, dialect=None,
        sample_creation=None, bibtex_citation=None,
    )
    texts = dict(zip(data.collection.doc_ids, data.collection.doc_texts))

    class LocalTask(AbsTaskRetrieval):
        def load_data(self, num_proc=None, **kwargs):
            corpus = Dataset.from_list([{"id": d, "title": "", "text": texts[d]} for d in data.doc_ids])
            queries = Dataset.from_list([{"id": q, "text": data.collection.queries[q]} for q in data.query_ids])
            self.dataset = {"default": {data.split: RetrievalSplitData(
                corpus=corpus, queries=queries, relevant_docs={q: data.qrels[q] for q in data.query_ids},
                top_ranked=None)}}
            self.data_loaded = True

    LocalTask.metadata = metadata
    return LocalTask()


def make_encoder(data: EvalData, transform: Callable[[np.ndarray], np.ndarray]):
    """An mteb encoder that looks texts up in the cache and returns ``transform(vectors)``."""
    from mteb.models.abs_encoder import AbsEncoder
    from mteb.models.model_meta import ModelMeta

    doc_vectors = dict(zip(data.collection.doc_texts, transform(data.docs)))
    query_vectors = dict(zip((data.collection.queries[q] for q in data.query_ids), transform(data.queries)))
    dims = data.docs.shape[1]

    class CachedEncoder(AbsEncoder):
        def __init__(self):
            self.mteb_model_meta = ModelMeta(
                loader=None, name=f"local/{data.model}", revision="0", release_date=None, languages=["eng-Latn"],
                n_parameters=None, memory_usage_mb=None, max_tokens=None, embed_dim=dims, license=None,
                open_weights=True, public_training_code=None, public_training_data=None, framework=["NumPy"],
                reference=None, similarity_fn_name="cosine", use_instructions=False, training_datasets=None,
            )

        def encode(self, inputs, *, task_metadata, hf_split, hf_subset, prompt_type=None, **kwargs):
            table = query_vectors if prompt_type is not None and prompt_type.value == "query" else doc_vectors
            texts = [t for batch in inputs for t in batch["text"]]
            return np.stack([table[t] for t in texts])

    return CachedEncoder()


def mteb_ndcg_at_10(data: EvalData, transform: Callable[[np.ndarray], np.ndarray]) -> float:
    """Mean nDCG@10 of ``transform``-ed cached vectors as computed by ``mteb.evaluate``."""
    import mteb

    result = mteb.evaluate(make_encoder(data, transform), make_task(data), cache=None, show_progress_bar=False)
    return float(result.task_results[0].scores[data.split][0]["ndcg_at_10"])
