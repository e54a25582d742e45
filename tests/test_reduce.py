"""Reducers: shapes, seeds, the paper's dimension rule, fit/transform on different sets, clear errors."""

import numpy as np
import pytest

from study import config
from study.compress.reducers import (
    METHODS,
    QUADRATIC,
    check_fit_sample,
    check_fractions,
    fit_reducer,
    get_method,
    make_reducer,
    n_components,
    subsample,
)
from study.core.errors import ParameterError, StudyError
from study.core.vectors import normalise


def unit_rows(n: int, dims: int, seed: int) -> np.ndarray:
    """Unit vectors with a few strong directions (like embeddings), not isotropic noise."""
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((8, dims))
    x = rng.standard_normal((n, 8)) @ basis + 0.3 * rng.standard_normal((n, dims))
    return normalise(x.astype(np.float32))


FIT = unit_rows(240, 32, seed=1)
OTHER = unit_rows(57, 32, seed=2)


@pytest.mark.parametrize("method", list(METHODS))
def test_every_reducer_has_the_right_shape_and_is_deterministic_under_its_seed(method, monkeypatch):
    monkeypatch.setenv("STUDY_FIT_CACHE", "off")  # two fits, not a fit and its cached copy
    a = fit_reducer(method, FIT, 0.25, fit_sample=200)
    b = fit_reducer(method, FIT, 0.25, fit_sample=200)
    out = a.transform(OTHER)
    assert out.shape == (len(OTHER), 8) and out.dtype == np.float32
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out, b.transform(OTHER))
    assert a.fit_rows == (200 if method in QUADRATIC else len(FIT))


@pytest.mark.parametrize("method", ["pca", "random_projection", "autoencoder", "kpca_rbf"])
def test_another_seed_gives_another_reducer_where_the_method_is_random(method):
    a = fit_reducer(method, FIT, 0.25, seed=42, fit_sample=100).transform(OTHER)
    b = fit_reducer(method, FIT, 0.25, seed=7, fit_sample=100).transform(OTHER)
    if method == "pca":  # full-SVD PCA does not depend on the seed
        np.testing.assert_allclose(a, b, atol=1e-5)
    else:  # the projection, the network's init/order, or the kernel PCA subsample differ
        assert not np.allclose(a, b)


def test_truncation_keeps_the_prefix_and_renormalises():
    reducer = fit_reducer("truncation", FIT, 0.5)
    out = reducer.transform(OTHER)
    prefix = OTHER[:, :16]
    np.testing.assert_allclose(out, prefix / np.linalg.norm(prefix, axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)
    assert reducer.overhead_bytes == 0


def test_pca_is_scikit_learns_centred_unwhitened_pca_fit_on_one_set_applied_to_another():
    from sklearn.decomposition import PCA

    reducer = fit_reducer("pca", FIT, 0.5)
    expected = PCA(n_components=16, random_state=42).fit(FIT).transform(OTHER)
    np.testing.assert_allclose(reducer.transform(OTHER), expected, atol=1e-5)
    # centred on the fit set, not on the transformed one
    assert np.abs(reducer.transform(FIT).mean(axis=0)).max() < 1e-5
    assert np.abs(reducer.transform(OTHER).mean(axis=0)).max() > 1e-3
    assert reducer.overhead_bytes == (16 * 32 + 32) * 4


def test_kernel_pca_cosine_spans_the_same_space_as_pca_on_unit_vectors():
    pca = fit_reducer("pca", FIT, 0.25).transform(OTHER)
    kpca = fit_reducer("kpca_cosine", FIT, 0.25, fit_sample=None).transform(OTHER)
    # same principal axes up to sign: column-wise |correlation| ~ 1
    corr = [abs(np.corrcoef(pca[:, j], kpca[:, j])[0, 1]) for j in range(4)]
    assert min(corr) > 0.99


def test_autoencoder_architecture_follows_the_paper():
    reducer = fit_reducer("autoencoder", FIT, 0.25)
    widths = [m.out_features for m in reducer.encoder if hasattr(m, "out_features")]
    assert widths == [512, 256, 8]
    assert reducer.overhead_bytes == 4 * ((32 * 512 + 512) + (512 * 256 + 256) + (256 * 8 + 8))


@pytest.mark.parametrize(
    ("dims", "expected"),
    [(384, [346, 288, 192, 96]), (768, [691, 576, 384, 192]), (256, [230, 192, 128, 64])],
)
def test_fractions_map_to_the_papers_dimensions(dims, expected):
    assert [n_components(dims, f) for f in (0.9, 0.75, 0.5, 0.25)] == expected
    assert make_reducer("pca", dims, 0.5).n_components == expected[2]


@pytest.mark.parametrize("fraction", [0, -0.5, 1.5, "half", None, 1.0, 0.001])
def test_a_fraction_outside_the_open_interval_or_keeping_all_or_no_dimensions_is_an_error(fraction):
    with pytest.raises(ParameterError, match="parameter 'fraction'"):
        n_components(384, fraction)


def test_fraction_lists_are_checked_against_every_model():
    assert check_fractions([0.9, 0.25], ["minilm-l6", "mpnet-base"]) == [0.9, 0.25]
    with pytest.raises(ParameterError, match="parameter 'fractions'.*minilm-l6"):
        check_fractions([0.5, 1.0], ["minilm-l6"])
    with pytest.raises(ParameterError, match="parameter 'fractions'"):
        check_fractions([], ["minilm-l6"])


def test_unknown_method_fit_on_and_fit_sample_fail_with_one_clear_line():
    with pytest.raises(ParameterError, match="parameter 'method': invalid value 'tsne'.*pca"):
        get_method("tsne")
    with pytest.raises(ParameterError, match="parameter 'methods': invalid value 'tsne'"):
        config.check_choices("methods", ["pca", "tsne"], list(METHODS))
    with pytest.raises(ParameterError, match="parameter 'fit_on': invalid value 'nowhere'.*self"):
        config.check_reference_set("fit_on", "nowhere")
    assert config.check_reference_set("fit_on", "self") == "self"
    for bad in (0, -3, 2.5, True, "many"):
        with pytest.raises(ParameterError, match="parameter 'fit_sample'"):
            check_fit_sample(bad)
    assert check_fit_sample(None) is None and check_fit_sample("None") is None and check_fit_sample(500) == 500


def test_too_small_a_fit_set_or_the_wrong_width_is_a_clear_error():
    with pytest.raises(StudyError, match="fit set has 10 vectors but 16 components"):
        fit_reducer("pca", FIT[:10], 0.5)
    reducer = fit_reducer("pca", FIT, 0.5)
    with pytest.raises(StudyError, match="width 32"):
        reducer.transform(np.ones((3, 31), dtype=np.float32))
    with pytest.raises(StudyError, match="must be fit"):
        make_reducer("pca", 32, 0.5).transform(OTHER)


def test_subsample_is_seeded_keeps_order_and_leaves_small_sets_alone():
    x = np.arange(100, dtype=np.float32).reshape(50, 2)
    a, b = subsample(x, 10, seed=3), subsample(x, 10, seed=3)
    np.testing.assert_array_equal(a, b)
    assert len(a) == 10 and np.all(np.diff(a[:, 0]) > 0)
    assert not np.array_equal(a, subsample(x, 10, seed=4))
    assert len(subsample(x, 500)) == 50 and len(subsample(x, None)) == 50


def test_wordllama_loads_offline_from_its_package(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from study.encoders.registry import MODELS, load_encoder

    assert MODELS["wordllama-256"].dims == 256 and MODELS["wordllama-256"].matryoshka
    encoder = load_encoder("wordllama-256")
    texts = ["aircraft wing lift", "lift of an airplane wing", "the history of medieval poetry"]
    v = encoder.encode(texts, "docs")
    assert v.shape == (3, 256) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(v, encoder.encode(texts, "docs"))
    assert v[0] @ v[1] > v[0] @ v[2]
