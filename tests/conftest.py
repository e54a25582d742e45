"""Shared fixtures: a session-wide embedding cache of two tiny real collections (adi, time).

Tests never touch the repo's own cache or outputs: STUDY_CACHE_DIR and STUDY_OUTPUT_DIR point
into pytest's temporary folders. Encoding adi + time with MiniLM takes ~15 s on 2 cores.

Plugins: ``ci_rule`` (under CI a skipped test fails) and pytester (to test that rule). ``wait_until`` is how
a test waits for another process or a browser: for an event, with a limit that only guards against hanging.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the bench and tools packages (not installed)
TINY = ["adi", "time"]
HANG_GUARD_S = 600  # the most any wait_until waits: only a hung process or page reaches it
pytest_plugins = ["pytester", "ci_rule"]


def wait_until(ready: Callable[[], bool], what: str, limit_s: float = HANG_GUARD_S) -> None:
    """Poll ``ready()`` until it is true; fail naming ``what`` if it never is (a hang, not slowness)."""
    deadline = time.monotonic() + limit_s
    while not ready():
        assert time.monotonic() < deadline, f"{what}: still not the case after {limit_s:.0f} s (hung?)"
        time.sleep(0.02)


@pytest.fixture(scope="session", autouse=True)
def cache_dir(tmp_path_factory) -> Path:
    """A session cache for every test (embeddings, fits), never the repository's ``.cache``; reuse an existing one
    with STUDY_TEST_CACHE to skip re-encoding locally."""
    path = Path(os.environ.get("STUDY_TEST_CACHE") or tmp_path_factory.mktemp("cache"))
    os.environ["STUDY_CACHE_DIR"] = str(path)
    return path


@pytest.fixture(scope="session")
def tiny_embeddings(cache_dir):
    """MiniLM embeddings of adi and time: {name: (collection, docs Embeddings, queries Embeddings)}."""
    from study.data.datasets import load_collection
    from study.encoders.cache import ROLES, load_embeddings
    from study.encoders.registry import load_encoder

    lazy_encoder = functools.cache(lambda: load_encoder("minilm-l6"))
    out = {}
    for name in TINY:
        collection = load_collection(name)
        docs, queries = (load_embeddings("minilm-l6", collection, role, encoder=lazy_encoder) for role in ROLES)
        out[name] = (collection, docs, queries)
    return out


@pytest.fixture()
def output_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("STUDY_OUTPUT_DIR", str(tmp_path / "out"))
    return tmp_path / "out"


@pytest.fixture()
def unit_vectors() -> np.ndarray:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 384)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(autouse=True)
def own_progress_lock(monkeypatch):
    """Progress bars lock this process only. tqdm's default lock is a multiprocessing semaphore, which a test
    runner that forks a child per run (mutmut, ``make mutants``) shares between its children: one child killed
    while writing a progress bar leaves it held, every later child hangs on its first progress bar, and its
    timeout would be counted as a killed mutant."""
    import threading

    from tqdm import tqdm

    monkeypatch.setattr(tqdm, "_lock", threading.RLock(), raising=False)
    monkeypatch.setattr(tqdm, "monitor_interval", 0)
