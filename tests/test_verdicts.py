"""Verdicts with uncertainty: CI-based holds / fails / undecided, and leave-one-collection-out fragility."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from study.analysis import scorecard
from study.analysis.comparison import config_key, deduplicate, normalise_keys
from study.analysis.verdicts import Check, Condition, Evidence, Term, combine_states, evaluate, state_of


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
    assert combine_states(["holds", "undecided"]) == "undecided"
    assert combine_states(["holds", "fails", "undecided"]) == "fails"
    assert combine_states(["holds", None]) is None


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
    # better on the big collection d3, worse on d1 and d2: the texts-weighted mean holds only with d3 in
    shifts = {"x": {"d1": -0.02, "d2": -0.02, "d3": 0.03}}
    tidy, pq = synthetic(shifts, texts={"d1": 1000, "d2": 1000, "d3": 8000})
    ev, keys = evidence(tidy, pq)
    check = Check("minilm-l6", "x gains", [Condition([Term("minilm-l6", keys["x"], keys["float32"],
                                                           ("d1", "d2", "d3"), "diff")], low=0.0)])
    evaluate([check], ev)
    assert check.outcome["texts"].point > 0
    assert check.fragile == ["d3"]
    assert check.result("none") != "holds"  # unweighted, d3 no longer dominates


def test_scorecard_claims_carry_cis_sets_and_robustness():
    shifts = {f: {"d1": s, "d2": s} for f, s in {
        "float16": 0.0, "bfloat16": 0.0, "float8_e4m3": -0.0005, "float8_e5m2": -0.0005, "int8": -0.02,
        "binary": -0.055, "float4_e2m1": -0.5}.items()}
    tidy, pq = synthetic(shifts)
    claims = scorecard.scorecard(tidy, per_query=pq, n_resamples=2000)
    one = claims[0]
    assert "[" in one.ours["minilm-l6"] and "(2 held-out collections)" in one.ours["minilm-l6"]
    assert one.sets["minilm-l6"].names == ("d1", "d2")
    checks = {k.what: k for k in one.checks}
    assert checks["float8 loses less than int8"].result() == "holds"
    assert checks["float4 loses > 50 %"].result() == "holds"
    table = scorecard.checks_table(claims)
    assert {"statistic", "statistic_unweighted", "fragile_without", "collections"} <= set(table.columns)
    assert scorecard.as_table(claims).robustness.iloc[0] in ("robust",) or "fragile" in \
        scorecard.as_table(claims).robustness.iloc[0]


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
