"""The fit cache: a reducer fitted, or a codec trained, on given vectors with given parameters is fitted once per
machine and reused by every stage, collection and process that asks for it again.

``fit_reducer`` (``reducers``) and ``calibrate`` (``formats``) call ``load_or_fit``, so callers change nothing.

**Key**: sha256 of (``FIT_CACHE_VERSION``; kind and method/format name; the parameters that decide the fit: the
reducer's class, width, ``n_components``, seed and constructor arguments, e.g. every scikit-learn parameter; the
dtype, shape and sha256 of the exact array fitted, after subsampling; the sha256 of the source file that defines
the fit (``reducers.py``, ``codecs.py``); the versions of the numeric libraries). The fraction and ``fit_sample``
are not in it as such: they act only through ``n_components`` and the array fitted, so a stage asking with
another ``fit_sample`` that draws the same rows reuses the fit. Hashing the array costs O(n·D), far less than
the fits that are cached. A change elsewhere that changes fits (e.g. ``normalise``) must bump
``FIT_CACHE_VERSION``.

**What is cached** (the rest costs less to fit than to hash): PCA, kernel PCA, UMAP and the autoencoder; codecs
whose ``Format.costly_calibration`` is set (the faiss ones: RaBitQ, TurboQuant, OPQ + PQ, PQ fast-scan). Not
cached: truncation (no fit), random projection (its fit reads only the width and seed), and every cheap
calibration (int8/int4 ranges, OSQ's centroid, binary thresholds and rotations).

**Layout**: ``<cache>/fits/<kind>/<name>/<key>/`` (cache = ``STUDY_CACHE_DIR``, default ``.cache/``, ignored by git)
with ``fit.npz`` (the fitted state as named arrays) and ``manifest.json`` (the key and what it hashes, the
payload's size and sha256, the fit's own metadata). Writes are atomic (temporary file, then rename) and the
manifest is written last, so a killed run leaves no entry that is used; a missing, unreadable, truncated,
stale or checksum-failing entry is logged (warning) and fitted again. Fitting happens under an exclusive
``flock`` on ``<entry>/.lock``, so a second process wanting the same fit waits, then reads it.

**Serialisation**: arrays where the fitted object is arrays: PCA's fitted attributes (every attribute is an array
or a plain scalar, restored onto a fresh estimator), the autoencoder's encoder weights, codec ``Params``
(the faiss codec is already serialised to a ``uint8`` array). Kernel PCA and UMAP hold objects (a kernel
centerer, nearest-neighbour search structures), so they are pickled into a ``uint8`` array inside ``fit.npz``
(``pickled: true`` in the manifest). ``fit.npz`` is read with ``allow_pickle=False``; that one pickle is
unpickled only from a payload whose size and sha256 match the manifest the cache wrote beside it, so only what
this cache wrote is loaded. Whoever can write the cache folder can still make it run code: never copy a cache
from an untrusted source.

**Metadata**: a reused reducer reports the ``fit_seconds`` and ``fit_rows`` measured when it was actually
fitted (stored in the manifest), so the reduction stage's ``fit_s`` is the cost of the fit, not of the
look-up; its name, ``n_components`` and ``overhead_bytes`` are those of a fresh fit. A reused fit gives
bit-identical transforms and codes (tests check it).

**Determinism**: fits are deterministic under fixed seeds and thread counts (codecs train on one faiss thread,
the autoencoder on one torch thread). A fit made under another BLAS thread count may differ in the last bits;
the key holds nothing about threads, so the cache is per machine (an ignored folder), not shared between
machines with different set-ups.

``STUDY_FIT_CACHE=off`` (or ``0``, ``false``, ``no``) bypasses the cache: every call fits (tests, benchmarks of
fit times). Each look-up logs one info line, ``fit cache hit <key12> <name>`` or ``fit cache miss ...``.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import inspect
import json
import logging
import os
import pickle
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from study.core.errors import CacheError, ParameterError
from study.core.io import folder_lock, sha256_file, write_json_atomic, write_npz_atomic
from study.core.paths import cache_root

log = logging.getLogger(__name__)

FIT_CACHE_VERSION = 2
"""Bump when a change the key does not see (layout, serialisation, shared code) would change a stored fit."""
ENV = "STUDY_FIT_CACHE"
PAYLOAD, MANIFEST = "fit.npz", "manifest.json"
PICKLE = "pickle"  # the payload array holding a pickled object
LIBRARIES = ("numpy", "scipy", "scikit-learn", "umap-learn", "pynndescent", "numba", "torch", "faiss-cpu")
_ON, _OFF = ("", "on", "1", "true", "yes"), ("off", "0", "false", "no")

T = TypeVar("T")


@dataclass
class Stored:
    """A fitted object as the cache keeps it: named arrays (``fit.npz``) and JSON metadata (the manifest)."""

    arrays: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)


def enabled() -> bool:
    """Whether fits are cached (``STUDY_FIT_CACHE``, read at each call; default on)."""
    value = os.environ.get(ENV, "").strip().lower()
    if value not in _ON + _OFF:
        raise ParameterError(ENV, value, "on or off (off: fit every time)")
    return value in _ON


def array_digest(x: np.ndarray) -> dict[str, Any]:
    """The dtype, shape and sha256 of an array (the hash covers dtype, shape and the C-ordered bytes)."""
    x = np.ascontiguousarray(x)
    digest = hashlib.sha256(f"{x.dtype.str}{x.shape}".encode())
    digest.update(x.reshape(-1).view(np.uint8))
    return {"dtype": x.dtype.str, "shape": list(x.shape), "sha256": digest.hexdigest()}


@functools.cache
def _file_digest(path: str) -> str:
    return sha256_file(path)


def source_digest(obj: object) -> str:
    """sha256 of the source file defining ``obj`` (hashed once per process, so as imported)."""
    try:
        path = inspect.getsourcefile(obj) or inspect.getfile(obj)
        return _file_digest(str(Path(path).resolve()))
    except (TypeError, OSError):
        return "unknown"


@functools.cache
def library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def fit_key(kind: str, name: str, params: dict, digest: dict, code: str) -> tuple[str, dict]:
    """(sha256 key, the specification it hashes) of one fit."""
    spec = {
        "fit_cache_version": FIT_CACHE_VERSION,
        "kind": kind,
        "name": name,
        "params": params,
        "sample": digest,
        "code": code,
        "libraries": library_versions(),
    }
    text = json.dumps(spec, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest(), json.loads(text)


def entry_dir(kind: str, name: str, key: str) -> Path:
    return cache_root() / "fits" / kind / name / key


def load_or_fit(
    kind: str,
    name: str,
    params: dict,
    digest: dict,
    code: str,
    fit: Callable[[], T],
    save: Callable[[T], Stored],
    restore: Callable[[Stored], T],
) -> T:
    """The cached fit of (``kind``, ``name``, ``params``, the array of ``digest``, ``code``), or ``fit()`` stored.

    ``save`` turns a fitted object into ``Stored``; ``restore`` makes one from it (a fresh fit returns the
    fitted object itself). With the cache off, ``fit()``."""
    if not enabled():
        return fit()
    key, spec = fit_key(kind, name, params, digest, code)
    folder = entry_dir(kind, name, key)
    try:
        return _hit(folder, key, name, restore)
    except CacheError:
        pass
    with folder_lock(folder):  # another process may be fitting it: wait, then look again
        try:
            return _hit(folder, key, name, restore)
        except CacheError as why:
            if (folder / MANIFEST).exists() or (folder / PAYLOAD).exists():
                log.warning("fit cache: rebuilding %s %s: %s", key[:12], name, why)
                _discard(folder)
            log.info("fit cache miss %s %s", key[:12], name)
            start = time.perf_counter()
            fitted = fit()
            seconds = time.perf_counter() - start
            _write(folder, key, spec, save(fitted), seconds)
            return fitted


def _hit(folder: Path, key: str, name: str, restore: Callable[[Stored], T]) -> T:
    stored = read_entry(folder, key)
    try:
        fitted = restore(stored)
    except Exception as exc:  # noqa: BLE001 - whatever a damaged state raises, the entry is refitted
        raise CacheError(f"{folder}: the stored fit cannot be restored ({type(exc).__name__}: {exc})") from None
    log.info("fit cache hit %s %s", key[:12], name)
    return fitted


def read_entry(folder: Path, key: str) -> Stored:
    """The stored fit of a complete, intact entry, or CacheError saying why not."""
    manifest_path, payload = folder / MANIFEST, folder / PAYLOAD
    if not manifest_path.exists():
        raise CacheError(f"{folder}: no complete fit cache entry")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CacheError(f"{manifest_path}: unreadable manifest ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("key") != key:
        raise CacheError(f"{manifest_path}: stale or foreign manifest (another key)")
    if manifest.get("fit_cache_version") != FIT_CACHE_VERSION:
        raise CacheError(f"{manifest_path}: written by fit cache version {manifest.get('fit_cache_version')}")
    if not payload.exists():
        raise CacheError(f"{payload}: missing")
    size = payload.stat().st_size
    if size != manifest.get("file_bytes"):
        raise CacheError(f"{payload}: truncated (size {size} != {manifest.get('file_bytes')})")
    if sha256_file(payload) != manifest.get("sha256"):
        raise CacheError(f"{payload}: checksum mismatch (corrupt file)")
    try:
        with np.load(payload, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise CacheError(f"{payload}: unreadable ({exc})") from None
    return Stored(arrays, manifest.get("meta", {}))


def _write(folder: Path, key: str, spec: dict, stored: Stored, seconds: float) -> None:
    """The payload, then the manifest (its presence marks a complete entry); both atomic."""
    payload = folder / PAYLOAD
    write_npz_atomic(payload, stored.arrays)
    write_json_atomic(
        folder / MANIFEST,
        {
            "fit_cache_version": FIT_CACHE_VERSION,
            "key": key,
            "spec": spec,
            "payload": PAYLOAD,
            "file_bytes": payload.stat().st_size,
            "sha256": sha256_file(payload),
            "pickled": PICKLE in stored.arrays,
            "fit_seconds_total": seconds,
            "meta": stored.meta,
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    )


def _discard(folder: Path) -> None:
    for name in (MANIFEST, PAYLOAD):  # the manifest first: a half-discarded entry is never complete
        (folder / name).unlink(missing_ok=True)


# --- fitted objects as arrays ------------------------------------------------------------------------------------


def object_state(obj: object) -> Stored:
    """An object's attributes as arrays and JSON scalars when every attribute is one (a fitted PCA), else the
    object pickled into a ``uint8`` array (kernel PCA, UMAP)."""
    arrays: dict[str, np.ndarray] = {}
    scalars: dict[str, Any] = {}
    numpy_scalars: list[str] = []
    strides: dict[str, list[int]] = {}
    for name, value in vars(obj).items():
        if isinstance(value, np.ndarray) and value.dtype != object:
            arrays[f"attr.{name}"] = value
            if not value.flags.c_contiguous and min(value.strides, default=0) >= 0:
                strides[name] = list(value.strides)
        elif isinstance(value, np.generic) and not isinstance(value, np.object_):
            arrays[f"attr.{name}"] = np.asarray(value)
            numpy_scalars.append(name)
        elif value is None or type(value) in (bool, int, float, str):
            scalars[name] = value
        else:
            return Stored({PICKLE: np.frombuffer(pickle.dumps(obj, protocol=5), dtype=np.uint8)})
    return Stored(
        arrays, {"attributes": scalars, "numpy_scalars": numpy_scalars, "arrays": sorted(arrays), "strides": strides}
    )


def with_strides(values: np.ndarray, strides: list[int]) -> np.ndarray:
    """``values`` laid out in memory with ``strides`` (e.g. PCA's ``components_``, a row slice of a Fortran-ordered
    matrix): BLAS takes another kernel path for another layout, which changes products in their last bits, so a
    restored fit must keep the layout of a fresh one to give bit-identical transforms."""
    extent = sum((n - 1) * abs(s) for n, s in zip(values.shape, strides, strict=True)) + values.itemsize
    base = np.empty(extent // values.itemsize + 1, dtype=values.dtype)
    out = np.lib.stride_tricks.as_strided(base, shape=values.shape, strides=strides)
    out[...] = values
    return out


def restore_object(template: T, stored: Stored) -> T:
    """The object of ``object_state``: unpickled (only from a verified payload), or ``template`` (a fresh, unfitted
    object of the same class and parameters) given the stored attributes."""
    if PICKLE in stored.arrays:
        return pickle.loads(stored.arrays[PICKLE].tobytes())  # noqa: S301 - the cache's own, checksummed payload
    if sorted(stored.arrays) != stored.meta["arrays"]:
        raise ValueError(f"the stored arrays {sorted(stored.arrays)} are not the object's {stored.meta['arrays']}")
    attributes = dict(stored.meta["attributes"])
    for key, value in stored.arrays.items():
        name = key.removeprefix("attr.")
        if name in stored.meta.get("strides", {}):
            value = with_strides(value, stored.meta["strides"][name])
        attributes[name] = value[()] if name in stored.meta["numpy_scalars"] else value
    vars(template).update(attributes)
    return template
