"""The result cache of ``study advise``: one entry per configuration under ``<out>/cache/``, so a rerun resumes.

An entry is ``<key>.tidy.parquet`` and ``<key>.per-query.parquet`` (each written atomically), then ``<key>.json``
(their sha256 and the configuration's id), written last: an entry without its manifest, or whose files do not
match it, is computed again. The key hashes ``CACHE_VERSION``, the configuration's id, the data (the index, the
queries, the training sample, their ids and judgments, hashed as arrays), what else decides the numbers (the
thread count, the two-tier cut-off) and the source of every study module the evaluation imports, so any change
to the data or the code recomputes. The exact float32 top-100 (the label-free reference) is cached the same way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from study.compress.fitcache import array_digest
from study.core.codegraph import closure
from study.core.io import atomic_write, sha256_file, write_json_atomic, write_npy_atomic
from study.core.paths import REPO_ROOT
from study.data.datasets import Qrels

CACHE_VERSION = 1
ENTRY_TABLES = ("tidy", "per-query")
EVALUATION = "study.advise.evaluate"


@cache
def code_fingerprint() -> str:
    """sha256 of the source of every study module the evaluation imports, transitively."""
    digest = hashlib.sha256()
    for path in closure(EVALUATION):
        digest.update(path.encode() + b"\0" + (REPO_ROOT / path).read_bytes())
    return digest.hexdigest()


def _ids_digest(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


def data_key(docs: np.ndarray, queries: np.ndarray, training: np.ndarray, doc_ids: list[str], query_ids: list[str],
             qrels: Qrels | None, settings: dict) -> str:
    """The identity of what a run evaluates, and of the settings that change its numbers."""
    payload = [CACHE_VERSION, array_digest(docs)["sha256"], array_digest(queries)["sha256"],
               array_digest(training)["sha256"], _ids_digest(doc_ids), _ids_digest(query_ids),
               None if qrels is None else sorted((q, sorted(j.items())) for q, j in qrels.items()), settings,
               code_fingerprint()]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


@dataclass
class ResultCache:
    """Entries of one run's data (``key``) in ``folder``."""

    folder: Path
    key: str

    def entry_key(self, config_id: str) -> str:
        return hashlib.sha256(f"{self.key}\0{config_id}".encode()).hexdigest()

    def _paths(self, config_id: str) -> tuple[Path, dict[str, Path]]:
        key = self.entry_key(config_id)
        return self.folder / f"{key}.json", {t: self.folder / f"{key}.{t}.parquet" for t in ENTRY_TABLES}

    def load(self, config_id: str) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        """The stored (tidy rows, per-query scores) of a configuration, or None."""
        manifest_path, paths = self._paths(config_id)
        try:
            manifest = json.loads(manifest_path.read_text())
            if manifest.get("config_id") != config_id:
                return None
            if any(sha256_file(paths[t]) != manifest["sha256"][t] for t in ENTRY_TABLES):
                return None
            return pd.read_parquet(paths["tidy"]), pd.read_parquet(paths["per-query"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def store(self, config_id: str, tidy: pd.DataFrame, per_query: pd.DataFrame) -> None:
        """Both tables (each atomically), then the manifest."""
        manifest_path, paths = self._paths(config_id)
        manifest_path.unlink(missing_ok=True)
        sha = {}
        for table, frame in zip(ENTRY_TABLES, (tidy, per_query), strict=True):
            atomic_write(paths[table], lambda p, f=frame: f.to_parquet(p, index=False))
            sha[table] = sha256_file(paths[table])
        write_json_atomic(manifest_path, {"config_id": config_id, "sha256": sha})

    def array(self, name: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """A stored array of this run's data (``<key>.<name>.npy``), computed and stored when missing."""
        path = self.folder / f"{self.key}.{name}.npy"
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            array = compute()
            write_npy_atomic(path, array)
            return array
