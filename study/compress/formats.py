"""Quantization formats: each is *calibrate → encode to packed bytes → decode to float32*.

Every format stores its codes as a 2-D ``uint8`` array (one row of bytes per vector), so the
bytes per vector are measured from the packed array (``packed.nbytes / n``), never assumed.
Sub-byte formats (float4) pack two codes per byte. ``decode`` returns the float32 vectors that
are scored (cosine). The paper-faithful formats reproduce Huerga-Pérez et al. (2025) exactly,
flaws included; corrected variants are registered beside them under their own names.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import ml_dtypes
import numpy as np

import study.compress.fitcache as fitcache
from study.core.errors import ParameterError

Params = dict[str, np.ndarray]


@dataclass(frozen=True)
class Format:
    """A named storage format: how vectors become bytes and back."""

    name: str
    description: str
    encode: Callable[[np.ndarray, Params], np.ndarray]
    decode: Callable[[np.ndarray, Params, int], np.ndarray]
    calibrate: Callable[[np.ndarray], Params] = field(default=lambda sample: {})
    needs_calibration: bool = False
    paper_faithful: bool = True
    nominal_bits: float = 32.0
    similarity: str = "cosine"
    """How the retrieval step scores the format when queries and documents are both in it:
    ``"cosine"`` on the decoded vectors, ``"hamming"`` distance on the packed bits, or ``"estimator"``:
    the codec's own inner-product estimate (``score``)."""
    score: Callable[[np.ndarray, Quantized, str], np.ndarray] | None = None
    """Codecs (``study.compress.codecs``): ``score(float32 queries, packed documents, query_format)`` → the
    (queries × documents) matrix of the codec's estimated inner products (``query_format='same'``: the queries
    quantized as the codec quantizes them; ``'float32'``: not quantized)."""
    costly_calibration: bool = False
    """Training is expensive (k-means codebooks, OPQ): ``calibrate`` memoises it by the sample's content, in memory
    and in the fit cache (``study.compress.fitcache``)."""
    learns_from_sample: bool = True
    """``calibrate``'s parameters depend on the sample's values. False for a codec that only needs the width (a
    seeded rotation, a fixed codebook): the study labels its training set ``untrained``."""
    min_training_rows: int = 1
    """The fewest training vectors ``calibrate`` accepts (k-means: one per centroid, faiss' hard limit)."""


@dataclass
class Quantized:
    """Packed codes of ``n`` vectors of width ``dims`` in one format, with the format's parameters."""

    format: Format
    packed: np.ndarray
    params: Params
    dims: int

    @property
    def n(self) -> int:
        return self.packed.shape[0]

    @property
    def bytes_per_vector(self) -> float:
        return self.packed.nbytes / self.n

    @property
    def overhead_bytes(self) -> int:
        """Bytes stored once for the whole collection (ranges, thresholds...)."""
        return int(sum(p.nbytes for p in self.params.values()))

    def decode(self) -> np.ndarray:
        return self.format.decode(self.packed, self.params, self.dims)


FORMATS: dict[str, Format] = {}


def register_format(fmt: Format) -> Format:
    FORMATS[fmt.name] = fmt
    return fmt


def get_format(name: str) -> Format:
    if name not in FORMATS:
        raise ParameterError("format", name, list(FORMATS))
    return FORMATS[name]


def quantize(vectors: np.ndarray, name: str, params: Params | None = None) -> Quantized:
    """Encode ``vectors`` in format ``name``; calibrated formats need ``params`` from ``calibrate``."""
    fmt = get_format(name)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"vectors must be 2-D (n, dims), got shape {vectors.shape}")
    if fmt.needs_calibration and not params:
        raise ParameterError("calibration", None, f"format {name!r} needs parameters from calibrate()")
    params = params or {}
    packed = fmt.encode(vectors, params)
    assert packed.dtype == np.uint8 and packed.ndim == 2 and packed.shape[0] == vectors.shape[0]
    return Quantized(fmt, packed, params, vectors.shape[1])


_TRAINED: OrderedDict[tuple, Params] = OrderedDict()
_TRAINED_MAX = 256  # least recently used first out; a trained codec is at most a few MB


def calibrate(name: str, sample: np.ndarray) -> Params:
    """Parameters a format derives from a calibration sample (empty for uncalibrated formats).

    Costly trainings (codebooks; ``Format.costly_calibration``) are memoised by (format, the sample's dtype, shape
    and sha256): in this process (the same ``Params`` object again) and on disk in the fit cache
    (``study.compress.fitcache``, the plain arrays of ``Params``), so a codec trained once on the fit set serves
    every collection, stage and process it is applied to, bit for bit the same. Cheap calibrations (ranges,
    centroids, thresholds) cost less than the hash and are computed each time."""
    fmt = get_format(name)
    if not fmt.needs_calibration:
        return {}
    sample = np.ascontiguousarray(sample, dtype=np.float32)
    if not fmt.costly_calibration:
        return fmt.calibrate(sample)
    digest = fitcache.array_digest(sample)
    key = (name, digest["sha256"])
    if key in _TRAINED:
        _TRAINED.move_to_end(key)
        return _TRAINED[key]
    if len(_TRAINED) >= _TRAINED_MAX:
        _TRAINED.popitem(last=False)
    _TRAINED[key] = fitcache.load_or_fit(
        "codec", name, {"format": name}, digest, fitcache.source_digest(fmt.calibrate),
        fit=lambda: fmt.calibrate(sample), save=lambda params: fitcache.Stored(dict(params)),
        restore=lambda stored: stored.arrays,
    )
    return _TRAINED[key]


def round_trip(vectors: np.ndarray, name: str, params: Params | None = None) -> np.ndarray:
    """Encode then decode: the vectors the retrieval step scores."""
    return quantize(vectors, name, params).decode()


# --- plain casts through ml_dtypes (no scaling, as the paper) --------------------------------


def byte_table(dtype: np.dtype) -> np.ndarray:
    """The float32 value of each of the 256 codes of a one-byte dtype (ml_dtypes' own conversion)."""
    return np.arange(256, dtype=np.uint8).view(dtype).astype(np.float32)


def pair_table(table: np.ndarray) -> np.ndarray:
    """The float32 values of every *pair* of one-byte codes, as one 64-bit word per pair: entry ``v`` holds
    ``table[b0], table[b1]`` for the two bytes ``b0, b1`` that the uint16 ``v`` is made of in memory (so it
    holds on either byte order). Decoding two codes per look-up halves the look-ups of ``table[packed]``."""
    pairs = np.arange(1 << 16, dtype=np.uint16).view(np.uint8).reshape(-1, 2)
    return np.ascontiguousarray(table[pairs]).view(np.uint64).reshape(-1)


def decode_bytes(packed: np.ndarray, table: np.ndarray, pairs: Callable[[], np.ndarray]) -> np.ndarray:
    """``table[packed]`` (float32, same shape), two codes per look-up in ``pairs()`` when rows have an even
    width: the same values, bit for bit."""
    if packed.ndim != 2 or packed.shape[1] % 2 or packed.shape[0] == 0:
        return table[packed]
    words = np.ascontiguousarray(packed, dtype=np.uint8).view(np.uint16)
    return pairs().take(words).view(np.float32)


def cast_table(dtype: np.dtype) -> np.ndarray | None:
    """The one-byte code ml_dtypes' float32 → ``dtype`` cast gives every float32, as a table of 2 × 65536 codes
    looked up by the float's top 16 bits and whether its low 16 bits are all zero (``encode_by_table``).

    Why two entries per top half suffice: every rounding boundary of a float8 (the midpoints between two codes,
    normal or subnormal) falls on bit 16 of the float32 or above, so all floats with the same top 16 bits and
    non-zero low bits lie strictly between two boundaries and round alike; the one with zero low bits may be a
    midpoint (a tie, rounded to even). Checked when the table is built: the casts of the two ends of each such
    interval (low bits 1 and 0xFFFF) must agree, which, rounding being monotone, holds for the whole interval;
    ``None`` (encode by the cast itself) if they do not."""
    dtype = np.dtype(dtype)
    high = np.arange(1 << 16, dtype=np.uint32) << np.uint32(16)
    table = np.empty((1 << 16, 2), dtype=np.uint8)
    with np.errstate(all="ignore"):  # NaN, inf and overflow become whatever the cast makes of them
        table[:, 0] = high.view(np.float32).astype(dtype).view(np.uint8)
        table[:, 1] = (high | np.uint32(1)).view(np.float32).astype(dtype).view(np.uint8)
        last = (high | np.uint32(0xFFFF)).view(np.float32).astype(dtype).view(np.uint8)
    return table.reshape(-1) if np.array_equal(table[:, 1], last) else None


CAST_BLOCK_VALUES = 1 << 16  # values per block of a table encoding (its index buffer stays in cache)


def in_blocks(n: int, dims: int, block_values: int, *dtypes: type) -> Iterator[tuple[slice, list[np.ndarray]]]:
    """(rows of a block, buffers cut to it) for ``n`` rows of width ``dims``, about ``block_values`` values a block:
    one buffer per dtype, allocated once and reused, so a block's temporaries stay in cache."""
    rows = max(1, min(n, block_values // max(dims, 1)))
    buffers = [np.empty((rows, dims), dtype=dtype) for dtype in dtypes]
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        yield slice(start, stop), [buffer[: stop - start] for buffer in buffers]


def encode_by_table(x: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The codes of float32 ``x`` (2-D, C-contiguous) from a ``cast_table``: index = top 16 bits × 2 + (low 16 bits
    ≠ 0), a block of ``CAST_BLOCK_VALUES`` at a time."""
    bits = x.view(np.uint32)
    codes = np.empty(x.shape, dtype=np.uint8)
    for rows, (index, low) in in_blocks(*x.shape, CAST_BLOCK_VALUES, np.uint32, np.bool_):
        block = bits[rows]
        np.right_shift(block, 15, out=index)
        np.bitwise_and(index, 0x1FFFE, out=index)  # top 16 bits × 2
        np.bitwise_and(block, 0xFFFF, out=low, casting="unsafe")  # low 16 bits ≠ 0
        np.bitwise_or(index, low, out=index)
        table.take(index, out=codes[rows], mode="clip")  # every index < 2 × 65536
    return codes


def _cast_format(name: str, dtype: np.dtype, description: str) -> Format:
    dtype = np.dtype(dtype)
    table = byte_table(dtype) if dtype.itemsize == 1 else None  # float8: decode by look-up (same values, faster)
    pairs = lru_cache(maxsize=1)(lambda: pair_table(table))  # 512 KiB, built on first use
    codes_of = lru_cache(maxsize=1)(lambda: cast_table(dtype))  # 128 KiB, built on first use

    def encode(x: np.ndarray, _: Params) -> np.ndarray:
        if table is not None and x.ndim == 2 and x.dtype == np.float32 and x.flags.c_contiguous:
            codes = codes_of()
            if codes is not None:
                return encode_by_table(x, codes)
        return np.ascontiguousarray(x.astype(dtype)).view(np.uint8)

    def decode(packed: np.ndarray, _: Params, dims: int) -> np.ndarray:
        if table is not None:
            return decode_bytes(packed, table, pairs)
        return np.ascontiguousarray(packed).view(dtype).astype(np.float32)

    return Format(name, description, encode, decode, nominal_bits=dtype.itemsize * 8)


register_format(_cast_format("float32", np.float32, "IEEE float32 (the baseline)"))
register_format(_cast_format("float16", np.float16, "IEEE float16, direct cast"))
register_format(_cast_format("bfloat16", ml_dtypes.bfloat16, "bfloat16, direct cast"))
register_format(_cast_format("float8_e4m3", ml_dtypes.float8_e4m3fn, "float8 E4M3 (fn), direct cast, no scaling"))
register_format(_cast_format("float8_e5m2", ml_dtypes.float8_e5m2, "float8 E5M2, direct cast, no scaling"))


# --- float4 E2M1: two 4-bit codes per byte ---------------------------------------------------


def pack_nibbles(codes: np.ndarray) -> np.ndarray:
    """Pack 4-bit codes (uint8 < 16) two per byte, low nibble first; odd widths get a zero pad."""
    if codes.shape[1] % 2:
        codes = np.concatenate([codes, np.zeros((codes.shape[0], 1), np.uint8)], axis=1)
    return (codes[:, 0::2] | (codes[:, 1::2] << 4)).astype(np.uint8)


def unpack_nibbles(packed: np.ndarray, dims: int) -> np.ndarray:
    codes = np.empty((packed.shape[0], packed.shape[1] * 2), np.uint8)
    codes[:, 0::2] = packed & 0x0F
    codes[:, 1::2] = packed >> 4
    return codes[:, :dims]


def _float4_encode(x: np.ndarray, _: Params) -> np.ndarray:
    return pack_nibbles(x.astype(ml_dtypes.float4_e2m1fn).view(np.uint8) & 0x0F)


FLOAT4_TABLE = np.arange(16, dtype=np.uint8).view(ml_dtypes.float4_e2m1fn).astype(np.float32)


def _float4_decode(packed: np.ndarray, _: Params, dims: int) -> np.ndarray:
    return FLOAT4_TABLE[unpack_nibbles(packed, dims)]


register_format(
    Format("float4_e2m1", "float4 E2M1 (fn), direct cast, no scaling, two codes per byte",
           _float4_encode, _float4_decode, nominal_bits=4)
)


# --- int8 as the paper did it -----------------------------------------------------------------

INT8_BLOCK_VALUES = 1 << 16  # values per block of the int8 encoding (its float64 buffers stay in cache)


def minmax_ranges(sample: np.ndarray) -> Params:
    """Per-dimension min and max of a calibration sample."""
    return {"min": sample.min(axis=0).astype(np.float32), "max": sample.max(axis=0).astype(np.float32)}


def _int8_paper_encode(x: np.ndarray, p: Params) -> np.ndarray:
    """``((x - min) / step).astype(uint8)`` with step = (max - min) / 255, as sentence-transformers'
    ``quantize_embeddings(precision="uint8")`` that the paper called.

    No clipping: a value outside the calibration range does not saturate, it wraps modulo 256
    (numpy's float→uint8 cast truncates toward zero, then keeps the low 8 bits on x86). We write
    the wrap explicitly (trunc, then the int64 → uint8 cast, which keeps the low 8 bits: mod 256) so the
    result does not depend on the platform.

    Computed in float64 as ever (the same subtraction, division and truncation, so the same codes), a block
    of ``INT8_BLOCK_VALUES`` values at a time into reused buffers: the whole-array version made six
    full-size temporaries, and their allocation and page faults were most of an int8 round trip.
    """
    steps = (p["max"].astype(np.float64) - p["min"]) / 255.0
    steps = np.where(steps > 0, steps, 1.0)
    low = p["min"].astype(np.float64)
    codes = np.empty(x.shape, dtype=np.uint8)
    for rows, (scaled, whole) in in_blocks(*x.shape, INT8_BLOCK_VALUES, np.float64, np.int64):
        np.subtract(x[rows], low, out=scaled)  # float32 → float64 exactly, as x.astype(float64) - min
        np.divide(scaled, steps, out=scaled)
        np.trunc(scaled, out=scaled)
        np.copyto(whole, scaled, casting="unsafe")  # astype(int64)
        np.copyto(codes[rows], whole, casting="unsafe")  # low 8 bits: mod 256
    return codes


def _int8_paper_decode(packed: np.ndarray, _: Params, dims: int) -> np.ndarray:
    """The paper scored cosine on the uint8 codes themselves: no de-quantization, no re-centring."""
    return packed[:, :dims].astype(np.float32)


register_format(
    Format(
        "int8",
        "paper's int8: per-dimension min/max from a calibration set, 255 steps, uint8 codes, "
        "no clipping (wrap-around), no re-centring, cosine on the codes",
        _int8_paper_encode,
        _int8_paper_decode,
        calibrate=minmax_ranges,
        needs_calibration=True,
        nominal_bits=8,
    )
)


# --- binary as the paper did it ---------------------------------------------------------------


def _binary_encode(x: np.ndarray, _: Params) -> np.ndarray:
    return np.packbits(x > 0, axis=1)


def _binary_decode(packed: np.ndarray, _: Params, dims: int) -> np.ndarray:
    """{0, 1} floats, scored with cosine as in the paper (not Hamming on signs)."""
    return np.unpackbits(packed, axis=1, count=dims).astype(np.float32)


register_format(
    Format("binary", "paper's binary: x > 0 as {0,1}, bit-packed, cosine on the bits",
           _binary_encode, _binary_decode, nominal_bits=1)
)

PAPER_FORMATS = ["float32", "float16", "bfloat16", "float8_e4m3", "float8_e5m2", "float4_e2m1", "int8", "binary"]


# --- corrected formats (not in the paper): clipped/centred integers, scaled floats, Hamming bits ----
# Each fixes one known weakness of the paper's baselines (see the reference notes); the paper-faithful
# formats above are left untouched.

SIMILARITIES = ("cosine", "hamming", "estimator")


def _range_calibrator(lower: float | None) -> Callable[[np.ndarray], Params]:
    """Per-dimension range of a calibration sample: min/max (``lower=None``) or the
    ``lower`` and ``100 - lower`` percentiles, stored as a centre (offset) and half-width."""

    def calibrate_range(sample: np.ndarray) -> Params:
        if lower is None:
            lo, hi = sample.min(axis=0), sample.max(axis=0)
        else:
            lo, hi = np.percentile(sample, [lower, 100 - lower], axis=0)
        return {"offset": ((lo + hi) / 2).astype(np.float32), "half_range": ((hi - lo) / 2).astype(np.float32)}

    return calibrate_range


def _signed_int_format(name: str, bits: int, lower: float | None, description: str) -> Format:
    """Symmetric signed integer codes in [-L, L] (L = 2^(bits-1) - 1) of ``(x - offset) / step``,
    clipped (saturating) at the calibration range; decoded as ``code * step + offset``.

    Removing the per-dimension offset makes the codes centred; the decode adds it back, so the
    scored inner products approximate the float32 ones (an engine computes the same thing as
    ``Σ q_i·step_i·code_i + q·offset``). 8-bit codes take one byte, 4-bit codes two per byte.
    """
    levels = 2 ** (bits - 1) - 1

    def steps(p: Params) -> np.ndarray:
        half = p["half_range"].astype(np.float64)
        return np.where(half > 0, half / levels, 1.0)

    def encode(x: np.ndarray, p: Params) -> np.ndarray:
        codes = np.clip(np.rint((x.astype(np.float64) - p["offset"]) / steps(p)), -levels, levels).astype(np.int8)
        if bits == 8:
            return codes.view(np.uint8)
        return pack_nibbles((codes + levels + 1).astype(np.uint8))  # 4-bit: code + 8 in 1..15

    def decode(packed: np.ndarray, p: Params, dims: int) -> np.ndarray:
        if bits == 8:
            codes = np.ascontiguousarray(packed[:, :dims]).view(np.int8).astype(np.float64)
        else:
            codes = unpack_nibbles(packed, dims).astype(np.float64) - (levels + 1)
        return (codes * steps(p) + p["offset"]).astype(np.float32)

    return Format(name, description, encode, decode, calibrate=_range_calibrator(lower), needs_calibration=True,
                  paper_faithful=False, nominal_bits=bits)


QUANTILE_LOWER = 0.1  # percent: the quantile variants clip at the 0.1 and 99.9 percentiles

register_format(_signed_int_format(
    "int8_clipped", 8, None,
    "int8 corrected: per-dimension min/max of the calibration set, clipped (saturating), centred signed codes "
    "in [-127, 127], de-quantized before scoring",
))
register_format(_signed_int_format(
    "int8_quantile", 8, QUANTILE_LOWER,
    "int8 corrected, range = 0.1-99.9 % per-dimension percentiles of the calibration set, clipped, centred",
))
register_format(_signed_int_format(
    "int4", 4, None,
    "int4: per-dimension min/max of the calibration set, clipped, centred codes in [-7, 7], two per byte",
))
register_format(_signed_int_format(
    "int4_quantile", 4, QUANTILE_LOWER,
    "int4, range = 0.1-99.9 % per-dimension percentiles of the calibration set, clipped, centred, two per byte",
))


SCALE_DTYPE = np.float16  # one scale per vector, stored in the vector's own bytes


def _minifloat_codes(dtype: np.dtype) -> tuple[Callable[[np.ndarray], np.ndarray], Callable, float]:
    """(encode to uint8 codes, decode codes for ``dims``, largest finite value) of a float8/float4 dtype."""
    dtype = np.dtype(dtype)
    if dtype == np.dtype(ml_dtypes.float4_e2m1fn):
        return ((lambda y: pack_nibbles(y.astype(dtype).view(np.uint8) & 0x0F)),
                (lambda c, dims: unpack_nibbles(c, dims).view(dtype).astype(np.float32)), 6.0)
    return ((lambda y: np.ascontiguousarray(y.astype(dtype)).view(np.uint8)),
            (lambda c, dims: np.ascontiguousarray(c[:, :dims]).view(dtype).astype(np.float32)),
            float(ml_dtypes.finfo(dtype).max))


def _vector_scaled_format(name: str, dtype: np.dtype, bits: int, description: str) -> Format:
    """Per-vector absmax scaling: ``x · max_finite / a`` with ``a = max|x|`` rounded to float16 and stored
    after the codes (so ``bytes_per_vector`` counts it), clipped to the finite range, then cast.
    Storing ``a`` rather than ``a / max_finite`` keeps the float16 in its normal range for unit vectors."""
    to_codes, from_codes, top = _minifloat_codes(dtype)

    def encode(x: np.ndarray, _: Params) -> np.ndarray:
        absmax = np.abs(x).max(axis=1).astype(SCALE_DTYPE)
        absmax = np.where(absmax > 0, absmax, SCALE_DTYPE(1))
        y = np.clip(x * (top / absmax.astype(np.float32))[:, None], -top, top)
        scale_bytes = np.ascontiguousarray(absmax.reshape(-1, 1)).view(np.uint8)
        return np.concatenate([to_codes(y), scale_bytes], axis=1)

    def decode(packed: np.ndarray, _: Params, dims: int) -> np.ndarray:
        width = SCALE_DTYPE().itemsize
        absmax = np.ascontiguousarray(packed[:, -width:]).view(SCALE_DTYPE).astype(np.float32)
        return from_codes(packed[:, :-width], dims) * (absmax / top)

    return Format(name, description, encode, decode, paper_faithful=False,
                  nominal_bits=bits)


def _dimension_scaled_format(name: str, dtype: np.dtype, bits: int, description: str) -> Format:
    """Per-dimension absmax scaling from the calibration set (clipped to it), then the cast."""
    to_codes, from_codes, top = _minifloat_codes(dtype)

    def calibrate_scales(sample: np.ndarray) -> Params:
        absmax = np.abs(sample).max(axis=0)
        return {"scale": np.where(absmax > 0, absmax / top, 1.0).astype(np.float32)}

    def encode(x: np.ndarray, p: Params) -> np.ndarray:
        return to_codes(np.clip(x / p["scale"], -top, top))

    def decode(packed: np.ndarray, p: Params, dims: int) -> np.ndarray:
        return from_codes(packed, dims) * p["scale"]

    return Format(name, description, encode, decode, calibrate=calibrate_scales, needs_calibration=True,
                  paper_faithful=False, nominal_bits=bits)


register_format(_vector_scaled_format(
    "float8_e4m3_scaled", ml_dtypes.float8_e4m3fn, 8,
    "float8 E4M3 with a per-vector absmax scale (float16, stored with the vector)"))
register_format(_vector_scaled_format(
    "float4_e2m1_scaled", ml_dtypes.float4_e2m1fn, 4,
    "float4 E2M1 with a per-vector absmax scale (float16, stored with the vector), two codes per byte"))
register_format(_dimension_scaled_format(
    "float8_e4m3_dimscaled", ml_dtypes.float8_e4m3fn, 8,
    "float8 E4M3 with per-dimension absmax scales from the calibration set (clipped to it)"))
register_format(_dimension_scaled_format(
    "float4_e2m1_dimscaled", ml_dtypes.float4_e2m1fn, 4,
    "float4 E2M1 with per-dimension absmax scales from the calibration set (clipped to it), two codes per byte"))


def _bits_format(name: str, description: str, calibrated: bool) -> Format:
    """One bit per dimension (``x > threshold``), bit-packed; scored by Hamming distance between
    packed codes when queries are binary too. Decodes to ±1 (for float32 queries, asymmetric search)."""

    def threshold(p: Params) -> np.ndarray | float:
        return p["threshold"] if calibrated else 0.0

    def encode(x: np.ndarray, p: Params) -> np.ndarray:
        return np.packbits(x > threshold(p), axis=1)

    def decode(packed: np.ndarray, _: Params, dims: int) -> np.ndarray:
        return np.unpackbits(packed, axis=1, count=dims).astype(np.float32) * 2 - 1

    def median(sample: np.ndarray) -> Params:
        return {"threshold": np.median(sample, axis=0).astype(np.float32)}

    return Format(name, description, encode, decode, calibrate=median if calibrated else (lambda s: {}),
                  needs_calibration=calibrated, paper_faithful=False, nominal_bits=1, similarity="hamming")


register_format(_bits_format("binary_sign", "sign bits (x > 0), bit-packed, Hamming distance", calibrated=False))
register_format(_bits_format(
    "binary_median", "bits x > per-dimension median of the calibration set, bit-packed, Hamming distance",
    calibrated=True))

CORRECTED_FORMATS = [
    "int8_clipped", "int8_quantile", "int4", "int4_quantile", "float8_e4m3_scaled", "float4_e2m1_scaled",
    "float8_e4m3_dimscaled", "float4_e2m1_dimscaled", "binary_sign", "binary_median",
]
