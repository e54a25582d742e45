"""Paired statistics: bootstrap CIs, sign-flip test, Holm, and their use on tidy results."""

import itertools

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from study.analysis import stats


def test_bootstrap_ci_contains_the_true_mean_difference_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    true = 0.03
    samples = rng.normal(true, 0.1, size=(150, 200))  # 200 synthetic experiments of 150 paired queries
    strata = [("s", samples, np.zeros_like(samples), np.arange(200), np.ones(200))]
    res = stats.stratified_paired(strata, 200, n_resamples=2000, seed=1)
    coverage = ((res.diff_ci_low <= true) & (true <= res.diff_ci_high)).mean()
    assert 0.90 <= coverage <= 0.99
    np.testing.assert_allclose(res["diff"], samples.mean(axis=0))


def test_bootstrap_ci_matches_scipy_percentile_bootstrap():
    diffs = np.random.default_rng(2).normal(-0.02, 0.08, 300)
    ours = stats.bootstrap_ci(diffs, n_resamples=10_000, seed=0)
    theirs = scipy.stats.bootstrap((diffs,), np.mean, n_resamples=10_000, method="percentile", random_state=0)
    se = diffs.std() / np.sqrt(len(diffs))
    np.testing.assert_allclose(ours, theirs.confidence_interval, atol=0.1 * se)


def test_results_are_deterministic_under_the_seed_and_change_with_it():
    diffs = np.random.default_rng(3).normal(0.01, 0.1, 80)
    assert stats.bootstrap_ci(diffs, seed=7) == stats.bootstrap_ci(diffs, seed=7)
    assert stats.bootstrap_ci(diffs, seed=7) != stats.bootstrap_ci(diffs, seed=8)
    assert stats.sign_flip_test(diffs, seed=7) == stats.sign_flip_test(diffs, seed=7)


def test_sign_flip_p_value_approaches_the_exact_randomization_p_value():
    diffs = np.array([0.3, -0.1, 0.25, 0.2, 0.05, -0.02, 0.4, 0.15, 0.1, -0.05])
    observed = abs(diffs.mean())
    flips = np.array(list(itertools.product([-1, 1], repeat=len(diffs))))
    exact = (np.abs(flips @ diffs / len(diffs)) >= observed - 1e-12).mean()
    estimate = stats.sign_flip_test(diffs, n_resamples=40_000, seed=0)
    assert abs(estimate - exact) < 0.01
    # the estimate is never 0, and identical configurations are never different
    assert stats.sign_flip_test(np.full(50, 0.2), n_resamples=999) == pytest.approx(1 / 1000)
    assert stats.sign_flip_test(np.zeros(50), n_resamples=999) == 1.0
    assert stats.bootstrap_ci(np.zeros(50)) == (0.0, 0.0)


def test_holm_matches_a_hand_computed_example():
    # sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, max(0.04·1, 0.06) = 0.06
    np.testing.assert_allclose(stats.holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(stats.holm([0.5, 0.6]), [1.0, 1.0])  # capped at 1
    out = stats.holm([0.01, np.nan, 0.02])  # NaN is not a test
    assert np.isnan(out[1]) and np.allclose(out[[0, 2]], [0.02, 0.02])


def test_stratified_aggregate_is_the_weighted_mean_of_per_collection_means():
    rng = np.random.default_rng(4)
    a_x, a_y = rng.random(30), rng.random(30)
    b_x, b_y = rng.random(200), rng.random(200)
    w = np.array([0.25, 0.75])
    strata = [("a", a_x[:, None], a_y[:, None], np.array([0]), w[:1]),
              ("b", b_x[:, None], b_y[:, None], np.array([0]), w[1:])]
    res = stats.stratified_paired(strata, 1, n_resamples=500).iloc[0]
    value = 0.25 * a_x.mean() + 0.75 * b_x.mean()
    base = 0.25 * a_y.mean() + 0.75 * b_y.mean()
    assert res.value == pytest.approx(value) and res.baseline == pytest.approx(base)
    assert res.change_pct == pytest.approx(100 * (value / base - 1))
    assert res.ci_low <= res.change_pct <= res.ci_high


def _synthetic_results():
    """Two collections, float32 and two formats: 'good' (small noise) and 'bad' (a clear loss)."""
    rng = np.random.default_rng(5)
    tidy, per_query = [], []
    for dataset, n, n_texts in (("big", 200, 5000), ("small", 40, 100)):
        base = rng.random(n)
        for fmt, scores in (("float32", base), ("good", base + rng.normal(0, 0.01, n)), ("bad", base - 0.2)):
            cid = f"{fmt}|{dataset}"
            for metric in ("ndcg_at_10", "mrr_at_10"):
                tidy.append({"model": "m", "dataset": dataset, "format": fmt, "reducer": "none", "fraction": 1.0,
                             "rescore": "none", "query_format": "same", "metric": metric, "value": scores.mean(),
                             "bytes_per_vector": 4.0, "compression_ratio": 1.0, "n_texts": n_texts,
                             "config_id": cid})
            per_query.append(pd.DataFrame({"config_id": cid, "dataset": dataset, "split": "test",
                                           "query_id": [f"q{i}" for i in range(n)], "ndcg_at_10": scores,
                                           "mrr_at_10": scores}))
    return pd.DataFrame(tidy), pd.concat(per_query, ignore_index=True)


def test_annotate_tidy_fills_ci_and_tests_for_non_baseline_rows_of_the_metric():
    tidy, per_query = _synthetic_results()
    out = stats.annotate_tidy(tidy, per_query, n_resamples=2000)
    nd = out[out.metric == "ndcg_at_10"].set_index("config_id")
    assert nd.loc["float32|big", ["ci_low", "p_value"]].isna().all()
    assert nd.loc["bad|big", "significant"] and nd.loc["bad|big", "ci_high"] < 0
    assert nd.loc["bad|big", "diff"] == pytest.approx(-0.2)
    assert not nd.loc["good|small", "significant"]
    assert (nd.p_holm.dropna() >= nd.p_value.dropna()).all()
    assert out[out.metric == "mrr_at_10"].p_value.isna().all()


def test_add_significance_aggregates_with_the_summary_weighting():
    from study.analysis.report import summarise

    tidy, per_query = _synthetic_results()
    for weighting in ("texts", "none"):
        summary = summarise(tidy, ["format"], weighting=weighting)
        out = stats.add_significance(summary, tidy, per_query, ["format"], weighting, n_resamples=2000)
        rows = out.set_index("format")
        assert rows.loc["float32", ["ci_low", "p_value"]].isna().all()
        bad = rows.loc["bad"]
        assert bad.ci_low <= bad.change_pct <= bad.ci_high and bad.significant
        assert bad["diff"] == pytest.approx(-0.2)
        assert rows.loc["good", "ci_low"] < 0 < rows.loc["good", "ci_high"]
        assert list(out.columns[: len(summary.columns)]) == list(summary.columns)
