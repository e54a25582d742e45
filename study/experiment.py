"""Configurations and their evaluation: compress a collection's vectors, search, score, tidy rows.

A configuration is one value object with a stable string id, the key of every result row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from tqdm import tqdm

from .config import SELF, check_choice
from .datasets import Collection, load_collection
from .embeddings import load_embeddings
from .hamming import hamming_search
from .metrics import METRICS
from .quantize import Params, Quantized, calibrate, get_format, quantize
from .retrieval import evaluate, search

NONE = "none"
QUERY_FORMATS = ("same", "float32")
"""``same``: queries stored like the documents; ``float32``: asymmetric search, queries not quantized."""


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


def search_inputs(
    cfg: Config, packed_docs: Quantized, queries: np.ndarray, params: Params
) -> tuple[np.ndarray, np.ndarray, Callable]:
    """What the search compares for ``cfg``: (queries, documents, search function).

    ``query_format='same'``: queries quantized like the documents, scored by the format's
    similarity (cosine on decoded vectors, or Hamming on packed bits); ``'float32'``: float32
    queries against the decoded documents (asymmetric search, cosine)."""
    check_choice("query_format", cfg.query_format, QUERY_FORMATS)
    if cfg.query_format == "float32":
        return np.asarray(queries, dtype=np.float32), packed_docs.decode(), search
    packed_queries = quantize(queries, cfg.format, params)
    if packed_docs.format.similarity == "hamming":
        return packed_queries.packed, packed_docs.packed, hamming_search
    return packed_queries.decode(), packed_docs.decode(), search


def evaluate_format(
    cfg: Config,
    data: EvalData,
    docs: np.ndarray,
    queries: np.ndarray,
    calibration: np.ndarray | None,
    stage: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Quantize (already reduced) docs and queries in ``cfg.format``, search, and score.

    Queries follow ``cfg.query_format``; a ``cfg.rescore`` other than ``none`` runs the two-stage
    search of ``study.rescore``."""
    if cfg.rescore != NONE:
        from .rescore import evaluate_rescored  # rescore builds on this module

        return evaluate_rescored(cfg, data, docs, queries, calibration, stage)
    params = calibrate(cfg.format, calibration) if calibration is not None else {}
    packed_docs = quantize(docs, cfg.format, params)
    q, d, search_fn = search_inputs(cfg, packed_docs, queries, params)
    per_query, _ = evaluate(q, data.query_ids, d, data.doc_ids, data.qrels, search_fn=search_fn)
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
            cfg = Config(model, data.dataset, data.split, format=fmt, calibrate_on=calibrate_on if needs else NONE)
            rows, pq = evaluate_format(cfg, data, data.docs, data.queries, calibration if needs else None, "02")
            tidy.append(rows)
            per_query.append(pq)
    return pd.concat(tidy, ignore_index=True), pd.concat(per_query, ignore_index=True)
