"""Every storage format: round trip, bytes per vector measured on the packed array, paper fidelity."""

import platform

import ml_dtypes
import numpy as np
import pytest

from study.compress.codecs import CODEC_FORMATS
from study.compress.formats import (
    FORMATS,
    PAPER_FORMATS,
    calibrate,
    get_format,
    pack_nibbles,
    quantize,
    round_trip,
    unpack_nibbles,
)
from study.core.errors import ParameterError

EXPECTED_BYTES_384 = {
    "float32": 1536, "float16": 768, "bfloat16": 768, "float8_e4m3": 384,
    "float8_e5m2": 384, "float4_e2m1": 192, "int8": 384, "binary": 48,
}


@pytest.mark.parametrize("name", PAPER_FORMATS)
def test_paper_formats_take_the_expected_bytes_per_384d_vector(name, unit_vectors):
    q = quantize(unit_vectors, name, calibrate(name, unit_vectors))
    assert q.packed.dtype == np.uint8
    assert q.bytes_per_vector == EXPECTED_BYTES_384[name]
    assert q.packed.nbytes == EXPECTED_BYTES_384[name] * len(unit_vectors)


CASTS_AND_INTEGERS = [f for f in FORMATS if f not in CODEC_FORMATS]  # codecs: tests/test_codecs.py (they train)


@pytest.mark.parametrize("name", CASTS_AND_INTEGERS)
def test_every_registered_format_round_trips_to_float32_of_the_same_shape(name, unit_vectors):
    params = calibrate(name, unit_vectors)
    q = quantize(unit_vectors, name, params)
    decoded = q.decode()
    assert decoded.shape == unit_vectors.shape and decoded.dtype == np.float32
    # Encoding the same vectors twice gives the same bytes (deterministic).
    assert np.array_equal(quantize(unit_vectors, name, params).packed, q.packed)


@pytest.mark.parametrize("name", CASTS_AND_INTEGERS)
def test_odd_widths_are_packed_and_restored(name):
    x = np.random.default_rng(1).standard_normal((7, 33)).astype(np.float32) / 6
    decoded = round_trip(x, name, calibrate(name, x))
    assert decoded.shape == (7, 33)


@pytest.mark.parametrize(
    ("name", "dtype"),
    [("float16", np.float16), ("bfloat16", ml_dtypes.bfloat16), ("float8_e4m3", ml_dtypes.float8_e4m3fn),
     ("float8_e5m2", ml_dtypes.float8_e5m2), ("float4_e2m1", ml_dtypes.float4_e2m1fn)],
)
def test_float_casts_equal_a_direct_ml_dtypes_cast(name, dtype, unit_vectors):
    expected = unit_vectors.astype(dtype).astype(np.float32)
    np.testing.assert_array_equal(round_trip(unit_vectors, name), expected)


def test_float32_is_lossless(unit_vectors):
    np.testing.assert_array_equal(round_trip(unit_vectors, "float32"), unit_vectors)


def test_float4_rounds_small_unit_vector_components_to_zero(unit_vectors):
    # 384-d unit vectors have components ~0.05: E2M1's smallest non-zero magnitude is 0.5.
    decoded = round_trip(unit_vectors, "float4_e2m1")
    assert (decoded == 0).mean() > 0.95


def test_nibble_packing_is_exact_for_all_codes():
    codes = np.arange(16, dtype=np.uint8).reshape(1, 16).repeat(3, axis=0)
    np.testing.assert_array_equal(unpack_nibbles(pack_nibbles(codes), 16), codes)
    odd = codes[:, :15]
    np.testing.assert_array_equal(unpack_nibbles(pack_nibbles(odd), 15), odd)


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="the paper's cast wraps like this on x86-64")
def test_int8_equals_the_sentence_transformers_code_the_paper_called(unit_vectors):
    """sentence-transformers 3.x (the paper's) ``quantize_embeddings(precision="uint8")`` was
    ``((emb - starts) / steps).astype(np.uint8)`` on float64 embeddings, without clipping (6.x clips)."""
    calibration, target = unit_vectors[:16], unit_vectors[16:]  # narrow range: many values fall outside
    ranges = np.vstack([calibration.min(axis=0), calibration.max(axis=0)]).astype(np.float64)
    starts, steps = ranges[0], (ranges[1] - ranges[0]) / 255
    with np.errstate(invalid="ignore"):
        theirs = ((target.astype(np.float64) - starts) / steps).astype(np.uint8)
    params = calibrate("int8", calibration)
    np.testing.assert_array_equal(quantize(target, "int8", params).packed, theirs)
    # ... and the paper scored cosine on the codes themselves.
    np.testing.assert_array_equal(round_trip(target, "int8", params), theirs.astype(np.float32))


def test_int8_wraps_around_outside_the_calibration_range():
    calibration = np.array([[0.0], [1.0]], dtype=np.float32)
    params = calibrate("int8", calibration)
    codes = quantize(np.array([[-0.01], [0.5], [1.01]], dtype=np.float32), "int8", params).packed[:, 0]
    assert codes[1] == 127  # trunc(0.5 * 255)
    assert codes[0] == 254  # trunc(-2.55) = -2 wraps to 254 instead of clipping to 0
    assert codes[2] == 1  # trunc(257.55) = 257 wraps to 1 instead of clipping to 255


def _int8_whole_array(x: np.ndarray, p: dict) -> np.ndarray:
    """The int8 encoding as one whole-array expression (what the blocked encoder must equal, code for code)."""
    steps = (p["max"].astype(np.float64) - p["min"]) / 255.0
    steps = np.where(steps > 0, steps, 1.0)
    scaled = np.trunc((x.astype(np.float64) - p["min"]) / steps)
    return np.mod(scaled.astype(np.int64), 256).astype(np.uint8)


@pytest.mark.parametrize("shape", [(1, 384), (170, 384), (171, 384), (1000, 384), (3, 1), (50, 7), (0, 16)])
def test_int8_blocked_encoding_equals_the_whole_array_formula(shape):
    """Block by block (``INT8_BLOCK_VALUES`` at a time), in float64 as ever: the very same codes, wraps included,
    at every block boundary and for a constant dimension (step 1)."""
    rng = np.random.default_rng(shape[0])
    x = (rng.standard_normal(shape) * 0.1).astype(np.float32)
    calibration = (rng.standard_normal((64, shape[1])) * 0.05).astype(np.float32)
    calibration[:, 0] = 0.25  # max == min: step 1
    params = calibrate("int8", calibration)
    if x.size:
        x[::3, -1] = 7.5  # far above the range: wraps
        x[1::5, 0] = -9.0  # far below: negative, wraps
        x[-1, 0], x[0, -1] = np.nan, np.inf  # whatever the platform's cast makes of them, the same
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(quantize(x, "int8", params).packed, _int8_whole_array(x, params))


@pytest.mark.parametrize("dtype", [ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2])
def test_float8_table_encoding_equals_the_ml_dtypes_cast(dtype):
    """Every top half of a float32 (sign, exponent, 7 mantissa bits) with low halves 0, 1, a random one, 0x7FFF,
    0x8000 and 0xFFFF: the table's code is the cast's (NaN, inf, overflow, subnormals, ties included; the whole
    2^32 was checked once). Non-contiguous or non-float32 input is cast directly."""
    from study.compress.formats import cast_table, encode_by_table

    dtype = np.dtype(dtype)
    table = cast_table(dtype)
    assert table is not None
    high = np.arange(1 << 16, dtype=np.uint32) << np.uint32(16)
    lows = np.random.default_rng(0).integers(2, 0x7FFF, 1 << 16).astype(np.uint32)
    bits = np.stack([high, high | 1, high | lows, high | 0x7FFF, high | 0x8000, high | 0xFFFF], axis=1)
    x = np.ascontiguousarray(bits.reshape(-1, 96)).view(np.float32)
    with np.errstate(all="ignore"):
        expected = x.astype(dtype).view(np.uint8)
        np.testing.assert_array_equal(encode_by_table(x, table), expected)
        name = {np.dtype(ml_dtypes.float8_e4m3fn): "float8_e4m3", np.dtype(ml_dtypes.float8_e5m2): "float8_e5m2"}[dtype]
        np.testing.assert_array_equal(quantize(x, name).packed, expected)
        np.testing.assert_array_equal(get_format(name).encode(x[:, ::2], {}), expected[:, ::2])  # strided


def test_float8_pairwise_decoding_equals_the_byte_table():
    """Two codes per look-up (a 65536-entry table of float32 pairs) gives table[codes] bit for bit: every pair of
    codes, odd widths and an empty array included."""
    from study.compress.formats import byte_table, decode_bytes, pair_table

    for name in ("float8_e4m3", "float8_e5m2"):
        dtype = np.dtype({"float8_e4m3": ml_dtypes.float8_e4m3fn, "float8_e5m2": ml_dtypes.float8_e5m2}[name])
        table = byte_table(dtype)
        pairs = pair_table(table)
        every_pair = np.arange(1 << 16, dtype=np.uint16).view(np.uint8).reshape(-1, 2)
        for codes in (every_pair, every_pair.reshape(-1, 8), every_pair.reshape(-1, 4)[:, :3],
                      every_pair[:0], every_pair.reshape(-1, 16)[::3]):
            assert decode_bytes(codes, table, lambda pairs=pairs: pairs).tobytes() == table[codes].tobytes()
            decoded = get_format(name).decode(codes, {}, codes.shape[1])
            assert decoded.dtype == np.float32 and decoded.tobytes() == table[codes].tobytes()


def test_int8_needs_calibration(unit_vectors):
    with pytest.raises(ParameterError, match="calibration"):
        quantize(unit_vectors, "int8")


def test_binary_is_sign_bits_scored_as_zero_one_floats(unit_vectors):
    np.testing.assert_array_equal(round_trip(unit_vectors, "binary"), (unit_vectors > 0).astype(np.float32))


def test_unknown_format_error_lists_valid_names():
    with pytest.raises(ParameterError) as err:
        get_format("float7")
    assert "'format'" in str(err.value) and "float8_e4m3" in str(err.value)
