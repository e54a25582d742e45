"""Quantization formats: each is *calibrate → encode to packed bytes → decode to float32*.

Every format stores its codes as a 2-D ``uint8`` array (one row of bytes per vector), so the
bytes per vector are measured from the packed array (``packed.nbytes / n``), never assumed.
Sub-byte formats (float4) pack two codes per byte. ``decode`` returns the float32 vectors that
are scored (cosine). The paper-faithful formats reproduce Huerga-Pérez et al. (2025) exactly,
flaws included; corrected variants are registered beside them under their own names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import ml_dtypes
import numpy as np

from .errors import ParameterError

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


def calibrate(name: str, sample: np.ndarray) -> Params:
    """Parameters a format derives from a calibration sample (empty for uncalibrated formats)."""
    fmt = get_format(name)
    return fmt.calibrate(np.asarray(sample, dtype=np.float32)) if fmt.needs_calibration else {}


def round_trip(vectors: np.ndarray, name: str, params: Params | None = None) -> np.ndarray:
    """Encode then decode: the vectors the retrieval step scores."""
    return quantize(vectors, name, params).decode()


# --- plain casts through ml_dtypes (no scaling, as the paper) --------------------------------


def _cast_format(name: str, dtype: np.dtype, description: str) -> Format:
    dtype = np.dtype(dtype)

    def encode(x: np.ndarray, _: Params) -> np.ndarray:
        return np.ascontiguousarray(x.astype(dtype)).view(np.uint8)

    def decode(packed: np.ndarray, _: Params, dims: int) -> np.ndarray:
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


def _float4_decode(packed: np.ndarray, _: Params, dims: int) -> np.ndarray:
    return unpack_nibbles(packed, dims).view(ml_dtypes.float4_e2m1fn).astype(np.float32)


register_format(
    Format("float4_e2m1", "float4 E2M1 (fn), direct cast, no scaling, two codes per byte",
           _float4_encode, _float4_decode, nominal_bits=4)
)


# --- int8 as the paper did it -----------------------------------------------------------------


def minmax_ranges(sample: np.ndarray) -> Params:
    """Per-dimension min and max of a calibration sample."""
    return {"min": sample.min(axis=0).astype(np.float32), "max": sample.max(axis=0).astype(np.float32)}


def _int8_paper_encode(x: np.ndarray, p: Params) -> np.ndarray:
    """``((x - min) / step).astype(uint8)`` with step = (max - min) / 255, as sentence-transformers'
    ``quantize_embeddings(precision="uint8")`` that the paper called.

    No clipping: a value outside the calibration range does not saturate, it wraps modulo 256
    (numpy's float→uint8 cast truncates toward zero, then keeps the low 8 bits on x86). We write
    the wrap explicitly (trunc, then mod 256) so the result does not depend on the platform.
    """
    steps = (p["max"].astype(np.float64) - p["min"]) / 255.0
    steps = np.where(steps > 0, steps, 1.0)
    scaled = np.trunc((x.astype(np.float64) - p["min"]) / steps)
    return np.mod(scaled.astype(np.int64), 256).astype(np.uint8)


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
