"""On-disk embedding cache: each (model, collection, role) is encoded once.

Layout: ``<cache>/embeddings/<model>/<collection>-<checksum12>/<role>/`` holding
``chunk-NNNNN.npy`` files while encoding (so an interrupted run resumes), then one
``vectors.npy`` (memory-mapped on read) and ``manifest.json`` with the model id, collection
checksum, count, dims and the file's sha256. Every write is atomic; nothing is pickled.
Texts are encoded longest-first (less padding) in fixed chunks, so a resumed encode equals
an uninterrupted one. Each chunk has a sha256 sidecar, so a damaged chunk is re-encoded, never used.

Several processes may share one cache (parallel Snakemake jobs, cluster nodes on a shared file
system): encoding and assembling an entry happen under an exclusive ``fcntl.flock`` on
``<entry>/.lock``, so a second process waits, then reads the finished entry instead of encoding it
again. The kernel releases the lock when its holder dies (even by ``kill -9``), so a crashed job
never blocks the next one, which resumes from the completed chunks.

``STUDY_CHUNK_SIZE`` (texts per chunk, default 256) is read once at import; it is part of the
chunk spec, so changing it discards unfinished chunks but never a finished entry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from study.core.errors import CacheError, ParameterError
from study.core.io import folder_lock, sha256_file, write_json_atomic, write_npy_atomic, write_text_atomic
from study.core.paths import cache_root
from study.core.progress import progress_bar
from study.data.datasets import Collection
from study.encoders.registry import Encoder, get_spec, load_encoder

log = logging.getLogger(__name__)

ROLES = ("docs", "queries")
FORMAT_VERSION = 1


def _chunk_size_from_env(default: int = 256) -> int:
    value = os.environ.get("STUDY_CHUNK_SIZE", "")
    if not value:
        return default
    if not value.isdigit() or int(value) <= 0:
        raise ParameterError("STUDY_CHUNK_SIZE", value, "a positive integer (texts per chunk)")
    return int(value)


CHUNK_SIZE = _chunk_size_from_env()


@dataclass
class Embeddings:
    """Cached vectors with their ids, in collection order."""

    ids: list[str]
    vectors: np.ndarray
    manifest: dict

    def rows(self, ids: list[str]) -> np.ndarray:
        index = {i: n for n, i in enumerate(self.ids)}
        return np.asarray(self.vectors[[index[i] for i in ids]], dtype=np.float32)


def role_texts(collection: Collection, role: str) -> tuple[list[str], list[str]]:
    if role == "docs":
        return collection.doc_ids, collection.doc_texts
    if role == "queries":
        ids = list(collection.queries)
        return ids, [collection.queries[i] for i in ids]
    raise ParameterError("role", role, ROLES)


def cache_dir(model: str, collection: Collection, role: str) -> Path:
    return cache_root() / "embeddings" / model / f"{collection.name}-{collection.checksum[:12]}" / role


def texts_digest(texts: list[str]) -> str:
    digest = hashlib.sha256()
    for t in texts:
        digest.update(t.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def _expected_manifest(model: str, collection: Collection, role: str, texts: list[str]) -> dict:
    spec = get_spec(model)
    return {
        "format_version": FORMAT_VERSION,
        "model": model,
        "model_source": spec.source,
        "collection": collection.name,
        "collection_checksum": collection.checksum,
        "role": role,
        "count": len(texts),
        "dims": spec.dims,
        "texts_sha256": texts_digest(texts),
        "chunk_size": CHUNK_SIZE,
        "dtype": "float32",
    }


_KEYS_THAT_MUST_MATCH = ("format_version", "model", "collection_checksum", "role", "count", "dims", "texts_sha256")


def check_cache(folder: Path, expected: dict, verify_checksum: bool = True) -> dict:
    """Return the manifest of a complete, intact cache entry, or raise CacheError saying why not."""
    manifest_path, vectors_path = folder / "manifest.json", folder / "vectors.npy"
    if not manifest_path.exists() or not vectors_path.exists():
        raise CacheError(f"{folder}: no complete cache entry")
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as exc:
        raise CacheError(f"{manifest_path}: unreadable manifest ({exc.msg})") from None
    stale = [k for k in _KEYS_THAT_MUST_MATCH if manifest.get(k) != expected[k]]
    if stale:
        raise CacheError(f"{folder}: stale cache (differs in {', '.join(stale)})")
    if vectors_path.stat().st_size != manifest.get("file_bytes"):
        size = vectors_path.stat().st_size
        raise CacheError(f"{vectors_path}: truncated (size {size} != {manifest.get('file_bytes')})")
    if verify_checksum and sha256_file(vectors_path) != manifest.get("sha256"):
        raise CacheError(f"{vectors_path}: checksum mismatch (corrupt file)")
    return manifest


def is_cached(model: str, collection: Collection, role: str) -> bool:
    """Whether a complete, current cache entry exists (checked without its checksum, without encoding)."""
    ids, texts = role_texts(collection, role)
    try:
        check_cache(cache_dir(model, collection, role), _expected_manifest(model, collection, role, texts),
                    verify_checksum=False)
    except CacheError:
        return False
    return True


def load_embeddings(
    model: str,
    collection: Collection,
    role: str,
    encoder: Encoder | Callable[[], Encoder] | None = None,
    verify_checksum: bool = True,
) -> Embeddings:
    """Return cached embeddings, encoding (or resuming) first if the cache is missing or bad."""
    ids, texts = role_texts(collection, role)
    folder = cache_dir(model, collection, role)
    expected = _expected_manifest(model, collection, role, texts)
    try:
        manifest = check_cache(folder, expected, verify_checksum)
    except CacheError:
        with entry_lock(folder):  # another process may be encoding this entry: wait, then look again
            try:
                manifest = check_cache(folder, expected, verify_checksum)
            except CacheError as why:
                if (folder / "manifest.json").exists():
                    log.warning("rebuilding embedding cache: %s", why)
                    _discard_final(folder)
                manifest = _encode_into(folder, expected, texts, encoder or (lambda: load_encoder(model)))
    vectors = np.load(folder / "vectors.npy", mmap_mode="r")
    if vectors.shape != (manifest["count"], manifest["dims"]):
        raise CacheError(f"{folder}: shape {vectors.shape} != manifest")
    return Embeddings(ids=ids, vectors=vectors, manifest=manifest)


entry_lock = folder_lock  # an exclusive flock on ``<entry>/.lock``: one process encodes, the next waits, then reads


def _discard_final(folder: Path) -> None:
    for name in ("manifest.json", "vectors.npy"):
        (folder / name).unlink(missing_ok=True)


def _length_order(texts: list[str]) -> np.ndarray:
    """Longest text first (stable), so batches hold texts of similar length."""
    return np.argsort(-np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts)), kind="stable")


def _chunk_is_valid(path: Path, rows: int, dims: int) -> bool:
    """A chunk is reused only if its sha256 sidecar matches and it holds finite float32 of the right shape."""
    if not path.exists():
        return False
    sidecar = path.with_name(path.name + ".sha256")
    try:
        intact = sidecar.read_text().strip() == sha256_file(path)
        arr = np.load(path, mmap_mode="r", allow_pickle=False) if intact else None
    except (ValueError, OSError, EOFError):
        arr = None
    valid = arr is not None and arr.shape == (rows, dims) and arr.dtype == np.float32 and bool(np.isfinite(arr).all())
    if not valid:
        log.warning("%s: damaged or unfinished chunk; encoding it again", path)
    return valid


def _encode_into(
    folder: Path, expected: dict, texts: list[str], encoder: Encoder | Callable[[], Encoder]
) -> dict:
    """Encode in chunks (resuming valid ones), then assemble ``vectors.npy`` and the manifest."""
    chunks_dir = folder / "chunks"
    chunks_dir.mkdir(parents=True, exist_ok=True)
    spec_file = chunks_dir / "spec.json"
    spec = {k: expected[k] for k in _KEYS_THAT_MUST_MATCH} | {"chunk_size": CHUNK_SIZE}
    if _read_json(spec_file) != spec:
        shutil.rmtree(chunks_dir)
        chunks_dir.mkdir(parents=True)
        write_json_atomic(spec_file, spec)
    order = _length_order(texts)
    starts = range(0, len(texts), CHUNK_SIZE)
    dims = expected["dims"]
    todo = [s for s in starts if not _chunk_is_valid(_chunk_path(chunks_dir, s), min(CHUNK_SIZE, len(texts) - s), dims)]
    if todo:
        enc = encoder if isinstance(encoder, Encoder) else encoder()
        label = f"{expected['model']} · {expected['collection']} · {expected['role']}"
        done = len(texts) - sum(min(CHUNK_SIZE, len(texts) - s) for s in todo)
        with progress_bar(total=len(texts), initial=done, desc=label, unit="text") as bar:
            for start in todo:
                idx = order[start : start + CHUNK_SIZE]
                vectors = enc.encode([texts[i] for i in idx], expected["role"])
                if vectors.shape != (len(idx), dims):
                    raise CacheError(f"encoder returned shape {vectors.shape}, expected {(len(idx), dims)}")
                chunk = _chunk_path(chunks_dir, start)
                write_npy_atomic(chunk, vectors)
                write_text_atomic(chunk.with_name(chunk.name + ".sha256"), sha256_file(chunk) + "\n")
                bar.update(len(idx))
    return _assemble(folder, chunks_dir, expected, order)


def _read_json(path: Path) -> object:
    """The parsed file, or None if it is missing or unreadable."""
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _chunk_path(chunks_dir: Path, start: int) -> Path:
    return chunks_dir / f"chunk-{start:09d}.npy"


def _assemble(folder: Path, chunks_dir: Path, expected: dict, order: np.ndarray) -> dict:
    chunks = [np.load(_chunk_path(chunks_dir, s)) for s in range(0, len(order), CHUNK_SIZE)]
    sorted_vectors = np.concatenate(chunks) if chunks else np.empty((0, expected["dims"]), np.float32)
    vectors = np.empty_like(sorted_vectors)
    vectors[order] = sorted_vectors
    target = folder / "vectors.npy"
    write_npy_atomic(target, vectors)
    manifest = expected | {"file_bytes": target.stat().st_size, "sha256": sha256_file(target)}
    write_json_atomic(folder / "manifest.json", manifest)
    shutil.rmtree(chunks_dir, ignore_errors=True)
    return manifest
