"""Verdicts with uncertainty: CI-based holds / fails / undecided, and leave-one-collection-out fragility."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from study.analysis import scorecard, stats, verdicts
from study.analysis.comparison import config_key, deduplicate, normalise_keys
from study.analysis.verdicts import (
    Check,
    Condition,
    Evidence,
    Outcome,
    Term,
    ci_text,
    combine_states,
    evaluate,
    state_of,
)


def synthetic(shifts: dict[str, dict[str, float]], n: int = 200, seed: int = 0, texts=None):
    """Tidy rows + per-query scores: per configuration and collection, float32's per-query scores + a shift
    and noise (the baseline is 'float32')."""
    rng = np.random.default_rng(seed)
    texts = texts or {}
    tidy, per_query = [], []
    datasets = sorted({d for by in shifts.values() for d in by})
    base = {d: rng.uniform(0.2, 0.9, n) for d in datasets}
    for fmt, by in {"float32": {d: 0.0 for d in datasets}, **shifts}.items():
        for d, shift in by.items():
            scores = np.clip(base[d] + shift + (rng.normal(0, 0.05, n) if fmt != "float32" else 0), 0, 1)
            cid = f"{fmt}|{d}"
            per_query.append(pd.DataFrame({"config_id": cid, "dataset": d, "split": "test",
                                           "query_id": [f"q{i}" for i in range(n)], "ndcg_at_10": scores}))
            tidy.append({"model": "minilm-l6", "dataset": d, "split": "test", "stage": "02", "reducer": "none",
                         "fraction": 1.0, "fit_on": "none", "format": fmt, "calibrate_on": "none", "rescore": "none",
                         "query_format": "same", "metric": "ndcg_at_10", "value": float(scores.mean()),
                         "bytes_per_vector": 1536, "overhead_bytes": 0, "compression_ratio": 1.0, "n_queries": n,
                         "n_docs": 1000, "n_texts": texts.get(d, 1000 + n), "config_id": cid})
    return pd.DataFrame(tidy), pd.concat(per_query, ignore_index=True)


def evidence(tidy, per_query):
    rows = deduplicate(normalise_keys(tidy))
    rows = rows.assign(cfg_key=config_key(rows).to_numpy())
    keys = dict(zip(rows.format, rows.cfg_key))
    return Evidence(rows, per_query, n_resamples=2000), keys


def test_state_of_an_interval_against_a_bound():
    assert state_of(-0.3, np.inf, -0.2, 0.1) == "holds"
    assert state_of(-0.3, np.inf, -0.5, -0.4) == "fails"
    assert state_of(-0.3, np.inf, -0.5, 0.1) == "undecided"
    assert state_of(-np.inf, 1.0, 2.0, 3.0) == "fails"  # wholly above an upper bound
    assert state_of(0.0, 1.0, 0.5, 2.0) == "undecided"  # inside the lower bound, across the upper one


def test_state_of_is_strict_at_the_bounds():
    # the bounds are open: an interval touching one from inside does not hold, from outside fails
    assert state_of(0.0, np.inf, 0.0, 1.0) == "undecided"
    assert state_of(-np.inf, 0.0, -1.0, 0.0) == "undecided"
    assert state_of(0.0, np.inf, -1.0, 0.0) == "fails"
    assert state_of(-np.inf, 0.0, 0.0, 1.0) == "fails"
    assert state_of(0.0, 1.0, 0.0, 0.0) == "fails"  # a point verdict exactly at the bound


def test_combine_states_of_a_checks_conditions():
    assert combine_states(["holds"]) == "holds"
    assert combine_states(["holds", "holds"]) == "holds"
    assert combine_states(["holds", "undecided"]) == "undecided"
    assert combine_states(["undecided", "undecided"]) == "undecided"
    assert combine_states(["holds", "fails", "undecided"]) == "fails"
    assert combine_states(["fails"]) == "fails"
    assert combine_states(["holds", None]) is None
    assert combine_states([None]) is None
    assert combine_states([]) is None


def test_a_small_loss_is_undecided_and_a_large_one_decided():
    tidy, pq = synthetic({"tiny": {"d1": -0.002, "d2": -0.002}, "big": {"d1": -0.05, "d2": -0.05}})
    ev, keys = evidence(tidy, pq)
    checks = [Check("minilm-l6", name, [Condition([Term("minilm-l6", keys[name], keys["float32"], ("d1", "d2"),
                                                        "diff")], low=-0.001)]) for name in ("tiny", "big")]
    evaluate(checks, ev)
    tiny, big = checks
    assert tiny.result() == "undecided"  # -0.002 point estimate, CI crosses -0.001
    assert tiny.outcome["texts"].ci[0] < -0.001 < tiny.outcome["texts"].ci[1]
    assert big.result() == "fails" and big.outcome["texts"].ci[1] < -0.001
    # without per-query scores the same checks read their point verdicts
    point = [Check("minilm-l6", "tiny", [Condition([Term("minilm-l6", keys["tiny"], keys["float32"], ("d1", "d2"),
                                                         "diff")], low=-0.001)])]
    evaluate(point, Evidence(ev.rows, None))
    assert point[0].result() == "fails" and point[0].outcome["texts"].ci is None


def test_a_verdict_that_hinges_on_one_collection_is_fragile():
    # better on the big collection d3, worse on d1 and d2: the texts-weighted mean (+0.018) holds only with d3 in
    shifts = {"x": {"d1": -0.03, "d2": -0.03, "d3": 0.03}}
    tidy, pq = synthetic(shifts, texts={"d1": 1000, "d2": 1000, "d3": 8000})
    ev, keys = evidence(tidy, pq)
    check = Check("minilm-l6", "x gains", [Condition([Term("minilm-l6", keys["x"], keys["float32"],
                                                           ("d1", "d2", "d3"), "diff")], low=0.0)])
    evaluate([check], ev)
    assert check.outcome["texts"].point > 0
    assert check.result() == "holds" and check.fragile == ["d3"]
    assert check.outcome["none"].fragile == []  # fragility is read on the texts-weighted verdict only
    assert check.result("none") == "fails"  # unweighted, d3 no longer dominates: -0.01 on average


def test_scorecard_claims_carry_cis_sets_and_robustness():
    shifts = {f: {"d1": s, "d2": s} for f, s in {
        "float16": 0.0, "bfloat16": 0.0, "float8_e4m3": -0.0005, "float8_e5m2": -0.0005, "int8": -0.02,
        "binary": -0.055, "float4_e2m1": -0.5}.items()}
    tidy, pq = synthetic(shifts)
    claims = scorecard.scorecard(tidy, per_query=pq, n_resamples=2000)
    one = claims[0]
    assert one.ours["minilm-l6"].endswith(" (2 held-out collections)")
    assert one.sets["minilm-l6"].names == ("d1", "d2")
    # per-query noise (sd 0.05, 200 queries) gives CIs of about ±0.9 %: they straddle the 0.3 % (float8) and
    # 0.1 % (16-bit) bounds, and decide the checks whose shifts lie far from theirs
    assert {k.what: k.result() for k in one.checks} == {
        "float8 loses < 0.3 %": "undecided", "float8 loses less than int8": "holds", "binary loses 6–12 %": "holds",
        "float16/bfloat16 lose < 0.1 %": "undecided", "float4 loses > 50 %": "holds"}
    table = scorecard.checks_table(claims)
    binary = table[table.check == "binary loses 6–12 %"].iloc[0]
    lo, hi = one.checks[2].outcome["texts"].ci
    assert -12 < lo < hi < -6 and binary.statistic == one.checks[2].outcome["texts"].text()
    assert binary.fragile_without == "" and binary.collections == "2 collections (d1, d2)"
    cards = scorecard.as_table(claims)
    assert list(cards.verdict) == ["undecided", "not run", "not run", "undecided", "not run"]
    assert cards.robustness.iloc[0] == "robust"  # each collection alone gives the same point verdicts


@pytest.mark.parametrize("calibrate_on", ["mlquestions"])
def test_paper_faithful_variant_only(calibrate_on):
    shifts = {"float16": {"d1": 0.0, "d2": 0.0}, "int8": {"d1": -0.03, "d2": -0.03}}
    tidy, pq = synthetic(shifts)
    tidy.loc[tidy.format == "int8", "calibrate_on"] = calibrate_on
    self_cal = tidy[tidy.format == "int8"].assign(calibrate_on="self", value=lambda f: f.value + 0.02,
                                                   config_id=lambda f: f.config_id + "|self", stage="06")
    both = pd.concat([tidy, self_cal], ignore_index=True)
    paper = scorecard.paper_configurations(both, calibrate_on=calibrate_on)
    int8 = paper[paper.format == "int8"]
    assert len(int8) == 1 and int8.calibrate_on.iloc[0] == calibrate_on  # never the better @self variant


# --- Evidence: weights, points, draws ----------------------------------------------------------------------


def exact(losses: dict[str, dict[str, float]], texts=None, n: int = 40):
    """Noise-free tidy rows and per-query scores: float32 ``linspace(0.3, 0.9)`` on each collection (mean 0.6),
    each other configuration ``base + shift`` query by query (``losses``: name → collection → shift)."""
    texts = texts or {}
    base = np.linspace(0.3, 0.9, n)
    datasets = sorted({d for by in losses.values() for d in by})
    tidy, per_query = [], []
    for name, by in {"float32": {d: 0.0 for d in datasets}, **losses}.items():
        for d, shift in by.items():
            scores, cid = base + shift, f"{name}|{d}"
            per_query.append(pd.DataFrame({"config_id": cid, "dataset": d, "query_id": range(n),
                                           "ndcg_at_10": scores}))
            tidy.append({"model": "m", "dataset": d, "format": name, "metric": "ndcg_at_10",
                         "value": float(scores.mean()), "n_texts": texts.get(d, 100), "config_id": cid})
    rows = pd.DataFrame(tidy).assign(cfg_key=lambda f: f.format)
    return rows, pd.concat(per_query, ignore_index=True)


def term(a: str, collections=("d1", "d2"), kind: str = "change", b: str = "float32") -> Term:
    return Term("m", a, b, tuple(collections), kind)


def test_weights_are_texts_or_equal_and_sum_to_one():
    rows, pq = exact({"x": {"d1": 0.0, "d2": 0.0}}, texts={"d1": 300, "d2": 100})
    ev = Evidence(rows, pq)
    assert ev.weights(["d1", "d2"], "texts") == pytest.approx([0.75, 0.25])
    assert ev.weights(["d2", "d1"], "texts") == pytest.approx([0.25, 0.75])
    assert ev.weights(["d1", "d2"], "none") == pytest.approx([0.5, 0.5])
    with pytest.raises(ValueError, match=r"weighting must be one of \('texts', 'none'\)"):
        ev.weights(["d1"], "queries")


def test_rows_without_a_text_count_do_not_blank_a_collections_weight():
    # a later stage file without n_texts (NaN after concatenation): the collection keeps its first row's count
    rows, pq = exact({"x": {"d1": 0.0, "d2": 0.0}}, texts={"d1": 300, "d2": 100})
    later = rows[rows.format == "x"].assign(format="y", cfg_key="y", n_texts=np.nan)
    ev = Evidence(pd.concat([rows, later], ignore_index=True), pq)
    assert ev.weights(["d1", "d2"], "texts") == pytest.approx([0.75, 0.25])


def test_evidence_knows_which_configurations_were_scored_where():
    rows, pq = exact({"x": {"d1": 0.0, "d2": 0.0}, "y": {"d1": 0.0}})
    ev = Evidence(rows, pq)
    assert ev.has("m", "x", ["d1", "d2"]) and ev.has("m", "y", ["d1"])
    assert not ev.has("m", "y", ["d1", "d2"]) and not ev.has("m", "z", ["d1"]) and not ev.has("other", "x", ["d1"])


def test_a_terms_point_is_the_weighted_change_or_difference():
    # x scores 0.06 less on d1 (-10 % of 0.6) and 0.03 more on d2 (+5 %); texts 3:1
    rows, pq = exact({"x": {"d1": -0.06, "d2": 0.03}}, texts={"d1": 300, "d2": 100})
    ev = Evidence(rows, pq)
    assert ev.point(term("x"), "texts") == pytest.approx(100 * (0.6 - 0.75 * 0.06 + 0.25 * 0.03) / 0.6 - 100)
    assert ev.point(term("x"), "none") == pytest.approx(-2.5)
    assert ev.point(term("x", kind="diff"), "texts") == pytest.approx(-0.0375)
    assert ev.point(term("x"), "texts", without="d1") == pytest.approx(5.0)
    assert ev.point(term("x"), "texts", without="d2") == pytest.approx(-10.0)
    assert ev.point(term("x"), "texts", without="d9") == ev.point(term("x"), "texts")


def test_a_change_against_a_zero_baseline_is_undefined():
    change, diff = term("x"), term("x", kind="diff")
    values = Evidence.term_value(change, np.array([0.3, 0.2]), np.array([0.0, 0.4]))
    assert np.isnan(values[0]) and values[1] == pytest.approx(-50.0)
    assert Evidence.term_value(diff, np.array([0.3, 0.2]), np.array([0.0, 0.4])) == pytest.approx([0.3, -0.2])
    assert Evidence.term_value(change, np.array(0.5), np.array(0.4)) == pytest.approx(25.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # x / 0 and 0 / 0 are silent: the undefined change is NaN, no warning
        assert np.isnan(Evidence.term_value(change, np.array([0.3, 0.0]), np.array([0.0, 0.0]))).all()


def test_draws_resample_queries_with_the_evidences_settings():
    rows, pq = exact({"x": {"d1": -0.06, "d2": 0.03}})
    t = term("x", kind="diff")
    draws = Evidence(rows, pq, n_resamples=300).draws([t], "texts")
    assert list(draws) == [t] and draws[t].shape == (300,)
    # a shift of every query: every resample of the difference is the mean shift itself
    assert draws[t] == pytest.approx(np.full(300, -0.015))
    noisy_rows, noisy = exact({"x": {"d1": -0.06, "d2": 0.03}})
    noisy = noisy.assign(ndcg_at_10=noisy.ndcg_at_10 + np.random.default_rng(0).normal(0, 0.05, len(noisy)))
    a = Evidence(noisy_rows, noisy, n_resamples=300, seed=1).draws([t], "texts")[t]
    b = Evidence(noisy_rows, noisy, n_resamples=300, seed=2).draws([t], "texts")[t]
    assert not np.allclose(a, b)  # the seed is the evidence's
    expected = stats.compare(pd.DataFrame({"group": 0, "dataset": ["d1", "d2"], "config_id": ["x|d1", "x|d2"],
                                           "baseline_id": ["float32|d1", "float32|d2"], "weight": 0.5}),
                             noisy, "ndcg_at_10", 300, 1, return_draws=True)
    assert a == pytest.approx(expected[1][:, 0] - expected[2][:, 0])


def test_no_draws_without_per_query_scores_config_ids_or_terms():
    rows, pq = exact({"x": {"d1": 0.0, "d2": 0.0}})
    assert Evidence(rows, None).draws([term("x")], "texts") is None
    assert Evidence(rows.drop(columns="config_id"), pq).draws([term("x")], "texts") is None
    assert Evidence(rows, pq).draws([], "texts") is None


# --- evaluate ------------------------------------------------------------------------------------------------


def test_the_ci_is_the_central_95_pct_of_the_draws():
    rows, pq = exact({"x": {"d1": -0.06, "d2": 0.03}})
    pq = pq.assign(ndcg_at_10=pq.ndcg_at_10 + np.random.default_rng(0).normal(0, 0.05, len(pq)))
    ev = Evidence(rows, pq, n_resamples=400)
    t = term("x")
    checks = [Check("m", "x", [Condition([t], low=-50.0)])]
    evaluate(checks, ev)
    draws = ev.draws([t], "texts")[t]
    assert checks[0].outcome["texts"].ci == pytest.approx(tuple(np.percentile(draws, [2.5, 97.5])))
    assert checks[0].outcome["texts"].point == pytest.approx(ev.point(t, "texts"))
    wide = [Check("m", "x", [Condition([t], low=-50.0)])]
    evaluate(wide, ev, weightings=("none",), level=0.5)
    assert list(wide[0].outcome) == ["none"]
    assert wide[0].outcome["none"].ci == pytest.approx(tuple(np.percentile(ev.draws([t], "none")[t], [25, 75])))


def test_every_condition_must_hold_and_the_first_one_is_reported():
    rows, pq = exact({"x": {"d1": -0.06, "d2": -0.06}, "y": {"d1": 0.0, "d2": 0.0}})
    for ev in (Evidence(rows, pq, n_resamples=100), Evidence(rows, None)):
        both = Check("m", "both", [Condition([term("y")], low=-1.0), Condition([term("x")], low=-1.0)])
        ok = Check("m", "ok", [Condition([term("y")], low=-1.0), Condition([term("x")], low=-11.0)])
        evaluate([both, ok], ev)
        assert (both.result(), ok.result()) == ("fails", "holds")
        assert both.outcome["texts"].point == pytest.approx(0.0)  # y's change, the first condition


def test_a_combined_statistic_and_its_unit():
    rows, pq = exact({"x": {"d1": -0.06, "d2": -0.06}, "y": {"d1": -0.03, "d2": -0.03}})
    ev = Evidence(rows, pq, n_resamples=100)
    mean = Condition([term("x"), term("y")], low=-8.0, combine=lambda v: (v[0] + v[1]) / 2)  # -7.5 %
    diff = Condition([term("x", kind="diff", b="y")], high=0.0)  # -0.03
    checks = [Check("m", "mean", [mean]), Check("m", "diff", [diff]), Check("m", "change", [Condition([term("y")])]),
              Check("m", "diff first", [diff, mean]), Check("m", "mean of diffs", [Condition([diff.terms[0]],
                                                                                       combine=lambda v: v[0])])]
    evaluate(checks, ev)
    assert [k.outcome["texts"].kind for k in checks] == ["change", "diff", "change", "diff", "change"]
    assert checks[0].outcome["texts"].point == pytest.approx(-7.5) and checks[0].result() == "holds"
    assert re.fullmatch(r"-7\.50 \[-7\.\d\d, -7\.\d\d\]", checks[0].outcome["texts"].text())
    assert checks[1].outcome["texts"].text() == "-0.0300 [-0.0300, -0.0300]" and checks[1].result() == "holds"
    assert mean.statistic([np.array(-1.0), np.array(-3.0)]) == -2.0
    assert Condition([term("x")]).statistic([np.array(4.0), np.array(5.0)]) == 4.0


def test_an_undefined_statistic_is_undecided():
    rows, pq = exact({"x": {"d1": 0.0, "d2": 0.0}})
    zero = rows.assign(value=0.0)
    pq = pq.assign(ndcg_at_10=np.where(pq.config_id.str.startswith("float32"), 0.0, pq.ndcg_at_10))
    check = Check("m", "x", [Condition([term("x")], low=-1.0)])
    evaluate([check], Evidence(zero, pq, n_resamples=50))
    outcome = check.outcome["texts"]
    assert np.isnan(outcome.point) and np.isnan(outcome.ci).all() and outcome.state == "undecided"
    assert outcome.text() == "n/a"


def test_checks_that_did_not_run_keep_no_outcome():
    rows, pq = exact({"x": {"d1": 0.0, "d2": 0.0}})
    idle, ran = Check("m", "idle", note="not run"), Check("m", "x", [Condition([term("x")], low=-1.0)])
    evaluate([idle, ran], Evidence(rows, pq, n_resamples=50))
    assert idle.outcome == {} and idle.result() is None and idle.fragile == [] and not idle.ran
    assert ran.ran and ran.result() == "holds" and ran.result("none") == "holds" and ran.result("queries") is None


def test_fragility_needs_two_collections_and_names_each_flip():
    # x: -1 % on d1, d2, d3, -9 % on d4 (texts 1:1:1:1): -3 % holds against -4 %; without any of d1-d3, -3.67 %
    # still holds; without d4, -1 % holds: robust. Against -3.5 %: without d1, d2 or d3 it fails: fragile
    shifts = {"x": {"d1": -0.006, "d2": -0.006, "d3": -0.006, "d4": -0.054}}
    rows, pq = exact(shifts)
    ev = Evidence(rows, None)
    four = ("d1", "d2", "d3", "d4")
    robust, fragile = (Check("m", w, [Condition([term("x", four)], low=b)]) for w, b in (("r", -4.0), ("f", -3.5)))
    single = Check("m", "one", [Condition([term("x", ("d4",))], low=-10.0)])
    evaluate([robust, fragile, single], ev)
    assert [k.result() for k in (robust, fragile, single)] == ["holds", "holds", "holds"]
    assert (robust.fragile, fragile.fragile, single.fragile) == ([], ["d1", "d2", "d3"], [])
    spread = Check("m", "two terms", [Condition([term("x", ("d1", "d2"))], low=-2.0),
                                      Condition([term("x", ("d3", "d4"))], low=-5.5)])
    evaluate([spread], ev)
    assert spread.result() == "holds" and spread.fragile == ["d3"]  # without d3, d4 alone: -9 %
    assert verdicts._collections(spread) == ["d1", "d2", "d3", "d4"]


def test_ci_text():
    assert ci_text(-0.934, (-1.2, -0.661)) == "-0.93 [-1.20, -0.66]"
    assert ci_text(0.5, (0.0, 1.0)) == "+0.50 [+0.00, +1.00]"
    assert ci_text(0.01234, (0.01, 0.02), 4) == "+0.0123 [+0.0100, +0.0200]"
    assert ci_text(1.0, None) == "+1.00"
    assert ci_text(1.0, (np.nan, 2.0)) == "+1.00"
    assert ci_text(1.0, (0.5, np.inf)) == "+1.00"
    assert ci_text(None, (0.0, 1.0)) == "n/a"
    assert ci_text(np.nan, (0.0, 1.0)) == "n/a"
    assert ci_text(np.inf, None) == "n/a"
    assert Outcome(0.123456, (0.1, 0.2), "holds", kind="diff").text() == "+0.1235 [+0.1000, +0.2000]"
    assert Outcome(0.123456, (0.1, 0.2), "holds").text() == "+0.12 [+0.10, +0.20]"
