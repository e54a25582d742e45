"""Dimensionality reduction: one interface for every method — fit on a set of embeddings, then
transform queries and documents — with the paper's settings, fit-set subsampling and timings.

Methods (Huerga-Pérez et al. 2025, plus Matryoshka truncation):

* ``pca`` — scikit-learn PCA, centred, no whitening, ``random_state=42``; outputs not re-normalised.
* ``kpca_cosine``, ``kpca_rbf``, ``kpca_poly`` — scikit-learn KernelPCA, defaults otherwise.
* ``umap`` — umap-learn, ``n_neighbors=15``, ``min_dist=0.1``, ``metric="cosine"``, seeded.
* ``random_projection`` — scikit-learn GaussianRandomProjection, ``random_state=42``.
* ``autoencoder`` — D→512→256→k, ReLU, linear latent, mirrored decoder, MSE, Adam lr 1e-3,
  batch 64, 25 epochs, seeded (torch on CPU). As in the paper the 256-wide hidden layer caps the
  rank of the latent code at 256, so a latent wider than 256 (e.g. 346 of 384) has no more
  information than 256 dimensions would.
* ``truncation`` — keep the first k dimensions and re-normalise (Matryoshka-style); no fit.

Kernel PCA and UMAP cost O(n²) in the fit set, so they are fit on a seeded random subsample of at
most ``fit_sample`` vectors (recorded as ``fit_rows``). ``n_components = round(D × fraction)``.

``fit_reducer`` fits each (method, parameters, fit set) once per machine: later calls, from any stage or
process, load it from the fit cache (``study.compress.fitcache``: what is cached, the key, the layout, why a
reused reducer reports the ``fit_seconds`` of its actual fit; ``STUDY_FIT_CACHE=off`` bypasses it).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

import study.compress.fitcache as fitcache
from study.compress.pairwise import reused_seconds, umap_compiled_distances
from study.core.checks import as_list, check_fraction
from study.core.errors import ParameterError, StudyError
from study.core.vectors import normalise
from study.encoders.registry import get_spec

SEED = 42
FRACTIONS = (0.9, 0.75, 0.5, 0.25)
DEFAULT_FIT_SAMPLE = 2000


def n_components(dims: int, fraction: float) -> int:
    """Dimensions kept for a retained ``fraction`` of ``dims``: ``round(dims × fraction)`` (the paper's rule).

    A fraction outside (0, 1], or one that keeps all dimensions or none, is an error: a reducer
    must reduce.
    """
    fraction = check_fraction(fraction)
    k = round(dims * fraction)
    if not 1 <= k < dims:
        raise ParameterError("fraction", fraction, f"a fraction of {dims} dimensions that keeps 1..{dims - 1} of them")
    return k


class Reducer(ABC):
    """A fitted-or-not reduction of ``dims``-wide vectors to ``n_components``."""

    name: str = ""
    #: the fit cost grows with the square of the fit set (it is subsampled to ``fit_sample``)
    quadratic: bool = False
    #: the fit needs more vectors than components (PCA-like eigendecompositions)
    needs_rows: bool = True
    #: ``fit_reducer`` keeps the fit in the fit cache (False where fitting costs less than hashing the fit set)
    cacheable: bool = True

    def __init__(self, dims: int, n_components: int, seed: int = SEED) -> None:
        self.dims = dims
        self.n_components = n_components
        self.seed = seed
        self.fit_rows = 0
        self.fit_seconds = 0.0
        self.fitted = False

    def fit_set(self, vectors: np.ndarray) -> np.ndarray:
        """``vectors`` as the float32 rows a fit reads, checked (width; enough rows for the components)."""
        x = _as_rows(vectors, self.dims, "fit set")
        if self.needs_rows and len(x) <= self.n_components:
            raise StudyError(
                f"reducer {self.name!r}: the fit set has {len(x)} vectors but {self.n_components} components "
                "were asked for; fit on a larger set (parameter 'fit_on') or keep fewer dimensions"
            )
        return x

    def fit(self, vectors: np.ndarray) -> Reducer:
        """Fit on ``vectors`` (float32 rows of width ``dims``); records ``fit_rows`` and ``fit_seconds``."""
        x = self.fit_set(vectors)
        with timer() as seconds:
            self._fit(x)
        self.fit_seconds = seconds()
        self.fit_rows = len(x)
        self.fitted = True
        return self

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        """Reduce ``vectors`` to ``n_components`` float32 columns."""
        if not self.fitted:
            raise StudyError(f"reducer {self.name!r} must be fit before it can transform")
        x = _as_rows(vectors, self.dims, "vectors to transform")
        if len(x) == 0:
            return np.zeros((0, self.n_components), dtype=np.float32)
        out = np.ascontiguousarray(self._transform(x), dtype=np.float32)
        assert out.shape == (len(x), self.n_components), out.shape
        return out

    @abstractmethod
    def _fit(self, x: np.ndarray) -> None: ...

    @abstractmethod
    def _transform(self, x: np.ndarray) -> np.ndarray: ...

    @property
    def overhead_bytes(self) -> int:
        """Bytes that must be stored once to transform new queries (matrices, means, fit vectors)."""
        return 0

    def fit_spec(self) -> dict:
        """What decides the fit besides the fit set (part of the fit cache's key)."""
        return {"class": type(self).__name__, "name": self.name, "dims": self.dims, "n_components": self.n_components,
                "seed": self.seed}

    def stored(self) -> fitcache.Stored:
        """The fitted state for the fit cache, with the measured ``fit_seconds`` and ``fit_rows``."""
        state = self._state()
        state.meta |= {"fit_seconds": self.fit_seconds, "fit_rows": self.fit_rows}
        return state

    def restore(self, stored: fitcache.Stored) -> Reducer:
        """This (unfitted) reducer given a stored fit: the same transforms and metadata as the fitted one."""
        self._load(stored)
        self.fit_seconds, self.fit_rows = float(stored.meta["fit_seconds"]), int(stored.meta["fit_rows"])
        self.fitted = True
        return self

    def _state(self) -> fitcache.Stored:
        raise NotImplementedError(f"reducer {self.name!r} is not cached")

    def _load(self, stored: fitcache.Stored) -> None:
        raise NotImplementedError(f"reducer {self.name!r} is not cached")


def _as_rows(vectors: np.ndarray, dims: int, what: str) -> np.ndarray:
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != dims:
        raise StudyError(f"{what}: expected rows of width {dims}, got an array of shape {x.shape}")
    return np.ascontiguousarray(x)


class SklearnReducer(Reducer):
    """Any estimator with ``fit``/``transform``; ``stored`` names the fitted arrays kept for transforms."""

    def __init__(self, dims: int, n_components: int, seed: int, estimator: object, stored: tuple[str, ...]) -> None:
        super().__init__(dims, n_components, seed)
        self.estimator = estimator
        self.stored = stored

    def _fit(self, x: np.ndarray) -> None:
        self.estimator.fit(x)

    def _transform(self, x: np.ndarray) -> np.ndarray:
        return self.estimator.transform(x)

    def fit_spec(self) -> dict:
        e = self.estimator
        return super().fit_spec() | {"estimator": f"{type(e).__module__}.{type(e).__qualname__}",
                                     "estimator_params": e.get_params(deep=False)}

    def _state(self) -> fitcache.Stored:
        return fitcache.object_state(self.estimator)

    def _load(self, stored: fitcache.Stored) -> None:
        self.estimator = fitcache.restore_object(self.estimator, stored)

    @property
    def overhead_bytes(self) -> int:
        total = 0
        for path in self.stored:
            obj = self.estimator
            for attr in path.split("."):
                obj = getattr(obj, attr, None)
            total += int(getattr(obj, "nbytes", 0))
        return total


class TruncationReducer(Reducer):
    """Matryoshka-style truncation: keep the first k dimensions, re-normalise (nothing to fit)."""

    name = "truncation"
    needs_rows = False
    cacheable = False

    def _fit(self, x: np.ndarray) -> None:
        pass

    def _transform(self, x: np.ndarray) -> np.ndarray:
        return normalise(x[:, : self.n_components])


class AutoencoderReducer(Reducer):
    """The paper's autoencoder (its released code: linear latent and output layers), trained with torch
    on CPU. Hand-written because no maintained library offers this exact small MLP; seeded through a
    forked torch RNG so the global RNG state of the caller is untouched. Trained on one thread: batches
    of 64 are too small to gain from more, and on a busy 2-core machine two threads made training ~15×
    slower (spin-waiting)."""

    name = "autoencoder"
    needs_rows = False
    hidden = (512, 256)
    epochs = 25
    batch_size = 64
    lr = 1e-3

    def _fit(self, x: np.ndarray) -> None:
        import torch
        from torch import nn

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            self._train(torch, nn, x)
        finally:
            torch.set_num_threads(threads)

    def _train(self, torch, nn, x: np.ndarray) -> None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            widths = [self.dims, *self.hidden, self.n_components]
            encoder = _mlp(nn, widths)
            decoder = _mlp(nn, widths[::-1])
            model = nn.Sequential(encoder, decoder)
            optimiser = torch.optim.Adam(model.parameters(), lr=self.lr)
            loss_fn = nn.MSELoss()
            data = torch.from_numpy(x)
            order = torch.Generator().manual_seed(self.seed)
            model.train()
            for _ in range(self.epochs):
                for batch in torch.randperm(len(data), generator=order).split(self.batch_size):
                    inputs = data[batch]
                    loss = loss_fn(model(inputs), inputs)
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()
            self.encoder = encoder.eval()
            self.final_loss = float(loss.detach())

    def _transform(self, x: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            return self.encoder(torch.from_numpy(x)).numpy()

    def fit_spec(self) -> dict:
        return super().fit_spec() | {"hidden": list(self.hidden), "epochs": self.epochs, "batch_size": self.batch_size,
                                     "lr": self.lr}

    def _state(self) -> fitcache.Stored:
        weights = {f"encoder.{k}": v.detach().numpy().copy() for k, v in self.encoder.state_dict().items()}
        return fitcache.Stored(weights, {"final_loss": self.final_loss})

    def _load(self, stored: fitcache.Stored) -> None:
        import torch
        from torch import nn

        with torch.random.fork_rng(devices=[]):  # the layers' initial weights are overwritten: leave the RNG alone
            encoder = _mlp(nn, [self.dims, *self.hidden, self.n_components])
        state = {k.removeprefix("encoder."): torch.from_numpy(v) for k, v in stored.arrays.items()}
        encoder.load_state_dict(state, strict=True)
        self.encoder = encoder.eval()
        self.final_loss = float(stored.meta["final_loss"])

    @property
    def overhead_bytes(self) -> int:
        return int(sum(p.numel() * 4 for p in self.encoder.parameters())) if self.fitted else 0


def _mlp(nn, widths: list[int]):
    """Linear layers with ReLU between them (none after the last)."""
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


@dataclass(frozen=True)
class Method:
    """A named reduction method: how to build its (unfitted) reducer."""

    name: str
    description: str
    build: Callable[[int, int, int], Reducer]
    paper_faithful: bool = True


def _pca(dims: int, k: int, seed: int) -> Reducer:
    from sklearn.decomposition import PCA

    r = SklearnReducer(dims, k, seed, PCA(n_components=k, whiten=False, random_state=seed), ("components_", "mean_"))
    r.name = "pca"
    return r


def _pca_sampled(dims: int, k: int, seed: int) -> Reducer:
    """PCA fit on the seeded subsample the quadratic methods are fit on (``fit_sample`` rows), so that PCA and
    kernel PCA / UMAP can be compared at the same number of fit rows."""
    r = _pca(dims, k, seed)
    r.name, r.quadratic = "pca_sampled", True
    return r


def _kpca(kernel: str) -> Callable[[int, int, int], Reducer]:
    def build(dims: int, k: int, seed: int) -> Reducer:
        from sklearn.decomposition import KernelPCA

        estimator = KernelPCA(n_components=k, kernel=kernel, random_state=seed)
        stored = ("X_fit_", "eigenvectors_", "eigenvalues_", "_centerer.K_fit_rows_")
        r = SklearnReducer(dims, k, seed, estimator, stored)
        r.name, r.quadratic = f"kpca_{kernel}", True
        return r

    return build


class UmapReducer(SklearnReducer):
    """umap-learn's UMAP, with its exact small-data distances compiled (``study.compress.pairwise``: same values,
    several times faster)."""

    def _fit(self, x: np.ndarray) -> None:
        with umap_compiled_distances():
            super()._fit(x)

    def _transform(self, x: np.ndarray) -> np.ndarray:
        with umap_compiled_distances():
            return super()._transform(x)


def _umap(dims: int, k: int, seed: int) -> Reducer:
    import warnings

    from umap import UMAP

    warnings.filterwarnings("ignore", message=".*n_jobs value.*overridden.*", category=UserWarning)
    estimator = UMAP(n_components=k, n_neighbors=15, min_dist=0.1, metric="cosine", random_state=seed,
                     transform_seed=seed)
    r = UmapReducer(dims, k, seed, estimator, ("_raw_data", "embedding_"))
    r.name, r.quadratic = "umap", True
    return r


def _random_projection(dims: int, k: int, seed: int) -> Reducer:
    from sklearn.random_projection import GaussianRandomProjection

    r = SklearnReducer(dims, k, seed, GaussianRandomProjection(n_components=k, random_state=seed), ("components_",))
    r.name, r.needs_rows = "random_projection", False
    r.cacheable = False  # its fit draws a k × D matrix from the seed without reading the data: cheaper than a hash
    return r


def _autoencoder(dims: int, k: int, seed: int) -> Reducer:
    return AutoencoderReducer(dims, k, seed)


def _truncation(dims: int, k: int, seed: int) -> Reducer:
    return TruncationReducer(dims, k, seed)


METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method("pca", "PCA (scikit-learn), centred, no whitening", _pca),
        Method("pca_sampled", "PCA fit on the quadratic methods' subsample (fit_sample rows)", _pca_sampled),
        Method("kpca_cosine", "Kernel PCA, cosine kernel", _kpca("cosine")),
        Method("kpca_rbf", "Kernel PCA, RBF kernel (gamma = 1/D)", _kpca("rbf")),
        Method("kpca_poly", "Kernel PCA, polynomial kernel (degree 3, gamma = 1/D, coef0 = 1)", _kpca("poly")),
        Method("umap", "UMAP, 15 neighbours, min_dist 0.1, cosine", _umap),
        Method("random_projection", "Gaussian random projection", _random_projection),
        Method("autoencoder", "MLP autoencoder D-512-256-k (ReLU), MSE, Adam, 25 epochs", _autoencoder),
        Method("truncation", "Matryoshka-style: first k dimensions, re-normalised", _truncation, paper_faithful=False),
    ]
}
#: methods fit on a subsample of ``fit_sample`` rows: those whose fit cost is quadratic in the fit set, and PCA
#: at their size
QUADRATIC = ("pca_sampled", "kpca_cosine", "kpca_rbf", "kpca_poly", "umap")


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise ParameterError("method", name, list(METHODS))
    return METHODS[name]


def make_reducer(method: str, dims: int, fraction: float, seed: int = SEED) -> Reducer:
    """An unfitted reducer keeping ``round(dims × fraction)`` dimensions."""
    return get_method(method).build(dims, n_components(dims, fraction), seed)


def subsample(vectors: np.ndarray, size: int | None, seed: int = SEED) -> np.ndarray:
    """At most ``size`` rows drawn without replacement with a seeded generator (original order kept)."""
    size = check_fit_sample(size)
    if size is None or len(vectors) <= size:
        return np.asarray(vectors, dtype=np.float32)
    rows = np.sort(np.random.default_rng(seed).choice(len(vectors), size=size, replace=False))
    return np.asarray(vectors[rows], dtype=np.float32)


def fit_reducer(
    method: str,
    fit_vectors: np.ndarray,
    fraction: float,
    *,
    fit_sample: int | None = DEFAULT_FIT_SAMPLE,
    seed: int = SEED,
) -> Reducer:
    """Build and fit ``method`` on ``fit_vectors`` (quadratic methods on a seeded subsample of
    ``fit_sample`` rows); the reducer records ``fit_rows`` and ``fit_seconds``.

    A fit already made with the same method, parameters and fit set (after subsampling) is loaded from the fit
    cache instead, bit for bit the same, with the ``fit_seconds`` measured when it was made (see
    ``study.compress.fitcache``; truncation and random projection are always fitted: cheaper than the look-up)."""
    fit_sample = check_fit_sample(fit_sample)
    reducer = make_reducer(method, np.shape(fit_vectors)[1], fraction, seed)
    sample = subsample(fit_vectors, fit_sample, seed) if reducer.quadratic else fit_vectors
    if not reducer.cacheable or not fitcache.enabled():
        return reducer.fit(sample)
    x = reducer.fit_set(sample)

    def restore(stored: fitcache.Stored) -> Reducer:  # onto a fresh reducer: a failed restore leaves nothing behind
        return make_reducer(method, reducer.dims, fraction, seed).restore(stored)

    return fitcache.load_or_fit("reducer", method, reducer.fit_spec(), fitcache.array_digest(x),
                                fitcache.source_digest(type(reducer)), fit=lambda: reducer.fit(x),
                                save=Reducer.stored, restore=restore)


def check_fractions(values: object, models: list[str], name: str = "fractions") -> list[float]:
    """Kept fractions valid for every model's width (each in (0, 1) and keeping 1..D-1 dimensions)."""

    fractions = [check_fraction(v, name) for v in as_list(name, values)]
    for model in models:
        for f in fractions:
            try:
                n_components(get_spec(model).dims, f)
            except ParameterError:
                dims = get_spec(model).dims
                raise ParameterError(name, f, f"fractions that keep 1..{dims - 1} of {model}'s {dims} dimensions, "
                                     "e.g. 0.9, 0.75, 0.5, 0.25") from None
    return fractions


def check_fit_sample(value: object) -> int | None:
    """The subsample size for O(n²) reducers: a positive integer, or None (no subsampling)."""
    if value is None or (isinstance(value, str) and value.lower() in ("none", "null", "")):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ParameterError("fit_sample", value, "a positive integer, or None for the whole fit set")
    return value


@contextmanager
def timer() -> Iterator[Callable[[], float]]:
    """Seconds the work inside takes on its own: the wall time, plus what distances recalled from an earlier fit or
    transform took to compute (``study.compress.pairwise.reused_seconds``). Read the result after the block."""
    start, reused = time.perf_counter(), reused_seconds()
    elapsed: list[float] = []
    yield lambda: elapsed[0]
    elapsed.append(time.perf_counter() - start + reused_seconds() - reused)


def timed_transform(reducer: Reducer, vectors: np.ndarray) -> tuple[np.ndarray, float]:
    """Transform and return (reduced vectors, seconds it takes on its own: ``timer``)."""
    with timer() as seconds:
        out = reducer.transform(vectors)
    return out, seconds()
