"""A frontier and a ``select`` that respect uncertainty: a configuration counts as better than a cheaper one only
when its paired 95 % CI says so, and ``select`` recommends the cheapest configuration that fits and is not
significantly worse than the best one that fits, with a quality floor.

Per-query scores are drawn by hand so that what is and is not significant is known: ``half`` is float32 plus
noise of mean zero (indistinguishable), ``quarter`` loses about 10 %, ``tiny`` about 40 %, ``lucky`` is float32
plus noise with a small positive mean that its CI cannot tell from 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from study.analysis import stats, tradeoff
from study.core.errors import ParameterError

MODEL = "minilm-l6"
QUERIES = {"d1": 300, "d2": 200}
CONFIGS = {  # format: (bytes per vector, shift of the per-query mean, noise)
    "float32": (1536, 0.0, 0.0),
    "lucky": (1600, 0.004, 0.05),
    "half": (768, 0.0, 0.05),
    "quarter": (384, -0.06, 0.05),
    "tiny": (48, -0.24, 0.05),
}


@pytest.fixture(scope="module")
def scored() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    tidy, per_query = [], []
    for dataset, n in QUERIES.items():
        base = rng.uniform(0.3, 0.9, n)
        for fmt, (size, shift, noise) in CONFIGS.items():
            values = np.clip(base + shift + noise * rng.standard_normal(n), 0, 1) if noise else base
            cid = f"{fmt}|{dataset}"
            per_query.append(pd.DataFrame({"config_id": cid, "dataset": dataset, "query_id": [f"q{i}" for i in
                                                                                               range(n)],
                                           "ndcg_at_10": values}))
            tidy.append({"model": MODEL, "dataset": dataset, "split": "test", "stage": "02", "reducer": "none",
                         "fraction": 1.0, "fit_on": "none", "format": fmt, "calibrate_on": "none", "rescore": "none",
                         "query_format": "same", "metric": "ndcg_at_10", "value": float(values.mean()),
                         "bytes_per_vector": size, "overhead_bytes": 0, "n_texts": n, "config_id": cid})
    return pd.DataFrame(tidy), pd.concat(per_query, ignore_index=True)


@pytest.fixture(scope="module")
def configs_and_draws(scored):
    tidy, per_query = scored
    configs = tradeoff.configurations(tidy)
    rows = tradeoff.configuration_rows(tidy, configs)
    return tradeoff.with_intervals(configs, rows, per_query), tradeoff.value_draws(configs, rows, per_query)


def position(configs: pd.DataFrame, fmt: str) -> int:
    return int(np.flatnonzero(configs.format.to_numpy() == fmt)[0])


def test_the_draws_give_the_paired_ci_of_a_direct_comparison(scored, configs_and_draws):
    tidy, per_query = scored
    configs, draws = configs_and_draws
    for a, b in [("half", "float32"), ("quarter", "half"), ("lucky", "float32")]:
        low, high = draws.interval([position(configs, a)], [position(configs, b)])
        direct = stats.paired_difference(per_query, tidy, [f"{a}|d1", f"{a}|d2"], [f"{b}|d1", f"{b}|d2"])
        assert (low[0], high[0]) == pytest.approx((direct["diff_ci_low"], direct["diff_ci_high"]), abs=1e-12)
        assert draws.draws[:, position(configs, a)].mean() == pytest.approx(
            configs.value[position(configs, a)], abs=0.01)


def test_what_is_significant_is_what_was_built(configs_and_draws):
    configs, draws = configs_and_draws
    at = {f: position(configs, f) for f in CONFIGS}
    better = draws.significantly_better([at["half"], at["quarter"], at["float32"], at["lucky"], at["float32"]],
                                        [at["quarter"], at["tiny"], at["half"], at["float32"], at["lucky"]])
    assert better.tolist() == [True, True, False, False, False]
    assert tradeoff.same_as_float32(configs).to_numpy()[[at["half"], at["lucky"], at["quarter"]]].tolist() == [
        True, True, False]


def test_a_column_without_scores_is_never_significant():
    draws = tradeoff.Draws(np.array([[1.0, np.nan], [2.0, np.nan], [3.0, np.nan]]))
    assert draws.significantly_better([0, 1], [1, 0]).tolist() == [False, False]
    assert np.isnan(draws.interval([0], [1])[0]).all()


def test_the_frontier_steps_up_only_where_the_ci_says_so(configs_and_draws):
    configs, draws = configs_and_draws
    steps = configs.format[tradeoff.frontier_mask(configs, draws)].tolist()
    assert steps == ["tiny", "quarter", "half"]  # float32 and lucky are inside half's CI: no step up
    points = configs.format[configs.on_frontier].tolist()  # the point-estimate frontier follows the noise
    assert "float32" in points or "lucky" in points


def test_the_frontier_compares_with_the_best_cheaper_configuration_not_the_last_step():
    configs = pd.DataFrame({"model": MODEL, "bytes_per_vector": [10, 20, 30], "change_pct": [-10.0, -5.0, -4.0]})
    # 20 B is not significantly better than 10 B (no step); 30 B is better than 10 B but not than 20 B
    draws = tradeoff.Draws(np.array([[0.0, -0.5, 1.0], [0.1, 1.5, 1.1], [0.2, 0.6, 1.2]]))
    assert tradeoff.frontier_mask(configs, draws).tolist() == [True, False, False]
    assert tradeoff.frontier_mask(configs.assign(change_pct=[-10.0, -11.0, -4.0]), draws).tolist() == [
        True, False, True]  # with 20 B worse than 10 B, 30 B is compared with 10 B: a step up


def test_select_recommends_the_cheapest_not_significantly_worse_than_the_best(scored):
    tidy, per_query = scored
    chosen = tradeoff.select("10MB", 1000, tidy, per_query=per_query)
    assert chosen.tested and chosen.top.format in ("lucky", "float32")
    assert chosen.recommended.format == "half"
    assert sorted(chosen.runners_up.format) == ["float32", "lucky"] and chosen.n_tied == 3
    assert "Runners-up it could not tell apart:" in chosen.describe()
    assert "the cheapest of 3 that fit and are not significantly worse" in chosen.describe()


def test_a_margin_accepts_what_lies_within_it_and_only_that(scored, configs_and_draws):
    tidy, per_query = scored
    configs, draws = configs_and_draws
    at = {f: position(configs, f) for f in CONFIGS}
    # quarter is about 0.06 below half: outside a margin of 0.03, inside one of 0.1
    assert [draws.relations([at["quarter"], at["half"]], m)[0][1] for m in (0.0, 0.03, 0.1)] == ["0", "0", "1"]
    assert draws.relations([at["half"], at["quarter"]], 0.1)[0][1] == "2"  # "better" does not move with the margin
    for margin, expected in [(0.0, "half"), (0.03, "half"), (0.1, "quarter")]:
        chosen = tradeoff.select("10MB", 1000, tidy, per_query=per_query, max_loss=50, margin=margin)
        assert chosen.recommended.format == expected and chosen.margin == margin
    text = tradeoff.select("10MB", 1000, tidy, per_query=per_query, max_loss=50, margin=0.1).describe()
    assert "not significantly more than 0.1 nDCG@10 below the best" in text and "Runners-up within the margin:" in text
    # the quality floor still keeps a tie inside the margin that loses more than max_loss from being chosen
    assert tradeoff.select("10MB", 1000, tidy, per_query=per_query, margin=0.1).recommended.format == "half"


@pytest.mark.parametrize("bad", [-0.01, 1, 1.5, True, "0.05", float("nan")])
def test_a_bad_margin_is_one_line_naming_it(scored, bad):
    tidy, per_query = scored
    with pytest.raises(ParameterError, match=r"margin.*0 ≤ margin < 1"):
        tradeoff.select("10MB", 1000, tidy, per_query=per_query, margin=bad)


def test_without_per_query_scores_select_ranks_by_point_estimate_and_says_so(scored):
    tidy, _ = scored
    chosen = tradeoff.select("10MB", 1000, tidy)
    assert not chosen.tested and chosen.recommended.format == chosen.top.format
    assert "differences were not tested" in chosen.describe()


def test_below_the_floor_select_says_nothing_is_good_enough_and_what_it_would_need(scored):
    tidy, per_query = scored
    chosen = tradeoff.select(100 * 1000, 1000, tidy, per_query=per_query)  # only tiny (48 kB) fits
    assert chosen.recommended.format == "tiny" and not chosen.good_enough
    assert chosen.needed_bytes == 768 * 1000 and chosen.needed.format == "half"  # the cheapest within 5 %
    text = chosen.describe()
    assert "Nothing in this budget is good enough" in text and "needs 768 kB (750 KiB) for 1,000 vectors: half" in text
    relaxed = tradeoff.select(100 * 1000, 1000, tidy, per_query=per_query, max_loss=50)
    assert relaxed.good_enough and relaxed.needed_bytes is None and "good enough" not in relaxed.describe()


def test_the_floor_default_is_stated_and_checked():
    assert tradeoff.DEFAULT_MAX_LOSS == 5.0
    for bad in (-1, "5", True, float("inf"), float("nan")):
        with pytest.raises(ParameterError, match="max_loss"):
            tradeoff.check_max_loss(bad)


def test_selections_apply_the_same_rule_as_select(scored, configs_and_draws):
    tidy, per_query = scored
    configs, draws = configs_and_draws
    table = tradeoff.selections(configs, [1000], {"big": 10**7, "small": 100_000}, draws)
    big, small = table.set_index("budget").loc["big"], table.set_index("budget").loc["small"]
    chosen = tradeoff.select(10**7, 1000, tidy, per_query=per_query)
    assert (big.configuration, big.top, big.n_tied) == (chosen.recommended.label, chosen.top.label, 3)
    assert big.good_enough and np.isnan(big.needed_bytes)
    assert big.ci_low <= 0 <= big.ci_high  # half: no different from float32
    assert (small.configuration, small.good_enough, small.needed_bytes) == ("tiny", False, 768_000)
    untested = tradeoff.selections(configs, [1000], {"big": 10**7})
    assert untested.configuration[0] == untested.top[0] and untested.n_tied[0] == 1


def test_at_scale_with_draws_keeps_only_the_steps_the_ci_allows(configs_and_draws):
    configs, draws = configs_and_draws
    scaled = tradeoff.at_scale(configs, 1000, draws)
    assert scaled.format[scaled.on_frontier].tolist() == ["tiny", "quarter", "half"]


def test_with_uncertainty_replaces_the_frontier_and_keeps_the_point_one(scored):
    tidy, per_query = scored
    configs = tradeoff.configurations(tidy)
    tested, draws = tradeoff.with_uncertainty(configs, tidy, per_query)
    assert tested.format[tested.on_frontier].tolist() == ["tiny", "quarter", "half"]
    assert tested.on_point_frontier.tolist() == configs.on_frontier.tolist()
    assert tested.same_as_float32[tested.format == "half"].item() and draws.draws.shape == (stats.N_RESAMPLES, 5)
    untested, none = tradeoff.with_uncertainty(configs, tidy, None)
    assert none is None and untested.on_frontier.tolist() == configs.on_frontier.tolist()
    assert untested.ci_low.isna().all() and not untested.same_as_float32.any()


def test_the_frontier_reads_draws_by_index_whatever_the_rows_order_or_subset(configs_and_draws):
    configs, draws = configs_and_draws
    shuffled = configs.iloc[[3, 0, 4, 2, 1]]
    assert shuffled.format[tradeoff.frontier_mask(shuffled, draws)].tolist() == [
        f for f in shuffled.format if f in ("tiny", "quarter", "half")]
    subset = configs[configs.format.isin(["float32", "quarter", "lucky"])]
    assert subset.format[tradeoff.frontier_mask(subset, draws)].tolist() == ["quarter", "float32"]  # lucky: no step


def test_a_best_without_scores_is_still_chosen_and_ties_with_nothing(configs_and_draws):
    configs, draws = configs_and_draws
    blind = tradeoff.Draws(draws.draws.copy())
    blind.draws[:, position(configs, "lucky")] = np.nan  # the best point estimate has no per-query scores
    recommended, others, top = tradeoff.choose(tradeoff.at_scale(configs, 1000), blind)
    assert recommended.format == top.format == "lucky" and others.empty


def test_among_ties_the_cheapest_that_clears_the_floor_is_recommended(configs_and_draws):
    """A tie a few bytes cheaper never drops the choice below the quality floor: half, float32 and lucky cannot be
    told apart; with half made to lose 6 % (the floor: 5 %), the cheapest tie that clears the floor is float32."""
    configs, draws = configs_and_draws
    scaled = tradeoff.at_scale(configs, 1000, draws)
    fitting = scaled[scaled.format.isin(["float32", "lucky", "half"])].copy()
    assert tradeoff.choose(fitting, draws)[0].format == "half"  # no floor: the cheapest tie
    fitting.loc[fitting.format == "half", "loss_pct"] = 6.0
    pick, others, top = tradeoff.choose(fitting, draws, max_loss=5.0)
    assert pick.format == "float32" and set(others.format) == {"half", "lucky"}
    assert tradeoff.choose(fitting, draws, max_loss=7.0)[0].format == "half"  # half clears a 7 % floor
    fitting["loss_pct"] = 6.0  # no tie clears it: the cheapest tie, flagged by select
    assert tradeoff.choose(fitting, draws, max_loss=5.0)[0].format == "half"
