"""Unit vectors: the one L2 normalisation every path uses (cosine = dot product of unit vectors).

All-zero rows and rows with a NaN or inf component become zero rows (cosine is undefined for them: they
score 0 and are counted). ``normalise_into`` is the same operation written into a preallocated block.
"""

from __future__ import annotations

import numpy as np


def normalise(vectors: np.ndarray) -> np.ndarray:
    """L2-normalise rows. All-zero rows, and rows with a NaN or inf component (e.g. a format that
    overflowed), become zero rows: cosine is undefined for them, so they score 0 and are counted."""
    vectors = np.asarray(vectors, dtype=np.float32)
    finite = np.isfinite(vectors).all(axis=1, keepdims=True)
    safe = np.where(finite, vectors, 0.0).astype(np.float32)
    norms = np.linalg.norm(safe, axis=1, keepdims=True)
    return np.divide(safe, norms, out=np.zeros_like(safe), where=norms > 0)


def normalise_into(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``normalise(x)`` written into ``out``, bit for bit (same norms, same division; rows
    with a NaN or inf component and all-zero rows become zero rows), without its temporary copies when
    every row is finite. ``tests/test_streaming.py`` checks that the two agree."""
    finite = np.isfinite(x).all(axis=1, keepdims=True)
    safe = x if finite.all() else np.where(finite, x, 0.0).astype(np.float32)
    norms = np.linalg.norm(safe, axis=1, keepdims=True)
    positive = norms > 0
    if positive.all():
        return np.divide(safe, norms, out=out, dtype=np.float32, casting="same_kind")
    out[...] = 0
    return np.divide(safe, norms, out=out, where=positive, dtype=np.float32, casting="same_kind")
