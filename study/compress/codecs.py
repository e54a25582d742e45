"""Vector codecs a RAG engineer would pick in 2026, in the same registry as the casts and integers.

Each is *train (calibrate) → encode to packed bytes → score*, like every format of ``study.compress.formats``:
``packed`` holds exactly what is stored per vector (codes **and** per-vector correction factors), so
``bytes_per_vector`` is measured; what is stored once (codebooks, rotation matrices, centroids, the
serialised faiss codec) is in ``params`` and reported as ``overhead_bytes``. Every codec works on unit
vectors (the study's cosine), so inputs are L2-normalised first, and ranks documents by its own
inner-product estimate (``Format.score``): queries in float32 (asymmetric, ``query_format='float32'``) or
quantized the way the codec quantizes queries (``'same'``).

- **RaBitQ** (Gao & Long, SIGMOD 2024; extended multi-bit, SIGMOD 2025) through faiss ≥ 1.15's
  ``IndexRaBitQ``: 1, 2 or 4 bits per dimension plus the per-vector factors faiss stores, with the
  unbiased estimator faiss searches with; ``_rr`` variants apply a seeded random rotation first (faiss'
  ``RR{d},`` pre-transform, which cannot take stored codes, so the rotation is ours). Queries: ``qb = 0``
  (float32) or ``qb = RABITQ_QUERY_BITS`` for ``same``.
- **OPQ + PQ** (``OPQ{m},PQ{m}x8``): a learned rotation and ``m`` sub-quantizers of 256 centroids = ``m``
  bytes per vector; **PQ fast-scan** (``PQ{m}x4fs``): 16 centroids per sub-quantizer, ``m / 2`` bytes,
  searched by faiss' SIMD fast-scan kernels (their 8-bit look-up tables included).
- **TurboQuant** (Zandieh et al., ICLR 2026) through faiss' scalar-quantizer types ``QT_{b}bit_tq`` (MSE
  codebook + 1-bit QJL residual + factors), after a seeded random rotation (faiss expects rotated unit
  vectors: its ``L2norm,RR,`` recipe).
- **OSQ / BBQ** (Elastic/Lucene "optimized scalar quantization"): written here in numpy, since no Python
  library implements it; see ``osq_encode``.
- **Sign-binary fixes**: bits of ``x − mean`` (centred on the training set's mean) and of a randomly rotated
  ``x`` (the cheap fixes to plain ``x > 0``), Hamming distance between bit codes as ``binary_sign``.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import faiss
import numpy as np

from study.compress.formats import (
    Format,
    Params,
    Quantized,
    get_format,
    pack_nibbles,
    register_format,
    unpack_nibbles,
)
from study.core.errors import ParameterError
from study.core.vectors import normalise

SEED = 0
LOG = logging.getLogger(__name__)
RABITQ_BITS = (1, 2, 4)
RABITQ_QUERY_BITS = 8
"""``query_format='same'`` for RaBitQ: faiss quantizes each query to 8 bits (``qb``) before the estimator.
The RaBitQ paper shows 4 query bits already cost little at 1 bit per document dimension; 8 keeps the query
side negligible for the 2- and 4-bit codes too, and costs nothing stored (queries are never kept)."""
OPQ_BYTES = (4, 8, 16, 32, 48, 64, 96)
PQ_BYTES = (32, 48, 96)  # plain PQ (no rotation) at sign binary's bytes: WordLlama 256-d, MiniLM 384-d, MPNet 768-d
FAST_SCAN_BYTES = (4, 8, 16, 32, 48, 96)
TURBOQUANT_BITS = (2, 3, 4)
OSQ_BITS = {"osq1": (1, 4), "osq4": (4, 4), "osq7": (7, 7)}
"""name → (document bits, query bits): BBQ's 1-bit documents with 4-bit queries, and int4 / int7."""
PER_VECTOR = float("nan")  # PQ's nominal bits per dimension: none, its bytes per vector are fixed whatever the width
QUERY_CHUNK = 512  # queries scored per call into faiss (bounds the dense score block to 512 × documents)
OPQ_ITERATIONS = 10  # faiss' defaults: 50 rounds, 40 k-means iterations in the first; ours bound training to
OPQ_FIRST_PQ_ITERATIONS = 10  # about a minute per codec on the fit set (2 CPU cores); see bench notes in the README
PQ_ITERATIONS = 20  # k-means iterations per sub-quantizer (faiss' default 25)


# --- shared pieces -------------------------------------------------------------------------------------------


def random_rotation(dims: int, seed: int = SEED) -> np.ndarray:
    """A seeded, uniformly random orthogonal matrix (QR of a Gaussian matrix, signs fixed): ``x @ R.T`` rotates."""
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((dims, dims)))
    return (q * np.sign(np.diag(r))).astype(np.float32)


TRAINING_THREADS = 1
"""A codec trains with faiss and every BLAS (faiss' own included) on one thread: OPQ's k-means and SVD round
differently on two BLAS threads on some CPUs, so a fit would depend on its caller's thread settings (a stage's one
thread, ``study advise --threads``) and the fit cache would hand out whichever came first."""
ROTATION_ROWS = 64
"""Rows per BLAS call of a rotation. BLAS sums a row of ``x @ R.T`` in an order that depends on the call's shape and
thread count (measured on one machine: 936 of 2,000 rows change between one call and calls of 64 rows, on one thread),
so a row's rotated value, hence its codes, would depend on the block of the corpus it is encoded in (``study
advise`` encodes a block at a time; the stages, a whole corpus). Rows are rotated in calls of this many, on one
thread, at positions that are multiples of it: the same value in any block whose rows are a multiple of it."""


def rotated(x: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``x @ matrix`` computed ``ROTATION_ROWS`` rows per call on one thread: each row's result is the same whatever
    block of rows it comes in, as long as the block starts at a multiple of ``ROTATION_ROWS``."""
    from threadpoolctl import threadpool_limits

    x = np.ascontiguousarray(x, dtype=np.float32)
    out = np.empty((len(x), matrix.shape[1]), dtype=np.float32)
    with threadpool_limits(limits=1):
        for start in range(0, len(x), ROTATION_ROWS):
            np.matmul(x[start : start + ROTATION_ROWS], matrix, out=out[start : start + ROTATION_ROWS])
    return out


def _prepared(x: np.ndarray, p: Params) -> np.ndarray:
    """Unit vectors, rotated when the codec has a rotation (``x @ R.T``)."""
    x = normalise(x)
    return rotated(x, p["rotation"].T) if "rotation" in p else x


def _unrotated(y: np.ndarray, p: Params) -> np.ndarray:
    return rotated(y, p["rotation"]) if "rotation" in p else y


@contextmanager
def fixed_threads(threads: int) -> Iterator[None]:
    """faiss' OpenMP and every BLAS (numpy's, scikit-learn's, faiss' own) on ``threads`` threads for the duration,
    then as before: a stage's one thread (``runner.one_thread``), ``study advise --threads``, a codec's training."""
    from threadpoolctl import threadpool_limits

    with faiss_threads(threads), threadpool_limits(limits=threads):
        yield


@contextmanager
def faiss_threads(threads: int) -> Iterator[None]:
    """faiss' OpenMP pinned to ``threads`` for a block, the previous setting restored. Codecs train and score on
    one thread: stage rules are single-threaded (the study's determinism), and OpenMP's spinning threads slow
    training several-fold when the other cores are busy."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(threads)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


FEW_POINTS_WARNING = re.compile(rb"WARNING clustering (\d+) points to (\d+) centroids: please provide at least")


@contextmanager
def few_points_warnings_counted(name: str) -> Iterator[None]:
    """faiss' k-means writes a warning to the C-level stderr for every sub-quantizer and round when it has fewer
    than 39 training points per centroid (thousands of lines for one OPQ trained on a small corpus). The study
    states its own rule for training sets (``study.plans.codecs``), so during a training those lines are replaced
    by one log record with their count; anything else faiss writes there is passed on unchanged. Written by hand:
    faiss has no switch for this warning (``ClusteringParameters`` has none, OPQ's inner PQ is not exposed)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().splitlines(keepends=True)
    warned = [m for m in map(FEW_POINTS_WARNING.match, lines) if m]
    if warned:
        points, centroids = (int(x) for x in warned[0].groups())
        LOG.info("%s: faiss warned %d times that %d points train %d centroids (< 39 per centroid)", name,
                 len(warned), points, centroids)
    rest = b"".join(line for line in lines if not FEW_POINTS_WARNING.match(line))
    if rest:
        sys.stderr.write(rest.decode(errors="replace"))


def min_training_rows(fmt: Format, dims: int) -> int:
    """The fewest training vectors ``fmt`` can be trained on at width ``dims``: one per k-means centroid
    (``Format.min_training_rows``), and for OPQ at least ``dims`` (faiss 1.15's ``OPQMatrix.train`` corrupts the heap
    and aborts the process with fewer vectors than dimensions: measured, 423 × 768 aborts, 768 × 768 trains)."""
    return max(fmt.min_training_rows, dims if fmt.name.startswith("opq") else 0)


def _serialise(index: faiss.Index) -> np.ndarray:
    return faiss.serialize_index(index)


def _restore(p: Params) -> faiss.Index:
    return faiss.deserialize_index(p["index"])


def _dense(search: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]], queries: np.ndarray,
           n_docs: int) -> np.ndarray:
    """The (queries × documents) score matrix of a faiss inner-product search asked for every document."""
    out = np.empty((len(queries), n_docs), dtype=np.float32)
    for start in range(0, len(queries), QUERY_CHUNK):
        block = queries[start : start + QUERY_CHUNK]
        scores, labels = search(block, n_docs)
        rows = np.arange(len(block))[:, None]
        out[start + rows, labels] = scores
    return out


def check_divides(name: str, m: int, dims: int) -> None:
    if dims % m:
        raise ParameterError(f"{name} sub-quantizers m", m, f"a divisor of the vector width {dims}")


# --- faiss codecs: RaBitQ, TurboQuant, OPQ + PQ, PQ fast-scan ----------------------------------------------


def _faiss_codec(
    name: str,
    description: str,
    build: Callable[[int], faiss.Index],
    nominal_bits: float,
    *,
    rotate: bool = False,
    learned_rotation: Callable[[np.ndarray], np.ndarray] | None = None,
    searcher: Callable[[faiss.Index, str], Callable] | None = None,
    query_round_trip: bool = True,
    min_train: int = 1,
    learns_from_sample: bool = True,
) -> Format:
    """A codec whose training, codes and search are faiss': ``build(dims)`` makes the untrained codec.

    ``rotate``: a seeded random rotation first; ``learned_rotation(x)``: a trained one (OPQ). The
    trained faiss object is stored serialised in ``params['index']`` (its bytes are the overhead).
    Scores are what faiss' own search returns for the stored codes (``searcher(index, query_format)``
    gives the search call; by default ``index.search``), so rankings equal the faiss index's.
    ``query_round_trip``: for ``query_format='same'``, queries are encoded and decoded by the codec first
    (symmetric distance); RaBitQ instead quantizes queries inside its search (``qb``)."""

    def train(sample: np.ndarray) -> Params:
        x = normalise(sample)
        dims = x.shape[1]
        if len(x) < min_train:
            raise ParameterError(f"{name} training sample", f"{len(x)} vectors",
                                 f"at least {min_train} vectors (one per k-means centroid)")
        if len(x) < min_training_rows(get_format(name), dims):  # faiss' OPQMatrix.train aborts the process below d
            raise ParameterError(f"{name} training sample", f"{len(x)} vectors",
                                 f"at least {dims} vectors (one per dimension: OPQ's rotation)")
        params: Params = {}
        if rotate:
            params["rotation"] = random_rotation(dims)
        elif learned_rotation is not None:
            with fixed_threads(TRAINING_THREADS), few_points_warnings_counted(name):
                params["rotation"] = learned_rotation(x)
        x = _prepared(x, params) if params else x
        index = build(dims)
        with fixed_threads(TRAINING_THREADS), few_points_warnings_counted(name):
            index.train(x)
        params["index"] = _serialise(index)
        return params

    def encode(x: np.ndarray, p: Params) -> np.ndarray:
        return _restore(p).sa_encode(_prepared(x, p))

    def decode(packed: np.ndarray, p: Params, dims: int) -> np.ndarray:
        return _unrotated(_restore(p).sa_decode(np.ascontiguousarray(packed)), p)

    def score(queries: np.ndarray, docs: Quantized, query_format: str) -> np.ndarray:
        index = _restore(docs.params)
        q = _prepared(queries, docs.params)
        if query_format == "same" and query_round_trip:
            q = index.sa_decode(index.sa_encode(q))
        index.add_sa_codes(np.ascontiguousarray(docs.packed))
        search = searcher(index, query_format) if searcher else index.search
        with faiss_threads(1):
            return _dense(search, q, docs.n)

    return Format(name, description, encode, decode, calibrate=train, needs_calibration=True, paper_faithful=False,
                  nominal_bits=nominal_bits, similarity="estimator", score=score, costly_calibration=True,
                  learns_from_sample=learns_from_sample, min_training_rows=min_train)


def _rabitq_searcher(index: faiss.Index, query_format: str) -> Callable:
    params = faiss.RaBitQSearchParameters()
    params.qb = RABITQ_QUERY_BITS if query_format == "same" else 0
    return lambda q, k: index.search(q, k, params=params)


def rabitq_format(bits: int, rotate: bool) -> Format:
    if bits not in RABITQ_BITS:
        raise ParameterError("RaBitQ bits", bits, RABITQ_BITS)
    name = f"rabitq{bits}" + ("_rr" if rotate else "")
    return _faiss_codec(
        name,
        f"RaBitQ, {bits} bit(s) per dimension + per-vector factors (faiss IndexRaBitQ, centroid of the training "
        f"set){', after a seeded random rotation' if rotate else ''}; queries float32 (qb=0) or "
        f"{RABITQ_QUERY_BITS}-bit",
        lambda d: faiss.IndexRaBitQ(d, faiss.METRIC_INNER_PRODUCT, bits),
        bits, rotate=rotate, searcher=_rabitq_searcher, query_round_trip=False,
    )


def turboquant_format(bits: int) -> Format:
    if bits not in TURBOQUANT_BITS:
        raise ParameterError("TurboQuant bits", bits, TURBOQUANT_BITS)
    qtype = getattr(faiss.ScalarQuantizer, f"QT_{bits}bit_tq")
    return _faiss_codec(
        f"turboquant{bits}",
        f"TurboQuant {bits}-bit (faiss QT_{bits}bit_tq: {bits - 1}-bit MSE codebook + 1-bit QJL residual + "
        "factors), after a seeded random rotation of the unit vector",
        lambda d: faiss.IndexScalarQuantizer(d, qtype, faiss.METRIC_INNER_PRODUCT), bits, rotate=True,
        learns_from_sample=False,  # faiss' TurboQuant codebooks are fixed (for rotated unit vectors)
    )


def _opq_rotation(m: int) -> Callable[[np.ndarray], np.ndarray]:
    def learn(x: np.ndarray) -> np.ndarray:
        check_divides("OPQ", m, x.shape[1])
        opq = faiss.OPQMatrix(x.shape[1], m)
        opq.niter = OPQ_ITERATIONS
        opq.niter_pq_0 = OPQ_FIRST_PQ_ITERATIONS
        opq.verbose = False
        opq.train(x)
        return faiss.vector_to_array(opq.A).reshape(x.shape[1], x.shape[1]).astype(np.float32)

    return learn


def _pq(m: int, nbits: int) -> Callable[[int], faiss.Index]:
    def build(d: int) -> faiss.Index:
        check_divides("PQ", m, d)
        index = faiss.IndexPQ(d, m, nbits, faiss.METRIC_INNER_PRODUCT)
        index.pq.cp.niter = PQ_ITERATIONS
        index.pq.cp.seed = SEED
        return index

    return build


def opq_format(n_bytes: int) -> Format:
    return _faiss_codec(
        f"opq{n_bytes}",
        f"OPQ + PQ, {n_bytes} bytes per vector (faiss OPQ{n_bytes},PQ{n_bytes}x8: learned rotation, "
        f"{n_bytes} sub-quantizers of 256 centroids); float32 queries = asymmetric distance (ADC)",
        _pq(n_bytes, 8), PER_VECTOR, learned_rotation=_opq_rotation(n_bytes), min_train=256,
    )


def pq_format(n_bytes: int) -> Format:
    return _faiss_codec(
        f"pq{n_bytes}x8",
        f"PQ, {n_bytes} bytes per vector (faiss PQ{n_bytes}x8: {n_bytes} sub-quantizers of 256 centroids, no "
        "rotation); float32 queries = asymmetric distance (ADC)",
        _pq(n_bytes, 8), PER_VECTOR, min_train=256,
    )


def _fast_scan_searcher(index: faiss.Index, query_format: str) -> Callable:
    fast = faiss.IndexPQFastScan(index)  # the same codes in fast-scan's SIMD block layout
    return fast.search


def fast_scan_format(n_bytes: int) -> Format:
    m = 2 * n_bytes
    return _faiss_codec(
        f"pq{m}x4fs",
        f"PQ fast-scan, {n_bytes} bytes per vector (faiss PQ{m}x4fs: {m} sub-quantizers of 16 centroids, SIMD "
        "search with 8-bit look-up tables)",
        _pq(m, 4), PER_VECTOR, searcher=_fast_scan_searcher, min_train=16,
    )


for _bits in RABITQ_BITS:
    register_format(rabitq_format(_bits, rotate=False))
    register_format(rabitq_format(_bits, rotate=True))
for _bits in TURBOQUANT_BITS:
    register_format(turboquant_format(_bits))
for _n in OPQ_BYTES:
    register_format(opq_format(_n))
for _n in PQ_BYTES:
    register_format(pq_format(_n))
for _n in FAST_SCAN_BYTES:
    register_format(fast_scan_format(_n))


# --- OSQ / BBQ (Lucene's optimized scalar quantization), in numpy ------------------------------------------

OSQ_LAMBDA = 0.1  # Lucene's weight of the plain squared error in the anisotropic loss
OSQ_ITERATIONS = 5
OSQ_GRID = ((-0.798, 0.798), (-1.493, 1.493), (-2.051, 2.051), (-2.514, 2.514), (-2.916, 2.916),
            (-3.278, 3.278), (-3.611, 3.611), (-3.922, 3.922))
"""Lucene's ``MINIMUM_MSE_GRID``: the interval (in standard deviations around the mean) that minimises the
squared error of a normal variable quantized to 1..8 bits, the start of the per-vector optimisation."""
CORRECTIONS = 16  # bytes per vector: lower, upper, <x, centroid> (float32) and the code sum (int32)


def osq_intervals(r: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-vector quantization interval [a, b] of centred vectors ``r`` (Lucene's ``optimizeIntervals``).

    Start at mean ± grid·std (clipped to the vector's range), then alternate: quantize with the interval,
    solve the 2 × 2 least-squares for the (a, b) minimising the anisotropic loss
    ``(1 − λ)·⟨e, r⟩² / ‖r‖² + λ·‖e‖²`` (e = r − r̂, λ = 0.1) for those codes; stop, per vector, when the loss
    no longer falls (at most 5 rounds)."""
    lo_k, hi_k = OSQ_GRID[bits - 1]
    mean, std = r.mean(axis=1), r.std(axis=1)
    a = np.clip(mean + lo_k * std, r.min(axis=1), r.max(axis=1)).astype(np.float64)
    b = np.clip(mean + hi_k * std, r.min(axis=1), r.max(axis=1)).astype(np.float64)
    r = r.astype(np.float64)
    norm2 = np.maximum((r * r).sum(axis=1), 1e-30)
    levels = 2**bits - 1
    best = _osq_loss(r, a, b, levels, norm2)
    active = np.ones(len(r), dtype=bool)
    for _ in range(OSQ_ITERATIONS):
        t = _osq_codes(r, a, b, levels) / levels
        u = 1 - t
        xu, xt = (r * u).sum(1), (r * t).sum(1)
        w = (1 - OSQ_LAMBDA) / norm2
        m00 = w * xu * xu + OSQ_LAMBDA * (u * u).sum(1)
        m01 = w * xu * xt + OSQ_LAMBDA * (u * t).sum(1)
        m11 = w * xt * xt + OSQ_LAMBDA * (t * t).sum(1)
        det = m00 * m11 - m01 * m01
        ok = active & (np.abs(det) > 1e-12)
        safe = np.where(ok, det, 1.0)
        a_new = np.where(ok, (m11 * xu - m01 * xt) / safe, a)
        b_new = np.where(ok, (m00 * xt - m01 * xu) / safe, b)
        loss = _osq_loss(r, a_new, b_new, levels, norm2)
        better = ok & (loss < best)
        a, b, best = np.where(better, a_new, a), np.where(better, b_new, b), np.where(better, loss, best)
        active = better
        if not active.any():
            break
    return a.astype(np.float32), b.astype(np.float32)


def _osq_codes(r: np.ndarray, a: np.ndarray, b: np.ndarray, levels: int) -> np.ndarray:
    step = np.where(b > a, (b - a) / levels, 1.0)[:, None]
    return np.rint((np.clip(r, a[:, None], b[:, None]) - a[:, None]) / step)


def _osq_loss(r: np.ndarray, a: np.ndarray, b: np.ndarray, levels: int, norm2: np.ndarray) -> np.ndarray:
    step = np.where(b > a, (b - a) / levels, 0.0)[:, None]
    e = r - (a[:, None] + step * _osq_codes(r, a, b, levels))
    return (1 - OSQ_LAMBDA) * (e * r).sum(1) ** 2 / norm2 + OSQ_LAMBDA * (e * e).sum(1)


def _pack_codes(codes: np.ndarray, bits: int) -> np.ndarray:
    if bits == 1:
        return np.packbits(codes.astype(bool), axis=1)
    if bits == 4:
        return pack_nibbles(codes.astype(np.uint8))
    return codes.astype(np.uint8)  # 7 (or 8) bits: one byte per code, as Lucene stores int7


def _unpack_codes(packed: np.ndarray, bits: int, dims: int) -> np.ndarray:
    if bits == 1:
        return np.unpackbits(packed, axis=1, count=dims)
    if bits == 4:
        return unpack_nibbles(packed, dims)
    return packed[:, :dims]


def osq_encode(x: np.ndarray, centroid: np.ndarray, bits: int) -> np.ndarray:
    """Lucene's OSQ of unit vectors: centre on the training centroid, choose each vector's interval
    (``osq_intervals``), quantize to ``bits``, and append the corrections Lucene keeps per vector: the
    interval's lower and upper ends, ``⟨x, c⟩`` and the sum of the codes (16 bytes; Lucene stores the sum as
    a short for 1 bit, we keep an int32 for every width).

    Written by hand from the published description (Elastic blog "Understanding optimized scalar
    quantization", T. Veasey & B. Trent, 2025; Lucene PR #14078 ``OptimizedScalarQuantizer``) because no
    Python library implements it."""
    x = normalise(x)
    r = x - centroid
    a, b = osq_intervals(r, bits)
    codes = _osq_codes(r, a.astype(np.float64), b.astype(np.float64), 2**bits - 1)
    floats = np.stack([a, b, (x @ centroid).astype(np.float32)], axis=1).astype(np.float32)
    sums = codes.sum(axis=1).astype(np.int32)[:, None]
    return np.concatenate([_pack_codes(codes, bits), floats.view(np.uint8), sums.view(np.uint8)], axis=1)


def osq_parts(packed: np.ndarray, bits: int, dims: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(codes, lower, step, ⟨x, c⟩) of OSQ-packed vectors."""
    body, tail = packed[:, :-CORRECTIONS], np.ascontiguousarray(packed[:, -CORRECTIONS:])
    floats = tail[:, :12].copy().view(np.float32)
    a, b, dot_c = floats[:, 0], floats[:, 1], floats[:, 2]
    step = np.where(b > a, (b - a) / (2**bits - 1), 0.0).astype(np.float32)
    return _unpack_codes(body, bits, dims).astype(np.float32), a, step, dot_c


def osq_scores(queries: np.ndarray, docs: Quantized, bits: int, query_bits: int, query_format: str) -> np.ndarray:
    """OSQ's estimate of ⟨q, x⟩ for every (query, document):
    ``⟨q̂ − c, x̂ − c⟩ + ⟨x, c⟩ + ⟨q, c⟩ − ‖c‖²``, with x̂ − c = a + Δ·k per component (Lucene's
    ``quantizedScore`` expands it into ``a_q·a_x·d + a_q·Δ_x·Σk_x + a_x·Δ_q·Σk_q + Δ_q·Δ_x·⟨k_q, k_x⟩``).
    Queries: quantized to ``query_bits`` by the same procedure (``same``), or the float32 ``q − c``."""
    c = docs.params["centroid"]
    dims = docs.dims
    k, a, step, dot_c = osq_parts(docs.packed, bits, dims)
    q = normalise(queries)
    if query_format == "same":
        kq, aq, sq, _ = osq_parts(osq_encode(q, c, query_bits), query_bits, dims)
        inner = (np.outer(aq, a) * dims + np.outer(aq, step * k.sum(1)) + np.outer(sq * kq.sum(1), a)
                 + np.outer(sq, step) * (kq @ k.T))
    else:
        rq = q - c
        inner = np.outer(rq.sum(1), a) + (rq @ k.T) * step
    return (inner + dot_c[None, :] + (q @ c)[:, None] - float(c @ c)).astype(np.float32)


def osq_format(name: str) -> Format:
    bits, query_bits = OSQ_BITS[name]

    def train(sample: np.ndarray) -> Params:
        return {"centroid": normalise(sample).mean(axis=0).astype(np.float32)}

    def encode(x: np.ndarray, p: Params) -> np.ndarray:
        return osq_encode(x, p["centroid"], bits)

    def decode(packed: np.ndarray, p: Params, dims: int) -> np.ndarray:
        k, a, step, _ = osq_parts(packed, bits, dims)
        return p["centroid"] + a[:, None] + step[:, None] * k

    return Format(
        name,
        f"OSQ (Lucene optimized scalar quantization): centred on the training centroid, per-vector interval by "
        f"an anisotropic loss, {bits}-bit documents + 16 B of corrections, {query_bits}-bit queries",
        encode, decode, calibrate=train, needs_calibration=True, paper_faithful=False, nominal_bits=bits,
        similarity="estimator", score=lambda q, d, qf: osq_scores(q, d, bits, query_bits, qf),
    )


for _name in OSQ_BITS:
    register_format(osq_format(_name))


# --- sign binary, fixed cheaply: centred, or randomly rotated -------------------------------------------------


def _binary_fix(name: str, description: str, centre: bool) -> Format:
    """Bits of ``x − mean`` (``centre``) or of ``R x`` (a seeded random rotation), bit-packed, Hamming
    distance between bit codes; float32 queries score ``q · decode(x)`` with decode = ±1 (rotated back)."""

    def train(sample: np.ndarray) -> Params:
        if centre:
            return {"threshold": sample.mean(axis=0).astype(np.float32)}
        return {"rotation": random_rotation(sample.shape[1])}

    def encode(x: np.ndarray, p: Params) -> np.ndarray:
        if centre:
            return np.packbits(x > p["threshold"], axis=1)
        return np.packbits(rotated(x, p["rotation"].T) > 0, axis=1)

    def decode(packed: np.ndarray, p: Params, dims: int) -> np.ndarray:
        signs = np.unpackbits(packed, axis=1, count=dims).astype(np.float32) * 2 - 1
        return signs if centre else _unrotated(signs, p)

    return Format(name, description, encode, decode, calibrate=train, needs_calibration=True, paper_faithful=False,
                  nominal_bits=1, similarity="hamming", learns_from_sample=centre)


register_format(_binary_fix("binary_centred", "sign bits of x − the training set's mean, Hamming distance", True))
register_format(_binary_fix("binary_rotated", "sign bits after a seeded random rotation, Hamming distance", False))

CODEC_FORMATS = [
    *[f"rabitq{b}{s}" for b in RABITQ_BITS for s in ("", "_rr")],
    *[f"opq{n}" for n in OPQ_BYTES],
    *[f"pq{n}x8" for n in PQ_BYTES],
    *[f"pq{2 * n}x4fs" for n in FAST_SCAN_BYTES],
    *[f"turboquant{b}" for b in TURBOQUANT_BITS],
    *OSQ_BITS,
    "binary_centred", "binary_rotated",
]
