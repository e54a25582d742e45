"""Atomic file writes: write to a temporary file beside the target, then rename; a folder's process lock."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it onto ``target`` only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():
            os.chmod(tmp_path, 0o666 & ~_UMASK)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write(target: Path | str, writer: Callable[[Path], Any]) -> Path:
    """Call ``writer(tmp_path)`` and move the result onto ``target`` atomically."""
    with atomic_path(target) as tmp:
        writer(tmp)
    return Path(target)


def write_text_atomic(target: Path | str, text: str) -> Path:
    return atomic_write(target, lambda p: p.write_text(text, encoding="utf-8"))


def write_npy_atomic(target: Path | str, array: np.ndarray) -> Path:
    """``np.save`` (no pickle) to a temporary file, then rename onto ``target``."""
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        np.save(fh, array, allow_pickle=False)
    return Path(target)


def write_npz_atomic(target: Path | str, arrays: dict[str, np.ndarray]) -> Path:
    """``np.savez`` of named arrays (no pickle: object arrays are refused) to a temporary file, then rename."""
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, allow_pickle=False, **arrays)
    return Path(target)


def write_json_atomic(target: Path | str, obj: Any) -> Path:
    return write_text_atomic(target, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def sha256_file(path: Path | str, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def folder_lock(folder: Path | str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``folder/.lock`` (blocking), the lock of the embedding and fit caches' entries: a
    second process waits for the first; the kernel releases the lock on exit or when its holder dies."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("%s: another process holds the lock; waiting for it", folder)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def splice_between(path: Path, start: str, end: str, block: str) -> bool:
    """Replace the text between the marker lines ``start`` and ``end`` of a text file (atomically);
    False, and nothing written, when the file or a marker is missing."""
    path = Path(path)
    if not path.exists():
        return False
    text = path.read_text(encoding="utf-8")
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        return False
    write_text_atomic(path, text[: i + len(start)] + "\n" + block.strip() + "\n" + text[j:])
    return True
