"""Codecs (RaBitQ, OPQ + PQ, PQ fast-scan, TurboQuant, OSQ, binary fixes): bytes, round trips, rankings equal to
faiss' own indexes, bad parameters refused (OSQ against Lucene's quantizer: tests/test_osq_lucene.py)."""

import os

import faiss
import numpy as np
import pytest

from study.compress import codecs
from study.compress.codecs import (
    CODEC_FORMATS,
    CORRECTIONS,
    random_rotation,
)
from study.compress.formats import FORMATS, calibrate, get_format, quantize
from study.core.errors import ParameterError
from study.core.vectors import normalise
from study.experiment.configs import Config, search_inputs
from study.search.ranking import tie_rank

DIMS = 64


def clustered(n: int, seed: int, dims: int = DIMS) -> np.ndarray:
    """Unit vectors around 20 random centres (structure PQ and the centroid-based codecs can exploit)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, dims))
    return normalise(centres[rng.integers(0, 20, n)] + 0.6 * rng.standard_normal((n, dims))).astype(np.float32)


@pytest.fixture(scope="module")
def data():
    return {"train": clustered(3000, 0), "docs": clustered(600, 1), "queries": clustered(40, 2)}


def expected_bytes(name: str, dims: int) -> int:
    if name.startswith("rabitq"):
        bits = int(name[6])
        return faiss.IndexRaBitQ(dims, faiss.METRIC_INNER_PRODUCT, bits).code_size
    if name.startswith("opq"):
        return int(name[3:])
    if name.startswith("pq"):
        m, bits = name[2:].removesuffix("fs").split("x")
        return int(m) * int(bits) // 8  # PQ48x8: 48 B; PQ96x4fs: 48 B
    if name.startswith("turboquant"):
        qtype = getattr(faiss.ScalarQuantizer, f"QT_{name[-1]}bit_tq")
        return faiss.IndexScalarQuantizer(dims, qtype, faiss.METRIC_INNER_PRODUCT).code_size
    if name.startswith("osq"):
        bits = codecs.OSQ_BITS[name][0]
        return (dims * bits + 7) // 8 if bits in (1, 4) else dims
    return dims // 8


def fits(name: str, dims: int) -> bool:
    m = int(name[3:]) if name.startswith("opq") else int(name[2:].split("x")[0]) if name.startswith("pq") else 1
    return dims % m == 0


@pytest.mark.parametrize("name", CODEC_FORMATS)
def test_every_codec_round_trips_with_its_measured_bytes(name, data):
    dims = next(d for d in (DIMS, 96, 192) if fits(name, d))
    train, docs = (data["train"], data["docs"]) if dims == DIMS else (clustered(1500, 0, dims), clustered(300, 1, dims))
    fmt = get_format(name)
    assert name in FORMATS and not fmt.paper_faithful and fmt.needs_calibration
    params = calibrate(name, train)
    packed = quantize(docs, name, params)
    assert packed.packed.dtype == np.uint8 and packed.packed.shape[0] == len(docs)
    corrections = CORRECTIONS if name.startswith("osq") else 0
    assert packed.bytes_per_vector == expected_bytes(name, dims) + corrections
    assert packed.overhead_bytes > 0  # centroid, codebooks or rotation, stored once
    decoded = packed.decode()
    assert decoded.shape == docs.shape and np.isfinite(decoded).all()
    cosine = (normalise(decoded) * docs).sum(axis=1).mean()
    assert cosine > 0.5, f"{name}: decoded vectors do not resemble the originals (mean cosine {cosine:.3f})"


def test_more_bits_reconstruct_better(data):
    def error(name):
        q = quantize(data["docs"], name, calibrate(name, data["train"]))
        return float(np.linalg.norm(normalise(q.decode()) - data["docs"], axis=1).mean())

    # (RaBitQ is left out: faiss' sa_decode of RaBitQ codes rebuilds from the sign bits only, whatever nb_bits;
    # its multi-bit codes are used by the search estimator, checked against IndexRaBitQ below.)
    assert error("opq32") < error("opq8")
    assert error("osq7") < error("osq4") < error("osq1")
    assert error("turboquant4") < error("turboquant2")


def top(scores: np.ndarray, k: int = 10) -> np.ndarray:
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def ours(name: str, data, query_format: str = "float32") -> tuple[np.ndarray, object]:
    params = calibrate(name, data["train"])
    packed = quantize(data["docs"], name, params)
    cfg = Config("m", "d", "test", format=name, calibrate_on="x", query_format=query_format)
    q, d, fn = search_inputs(cfg, packed, data["queries"], params)
    return fn(q, d, [f"d{i:04d}" for i in range(len(data["docs"]))], k=10).indices, params


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean([len(set(x) & set(y)) / len(x) for x, y in zip(a, b, strict=True)]))


@pytest.mark.parametrize("query_format,qb", [("float32", 0), ("same", codecs.RABITQ_QUERY_BITS)])
def test_rabitq_ranks_as_faiss_index_rabitq(data, query_format, qb):
    mine, _ = ours("rabitq1", data, query_format)
    index = faiss.IndexRaBitQ(DIMS, faiss.METRIC_INNER_PRODUCT, 1)
    index.train(data["train"])
    index.add(data["docs"])
    params = faiss.RaBitQSearchParameters()
    params.qb = qb
    _, labels = index.search(data["queries"], 10, params=params)
    assert agreement(mine, labels) >= 0.99


def test_fast_scan_ranks_as_faiss_index_pq_fast_scan(data):
    mine, _ = ours("pq16x4fs", data)
    index = faiss.IndexPQFastScan(DIMS, 16, 4, faiss.METRIC_INNER_PRODUCT)
    index.pq.cp.niter, index.pq.cp.seed = codecs.PQ_ITERATIONS, codecs.SEED
    index.train(data["train"])
    index.add(data["docs"])
    _, labels = index.search(data["queries"], 10)
    assert agreement(mine, labels) >= 0.99


def test_opq_ranks_as_a_faiss_pq_index_on_the_learned_rotation(data):
    mine, params = ours("opq8", data)
    rotation = params["rotation"]
    assert np.allclose(rotation @ rotation.T, np.eye(DIMS), atol=1e-4)  # OPQ learns an orthogonal matrix
    index = faiss.IndexPQ(DIMS, 8, 8, faiss.METRIC_INNER_PRODUCT)
    index.pq.cp.niter, index.pq.cp.seed = codecs.PQ_ITERATIONS, codecs.SEED
    index.train(data["train"] @ rotation.T)
    index.add(data["docs"] @ rotation.T)
    _, labels = index.search(np.ascontiguousarray(data["queries"] @ rotation.T), 10)
    assert agreement(mine, labels) >= 0.99


def test_turboquant_ranks_as_faiss_scalar_quantizer_on_rotated_vectors(data):
    mine, params = ours("turboquant3", data)
    rotation = random_rotation(DIMS)
    assert np.array_equal(params["rotation"], rotation)
    index = faiss.IndexScalarQuantizer(DIMS, faiss.ScalarQuantizer.QT_3bit_tq, faiss.METRIC_INNER_PRODUCT)
    index.train(data["train"] @ rotation.T)
    index.add(np.ascontiguousarray(data["docs"] @ rotation.T))
    _, labels = index.search(np.ascontiguousarray(data["queries"] @ rotation.T), 10)
    assert agreement(mine, labels) >= 0.99


def test_codec_ties_follow_trec_eval_order():
    """Duplicate documents get equal estimates: the larger id comes first, as trec_eval orders ties."""
    docs = np.repeat(clustered(300, 5), 2, axis=0)
    ids = [f"d{i:04d}" for i in range(len(docs))]
    params = calibrate("opq8", clustered(3000, 0))
    packed = quantize(docs, "opq8", params)
    cfg = Config("m", "d", "test", format="opq8", calibrate_on="x", query_format="float32")
    q, d, fn = search_inputs(cfg, packed, clustered(10, 6), params)
    result = fn(q, d, ids, k=20)
    rank = tie_rank(ids)
    for row, scores in zip(result.indices, result.scores, strict=True):
        for a, b, sa, sb in zip(row[:-1], row[1:], scores[:-1], scores[1:], strict=True):
            assert sa > sb or (sa == sb and rank[a] > rank[b])


# --- OSQ ----------------------------------------------------------------------------------------------------
# Checked against a port of Lucene's OptimizedScalarQuantizer (codes, intervals, corrections, quantizedScore) in
# tests/test_osq_lucene.py, which shares no code with study.compress.codecs; its round trip and bytes are above.


# --- binary fixes -------------------------------------------------------------------------------------------


def test_centred_and_rotated_bits(data):
    centred = calibrate("binary_centred", data["train"])
    assert np.allclose(centred["threshold"], data["train"].mean(axis=0))
    bits = np.unpackbits(quantize(data["docs"], "binary_centred", centred).packed, axis=1, count=DIMS)
    assert np.array_equal(bits, (data["docs"] > centred["threshold"]).astype(np.uint8))
    rotated = calibrate("binary_rotated", data["train"])
    packed = quantize(data["docs"], "binary_rotated", rotated)
    assert np.array_equal(np.unpackbits(packed.packed, axis=1, count=DIMS),
                          (data["docs"] @ rotated["rotation"].T > 0).astype(np.uint8))
    back = packed.decode()  # ±1 rotated back: its inner product with q is (R q) · signs
    q = data["queries"][:3]
    assert np.allclose(q @ back.T, (q @ rotated["rotation"].T) @ (np.unpackbits(
        packed.packed, axis=1, count=DIMS).astype(np.float32) * 2 - 1).T, atol=1e-4)


# --- training is memoised, bad parameters are refused ----------------------------------------------------


def test_costly_training_is_memoised_by_content(data):
    a = calibrate("opq8", data["train"])
    b = calibrate("opq8", data["train"].copy())
    assert a is b
    c = calibrate("opq8", data["train"][:2000])
    assert c is not a


@pytest.mark.parametrize("build,bad", [(codecs.rabitq_format, 3), (codecs.turboquant_format, 5)])
def test_bits_out_of_range_are_refused(build, bad):
    with pytest.raises(ParameterError, match="bits"):
        build(bad, False) if build is codecs.rabitq_format else build(bad)


@pytest.mark.parametrize("name", ["opq48", "pq64x4fs"])
def test_sub_quantizers_that_do_not_divide_the_width_are_refused(name):
    with pytest.raises(ParameterError, match="divisor of the vector width 100"):
        calibrate(name, clustered(500, 0, dims=100))


def test_pq_needs_a_centroid_per_training_vector():
    with pytest.raises(ParameterError, match="at least 256 vectors"):
        calibrate("opq8", clustered(100, 0))


def test_faiss_few_points_warnings_become_one_log_record(caplog, capfd):
    import logging

    from study.compress.formats import get_format

    x = np.random.default_rng(0).standard_normal((300, 32)).astype(np.float32)
    with caplog.at_level(logging.INFO, logger="study.compress.codecs"):
        get_format("opq8").calibrate(x)  # 300 points for 256 centroids: faiss warns per sub-quantizer
    assert "WARNING clustering" not in capfd.readouterr().err
    record = [r.getMessage() for r in caplog.records if "faiss warned" in r.getMessage()]
    assert len(record) >= 1 and "300 points train 256 centroids" in record[0]
    with codecs.few_points_warnings_counted("x"):  # what else faiss writes there passes
        os.write(2, b"something else\n")
    assert capfd.readouterr().err == "something else\n"


def test_opq_refuses_fewer_vectors_than_dimensions_instead_of_crashing():
    x = np.random.default_rng(0).standard_normal((300, 512)).astype(np.float32)  # ≥ 256 centroids, < 512 dims
    with pytest.raises(ParameterError, match=r"'opq8 training sample'.*at least 512 vectors"):
        get_format("opq8").calibrate(x)


def test_a_rows_rotation_is_the_same_in_any_aligned_block_and_under_any_thread_count():
    """``rotated`` (every rotation of a codec: random, TurboQuant's, OPQ's learned one): a row rotated alone in a block
    that starts at a multiple of ROTATION_ROWS, or with BLAS on two threads, gets the bits it gets in one call (one
    large product does not: BLAS sums a row in another order in calls of other shapes on some CPUs)."""
    from threadpoolctl import threadpool_limits

    x = np.random.default_rng(5).standard_normal((3000, 384)).astype(np.float32)
    matrix = codecs.random_rotation(384).T
    whole = codecs.rotated(x, matrix)
    step = 704  # advise's blocks in its test (tests/test_advise_search.py): a multiple of ROTATION_ROWS
    assert step % codecs.ROTATION_ROWS == 0
    blocks = np.concatenate([codecs.rotated(x[s : s + step], matrix) for s in range(0, len(x), step)])
    assert np.array_equal(blocks, whole)
    with threadpool_limits(limits=2):
        assert np.array_equal(codecs.rotated(x, matrix), whole)
    np.testing.assert_allclose(whole, x @ matrix, atol=1e-5)  # the product it stands for
