"""Paired statistics: bootstrap CIs, sign-flip test, Holm, and their use on tidy results."""

import itertools
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from study.analysis import stats
from study.analysis.report import summarise
from study.core.errors import ParameterError


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


def test_differences_within_the_rounding_tolerance_are_no_evidence():
    # 1e-12 apart: every sign pattern, including the ones that cancel to exactly 0, is as extreme as that
    assert stats.sign_flip_test(np.array([1e-12, 1e-12]), n_resamples=200) == 1.0


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


# --- the engine's edges ----------------------------------------------------------------------------------------


def test_a_stratum_listing_a_comparison_twice_is_refused():
    x = np.ones((5, 2))
    with pytest.raises(ValueError, match="stratum 'big' lists a comparison twice"):
        stats.stratified_paired([("big", x, x, np.array([0, 0]), np.ones(2))], 1, n_resamples=10)


def test_the_cis_are_percentiles_of_the_returned_draws():
    rng = np.random.default_rng(6)
    x, y = rng.random((40, 2)), rng.random((40, 2))
    strata = [("a", x[:20], y[:20], np.array([0, 1]), np.array([0.5, 0.5])),
              ("b", x[20:], y[20:], np.array([1, 0]), np.array([0.5, 0.5]))]
    for level in (0.95, 0.5):
        table, bx, by = stats.stratified_paired(strata, 2, n_resamples=400, seed=2, level=level, return_draws=True)
        assert bx.shape == by.shape == (400, 2)
        tail = (1 - level) / 2 * 100
        np.testing.assert_allclose(table[["diff_ci_low", "diff_ci_high"]].to_numpy().T,
                                   np.percentile(bx - by, [tail, 100 - tail], axis=0))
        np.testing.assert_allclose(table[["ci_low", "ci_high"]].to_numpy().T,
                                   np.percentile(100 * (bx / by - 1), [tail, 100 - tail], axis=0))
        # comparison 0 is column 0 of a and column 1 of b
        assert table.value[0] == pytest.approx(0.5 * x[:20, 0].mean() + 0.5 * x[20:, 1].mean())
        assert table.baseline[1] == pytest.approx(0.5 * y[:20, 1].mean() + 0.5 * y[20:, 0].mean())
        np.testing.assert_allclose(bx.mean(axis=0), table.value, atol=0.02)
    narrow = stats.stratified_paired(strata, 2, n_resamples=400, seed=2, level=0.5)
    wide = stats.stratified_paired(strata, 2, n_resamples=400, seed=2)
    assert ((narrow.ci_high - narrow.ci_low) < (wide.ci_high - wide.ci_low)).all()


def test_draws_do_not_depend_on_the_block_size(monkeypatch):
    rng = np.random.default_rng(7)
    x, y = rng.random((30, 1)), rng.random((30, 1))
    strata = [("s", x, y, np.array([0]), np.array([1.0]))]
    whole = stats.stratified_paired(strata, 1, n_resamples=100, seed=1)
    monkeypatch.setattr(stats, "BLOCK_ELEMENTS", 70)  # blocks of 2 resamples
    assert list(stats._blocks(5, 30)) == [slice(0, 2), slice(2, 4), slice(4, 5)]
    pd.testing.assert_frame_equal(stats.stratified_paired(strata, 1, n_resamples=100, seed=1), whole)


def test_a_baseline_of_zero_has_a_difference_but_no_percent_change():
    x = np.array([[0.2], [0.4], [0.3]])
    res = stats.stratified_paired([("s", x, np.zeros_like(x), np.array([0]), np.array([1.0]))], 1, n_resamples=50)
    row = res.iloc[0]
    assert row["diff"] == pytest.approx(0.3) and 0.2 <= row.diff_ci_low <= row.diff_ci_high <= 0.4
    assert np.isnan(row.change_pct) and np.isnan(row.ci_low) and np.isnan(row.ci_high)


def test_a_baseline_that_is_zero_in_some_resamples_has_no_percent_ci():
    y = np.array([[0.0], [0.0], [0.0], [0.0], [1.0]])  # resamples without the last query: baseline 0
    res = stats.stratified_paired([("s", y + 0.1, y, np.array([0]), np.array([1.0]))], 1, n_resamples=200).iloc[0]
    assert res.change_pct == pytest.approx(50.0)
    assert np.isnan(res.ci_low) and np.isnan(res.ci_high) and not np.isnan(res.diff_ci_low)


def test_a_paired_test_needs_two_1d_samples_of_one_length():
    for x, y in ((np.ones(3), np.ones(2)), (np.ones((3, 1)), np.ones((3, 1))), (np.ones(0), np.ones(0))):
        message = f"x and y must be 1-D of the same non-zero length, got {x.shape} and {y.shape}"
        with pytest.raises(ValueError, match=re.escape(message)):
            stats.paired_test(x, y)


def test_a_paired_test_reports_value_baseline_and_change():
    x, y = np.array([0.5, 0.6, 0.7, 0.8]), np.array([0.4, 0.6, 0.5, 0.8])
    res = stats.paired_test(x, y, n_resamples=100)
    assert (res["value"], res["baseline"], res["diff"]) == pytest.approx((0.65, 0.575, 0.075))
    assert res["change_pct"] == pytest.approx(100 * (0.65 / 0.575 - 1))
    assert set(res) == {"value", "baseline", "diff", "diff_ci_low", "diff_ci_high", "change_pct", "ci_low",
                        "ci_high", "p_value"}
    half = stats.paired_test(x, y, n_resamples=100, level=0.5)
    assert half["diff_ci_high"] - half["diff_ci_low"] < res["diff_ci_high"] - res["diff_ci_low"]


def test_holm_edges():
    assert stats.holm([]).tolist() == []
    assert np.isnan(stats.holm([np.nan])).all()
    assert stats.holm([0.04]).tolist() == [0.04]
    # equal p-values: the adjusted values never decrease along the sorted order
    np.testing.assert_allclose(stats.holm([0.02, 0.02, 0.5]), [0.06, 0.06, 0.5])


# --- tidy results → comparisons: edges ----------------------------------------------------------------------------


def test_baseline_ids_per_model_and_collection():
    tidy, _ = _synthetic_results()
    assert stats.baseline_ids(tidy) == {("m", "big"): "float32|big", ("m", "small"): "float32|small"}
    assert stats.baseline_ids(tidy, {"format": "good"}) == {("m", "big"): "good|big", ("m", "small"): "good|small"}
    with pytest.raises(ValueError, match="several baseline configurations for one model and collection"):
        stats.baseline_ids(tidy, {"reducer": "none"})


def test_compare_names_missing_per_query_scores():
    tidy, per_query = _synthetic_results()
    pairs = pd.DataFrame({"group": [0], "dataset": ["big"], "config_id": ["nope|big"], "baseline_id": ["float32|big"],
                          "weight": [1.0]})
    with pytest.raises(ValueError, match=r"no per-query scores on big for \['nope\|big'\]"):
        stats.compare(pairs, per_query)
    assert stats.compare(pairs.iloc[:0], per_query, n_resamples=10).empty


def test_compare_leaves_out_queries_a_side_has_no_score_for():
    tidy, per_query = _synthetic_results()
    pairs = pd.DataFrame({"group": [0], "dataset": ["small"], "config_id": ["bad|small"],
                          "baseline_id": ["float32|small"], "weight": [1.0]})
    gappy = per_query.copy()
    gappy.loc[(gappy.config_id == "bad|small") & (gappy.query_id == "q0"), "ndcg_at_10"] = np.nan
    res = stats.compare(pairs, gappy, n_resamples=20).iloc[0]
    base = per_query[(per_query.config_id == "float32|small") & (per_query.query_id != "q0")].ndcg_at_10
    assert res.baseline == pytest.approx(base.mean())
    assert res["diff"] == pytest.approx(-0.2)
    mrr = stats.compare(pairs, gappy, metric="mrr_at_10", n_resamples=20).iloc[0]  # q0 has an mrr score
    assert mrr.baseline == pytest.approx(per_query[per_query.config_id == "float32|small"].mrr_at_10.mean())


def test_annotate_tidy_against_another_baseline_and_level_of_significance():
    tidy, per_query = _synthetic_results()
    stale = tidy.assign(p_value=0.5, significant=True)  # columns of an earlier annotation are replaced
    out = stats.annotate_tidy(stale, per_query, baseline={"format": "good"}, alpha=1e-9, n_resamples=500)
    nd = out[out.metric == "ndcg_at_10"].set_index("config_id")
    assert nd.loc["good|big", ["diff", "p_value", "p_holm"]].isna().all()
    assert nd.loc["float32|big", "diff"] == pytest.approx(nd.loc["bad|big", "diff"] + 0.2)  # bad = float32 - 0.2
    assert not nd.significant.fillna(False).any()  # nothing is significant at alpha = 1e-9
    assert nd.loc["bad|big", "p_value"] == pytest.approx(1 / 501)
    assert str(out.significant.dtype) == "boolean" and len(out) == len(tidy)
    assert out[out.metric == "mrr_at_10"][["p_value", "significant"]].isna().all().all()
    halved = per_query.assign(mrr_at_10=per_query.ndcg_at_10 / 2)
    mrr = stats.annotate_tidy(tidy, halved, metric="mrr_at_10", n_resamples=200)
    assert mrr[mrr.metric == "mrr_at_10"].p_value.notna().sum() == 4
    assert mrr[(mrr.metric == "mrr_at_10") & (mrr.config_id == "bad|big")]["diff"].item() == pytest.approx(-0.1)


def test_add_significance_with_nothing_to_compare_adds_empty_columns():
    from study.analysis.report import summarise

    tidy, per_query = _synthetic_results()
    only_base = tidy[tidy.format == "float32"]
    summary = summarise(only_base, ["format"])
    out = stats.add_significance(summary, only_base, per_query, ["format"], n_resamples=100)
    cols = ["diff", "diff_ci_low", "diff_ci_high", "ci_low", "ci_high", "p_value", "p_holm", "significant"]
    assert out.columns.tolist() == [*summary.columns, *cols] and out[cols].isna().all().all()
    with pytest.raises(ParameterError, match="weighting"):
        stats.add_significance(summarise(tidy, ["format"]), tidy, per_query, ["format"], "queries", n_resamples=10)


def test_add_significance_against_another_baseline_at_another_alpha():
    from study.analysis.report import summarise

    tidy, per_query = _synthetic_results()
    summary = summarise(tidy, ["format"])
    usual = stats.add_significance(summary, tidy, per_query, ["format"], n_resamples=300).set_index("format")
    out = stats.add_significance(summary, tidy, per_query, ["format"], baseline={"format": "good"}, alpha=1e-9,
                                 n_resamples=300).set_index("format")
    assert out.loc["good", ["diff", "p_value"]].isna().all()
    assert out.loc["float32", "diff"] == pytest.approx(-usual.loc["good", "diff"])
    assert out.loc["bad", "p_value"] == pytest.approx(1 / 301) and not out.loc["bad", "significant"]
    assert usual.loc["bad", "significant"]
    halved = per_query.assign(mrr_at_10=per_query.ndcg_at_10 / 2)
    mrr = stats.add_significance(summarise(tidy, ["format"], metric="mrr_at_10"), tidy, halved, ["format"],
                                 metric="mrr_at_10", n_resamples=300).set_index("format")
    assert mrr.loc["bad", "diff"] == pytest.approx(-0.1)


def test_paired_differences_compare_two_configurations_on_the_same_queries():
    tidy, per_query = _synthetic_results()
    score = per_query.set_index("config_id").ndcg_at_10
    texts = {"big": 5000, "small": 100}
    for weighting, w in (("texts", texts), ("none", {"big": 1, "small": 1})):
        res = stats.paired_difference(per_query, tidy, ["bad|big", "bad|small"], ["good|big", "good|small"],
                                      weighting=weighting, n_resamples=200)
        total = sum(w.values())
        bad = sum(w[d] * score[f"bad|{d}"].mean() for d in w) / total
        good = sum(w[d] * score[f"good|{d}"].mean() for d in w) / total
        assert (res["value"], res["baseline"]) == pytest.approx((bad, good))
        assert res["diff_ci_high"] < 0 and res["p_value"] == pytest.approx(1 / 201)
    both = stats.paired_differences(per_query, tidy, [(["bad|big"], ["good|big"]), (["good|small"], ["bad|small"])],
                                    n_resamples=200)
    assert len(both) == 2 and both["diff"].tolist() == pytest.approx(
        [score["bad|big"].mean() - score["good|big"].mean(), score["good|small"].mean() - score["bad|small"].mean()])
    assert stats.paired_differences(per_query, tidy, []).empty
    with pytest.raises(ValueError, match="the two configurations must be given on the same collections"):
        stats.paired_differences(per_query, tidy, [(["bad|big", "bad|small"], ["good|small", "good|big"])])
    halved = per_query.assign(mrr_at_10=per_query.ndcg_at_10 / 2)
    res = stats.paired_difference(halved, tidy, ["bad|big"], ["good|big"], metric="mrr_at_10", n_resamples=50)
    assert res["value"] == pytest.approx(score["bad|big"].mean() / 2)


# --- resampling: every query, independent streams, stratified ----------------------------------------------------


def test_the_bootstrap_draws_every_query():
    # two queries: a quarter of the resamples take query 0 twice, a quarter query 1 twice
    assert stats.bootstrap_ci(np.array([0.0, 1.0]), n_resamples=1000) == (0.0, 1.0)
    assert stats.bootstrap_ci(np.array([0.0, 1.0]), n_resamples=1000, level=0.4) == (0.5, 0.5)


def test_the_sign_flips_are_drawn_independently_of_the_resamples():
    # x = (a, b), y = x - 1: every flip of a sign pattern with equal signs is as extreme as the observed difference;
    # a resample whose mean is not (a + b) / 2 took one query twice. Drawn from one stream, the two counts would match.
    x = np.array([0.2, 0.8])
    res, bx, _ = stats.stratified_paired([("s", x[:, None], x[:, None] - 1, np.array([0]), np.array([1.0]))], 1,
                                         n_resamples=2000, seed=3, return_draws=True)
    extreme = round(res.p_value[0] * 2001) - 1
    one_query_twice = int((~np.isclose(bx[:, 0], 0.5)).sum())
    assert abs(extreme - 1000) < 100 and abs(one_query_twice - 1000) < 100  # each about half
    assert extreme != one_query_twice


def test_collections_with_the_same_scores_are_resampled_independently():
    x = np.random.default_rng(8).random((50, 1))
    one = stats.stratified_paired([("a", x, x * 0.9, np.array([0]), np.array([1.0]))], 1, n_resamples=2000).iloc[0]
    two = stats.stratified_paired([("a", x, x * 0.9, np.array([0]), np.array([0.5])),
                                   ("b", x, x * 0.9, np.array([0]), np.array([0.5]))], 1, n_resamples=2000).iloc[0]
    assert two["diff"] == pytest.approx(one["diff"])
    # two independent halves: the CI of their mean is about 1/sqrt(2) as wide (identical draws: as wide)
    ratio = (two.diff_ci_high - two.diff_ci_low) / (one.diff_ci_high - one.diff_ci_low)
    assert 0.6 < ratio < 0.8


def test_compare_resamples_each_collection_on_its_own_stream():
    x = np.random.default_rng(12).random(50)
    per_query = pd.DataFrame({"dataset": np.repeat(["a", "b"], 100), "query_id": np.tile(np.arange(50), 4),
                              "config_id": np.tile(np.repeat(["new", "old"], 50), 2),
                              "ndcg_at_10": np.tile(np.r_[x, x * 0.9], 2)})
    pairs = pd.DataFrame({"group": 0, "dataset": ["a", "b"], "config_id": "new", "baseline_id": "old",
                          "weight": [0.5, 0.5]})
    two = stats.compare(pairs, per_query, n_resamples=2000).iloc[0]
    one = stats.compare(pairs.iloc[:1].assign(weight=1.0), per_query, n_resamples=2000).iloc[0]
    ratio = (two.diff_ci_high - two.diff_ci_low) / (one.diff_ci_high - one.diff_ci_low)
    assert 0.6 < ratio < 0.8  # the same scores in two collections, resampled independently


def test_the_stratified_sign_flip_test_matches_exact_enumeration():
    a, b = np.array([0.3, -0.1, 0.25, 0.2]), np.array([-0.2, 0.1, -0.05])
    w = np.array([0.7, 0.3])
    strata = [("a", a[:, None], np.zeros((4, 1)), np.array([0]), w[:1]),
              ("b", b[:, None], np.zeros((3, 1)), np.array([0]), w[1:])]
    observed = abs(w[0] * a.mean() + w[1] * b.mean())
    flips = np.array(list(itertools.product([-1, 1], repeat=7)))
    stat = w[0] * flips[:, :4] @ a / 4 + w[1] * flips[:, 4:] @ b / 3
    exact = (np.abs(stat) >= observed - 1e-12).mean()
    estimate = stats.stratified_paired(strata, 1, n_resamples=40_000).p_value[0]
    assert abs(estimate - exact) < 0.01


def test_boolean_hits_are_scores_of_0_and_1():
    hits = np.array([[True], [False], [True], [True]])
    misses = np.array([[False], [False], [True], [False]])
    res = stats.stratified_paired([("s", hits, misses, np.array([0]), np.array([1.0]))], 1, n_resamples=50).iloc[0]
    assert (res.value, res.baseline, res["diff"]) == pytest.approx((0.75, 0.25, 0.5))


def test_a_zero_baseline_is_no_warning_and_leaves_the_other_comparisons_their_ci():
    x = np.random.default_rng(9).random((20, 3))
    x[:, 2] = 0.0  # nothing found by either: 0 / 0
    y = np.c_[np.zeros(20), x[:, 1] * 0.9, np.zeros(20)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = stats.stratified_paired([("s", x, y, np.array([0, 1, 2]), np.ones(3))], 3, n_resamples=100)
    assert res.loc[[0, 2], ["change_pct", "ci_low", "ci_high"]].isna().all().all()
    assert res.ci_low[1] == pytest.approx(100 * (1 / 0.9 - 1)) and res.ci_high[1] == pytest.approx(res.ci_low[1])


def test_the_seed_and_level_reach_every_helper():
    diffs = np.random.default_rng(10).normal(0.01, 0.1, 60)
    assert stats.sign_flip_test(diffs, n_resamples=300, seed=1) != stats.sign_flip_test(diffs, n_resamples=300, seed=2)
    low, high = stats.bootstrap_ci(diffs, n_resamples=300, level=0.5)
    wide_low, wide_high = stats.bootstrap_ci(diffs, n_resamples=300)
    assert wide_low < low < high < wide_high
    tidy, per_query = _synthetic_results()
    noisy = per_query.assign(ndcg_at_10=per_query.ndcg_at_10 + np.random.default_rng(11).normal(0, 0.05,
                                                                                               len(per_query)))

    def annotated(seed: int) -> float:
        out = stats.annotate_tidy(tidy, noisy, n_resamples=200, seed=seed)
        return out.set_index(["config_id", "metric"]).ci_low["good|big", "ndcg_at_10"]

    assert annotated(1) == annotated(1) != annotated(2)
    summary = summarise(tidy, ["format"])
    first, second = (stats.add_significance(summary, tidy, noisy, ["format"], n_resamples=200, seed=s)
                     .set_index("format").ci_low["good"] for s in (1, 2))
    assert first != second

    def difference(seed: int) -> float:
        return stats.paired_difference(noisy, tidy, ["bad|big"], ["good|big"], n_resamples=200, seed=seed)["ci_low"]

    assert difference(1) == difference(1) != difference(2)


# --- the tidy helpers on one metric, duplicates, boundaries ---------------------------------------------------------


def one_metric() -> tuple[pd.DataFrame, pd.DataFrame]:
    tidy, per_query = _synthetic_results()
    return tidy[tidy.metric == "ndcg_at_10"], per_query


def test_the_helpers_work_on_a_table_of_one_metric():
    tidy, per_query = one_metric()
    nd = stats.annotate_tidy(tidy, per_query, n_resamples=200).set_index("config_id")
    assert nd.loc["bad|big", "diff"] == pytest.approx(-0.2) and nd.loc["bad|big", "significant"]
    out = stats.add_significance(summarise(tidy, ["format"]), tidy, per_query, ["format"], n_resamples=200)
    assert out.set_index("format").loc["bad", "diff"] == pytest.approx(-0.2)
    res = stats.paired_difference(per_query, tidy, ["bad|big"], ["float32|big"], n_resamples=50)
    assert res["diff"] == pytest.approx(-0.2)


def test_a_configuration_in_two_stage_files_is_tested_once():
    tidy, per_query = one_metric()
    twice = pd.concat([tidy, tidy[tidy.format == "bad"].assign(stage="06")], ignore_index=True)
    once = stats.annotate_tidy(tidy, per_query, n_resamples=200)
    out = stats.annotate_tidy(twice, per_query, n_resamples=200)
    assert len(out) == len(twice)
    # the same four tests, so the same Holm correction
    np.testing.assert_array_equal(out.p_holm[: len(tidy)].to_numpy(), once.p_holm.to_numpy())
    res = stats.paired_difference(per_query, twice, ["bad|big"], ["good|big"], n_resamples=50)
    assert res["diff"] == pytest.approx(-0.2, abs=0.01)


def test_significant_means_strictly_below_alpha():
    tidy, per_query = one_metric()
    single = tidy[tidy.format.isin(["float32", "bad"]) & (tidy.dataset == "big")]
    out = stats.annotate_tidy(single, per_query, alpha=0.05, n_resamples=19).set_index("config_id")
    assert out.loc["bad|big", "p_holm"] == 0.05 and not out.loc["bad|big", "significant"]  # p = 1 / (1 + 19)
    assert stats.annotate_tidy(single, per_query, alpha=0.0501, n_resamples=19).significant.any()
    summary = summarise(single, ["format"])
    row = stats.add_significance(summary, single, per_query, ["format"], alpha=0.05, n_resamples=19).iloc[-1]
    assert row.format == "bad" and row.p_holm == 0.05 and not row.significant


def test_add_significance_marks_significance_as_a_nullable_boolean_and_keeps_empty_keys():
    tidy, per_query = one_metric()
    summary = summarise(tidy, ["format"])
    tidy = tidy.assign(variant=[np.nan if f == "bad" else "x" for f in tidy.format])
    summary["variant"] = [np.nan if f == "bad" else "x" for f in summary.format]  # a summary row without a variant
    out = stats.add_significance(summary, tidy, per_query, ["format", "variant"], n_resamples=200)
    assert str(out.significant.dtype) == "boolean"
    bad = out.set_index("format").loc["bad"]
    assert bad["diff"] == pytest.approx(-0.2) and bad.significant


def test_the_messages_name_what_is_wrong():
    tidy, per_query = _synthetic_results()
    with pytest.raises(ParameterError) as err:
        stats.add_significance(summarise(tidy, ["format"]), tidy, per_query, ["format"], "queries", n_resamples=10)
    assert str(err.value) == "parameter 'weighting': invalid value 'queries'; allowed: texts, none"
    with pytest.raises(ValueError) as err:
        stats.baseline_ids(tidy, {"reducer": "none"})
    assert str(err.value) == "several baseline configurations for one model and collection; narrow `baseline`"
    with pytest.raises(ValueError) as err:
        stats.paired_differences(per_query, tidy, [(["bad|big", "bad|small"], ["good|small", "good|big"])])
    assert str(err.value) == "the two configurations must be given on the same collections, in the same order"
    pairs = pd.DataFrame({"group": range(4), "dataset": "big", "config_id": ["d|big", "c|big", "b|big", "a|big"],
                          "baseline_id": "float32|big", "weight": 1.0})
    with pytest.raises(ValueError) as err:
        stats.compare(pairs, per_query)
    assert str(err.value) == "no per-query scores on big for ['a|big', 'b|big', 'c|big']"  # the first three


def test_compare_leaves_out_queries_the_baseline_has_no_score_for_and_returns_draws():
    tidy, per_query = _synthetic_results()
    pairs = pd.DataFrame({"group": [0], "dataset": ["small"], "config_id": ["bad|small"],
                          "baseline_id": ["float32|small"], "weight": [1.0]})
    gappy = per_query.copy()
    gappy.loc[(gappy.config_id == "float32|small") & (gappy.query_id == "q1"), "ndcg_at_10"] = np.nan
    table, bx, by = stats.compare(pairs, gappy, n_resamples=30, return_draws=True)
    kept = per_query[(per_query.config_id == "bad|small") & (per_query.query_id != "q1")].ndcg_at_10
    assert table.value[0] == pytest.approx(kept.mean()) and table["diff"][0] == pytest.approx(-0.2)
    assert bx.shape == by.shape == (30, 1)


def test_holm_treats_none_as_missing_and_caps_at_one():
    out = stats.holm([0.01, None, 0.02])
    assert np.isnan(out[1]) and np.allclose(out[[0, 2]], [0.02, 0.02])
    np.testing.assert_allclose(stats.holm([0.6, 0.7]), [1.0, 1.0])  # 1.2 and 0.7 before the cap
