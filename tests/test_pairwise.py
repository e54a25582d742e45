"""The compiled pair loop for umap-learn's small-data distances: bit for bit scikit-learn's values, scikit-learn
itself for what it does not cover, and a UMAP that fits and transforms exactly as without it."""

import numpy as np
import pytest
import scipy.sparse
from numba import njit
from pynndescent.distances import named_distances as pynndescent_distances
from sklearn.metrics import pairwise_distances
from umap import distances as umap_distances

from study.compress import pairwise
from study.compress.pairwise import compiled_pairwise, umap_compiled_distances
from study.compress.reducers import make_reducer
from tests.test_reduce import unit_rows


@njit(fastmath=True)
def _skewed(x, y):  # not symmetric: catches a loop that mirrors the wrong triangle or swaps its arguments
    total = 0.0
    for i in range(x.shape[0]):
        total += (x[i] - 0.5 * y[i]) ** 2 * (i + 1)
    return total


METRICS = [umap_distances.named_distances["cosine"], pynndescent_distances["cosine"],
           umap_distances.named_distances["euclidean"], _skewed]
ROWS = unit_rows(130, 48, seed=3)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a.view(np.uint8), b.view(np.uint8))


@pytest.mark.parametrize("metric", METRICS, ids=["umap-cosine", "pynndescent-cosine", "euclidean", "skewed"])
@pytest.mark.parametrize("case", ["symmetric", "two sets", "non-contiguous", "one row"])
def test_same_bits_as_scikit_learn(metric, case):
    x, y = {"symmetric": (ROWS, None), "two sets": (ROWS[:70], ROWS[70:]),
            "non-contiguous": (ROWS[::2, :31], ROWS[1::3, :31]), "one row": (ROWS[:1], ROWS[5:9])}[case]
    assert same_bits(compiled_pairwise(x, y, metric=metric), pairwise_distances(x, y, metric=metric))


def test_the_skewed_metric_tells_the_triangles_apart():
    a, b = ROWS[:5], ROWS[5:10]  # otherwise a loop that computed the lower triangle would pass unnoticed
    assert not np.allclose(pairwise_distances(a, b, metric=_skewed), pairwise_distances(b, a, metric=_skewed).T)


def test_y_given_as_x_is_the_symmetric_case():
    assert same_bits(compiled_pairwise(ROWS, ROWS, metric=_skewed), pairwise_distances(ROWS, metric=_skewed))


@pytest.mark.parametrize("call", [
    lambda: compiled_pairwise(ROWS.astype(np.float64), metric=_skewed),           # float64: not checked bitwise
    lambda: compiled_pairwise(ROWS, ROWS[:3].astype(np.float64), metric=_skewed),
    lambda: compiled_pairwise(ROWS, metric="cosine"),                             # a string metric
    lambda: compiled_pairwise(ROWS, metric=lambda a, b: float(np.sum(a * b))),    # a Python callable
    lambda: compiled_pairwise(ROWS, metric=_skewed, n_jobs=1),                    # keyword arguments
    lambda: compiled_pairwise(scipy.sparse.csr_matrix(ROWS), metric="cosine"),    # sparse input
])
def test_anything_else_goes_to_scikit_learn(call, monkeypatch):
    calls = []
    monkeypatch.setattr(pairwise, "pairwise_distances", lambda *a, **k: calls.append(1) or "scikit-learn")
    assert call() == "scikit-learn" and calls == [1]


def test_the_swap_holds_inside_only():
    import umap.umap_

    before = umap.umap_.pairwise_distances
    with umap_compiled_distances():
        assert umap.umap_.pairwise_distances is compiled_pairwise
    assert umap.umap_.pairwise_distances is before is pairwise_distances


def test_umap_fits_and_transforms_as_without_the_swap(monkeypatch):
    fit, new = unit_rows(200, 24, seed=5), unit_rows(40, 24, seed=6)
    compiled = make_reducer("umap", 24, 0.25, seed=0)
    compiled.fit(fit)
    ours = compiled.transform(new)
    monkeypatch.setattr(pairwise, "compiled_pairwise", pairwise_distances)  # the swap now installs scikit-learn
    plain = make_reducer("umap", 24, 0.25, seed=0)
    import umap.umap_
    assert umap.umap_.pairwise_distances is pairwise_distances
    plain.estimator.fit(fit)
    assert same_bits(compiled.estimator.embedding_, plain.estimator.embedding_)
    assert same_bits(ours, plain.estimator.transform(new))


def test_umap_uses_the_compiled_loop(monkeypatch):
    calls = []

    def counting(*args, **kwargs):
        calls.append(args[0].shape)
        return compiled_pairwise(*args, **kwargs)

    monkeypatch.setattr(pairwise, "compiled_pairwise", counting)
    reducer = make_reducer("umap", 24, 0.25, seed=0)
    reducer.fit(unit_rows(60, 24, seed=7))
    reducer.transform(unit_rows(9, 24, seed=8))
    assert calls == [(60, 24), (9, 24)]


@pytest.fixture
def fresh_recall(monkeypatch):
    """An empty store of recent distances, and a count of the pair loops run."""
    monkeypatch.setattr(pairwise, "_recent", type(pairwise._recent)())
    loops = []
    compiled = pairwise._loop

    def counting(metric):
        loops.append(metric)
        return compiled(metric)

    monkeypatch.setattr(pairwise, "_loop", counting)
    return loops


def test_the_same_distances_are_recalled_not_recomputed(fresh_recall):
    metric = METRICS[0]
    first = compiled_pairwise(ROWS[:70], ROWS[70:], metric=metric)
    first[0, 0] = -1.0  # the caller may write into what it got: the next one gets the distances still
    again = compiled_pairwise(ROWS[:70].copy(), ROWS[70:].copy(), metric=metric)  # equal content, other arrays
    assert len(fresh_recall) == 1
    assert same_bits(again, pairwise_distances(ROWS[:70], ROWS[70:], metric=metric))
    compiled_pairwise(ROWS[:70], ROWS[71:], metric=metric)   # other rows, the symmetric case, another metric:
    compiled_pairwise(ROWS[:70], metric=metric)              # computed
    compiled_pairwise(ROWS[:70], ROWS[70:], metric=_skewed)
    assert len(fresh_recall) == 4


def test_the_oldest_result_is_forgotten(fresh_recall):
    for i in range(pairwise.RECENT_RESULTS + 1):
        compiled_pairwise(ROWS[i:i + 3], ROWS[50:], metric=_skewed)
    compiled_pairwise(ROWS[pairwise.RECENT_RESULTS:pairwise.RECENT_RESULTS + 3], ROWS[50:], metric=_skewed)
    assert len(fresh_recall) == pairwise.RECENT_RESULTS + 1  # the newest: recalled
    compiled_pairwise(ROWS[0:3], ROWS[50:], metric=_skewed)
    assert len(fresh_recall) == pairwise.RECENT_RESULTS + 2  # the first: computed again


def test_a_timing_counts_what_recalled_distances_took(fresh_recall, monkeypatch):
    from study.compress.reducers import timed_transform

    reducer = make_reducer("umap", 24, 0.25, seed=0).fit(unit_rows(60, 24, seed=7))
    new = unit_rows(9, 24, seed=8)
    _, computed = timed_transform(reducer, new)
    (key, (distances, _)), = [(k, v) for k, v in pairwise._recent.items() if k[3] is not None]
    pairwise._recent[key] = (distances, 1000.0)  # as if they had taken 1,000 s
    reduced, recalled = timed_transform(reducer, new)
    assert recalled >= 1000.0 > computed
    assert same_bits(reduced, reducer.transform(new))


def test_umaps_at_each_fraction_fit_and_transform_as_when_nothing_is_recalled(fresh_recall, monkeypatch):
    fit, new = unit_rows(200, 24, seed=5), unit_rows(40, 24, seed=6)
    recalled = [make_reducer("umap", 24, f, seed=0).fit(fit) for f in (0.5, 0.25)]
    outputs = [r.transform(new) for r in recalled]
    assert len(fresh_recall) == 2  # the fit set's distances and the new rows': once each, for both fractions
    monkeypatch.setattr(pairwise, "RECENT_RESULTS", 0)  # from here on nothing is kept
    pairwise._recent.clear()
    for r, out, f in zip(recalled, outputs, (0.5, 0.25), strict=True):
        fresh = make_reducer("umap", 24, f, seed=0).fit(fit)
        assert same_bits(r.estimator.embedding_, fresh.estimator.embedding_)
        assert same_bits(out, fresh.transform(new))
    assert len(fresh_recall) == 6


UMAP_RUN = """
import hashlib, sys, numpy as np
from study.compress.pairwise import cache_umap_compilation
from study.compress.reducers import make_reducer
rows = np.random.default_rng(0).standard_normal((150, 16)).astype(np.float32)
reducer = make_reducer("umap", 16, 0.5, seed=0).fit(rows)
print(cache_umap_compilation(), hashlib.sha256(reducer.transform(rows[:20] * 2).tobytes()).hexdigest())
"""


def test_umap_compiled_from_the_disk_cache_gives_the_same_bits(tmp_path):
    import os
    import subprocess
    import sys

    env = os.environ | {"NUMBA_CACHE_DIR": str(tmp_path)}

    def run() -> list[str]:
        return subprocess.run([sys.executable, "-c", UMAP_RUN], env=env, check=True, capture_output=True,
                              text=True).stdout.split()

    compiled, cached = run(), run()  # the first compiles and writes the cache, the second loads it
    assert int(compiled[0]) > 20 and any(tmp_path.rglob("*.nbc"))
    assert cached[1] == compiled[1]
