"""Corrected formats (clipped/centred integers, scaled floats, Hamming bits) and the Hamming search."""

import math

import ml_dtypes
import numpy as np
import pytest

from study.compress.codecs import CODEC_FORMATS
from study.compress.formats import (
    CORRECTED_FORMATS,
    FORMATS,
    PAPER_FORMATS,
    calibrate,
    get_format,
    quantize,
    round_trip,
)
from study.core.errors import ParameterError
from study.experiment.configs import Config, search_inputs
from study.search.exact import search
from study.search.hamming import hamming_distances, hamming_search

EXPECTED_BYTES_384 = {
    "int8_clipped": 384, "int8_quantile": 384, "int4": 192, "int4_quantile": 192,
    "float8_e4m3_scaled": 384 + 2, "float4_e2m1_scaled": 192 + 2,
    "float8_e4m3_dimscaled": 384, "float4_e2m1_dimscaled": 192,
    "binary_sign": 48, "binary_median": 48,
}
MIN_COSINE = {  # mean cosine between a unit vector and its round trip
    "int8_clipped": 0.999, "int8_quantile": 0.999, "int4": 0.98, "int4_quantile": 0.98,
    "float8_e4m3_scaled": 0.999, "float4_e2m1_scaled": 0.98, "float8_e4m3_dimscaled": 0.999,
    "float4_e2m1_dimscaled": 0.98, "binary_sign": 0.75, "binary_median": 0.75,
}


def test_every_corrected_format_is_registered_and_not_paper_faithful():
    assert set(EXPECTED_BYTES_384) == set(CORRECTED_FORMATS)
    for name in CORRECTED_FORMATS:
        assert name in FORMATS and not get_format(name).paper_faithful
    assert all(get_format(name).paper_faithful for name in PAPER_FORMATS)


@pytest.mark.parametrize("name", CORRECTED_FORMATS)
def test_corrected_formats_take_the_expected_measured_bytes(name, unit_vectors):
    q = quantize(unit_vectors, name, calibrate(name, unit_vectors))
    assert q.packed.dtype == np.uint8
    assert q.bytes_per_vector == EXPECTED_BYTES_384[name]


@pytest.mark.parametrize("name", [f for f in FORMATS if f not in CODEC_FORMATS])  # codecs: tests/test_codecs.py
def test_measured_bytes_of_every_format_are_its_nominal_bits_plus_at_most_a_scale(name, unit_vectors):
    fmt = get_format(name)
    q = quantize(unit_vectors, name, calibrate(name, unit_vectors))
    nominal = math.ceil(fmt.nominal_bits * unit_vectors.shape[1] / 8)
    assert nominal <= q.bytes_per_vector <= nominal + 8


@pytest.mark.parametrize("name", CORRECTED_FORMATS)
def test_corrected_round_trips_stay_close_to_the_original(name, unit_vectors):
    decoded = round_trip(unit_vectors, name, calibrate(name, unit_vectors))
    cos = (decoded * unit_vectors).sum(1) / np.linalg.norm(decoded, axis=1)
    assert cos.mean() > MIN_COSINE[name]


@pytest.mark.parametrize(("name", "levels"), [("int8_clipped", 127), ("int4", 7)])
def test_integer_formats_clip_and_saturate_at_the_calibration_range(name, levels):
    params = calibrate(name, np.array([[0.0], [1.0]], dtype=np.float32))
    x = np.array([[-0.5], [0.0], [0.5], [1.0], [1.5]], dtype=np.float32)
    decoded = round_trip(x, name, params)[:, 0]
    np.testing.assert_allclose(decoded, [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-6)  # saturates, no wrap-around
    if name == "int8_clipped":
        codes = quantize(x, name, params).packed.view(np.int8)[:, 0]
        np.testing.assert_array_equal(codes, [-levels, -levels, 0, levels, levels])  # signed, centred


def test_int8_clipped_codes_are_signed_and_use_the_whole_range_on_the_calibration_set(unit_vectors):
    shifted = unit_vectors + np.linspace(-0.3, 0.3, unit_vectors.shape[1], dtype=np.float32)
    params = calibrate("int8_clipped", shifted)
    codes = quantize(shifted, "int8_clipped", params).packed.view(np.int8)
    # the range midpoint (the per-dimension offset) is code 0, its ends are -127 and +127
    np.testing.assert_array_equal(codes.min(axis=0), -127)
    np.testing.assert_array_equal(codes.max(axis=0), 127)
    step = params["half_range"] / 127
    assert (np.abs(round_trip(shifted, "int8_clipped", params) - shifted) <= step / 2 + 1e-7).all()


def test_quantile_range_clips_outliers_that_minmax_keeps():
    sample = np.random.default_rng(0).normal(0, 0.05, (5000, 4)).astype(np.float32)
    sample[0, 0] = 5.0  # one outlier
    minmax, quantile = calibrate("int8_clipped", sample), calibrate("int8_quantile", sample)
    assert quantile["half_range"][0] < minmax["half_range"][0] / 10
    assert round_trip(sample[:1], "int8_quantile", quantile)[0, 0] < 0.5  # saturated at the 99.9th percentile
    np.testing.assert_allclose(round_trip(sample[:1], "int8_clipped", minmax)[0, 0], 5.0, rtol=1e-6)


def test_vector_scale_is_stored_in_the_packed_bytes_and_decodes_any_magnitude(unit_vectors):
    for name, min_cos in (("float8_e4m3_scaled", 0.999), ("float4_e2m1_scaled", 0.98)):
        packed = quantize(unit_vectors, name).packed
        stored = packed[:, -2:].copy().view(np.float16)[:, 0]
        np.testing.assert_array_equal(stored, np.abs(unit_vectors).max(axis=1).astype(np.float16))
        for magnitude in (1e-3, 1e3):
            x = magnitude * unit_vectors
            decoded = round_trip(x, name)
            cos = (decoded * x).sum(1) / np.linalg.norm(decoded, axis=1) / np.linalg.norm(x, axis=1)
            assert cos.min() > min_cos
            np.testing.assert_allclose(np.abs(decoded).max(axis=1), np.abs(x).max(axis=1), rtol=1e-3)


def test_scaled_float4_keeps_what_the_direct_cast_rounds_to_zero(unit_vectors):
    assert (round_trip(unit_vectors, "float4_e2m1") == 0).mean() > 0.95
    assert (round_trip(unit_vectors, "float4_e2m1_scaled") == 0).mean() < 0.5
    # the decoded values are E2M1 values times absmax / 6
    packed = quantize(unit_vectors, "float4_e2m1_scaled").packed
    unit = packed[:, -2:].copy().view(np.float16).astype(np.float32) / 6
    grid = round_trip(unit_vectors, "float4_e2m1_scaled") / unit
    np.testing.assert_allclose(grid, grid.astype(ml_dtypes.float4_e2m1fn).astype(np.float32), atol=1e-5)


def test_dimension_scales_saturate_beyond_the_calibration_absmax():
    params = calibrate("float8_e4m3_dimscaled", np.array([[0.5, -2.0], [-0.25, 1.0]], dtype=np.float32))
    decoded = round_trip(np.array([[3.0, -9.0]], dtype=np.float32), "float8_e4m3_dimscaled", params)
    np.testing.assert_allclose(decoded, [[0.5, -2.0]], rtol=1e-6)


def test_binary_formats_are_hamming_scored_and_decode_to_signs(unit_vectors):
    assert get_format("binary_sign").similarity == "hamming"
    assert get_format("binary_median").similarity == "hamming"
    assert get_format("binary").similarity == "cosine"  # the paper's binary is unchanged
    np.testing.assert_array_equal(round_trip(unit_vectors, "binary_sign"), np.where(unit_vectors > 0, 1.0, -1.0))


def test_binary_median_thresholds_each_dimension_at_its_median(unit_vectors):
    shifted = unit_vectors + 0.2  # x > 0 would set almost every bit
    params = calibrate("binary_median", shifted)
    bits = np.unpackbits(quantize(shifted, "binary_median", params).packed, axis=1, count=shifted.shape[1])
    np.testing.assert_allclose(bits.mean(axis=0), 0.5, atol=1 / len(shifted))


def _bits(n: int, dims: int, seed: int) -> np.ndarray:
    return np.packbits(np.random.default_rng(seed).random((n, dims)) > 0.5, axis=1)


def test_hamming_distances_equal_counting_differing_bits():
    q, d = _bits(5, 37, 1), _bits(40, 37, 2)  # 37 bits: 5 bytes, padded to one 64-bit word
    reference = (np.unpackbits(q, axis=1, count=37)[:, None, :] != np.unpackbits(d, axis=1, count=37)[None]).sum(-1)
    np.testing.assert_array_equal(hamming_distances(q, d), reference)


def test_hamming_top_k_equals_brute_force_with_trec_eval_tie_order():
    dims = 6  # few bits: many tied distances
    q, d = _bits(7, dims, 3), _bits(60, dims, 4)
    rng = np.random.default_rng(5)
    doc_ids = [f"d{v}" for v in rng.permutation(1000)[:60]]  # string order ≠ numeric order ≠ position
    dist = hamming_distances(q, d)
    result = hamming_search(q, d, doc_ids, k=25, block_bytes=8 * 60 * 3)  # several query blocks
    for row in range(len(q)):
        # trec_eval: score (−distance) high first, then document id in descending string order
        by_id = sorted(range(60), key=lambda i: doc_ids[i], reverse=True)
        expected = sorted(by_id, key=lambda i: dist[row, i])[:25]  # stable: ties keep the id order
        assert list(result.indices[row]) == expected
        np.testing.assert_array_equal(result.scores[row], -dist[row, expected])


def test_search_inputs_choose_hamming_symmetric_and_cosine_asymmetric(unit_vectors):
    packed = quantize(unit_vectors, "binary_sign")
    q, d, fn = search_inputs(Config("m", "d", "test", format="binary_sign"), packed, unit_vectors, {})
    assert fn is hamming_search and q.dtype == np.uint8 and d.shape == (64, 48)
    q, d, fn = search_inputs(Config("m", "d", "test", format="binary_sign", query_format="float32"), packed,
                             unit_vectors, {})
    assert fn is search and q.dtype == np.float32 and d.shape == (64, 384)
    np.testing.assert_array_equal(q, unit_vectors)  # asymmetric: queries are not quantized
    with pytest.raises(ParameterError, match="query_format"):
        search_inputs(Config("m", "d", "test", query_format="int3"), packed, unit_vectors, {})
