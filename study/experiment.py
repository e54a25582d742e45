"""Configurations and their evaluation: compress a collection's vectors, search, score, tidy rows.

A configuration is one value object with a stable string id, the key of every result row.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from tqdm import tqdm

from .config import SELF
from .datasets import Collection, load_collection
from .embeddings import load_embeddings
from .metrics import METRICS
from .quantize import calibrate, get_format, quantize
from .retrieval import evaluate

NONE = "none"


@dataclass(frozen=True)
class Config:
    """One point of the study: model × collection × reduction × format (× rescoring)."""

    model: str
    dataset: str
    split: str
    reducer: str = NONE
    fraction: float = 1.0
    fit_on: str = NONE
    format: str = "float32"
    calibrate_on: str = NONE
    rescore: str = NONE
    query_format: str = "same"

    @property
    def id(self) -> str:
        return "|".join(f"{k}={v}" for k, v in asdict(self).items())


@dataclass
class EvalData:
    """The float32 vectors and judgments needed to evaluate one (model, collection, split)."""

    model: str
    collection: Collection
    split: str
    doc_ids: list[str]
    docs: np.ndarray
    query_ids: list[str]
    queries: np.ndarray
    qrels: dict[str, dict[str, int]]

    @property
    def dataset(self) -> str:
        return self.collection.name

    @property
    def n_texts(self) -> int:
        """Documents + evaluated queries: the paper's weight of a task in its averages."""
        return len(self.doc_ids) + len(self.query_ids)


@lru_cache(maxsize=8)
def _collection(name: str) -> Collection:
    return load_collection(name)


def load_eval_data(model: str, dataset: str, split: str | None = None) -> EvalData:
    """Load (encoding on first use) the vectors of a collection's corpus and judged queries."""
    collection = _collection(dataset)
    split = split or collection.default_split()
    docs = load_embeddings(model, collection, "docs")
    queries = load_embeddings(model, collection, "queries")
    query_ids = collection.split_query_ids(split)
    return EvalData(
        model=model,
        collection=collection,
        split=split,
        doc_ids=docs.ids,
        docs=np.asarray(docs.vectors, dtype=np.float32),
        query_ids=query_ids,
        queries=queries.rows(query_ids),
        qrels=collection.split_qrels(split),
    )


def reference_vectors(model: str, reference: str, data: EvalData) -> np.ndarray:
    """Vectors of a calibration / fit set: ``self`` = the evaluated corpus; a collection name =
    its corpus plus its dev queries (all its queries if it has no dev split), as the paper did
    with MLQuestions."""
    if reference == SELF:
        return data.docs
    collection = _collection(reference)
    docs = load_embeddings(model, collection, "docs")
    queries = load_embeddings(model, collection, "queries")
    qids = collection.split_query_ids("dev") if "dev" in collection.qrels else list(collection.queries)
    return np.concatenate([np.asarray(docs.vectors, dtype=np.float32), queries.rows(qids)], axis=0)


def tidy_rows(
    cfg: Config,
    per_query: pd.DataFrame,
    *,
    stage: str,
    dims: int,
    original_dims: int,
    bytes_per_vector: float,
    overhead_bytes: int,
    n_docs: int,
    n_texts: int,
) -> pd.DataFrame:
    """One row per metric in the study's tidy schema."""
    base = asdict(cfg) | {
        "stage": stage,
        "dims": dims,
        "bytes_per_vector": bytes_per_vector,
        "overhead_bytes": overhead_bytes,
        "compression_ratio": 4 * original_dims / bytes_per_vector,
        "n_queries": len(per_query),
        "n_docs": n_docs,
        "n_texts": n_texts,
        "config_id": cfg.id,
    }
    return pd.DataFrame([base | {"metric": m, "value": float(per_query[m].mean())} for m in METRICS])


def evaluate_format(
    cfg: Config,
    data: EvalData,
    docs: np.ndarray,
    queries: np.ndarray,
    calibration: np.ndarray | None,
    stage: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Quantize (already reduced) docs and queries in ``cfg.format``, search, and score."""
    params = calibrate(cfg.format, calibration) if calibration is not None else {}
    packed_docs = quantize(docs, cfg.format, params)
    packed_queries = quantize(queries, cfg.format, params)
    per_query, _ = evaluate(packed_queries.decode(), data.query_ids, packed_docs.decode(), data.doc_ids, data.qrels)
    per_query.insert(0, "config_id", cfg.id)
    per_query.insert(1, "dataset", data.dataset)
    per_query.insert(2, "split", data.split)
    rows = tidy_rows(
        cfg,
        per_query,
        stage=stage,
        dims=docs.shape[1],
        original_dims=data.docs.shape[1],
        bytes_per_vector=packed_docs.bytes_per_vector,
        overhead_bytes=packed_docs.overhead_bytes,
        n_docs=len(data.doc_ids),
        n_texts=data.n_texts,
    )
    return rows, per_query


def run_quantization(
    model: str, datasets: list[str], formats: list[str], calibrate_on: str, split: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stage 02: every format on every collection, queries and documents quantized alike."""
    tidy, per_query = [], []
    for dataset in datasets:
        data = load_eval_data(model, dataset, split)
        calibration = None
        for fmt in tqdm(formats, desc=f"{model} · {dataset}", unit="format"):
            needs = get_format(fmt).needs_calibration
            if needs and calibration is None:
                calibration = reference_vectors(model, calibrate_on, data)
            cfg = Config(model, dataset, data.split, format=fmt, calibrate_on=calibrate_on if needs else NONE)
            rows, pq = evaluate_format(cfg, data, data.docs, data.queries, calibration if needs else None, "02")
            tidy.append(rows)
            per_query.append(pq)
    return pd.concat(tidy, ignore_index=True), pd.concat(per_query, ignore_index=True)
