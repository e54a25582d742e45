"""Configurations: the value object every result row is keyed by, the data it is evaluated on, tidy rows.

A configuration is one value object with a stable string id, the key of every result row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from study.compress.formats import Params, Quantized, get_format, quantize
from study.core.checks import check_choice
from study.core.names import (  # noqa: F401  (NONE, is_named_set re-exported: the runner and the plans use them)
    NONE,
    POOL,
    SELF,
    UNTRAINED,
    is_named_set,
)
from study.data.datasets import Collection, load_collection
from study.encoders.cache import load_embeddings
from study.search.exact import search
from study.search.hamming import hamming_search
from study.search.metrics import DEPTH, METRICS
from study.search.ranking import SearchResult, top_k_of_scores

POOL_ROWS = 12_500
"""A pool's training sample: at most this many documents (the fit set, MLQuestions' corpus + dev queries, has
12,500 rows), drawn without replacement with ``POOL_SEED``."""
POOL_SEED = 0
QUERY_FORMATS = ("same", "float32")
"""``same``: queries stored like the documents; ``float32``: asymmetric search, queries not quantized."""


PQ_PREFIXES = ("opq", "pq")


def is_pq(fmt: str) -> bool:
    """A PQ family (OPQ + PQ, PQ, PQ fast-scan): faiss searches it with float32 queries against the codes (ADC)."""
    return fmt.startswith(PQ_PREFIXES)


def training_set_of(fmt: str, wanted: str) -> str:
    """What a configuration of ``fmt`` names as its training set when ``wanted`` is asked for: ``none`` for a
    format that calibrates nothing, ``untrained`` for one whose parameters ignore the sample, else ``wanted``."""
    f = get_format(fmt)
    if not f.needs_calibration:
        return NONE
    return wanted if f.learns_from_sample else UNTRAINED


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
    def n_docs(self) -> int:
        return len(self.doc_ids)

    @property
    def dims(self) -> int:
        return self.docs.shape[1]

    @property
    def n_texts(self) -> int:
        """Documents + evaluated queries: the paper's weight of a task in its averages."""
        return len(self.doc_ids) + len(self.query_ids)


@lru_cache(maxsize=32)
def cached_collection(name: str) -> Collection:
    return load_collection(name)


def load_eval_data(model: str, dataset: str, split: str | None = None) -> EvalData:
    """Load (encoding on first use) the vectors of a collection's corpus and judged queries."""
    collection = cached_collection(dataset)
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


def pool_members(collection: str, collections: Sequence[str]) -> list[str]:
    """The collections pooled to train a codec for ``collection``: two-fold cross-fitting over the model's
    evaluated ``collections`` (sorted by name, dealt alternately into two folds): the other fold. Every pool is
    foreign to the collection it serves (it is left out, with its fold), and a model's pools are two trainings
    per codec rather than one per collection."""
    ordered = sorted({*collections, collection})
    fold = ordered.index(collection) % 2
    return [name for i, name in enumerate(ordered) if i % 2 != fold]


def pool_vectors(model: str, members: Sequence[str], rows: int = POOL_ROWS, seed: int = POOL_SEED) -> np.ndarray:
    """The pooled documents of ``members`` (in that order), a seeded sample of at most ``rows`` of them."""
    docs = np.concatenate([np.asarray(load_embeddings(model, cached_collection(m), "docs").vectors, dtype=np.float32)
                           for m in members])
    if len(docs) > rows:
        docs = docs[np.sort(np.random.default_rng(seed).choice(len(docs), rows, replace=False))]
    return docs


def reference_vectors(model: str, reference: str, data: EvalData) -> np.ndarray:
    """Vectors of a calibration / fit set: ``self`` = the evaluated corpus; a collection name =
    its corpus plus its dev queries (all its queries if it has no dev split), as the paper did
    with MLQuestions. (``pool``: ``References``, which knows the pool's members.)"""
    if reference == SELF:
        return data.docs
    collection = cached_collection(reference)
    docs = load_embeddings(model, collection, "docs")
    queries = load_embeddings(model, collection, "queries")
    qids = collection.split_query_ids("dev") if "dev" in collection.qrels else list(collection.queries)
    return np.concatenate([np.asarray(docs.vectors, dtype=np.float32), queries.rows(qids)])


class References:
    """The calibration / fit sets (``reference_vectors``) of one evaluated collection, each loaded once;
    ``references("none")`` is ``None`` (a configuration that calibrates nothing); ``references("pool")`` is the
    pool of ``pool`` (its members: ``pool_members``)."""

    def __init__(self, model: str, data: EvalData | None, pool: Sequence[str] = ()) -> None:
        self.model, self.data, self.pool, self._loaded = model, data, tuple(pool), {}

    def __call__(self, name: str) -> np.ndarray | None:
        if name == NONE:
            return None
        if name not in self._loaded:
            if name == POOL:
                if not self.pool:
                    raise ValueError("calibrate_on='pool' needs the pool's collections (RunOptions.pools)")
                self._loaded[name] = pool_vectors(self.model, self.pool)
            else:
                self._loaded[name] = reference_vectors(self.model, name, self.data)
        return self._loaded[name]


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
    queries against the decoded documents (asymmetric search, cosine). A codec (``Format.score``) ranks by its
    own inner-product estimate, given the float32 queries and ``query_format``."""
    check_choice("query_format", cfg.query_format, QUERY_FORMATS)
    fmt = packed_docs.format
    if fmt.score is not None:
        def estimate(q: np.ndarray, docs: Quantized, doc_ids: list[str], k: int = DEPTH) -> SearchResult:
            return top_k_of_scores(fmt.score(q, docs, cfg.query_format), doc_ids, k)

        return np.asarray(queries, dtype=np.float32), packed_docs, estimate
    if cfg.query_format == "float32":
        return np.asarray(queries, dtype=np.float32), packed_docs.decode(), search
    packed_queries = quantize(queries, cfg.format, params)
    if packed_docs.format.similarity == "hamming":
        return packed_queries.packed, packed_docs.packed, hamming_search
    return packed_queries.decode(), packed_docs.decode(), search
