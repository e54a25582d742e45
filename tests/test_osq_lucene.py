"""OSQ (stage 09's ``osq1``/``osq4``/``osq7``) against Lucene's ``OptimizedScalarQuantizer``, ported here.

The reference below follows Lucene's source (``org.apache.lucene.util.quantization.OptimizedScalarQuantizer``
and ``codecs.lucene104.Lucene104ScalarQuantizedVectorScorer#quantizedScore``), float for float: centre on the
centroid (``⟨x, c⟩`` accumulated in float), the mean and variance of the centred vector by Welford's recurrence
in double, the initial interval ``mean ± MINIMUM_MSE_GRID[bits]·std`` clamped to the vector's range, then at most
5 rounds of coordinate descent on the anisotropic loss ``(1-λ)·⟨x, e⟩²/‖x‖² + λ·‖e‖²`` (λ = 0.1f), stopping when
the interval no longer moves or the loss rises; codes ``Math.round((clamp(x) - a) / step)`` in float (ties up);
corrections lower, upper, ``⟨x, c⟩`` and the code sum; the score
``a_x·a_y·d + a_y·l_x·Σx + a_x·l_y·Σy + l_x·l_y·⟨x, y⟩ + ⟨y, c⟩ + ⟨x, c⟩ − ‖c‖²``. Nothing of ``osq_encode`` is
reused: the study's packed bytes are parsed from the layout its docstring gives.

Where the study deliberately differs from Lucene, the tests below show it:

* its centroid is the plain mean of the unit training vectors; Lucene l2-normalises the centroid for COSINE
  (the estimator's identity holds for any centroid, so both estimate ⟨q, x⟩);
* it returns the raw estimate of ⟨q, x⟩ where Lucene's COSINE scorer returns ``max((1 + s) / 2, 0)`` (the same
  order, except that Lucene ties every estimate below −1 at 0);
* it optimises the interval in float64 and rounds half to even, Lucene in float/double mixed and half up, so a
  handful of vectors end on a slightly different interval;
* it keeps the code sum as an int32 for every width and adds float32 queries (``query_format='float32'``),
  which Lucene does not have: they are checked against Lucene's ``deQuantize`` of the documents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from study.compress.formats import calibrate, get_format, quantize

F32, F64 = np.float32, np.float64
LAMBDA = F32(0.1)  # Lucene's DEFAULT_LAMBDA (a float)
ITERS = 5  # DEFAULT_ITERS
GRID = np.array([[-0.798, 0.798], [-1.493, 1.493], [-2.051, 2.051], [-2.514, 2.514], [-2.916, 2.916],
                 [-3.278, 3.278], [-3.611, 3.611], [-3.922, 3.922]], dtype=F32)  # MINIMUM_MSE_GRID
DIMS = 384
BITS = {"osq1": (1, 4), "osq4": (4, 4), "osq7": (7, 7)}  # documents, queries (BBQ: 1-bit docs, 4-bit queries)


# --- Lucene's quantizer, vectorised over vectors -------------------------------------------------------------


def round_half_up(x: np.ndarray) -> np.ndarray:
    """Java's ``Math.round``: nearest integer, ties toward +∞ (exact: ``x - floor(x)`` is exact in binary)."""
    low = np.floor(x)
    return low + (x - low >= 0.5)


def java_sum(terms: np.ndarray) -> np.ndarray:
    """A Java ``+=`` loop over each row, left to right, in the terms' own precision."""
    return np.cumsum(terms, axis=1, dtype=terms.dtype)[:, -1]


def clamp(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Lucene's ``clamp(double, double, double)`` with per-row bounds."""
    return np.minimum(np.maximum(x.astype(F64), a.astype(F64)[:, None]), b.astype(F64)[:, None])


def welford_std(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, var = np.zeros(len(r)), np.zeros(len(r))
    for i in range(r.shape[1]):
        value = r[:, i].astype(F64)
        delta = value - mean
        mean += delta / (i + 1)
        var += delta * (value - mean)
    return mean, np.sqrt(var / r.shape[1])


def lucene_loss(r: np.ndarray, a: np.ndarray, b: np.ndarray, points: int, norm2: np.ndarray) -> np.ndarray:
    """``loss``: error of quantize-then-dequantize, in double."""
    a64, b64 = a.astype(F64)[:, None], b.astype(F64)[:, None]
    step = (b64 - a64) / (points - 1.0)
    x = r.astype(F64)
    with np.errstate(divide="ignore", invalid="ignore"):
        xq = a64 + step * round_half_up((clamp(x, a, b) - a64) * (1.0 / step))
    lam = F64(LAMBDA)
    xe, e = java_sum(x * (x - xq)), java_sum((x - xq) * (x - xq))
    return (1.0 - lam) * xe * xe / norm2.astype(F64) + lam * e


def optimize_intervals(r: np.ndarray, a: np.ndarray, b: np.ndarray, norm2: np.ndarray, points: int
                       ) -> tuple[np.ndarray, np.ndarray]:
    """``optimizeIntervals``: coordinate descent on the 2 × 2 normal equations of (a, b), per vector."""
    loss = lucene_loss(r, a, b, points, norm2)
    with np.errstate(divide="ignore"):
        scale = (F32(1.0) - LAMBDA) / norm2
    active = np.isfinite(scale)
    lam, x = F64(LAMBDA), r.astype(F64)
    for _ in range(ITERS):
        step_inv = (F32(points - 1.0) / (b - a)).astype(F64)[:, None]
        s = (round_half_up((clamp(x, a, b) - a.astype(F64)[:, None]) * step_inv).astype(F32) / F32(points - 1)
             ).astype(F64)
        daa, dab, dbb = java_sum((1.0 - s) * (1.0 - s)), java_sum((1.0 - s) * s), java_sum(s * s)
        dax, dbx = java_sum(x * (1.0 - s)), java_sum(x * s)
        sc = scale.astype(F64)
        m0, m1, m2 = sc * dax * dax + lam * daa, sc * dax * dbx + lam * dab, sc * dbx * dbx + lam * dbb
        det = m0 * m2 - m1 * m1
        with np.errstate(divide="ignore", invalid="ignore"):
            a_opt, b_opt = ((m2 * dax - m1 * dbx) / det).astype(F32), ((m0 * dbx - m1 * dax) / det).astype(F32)
        still = (np.abs(a - a_opt) < 1e-8) & (np.abs(b - b_opt) < 1e-8)
        new_loss = lucene_loss(r, np.where(det != 0, a_opt, a), np.where(det != 0, b_opt, b), points, norm2)
        active &= (det != 0) & ~still & ~(new_loss > loss)
        a, b, loss = np.where(active, a_opt, a), np.where(active, b_opt, b), np.where(active, new_loss, loss)
    return a, b


@dataclass
class Quantized:
    """``QuantizationResult`` per vector, with its codes."""

    codes: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    additional: np.ndarray
    component_sum: np.ndarray


def lucene_quantize(vectors: np.ndarray, centroid: np.ndarray, bits: int) -> Quantized:
    """``scalarQuantize`` (DOT_PRODUCT / COSINE: the additional correction is ``⟨x, c⟩``)."""
    x, c = vectors.astype(F32), centroid.astype(F32)
    centroid_dot = java_sum(x * c)
    r = x - c
    norm2 = java_sum(r * r)
    mean, std = welford_std(r)
    lo, hi = r.min(axis=1).astype(F64), r.max(axis=1).astype(F64)
    g_lo, g_hi = GRID[bits - 1].astype(F64)
    a = np.minimum(np.maximum(g_lo * std + mean, lo), hi).astype(F32)
    b = np.minimum(np.maximum(g_hi * std + mean, lo), hi).astype(F32)
    a, b = optimize_intervals(r, a, b, norm2, 2**bits)
    step = (b - a) / F32(2**bits - 1)
    xi = clamp(r, a, b).astype(F32)
    codes = round_half_up((xi - a[:, None]) / step[:, None]).astype(np.int64)
    return Quantized(codes, a, b, centroid_dot, codes.sum(axis=1))


def lucene_raw_score(query: Quantized, doc: Quantized, query_bits: int, bits: int, centroid: np.ndarray
                     ) -> np.ndarray:
    """``quantizedScore`` before the similarity's transform: the estimate of ⟨q, x⟩ (queries × documents)."""
    scale_q, scale_x = F32(1.0) / F32(2**query_bits - 1), F32(1.0) / F32(2**bits - 1)
    qc = (query.codes @ doc.codes.T).astype(F32)
    ax, lx, x1 = doc.lower[None], ((doc.upper - doc.lower) * scale_x)[None], doc.component_sum.astype(F32)[None]
    ay, ly, y1 = query.lower[:, None], ((query.upper - query.lower) * scale_q)[:, None], \
        query.component_sum.astype(F32)[:, None]
    score = ax * ay * F32(len(centroid)) + ay * lx * x1 + ax * ly * y1 + lx * ly * qc
    centroid_dp = F32(centroid.astype(F64) @ centroid.astype(F64))
    return score + ((query.additional[:, None] + doc.additional[None]) - centroid_dp)


def lucene_cosine_score(raw: np.ndarray) -> np.ndarray:
    """The COSINE branch's final transform."""
    return np.maximum((F32(1) + raw) / F32(2), F32(0))


def lucene_dequantize(doc: Quantized, bits: int, centroid: np.ndarray) -> np.ndarray:
    """``deQuantize``: ``k·step + a`` in double, plus the centroid."""
    step = (doc.upper.astype(F64) - doc.lower.astype(F64)) / (2**bits - 1)
    return (doc.codes * step[:, None] + doc.lower.astype(F64)[:, None] + centroid).astype(F32)


# --- the study's packed bytes, parsed from the documented layout ------------------------------------------------


def parse_study(packed: np.ndarray, bits: int, dims: int = DIMS) -> Quantized:
    """Codes (1 bit: ``packbits``; 4 bits: two per byte, low nibble first; 7 bits: one per byte), then float32
    lower, upper, ⟨x, c⟩ and the int32 code sum (16 bytes)."""
    body, tail = packed[:, :-16], np.ascontiguousarray(packed[:, -16:])
    if bits == 1:
        codes = np.unpackbits(body, axis=1, count=dims)
    elif bits == 4:
        codes = np.stack([body & 0x0F, body >> 4], axis=2).reshape(len(body), -1)[:, :dims]
    else:
        codes = body[:, :dims]
    floats = tail[:, :12].copy().view(F32)
    return Quantized(codes.astype(np.int64), floats[:, 0], floats[:, 1], floats[:, 2],
                     tail[:, 12:].copy().view(np.int32)[:, 0].astype(np.int64))


# --- data ------------------------------------------------------------------------------------------------------------


def embeddings_like(n: int, seed: int) -> np.ndarray:
    """Unit vectors with what sentence embeddings have: a shared direction and clusters around it."""
    rng = np.random.default_rng(seed)
    shared = np.random.default_rng(99).standard_normal(DIMS)
    centres = np.random.default_rng(98).standard_normal((12, DIMS))
    x = 1.5 * shared + centres[rng.integers(0, 12, n)] + 0.8 * rng.standard_normal((n, DIMS))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(F32)


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    return {"train": embeddings_like(400, 0), "docs": embeddings_like(300, 1), "queries": embeddings_like(24, 2)}


def study_side(name: str, data: dict[str, np.ndarray]) -> tuple[dict, Quantized]:
    params = calibrate(name, data["train"])
    return params, parse_study(quantize(data["docs"], name, params).packed, BITS[name][0])


# --- the checks --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(BITS))
def test_codes_intervals_and_corrections_are_lucenes(name, data):
    bits = BITS[name][0]
    params, ours = study_side(name, data)
    ref = lucene_quantize(data["docs"], params["centroid"], bits)
    same_interval = np.isclose(ours.lower, ref.lower, rtol=1e-5, atol=1e-7) & \
        np.isclose(ours.upper, ref.upper, rtol=1e-5, atol=1e-7)
    assert same_interval.mean() >= 0.99, f"{(~same_interval).sum()} of {len(ref.lower)} intervals differ"
    assert (ours.codes[same_interval] == ref.codes[same_interval]).mean() >= 0.9999
    assert np.allclose(ours.additional, ref.additional, atol=2e-6)  # ⟨x, c⟩: float64 sum vs Lucene's float loop
    assert (ours.component_sum == ours.codes.sum(axis=1)).all()
    assert ours.codes.min() >= 0 and ours.codes.max() == 2**bits - 1


@pytest.mark.parametrize("name", list(BITS))
def test_intervals_are_as_good_as_lucenes_by_lucenes_loss(name, data):
    """Where the study lands elsewhere (float64, ties to even, strict improvement), its interval is no worse."""
    bits = BITS[name][0]
    params, ours = study_side(name, data)
    ref = lucene_quantize(data["docs"], params["centroid"], bits)
    r = data["docs"] - params["centroid"]
    norm2 = java_sum(r * r)
    mine, lucene = (lucene_loss(r, q.lower, q.upper, 2**bits, norm2) for q in (ours, ref))
    mean, std = welford_std(r)
    start = lucene_loss(r, np.clip(GRID[bits - 1, 0] * std + mean, r.min(1), r.max(1)).astype(F32),
                        np.clip(GRID[bits - 1, 1] * std + mean, r.min(1), r.max(1)).astype(F32), 2**bits, norm2)
    assert (mine <= lucene * (1 + 1e-3) + 1e-12).all()
    assert (mine <= start * (1 + 1e-3) + 1e-12).all() and (mine < start).mean() > 0.5


@pytest.mark.parametrize("name", list(BITS))
def test_scores_are_lucenes_quantized_score(name, data):
    bits, query_bits = BITS[name]
    params, docs = study_side(name, data)
    c = params["centroid"]
    scores = get_format(name).score(data["queries"], quantize(data["docs"], name, params), "same")
    raw = lucene_raw_score(lucene_quantize(data["queries"], c, query_bits),
                           lucene_quantize(data["docs"], c, bits), query_bits, bits, c)
    close = np.isclose(scores, raw, atol=1e-5)
    assert close.mean() >= 0.99, f"{(~close).sum()} of {close.size} scores differ"
    assert np.abs(scores - raw).max() < 1e-3  # where an interval differs, by a fraction of a quantization step
    cosine = lucene_cosine_score(raw)
    top = np.argsort(-scores, axis=1)[:, :10]
    lucene_top = np.argsort(-cosine, axis=1, kind="stable")[:, :10]
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(top, lucene_top, strict=True)])
    assert overlap >= 0.97  # Lucene's (1 + s) / 2 keeps the order; only near-equal estimates may swap


@pytest.mark.parametrize("name", list(BITS))
def test_float32_queries_score_lucenes_dequantized_documents(name, data):
    """The study's asymmetric path (not in Lucene): ⟨q − c, x̂ − c⟩ + ⟨x, c⟩ + ⟨q, c⟩ − ‖c‖² with x̂ Lucene's
    ``deQuantize`` of the document."""
    bits = BITS[name][0]
    params, _ = study_side(name, data)
    c = params["centroid"].astype(F64)
    ref = lucene_quantize(data["docs"], c, bits)
    x_hat = lucene_dequantize(ref, bits, c).astype(F64)
    q = data["queries"].astype(F64)
    expected = (q - c) @ (x_hat - c).T + ref.additional[None] + (q @ c)[:, None] - c @ c
    scores = get_format(name).score(data["queries"], quantize(data["docs"], name, params), "float32")
    assert np.isclose(scores, expected, atol=1e-5).mean() >= 0.99


def test_centroid_is_the_plain_mean_where_lucene_normalises_it(data):
    """A deliberate difference: Lucene's COSINE writer l2-normalises the centroid; the study keeps the mean."""
    centroid = calibrate("osq1", data["train"])["centroid"]
    mean = data["train"].astype(F64).mean(axis=0)
    assert np.allclose(centroid, mean, atol=1e-6)
    assert np.linalg.norm(centroid) < 0.9  # Lucene's would be 1
