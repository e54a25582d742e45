"""The embedding cache: encode once, reuse, detect stale entries; a fake encoder keeps it fast."""

import json
import zlib

import numpy as np
import pytest

from study.data.datasets import load_collection
from study.encoders.cache import cache_dir, load_embeddings
from study.encoders.registry import MODELS, Encoder


class CountingEncoder(Encoder):
    """Deterministic stand-in for a model: a hash of each text -> a unit vector."""

    def __init__(self):
        super().__init__(MODELS["minilm-l6"], self._fake, model_id="fake")
        self.calls = 0

    def _fake(self, texts):
        self.calls += 1
        seeds = [zlib.crc32(t.encode()) for t in texts]
        return np.stack([np.random.default_rng(s).standard_normal(384) for s in seeds]).astype(np.float32)


@pytest.fixture()
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDY_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_encodes_once_then_reads_the_cache(isolated_cache):
    collection = load_collection("adi")
    enc = CountingEncoder()
    first = load_embeddings("minilm-l6", collection, "docs", encoder=enc)
    calls = enc.calls
    second = load_embeddings("minilm-l6", collection, "docs", encoder=enc)
    assert calls > 0 and enc.calls == calls
    np.testing.assert_array_equal(np.asarray(first.vectors), np.asarray(second.vectors))
    assert isinstance(second.vectors, np.memmap)
    np.testing.assert_allclose(np.linalg.norm(second.vectors, axis=1), 1.0, atol=1e-5)


def test_rows_follow_collection_order(isolated_cache):
    collection = load_collection("adi")
    enc = CountingEncoder()
    emb = load_embeddings("minilm-l6", collection, "docs", encoder=enc)
    assert emb.ids == collection.doc_ids
    direct = enc.encode([collection.doc_texts[5]], "docs")[0]
    np.testing.assert_allclose(emb.vectors[5], direct, atol=1e-6)


def test_manifest_records_model_checksum_count_and_dims(isolated_cache):
    collection = load_collection("adi")
    load_embeddings("minilm-l6", collection, "queries", encoder=CountingEncoder())
    manifest = json.loads((cache_dir("minilm-l6", collection, "queries") / "manifest.json").read_text())
    assert manifest["model"] == "minilm-l6"
    assert manifest["collection_checksum"] == collection.checksum
    assert manifest["count"] == len(collection.queries) and manifest["dims"] == 384
    assert len(manifest["sha256"]) == 64


def test_a_stale_manifest_is_rebuilt(isolated_cache, caplog):
    collection = load_collection("adi")
    load_embeddings("minilm-l6", collection, "docs", encoder=CountingEncoder())
    path = cache_dir("minilm-l6", collection, "docs") / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["texts_sha256"] = "0" * 64
    path.write_text(json.dumps(manifest))
    enc = CountingEncoder()
    load_embeddings("minilm-l6", collection, "docs", encoder=enc)
    assert enc.calls > 0 and "stale cache" in caplog.text


def test_cache_files_are_plain_numpy_without_pickle(isolated_cache):
    collection = load_collection("adi")
    load_embeddings("minilm-l6", collection, "docs", encoder=CountingEncoder())
    arr = np.load(cache_dir("minilm-l6", collection, "docs") / "vectors.npy", allow_pickle=False)
    assert arr.dtype == np.float32 and arr.shape == (82, 384)
