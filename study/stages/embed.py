"""Stage 01 (notebook 01-embed): fill the embedding cache for one model and its collections."""

from __future__ import annotations

import pandas as pd

from study.analysis import report
from study.core.io import write_json_atomic
from study.data.datasets import load_collection
from study.encoders.cache import load_embeddings
from study.encoders.registry import load_encoder


def embed_collections(model: str, datasets: list[str], profile: str) -> pd.DataFrame:
    """Stage 01: fill the cache for (model, each collection); write a small marker per collection."""
    encoder = None

    def lazy_encoder():
        nonlocal encoder
        encoder = encoder or load_encoder(model)
        return encoder

    rows = []
    for name in datasets:
        collection = load_collection(name)
        docs = load_embeddings(model, collection, "docs", encoder=lazy_encoder)
        queries = load_embeddings(model, collection, "queries", encoder=lazy_encoder)
        row = {
            "dataset": collection.name,
            "docs": docs.vectors.shape[0],
            "queries": queries.vectors.shape[0],
            "dims": docs.vectors.shape[1],
            "megabytes": (docs.vectors.nbytes + queries.vectors.nbytes) / 1e6,
            "collection_checksum": collection.checksum,
            "docs_sha256": docs.manifest["sha256"],
            "queries_sha256": queries.manifest["sha256"],
        }
        marker = report.output_dirs(profile)["results"] / "embeddings" / f"{model}--{collection.name}.json"
        write_json_atomic(marker, row | {"model": model})
        rows.append(row)
    return pd.DataFrame(rows)
