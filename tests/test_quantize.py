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


def test_int8_needs_calibration(unit_vectors):
    with pytest.raises(ParameterError, match="calibration"):
        quantize(unit_vectors, "int8")


def test_binary_is_sign_bits_scored_as_zero_one_floats(unit_vectors):
    np.testing.assert_array_equal(round_trip(unit_vectors, "binary"), (unit_vectors > 0).astype(np.float32))


def test_unknown_format_error_lists_valid_names():
    with pytest.raises(ParameterError) as err:
        get_format("float7")
    assert "'format'" in str(err.value) and "float8_e4m3" in str(err.value)
