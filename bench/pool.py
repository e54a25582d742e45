"""Benchmark data made of real embeddings: every shared collection pooled into one corpus, and synthetic
vectors drawn from a model fitted to that pool (for corpus sizes no shared collection reaches).

The data of ``bench/pool_scaling.py`` (index scaling) and ``bench/exact_vs_faiss.py`` (exact search vs faiss).

**The pool.** The documents of every collection of the full profile whose embeddings of ``model`` are in
the cache (nothing is encoded here) form one corpus, ids ``<collection>/<doc id>``; every collection's judged
queries (its evaluation split) are searched against the whole pool and scored with their own qrels. A
document of another collection is *not relevant* to a query (its qrels do not judge it): that is an
assumption, about as safe as the unjudged-is-irrelevant one every collection already makes. Rows are in
nesting order: the judged-relevant documents of the pooled queries first (shuffled, seeded), then the
others (shuffled), so the first N rows of the pool hold every relevant document for every N at least their
count, and a larger N only adds distractors, as in ``bench/scaling.py``'s planted corpora.

**Fitted synthetic vectors.** ``FittedGenerator`` fits a Gaussian mixture (scikit-learn, full covariances)
to the pool's documents in the space of their first ``pcs`` principal components, and models the other
components as independent Gaussians with each one's own variance (the PCA residual). A sample is drawn in
that space, rotated back, shifted by the mean and normalised. It keeps the pool's main cluster structure
and its per-direction spread, which random iid vectors lack. Its queries are the pool's real queries; its
documents have no qrels, so only neighbour recall is measured on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import yaml
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture

from study.core.paths import REPO_ROOT
from study.core.vectors import normalise
from study.data.datasets import load_collection
from study.encoders.cache import is_cached
from study.experiment.configs import load_eval_data

SEED = 0
PCS = 48  # principal components the mixture is fitted in
MIXTURE_COMPONENTS = 24
SAMPLE_ROWS = 1 << 16  # rows sampled per step


@dataclass
class Pool:
    """The pooled corpus of one model: documents in nesting order, the pooled queries and their qrels."""

    model: str
    collections: list[str]
    docs: np.ndarray
    doc_ids: list[str]
    queries: np.ndarray
    query_ids: list[str]
    qrels: dict[str, dict[str, int]]
    n_relevant: int

    @property
    def dims(self) -> int:
        return self.docs.shape[1]

    def description(self) -> str:
        return (f"pool of {len(self.collections)} collections ({', '.join(self.collections)}): "
                f"{len(self.docs):,} documents ({self.n_relevant:,} judged relevant), {len(self.queries):,} queries")


def full_profile_collections(model: str) -> list[str]:
    """The full profile's collections of ``model`` (its ``datasets_per_model`` list, else ``datasets``) plus
    every other full-profile collection already in the cache for it."""
    config = yaml.safe_load((REPO_ROOT / "config" / "full.yaml").read_text())
    listed = config.get("datasets_per_model", {}).get(model, config["datasets"])
    return [name for name in config["datasets"]
            if name in listed or all(is_cached(model, load_collection(name), role) for role in ("docs", "queries"))]


@cache
def load_pool(model: str, seed: int = SEED) -> Pool:
    """The pool of ``model`` (see the module docstring); collections not in the cache are left out."""
    names = [n for n in full_profile_collections(model)
             if all(is_cached(model, load_collection(n), role) for role in ("docs", "queries"))]
    if not names:
        raise SystemExit(f"no cached embeddings of {model}: run `make study PROFILE=full` (or `study models`) first")
    docs, doc_ids, queries, query_ids, qrels = [], [], [], [], {}
    for name in names:
        data = load_eval_data(model, name)
        docs.append(data.docs)
        doc_ids += [f"{name}/{d}" for d in data.doc_ids]
        queries.append(data.queries)
        query_ids += [f"{name}/{q}" for q in data.query_ids]
        qrels |= {f"{name}/{q}": {f"{name}/{d}": g for d, g in data.qrels[q].items()} for q in data.query_ids}
    relevant = {d for judged in qrels.values() for d, g in judged.items() if g > 0}
    ids = np.array(doc_ids, dtype=object)
    is_relevant = np.array([d in relevant for d in doc_ids])
    rng = np.random.default_rng([seed, 1])
    order = np.concatenate([rng.permutation(np.flatnonzero(is_relevant)),
                            rng.permutation(np.flatnonzero(~is_relevant))])
    all_docs = np.concatenate(docs)[order]
    return Pool(model, names, np.ascontiguousarray(all_docs, dtype=np.float32), list(ids[order]),
                np.ascontiguousarray(np.concatenate(queries), dtype=np.float32), query_ids, qrels,
                int(is_relevant.sum()))


class FittedGenerator:
    """Unit vectors drawn from a Gaussian mixture fitted to real ones (see the module docstring)."""

    def __init__(self, vectors: np.ndarray, pcs: int = PCS, components: int = MIXTURE_COMPONENTS,
                 seed: int = SEED) -> None:
        x = np.asarray(vectors, dtype=np.float64)
        self.pca = PCA(n_components=x.shape[1], random_state=seed).fit(x)
        projected = self.pca.transform(x)
        self.pcs = min(pcs, x.shape[1])
        self.mixture = GaussianMixture(components, covariance_type="full", random_state=seed, max_iter=200,
                                       reg_covar=1e-6).fit(projected[:, : self.pcs])
        self.residual_std = projected[:, self.pcs :].std(axis=0)
        self.seed = seed

    def sample(self, n: int, stream: int = 0) -> np.ndarray:
        """``n`` unit vectors (float32); the same ``(n, stream)`` gives the same vectors, and the first rows of
        a larger sample equal a smaller one's (drawn in fixed steps of ``SAMPLE_ROWS``)."""
        out = np.empty((n, self.pca.n_components_), dtype=np.float32)
        for start in range(0, n, SAMPLE_ROWS):
            rows = min(SAMPLE_ROWS, n - start)
            rng = np.random.default_rng([self.seed, stream, start])
            self.mixture.random_state = int(rng.integers(2**31))
            head, _ = self.mixture.sample(SAMPLE_ROWS)  # a whole step, cut below: prefixes stay the same
            head = head[rng.permutation(SAMPLE_ROWS)[:rows]]  # sample() returns the draws grouped by component
            tail = rng.standard_normal((rows, len(self.residual_std))) * self.residual_std
            full = self.pca.inverse_transform(np.hstack([head, tail]))
            out[start : start + rows] = normalise(full.astype(np.float32))
        return out


@cache
def generator(model: str) -> FittedGenerator:
    """The generator fitted to ``model``'s pool (fitted once per process)."""
    return FittedGenerator(load_pool(model).docs)


def iid_unit_vectors(n: int, dims: int, stream: int) -> np.ndarray:
    """Independent, uniformly distributed unit vectors (seeded): the labelled worst case of a graph index."""
    out = np.empty((n, dims), dtype=np.float32)
    for start in range(0, n, SAMPLE_ROWS):
        rows = min(SAMPLE_ROWS, n - start)
        out[start : start + rows] = normalise(
            np.random.default_rng([SEED, dims, stream, start]).standard_normal((rows, dims), dtype=np.float32))
    return out


def mean_kth_neighbour_cosine(queries: np.ndarray, docs: np.ndarray, k: int = 10) -> float:
    """Mean cosine of each query's k-th nearest document: how crowded a corpus looks from its queries."""
    from study.search.flat import FlatIndex

    result = FlatIndex(docs, rank=np.arange(len(docs))).search(queries, k)
    return float(result.scores[:, k - 1].mean())
