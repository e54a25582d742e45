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
arguments) goes to scikit-learn unchanged. Two savings come with it, neither changing a value:

* **Recent results are recalled.** The UMAPs of one fit set at each kept fraction ask for the same distances
  (the fit rows, and each collection's vectors to them: about a third of a transform's time); the last
  ``RECENT_RESULTS`` are kept by content (``fitcache.array_digest``) and a copy is returned. A timing of a fit or a
  transform adds the seconds the recalled results took to compute (``reused_seconds``), so it still reports what
  the work costs on its own.
* **umap-learn's compiled functions are cached on disk** (``cache_umap_compilation``). umap-learn declares its numba
  functions without ``cache=True``, so every process compiled them again: about 10 s of a UMAP fit's process and
  3 s of a transform's, in each of a stage's jobs. Numba's own cache then loads the same machine code (results
  identical bit for bit; tests compare). Hand-written because umap-learn has no switch for it.
"""

from __future__ import annotations

import functools
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from unittest import mock

import numpy as np
from sklearn.metrics import pairwise_distances

from study.compress.fitcache import array_digest


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


RECENT_RESULTS = 4  # a collection's documents and queries, and a fit set's own distances, with room to spare
_recent: OrderedDict[tuple, tuple[np.ndarray, float]] = OrderedDict()  # key -> (distances, seconds they took)
_reused = {"seconds": 0.0}


def reused_seconds() -> float:
    """Seconds of computation that recalled distances have saved in this process so far (a timing adds the
    difference across the work it times)."""
    return _reused["seconds"]


def compiled_pairwise(x, y=None, metric="euclidean", **kwds):  # noqa: ANN001, ANN201 - scikit-learn's signature
    """``pairwise_distances(x, y, metric)``, compiled when ``metric`` is a numba function and the input dense;
    recalled when the same distances were among the last ``RECENT_RESULTS`` computed."""
    if kwds or not _is_numba_function(metric) or not _dense_float(x) or not (y is None or _dense_float(y)):
        return pairwise_distances(x, y, metric=metric, **kwds)
    symmetric = y is None or y is x
    x = np.ascontiguousarray(x)
    y = x if symmetric else np.ascontiguousarray(y)
    key = (metric, symmetric, array_digest(x)["sha256"], None if symmetric else array_digest(y)["sha256"])
    if key in _recent:
        _recent.move_to_end(key)
        out, seconds = _recent[key]
        _reused["seconds"] += seconds
        return out.copy()
    start = time.perf_counter()
    out = np.zeros((x.shape[0], y.shape[0]), dtype=np.float32)  # scikit-learn's dtype for two float32 inputs
    _loop(metric)(x, y, out, symmetric)
    _recent[key] = (out.copy(), time.perf_counter() - start)
    while len(_recent) > RECENT_RESULTS:
        _recent.popitem(last=False)
    return out


UMAP_MODULES = ("umap.umap_", "umap.layouts", "umap.utils", "umap.distances", "umap.sparse", "umap.spectral")


@functools.cache
def cache_umap_compilation() -> int:
    """Turn on numba's on-disk cache for umap-learn's module-level compiled functions (once per process, before
    they first compile); returns how many. Functions umap-learn makes at call time are not covered."""
    import importlib

    from numba.core.caching import NullCache

    dispatchers = {id(v): v for name in UMAP_MODULES for v in vars(importlib.import_module(name)).values()
                   if _is_numba_function(v)}
    uncached = [d for d in dispatchers.values() if isinstance(d._cache, NullCache)]
    for dispatcher in uncached:
        dispatcher.enable_caching()
    return len(uncached)


@contextmanager
def umap_compiled_distances() -> Iterator[None]:
    """While inside, umap-learn's exact small-data distances run compiled and recalled, and its compiled functions
    come from numba's disk cache (same values, see the module)."""
    cache_umap_compilation()
    with mock.patch("umap.umap_.pairwise_distances", compiled_pairwise):
        yield
