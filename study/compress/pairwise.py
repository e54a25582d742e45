"""scikit-learn's ``pairwise_distances`` for a numba-compiled metric, with the loop compiled too.

umap-learn computes every distance of a small fit set (< 4,096 rows) and of each transformed vector to the fit
set with ``sklearn.metrics.pairwise_distances(X, Y, metric=<numba function>)``. scikit-learn loops over the pairs
in Python: 4 million interpreted calls for a 2,000-row fit, 2 million for 1,000 vectors transformed (about
8 s of the 9 s a transform of 1,000 MiniLM vectors took here). ``compiled_pairwise`` runs the same loop in numba,
calling the same metric on the same rows in the same order and storing into the same dtype, so each cell holds
the same value for float32 input, umap's dtype (tests compare it bit for bit with scikit-learn's; for float64
input the inlined metric can round differently in the last bit, so float64 goes to scikit-learn). Hand-written
because neither library offers a compiled loop for a custom numba metric (umap's own ``pairwise_special_metric``
wraps it in scikit-learn again).

``umap_compiled_distances()`` swaps it in for umap-learn's module-level ``pairwise_distances`` while a UMAP fits
or transforms; any call it does not cover (sparse input, a metric that is not a numba function, keyword
arguments) goes to scikit-learn unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from unittest import mock

import numpy as np
from sklearn.metrics import pairwise_distances


def _is_numba_function(metric: object) -> bool:
    from numba.core.registry import CPUDispatcher

    return isinstance(metric, CPUDispatcher)


def _dense_float(a: object) -> bool:
    return isinstance(a, np.ndarray) and a.ndim == 2 and a.dtype == np.float32  # bit-identity checked for float32


@functools.cache
def _loop(metric: Callable) -> Callable:
    """The compiled pair loop for one numba metric (compiled once per process and metric)."""
    import numba

    @numba.njit
    def fill(x: np.ndarray, y: np.ndarray, out: np.ndarray, symmetric: bool) -> None:
        for i in range(x.shape[0]):
            for j in range(i + 1 if symmetric else 0, y.shape[0]):
                out[i, j] = metric(x[i], y[j])
        if symmetric:  # scikit-learn: the upper triangle, mirrored, then the diagonal
            for i in range(x.shape[0]):
                for j in range(i):
                    out[i, j] = out[j, i]
                out[i, i] = metric(x[i], x[i])

    return fill


def compiled_pairwise(x, y=None, metric="euclidean", **kwds):  # noqa: ANN001, ANN201 - scikit-learn's signature
    """``pairwise_distances(x, y, metric)``, compiled when ``metric`` is a numba function and the input dense."""
    if kwds or not _is_numba_function(metric) or not _dense_float(x) or not (y is None or _dense_float(y)):
        return pairwise_distances(x, y, metric=metric, **kwds)
    symmetric = y is None or y is x
    x = np.ascontiguousarray(x)
    y = x if symmetric else np.ascontiguousarray(y)
    out = np.zeros((x.shape[0], y.shape[0]), dtype=np.float32)  # scikit-learn's dtype for two float32 inputs
    _loop(metric)(x, y, out, symmetric)
    return out


@contextmanager
def umap_compiled_distances() -> Iterator[None]:
    """While inside, umap-learn's exact small-data distances run compiled (same values, see the module)."""
    with mock.patch("umap.umap_.pairwise_distances", compiled_pairwise):
        yield
