"""The trade-off: Pareto frontier, budgets, configurations from tidy results, ``select`` and ``study select``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from study.analysis import report, stats, tradeoff
from study.cli import main as cli
from study.core.errors import ParameterError, StudyError

# --- helpers: hand-built tidy results -----------------------------------------------------------------------

# bytes per vector and overhead of a 384-d model, as stage 02/03 measure them
BYTES = {"float32": 1536, "float16": 768, "float8_e4m3": 384, "float8_e5m2": 384, "int8": 384, "binary": 48}


def tidy(rows: list[dict], datasets=(("d1", 100), ("d2", 300)), model: str = "minilm-l6") -> pd.DataFrame:
    """Tidy rows (metric ndcg_at_10) from {format, reducer, fraction, values: {dataset: ndcg}, ...}."""
    out = []
    for r in rows:
        for dataset, n_texts in datasets:
            if dataset not in r["values"]:
                continue
            fraction = r.get("fraction", 1.0)
            bpv = r.get("bytes", BYTES[r["format"]] * fraction)
            out.append({
                "model": r.get("model", model), "dataset": dataset, "split": "test", "stage": r.get("stage", "02"),
                "reducer": r.get("reducer", "none"), "fraction": fraction, "dims": int(384 * fraction),
                "fit_on": r.get("fit_on", "none"), "format": r["format"], "calibrate_on": r.get("calibrate_on", "none"),
                "rescore": "none", "query_format": "same", "metric": "ndcg_at_10", "value": r["values"][dataset],
                "bytes_per_vector": bpv, "overhead_bytes": r.get("overhead", 0),
                "compression_ratio": 1536 / bpv, "n_queries": 10, "n_docs": n_texts - 10, "n_texts": n_texts,
                "config_id": f"{r['format']}|{r.get('reducer', 'none')}|{fraction}|{r.get('fit_on', 'none')}|{dataset}",
            })
    return pd.DataFrame(out)


BASE = [
    {"format": "float32", "values": {"d1": 0.50, "d2": 0.70}},
    {"format": "float16", "values": {"d1": 0.50, "d2": 0.70}},
    {"format": "float8_e4m3", "values": {"d1": 0.49, "d2": 0.69}},
    {"format": "int8", "values": {"d1": 0.45, "d2": 0.66}, "overhead": 3072},
    {"format": "binary", "values": {"d1": 0.40, "d2": 0.60}},
]


# --- Pareto frontier ----------------------------------------------------------------------------------------


def test_pareto_mask_on_hand_built_points():
    cost = [1, 1, 2, 2, 3, 4, 4, 0.5]
    quality = [0.5, 0.5, 0.7, 0.6, 0.7, 0.9, np.nan, 0.1]
    mask = tradeoff.pareto_mask(cost, quality)
    # exact ties (1, 0.5) both stay; (2, 0.6) loses to (2, 0.7) at the same cost; (3, 0.7) costs more for
    # the same quality; NaN never; the cheapest point is on the frontier however bad.
    assert mask.tolist() == [True, True, True, False, False, True, False, True]
    assert np.asarray(cost)[mask].tolist() == [1, 1, 2, 4, 0.5]  # a mask: it selects the frontier's points


def naive_frontier(cost: np.ndarray, quality: np.ndarray) -> np.ndarray:
    keep = []
    for i in range(len(cost)):
        if np.isnan(quality[i]):
            keep.append(False)
            continue
        dominated = any(cost[j] <= cost[i] and quality[j] >= quality[i]
                        and (cost[j] < cost[i] or quality[j] > quality[i])
                        for j in range(len(cost)) if not np.isnan(quality[j]))
        keep.append(not dominated)
    return np.array(keep)


def test_pareto_mask_matches_the_definition_on_random_points_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(1, 30))
        cost = rng.integers(0, 6, n).astype(float)  # a coarse grid makes many ties
        quality = rng.integers(0, 6, n).astype(float)
        quality[rng.random(n) < 0.1] = np.nan
        np.testing.assert_array_equal(tradeoff.pareto_mask(cost, quality), naive_frontier(cost, quality))


def test_a_point_without_cost_or_quality_is_never_on_the_frontier():
    assert tradeoff.pareto_mask([1, 2, None], [0.5, None, 0.9]).tolist() == [True, False, False]
    with pytest.raises(ValueError) as err:
        tradeoff.pareto_mask([1, 2], [0.5])
    assert str(err.value) == "cost and quality must have the same length"


def test_pareto_mask_by_keeps_one_frontier_per_model():
    frame = pd.DataFrame({"model": ["a", "a", "b", "b"], "c": [1, 2, 5, 6], "q": [0.5, 0.4, 0.1, 0.2]})
    assert tradeoff.pareto_mask_by(frame, "c", "q").tolist() == [True, False, True, True]


# --- budgets ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("512MiB", 512 * 2**20), ("2GB", 2 * 10**9), ("1.5 GiB", int(1.5 * 2**30)), ("64kB", 64_000),
    ("64KB", 64_000), ("3KiB", 3072), ("100", 100), ("100B", 100), ("1TiB", 2**40), ("2e3MB", 2 * 10**9),
    (4096, 4096), (1.9, 1),
])
def test_parse_budget_binary_and_decimal_units(text, expected):
    assert tradeoff.parse_budget(text) == expected


@pytest.mark.parametrize("bad", ["", "abc", "-1GB", "0", "0.5", "5Gb", "512mb", "1.5XB", "GB", "1 2GB", True,
                                 float("nan"), float("inf"), 0, -3])
def test_parse_budget_rejects_bad_values_naming_budget(bad):
    with pytest.raises(ParameterError) as err:
        tradeoff.parse_budget(bad)
    assert err.value.name == "budget"
    assert "'budget'" in str(err.value)


@pytest.mark.parametrize("bad", ["abc", "1.5XB", "0", "0.5B"])
def test_a_refused_budget_is_named_with_its_value(bad):
    with pytest.raises(ParameterError) as err:
        tradeoff.parse_budget(bad, "ram")
    assert str(err.value) == f"parameter 'ram': invalid value {bad!r}; allowed: {tradeoff.BUDGET_HELP}"


def test_one_byte_is_the_smallest_budget():
    assert tradeoff.parse_budget("1B") == tradeoff.parse_budget(1) == 1


def test_bits_are_refused_with_a_hint():
    with pytest.raises(ParameterError, match="bits"):
        tradeoff.parse_budget("2Gb")


def test_named_budgets_and_corpus_sizes():
    assert tradeoff.parse_budgets({"phone": "512MiB", "box": 10**6}) == {"phone": 512 * 2**20, "box": 10**6}
    with pytest.raises(ParameterError, match="budgets\\['phone'\\]"):
        tradeoff.parse_budgets({"phone": "lots"})
    with pytest.raises(ParameterError):
        tradeoff.parse_budgets({})
    assert tradeoff.check_n_vectors("1e7") == 10_000_000
    assert tradeoff.check_n_vectors("10_000_000") == 10_000_000
    for bad in (0, 1.5, "many", -2, True):
        with pytest.raises(ParameterError):
            tradeoff.check_n_vectors(bad)
    assert tradeoff.format_budget(512 * 2**20) == "512 MiB"
    assert tradeoff.format_budget(2 * 10**9) == "2 GB"
    assert tradeoff.format_bytes(3_840_000_000) == "3.84 GB (3.58 GiB)"


@pytest.mark.parametrize("n, text", [
    (0, "0 B"), (999, "999 B"), (10**9, "1 GB (954 MiB)"), (10**12, "1 TB (931 GiB)"),
    (10**6, "1 MB (977 KiB)"), (1000, "1 kB (1,000 B)"), (1024, "1.02 kB (1 KiB)"), (480e6, "480 MB (458 MiB)"),
    (512 * 2**20, "537 MB (512 MiB)"), (2**40 + 1, "1.1 TB (1 TiB)"), (5e12, "5 TB (4.55 TiB)"),
    (1_500_000, "1.5 MB (1.43 MiB)"),
])
def test_format_bytes_says_decimal_and_binary_units(n, text):
    assert tradeoff.format_bytes(n) == text


@pytest.mark.parametrize("n, text", [
    (1, "1 B"), (1000, "1 kB"), (1024, "1 KiB"), (3 * 2**30, "3 GiB"), (10**12, "1 TB"), (2**40, "1 TiB"),
    (2**20, "1 MiB"), (5 * 10**6, "5 MB"), (1024 * 10**6, "1024 MB"), (1500, "1.5 kB (1.46 KiB)"),
])
def test_format_budget_as_it_was_most_likely_written(n, text):
    assert tradeoff.format_budget(n) == text


def test_a_numpy_number_is_a_budget_and_a_bool_is_not():
    assert tradeoff.parse_budget(np.int64(4096)) == 4096 and tradeoff.parse_budget(np.float32(2.5)) == 2
    with pytest.raises(ParameterError, match="parameter 'ram': invalid value True"):
        tradeoff.parse_budget(True, "ram")
    with pytest.raises(ParameterError, match="parameter 'disk': invalid value '2Gb'; allowed: a size in bytes "
                                             "\\('b' means bits: write B, e.g. '2GB' or '512MiB'\\)"):
        tradeoff.parse_budget("2Gb", "disk")
    with pytest.raises(ParameterError, match="allowed: a positive size in bytes: a number with an optional unit B"):
        tradeoff.parse_budget("2 XB")
    with pytest.raises(ParameterError, match="parameter 'vectors': invalid value 'x'; allowed: a positive whole"):
        tradeoff.check_n_vectors("x", "vectors")
    assert tradeoff.check_n_vectors("1,000") == 1000 and tradeoff.check_n_vectors(7.0) == 7
    assert tradeoff.check_n_vectors(1) == 1 and tradeoff.check_n_vectors("1__000") == 1000  # separators, anywhere
    for bad in (True, np.bool_(True), "nan", "inf"):
        with pytest.raises(ParameterError, match="^parameter 'n_vectors': invalid value"):
            tradeoff.check_n_vectors(bad)
    with pytest.raises(ParameterError) as err:
        tradeoff.parse_budgets(["1GB"])
    assert str(err.value) == ("parameter 'budgets': invalid value ['1GB']; allowed: a non-empty mapping "
                              "{label: size}, e.g. {'laptop': '4GiB'}")


# --- labels and kinds ---------------------------------------------------------------------------------------------


def test_a_label_names_every_part_that_is_not_the_default():
    every = {"format": "float8_e4m3", "reducer": "pca", "fraction": 0.5, "fit_on": "mlq", "calibrate_on": "adi",
             "rescore": "int8x4", "query_format": "float32", "index": "hnsw"}
    assert tradeoff.label(every) == "float8_e4m3 + pca 50% (fit mlq) → int8 ×4 · float32 queries @adi in hnsw"
    assert tradeoff.label({"format": "opq48", "calibrate_on": "self"}) == "opq48 @self"
    assert tradeoff.label({"format": "binary_rotated", "calibrate_on": "untrained"}) == "binary_rotated (untrained)"
    assert tradeoff.label({"format": "float32", "calibrate_on": "mlq"}) == "float32"
    assert tradeoff.label(pd.Series(every)) == tradeoff.label(every)
    assert tradeoff.label({"format": "int8"}) == "int8"
    assert tradeoff.label({"format": "int8", "reducer": "pca", "fraction": 0.5}) == "int8 + pca 50%"  # no fit_on
    assert tradeoff.label({"format": "int8", "reducer": "pca"}) == "int8 + pca 100%"  # no fraction: all kept
    plain = {"format": "int8", "reducer": "pca", "fraction": 0.25, "fit_on": "self", "calibrate_on": "self",
             "rescore": "none", "query_format": "same", "index": "none"}
    assert tradeoff.label(plain) == "int8 + pca 25% @self"  # fit on the corpus: no fit set named; trained: said
    assert tradeoff.label({**plain, "fit_on": "none", "calibrate_on": "none"}) == "int8 + pca 25%"
    assert tradeoff.label({"format": "float32", "calibrate_on": "adi"}) == "float32"  # float32 has no ranges
    assert tradeoff.label({"format": "float32", "fit_on": "adi"}) == "float32"  # no reducer, nothing was fit


@pytest.mark.parametrize("fmt, name", [
    ("float32", "float32"), ("float16", "16-bit float"), ("bfloat16", "16-bit float"), ("float8_e4m3_scaled", "float8"),
    ("int8_clipped", "int8"), ("int4", "int4"), ("float4_e2m1", "float4"), ("binary", "binary"), ("rabitq4", "RaBitQ"),
    ("opq16x4", "OPQ+PQ"), ("pq16x4fs", "PQ fast-scan"), ("pq48x8", "PQ"), ("pq96x8", "PQ"), ("pq", "pq"),
    ("turboquant4", "TurboQuant"), ("osq2", "OSQ"),
    ("mystery", "mystery"),
])
def test_kind_is_the_number_format(fmt, name):
    assert tradeoff.kind(fmt) == name


def test_family_is_what_the_papers_advice_speaks_of():
    assert tradeoff.family({"format": "float8_e4m3", "reducer": "pca"}) == "float8 + pca"
    assert tradeoff.family({"format": "float8_e4m3", "reducer": "none"}) == "float8"
    assert tradeoff.family({"format": "binary", "reducer": "none", "rescore": "int8x4"}) == "binary + rescoring"
    assert tradeoff.family({"format": "binary", "reducer": "pca", "rescore": "none"}) == "binary + pca"
    configs = tradeoff.configurations(tidy(BASE)).set_index("label")
    assert configs.family["float8_e4m3"] == "float8" and configs.kind["float16"] == "16-bit float"
    assert set(configs.weighting) == {"texts"}


# --- storage at scale ----------------------------------------------------------------------------------------------


def test_at_scale_counts_each_tier_and_what_is_stored_once():
    configs = pd.DataFrame({"model": "m", "label": ["one", "two"], "bytes_per_vector": [48.0, 432.0],
                            "tier1_bytes_per_vector": [48.0, 48.0], "tier2_bytes_per_vector": [0.0, 384.0],
                            "overhead_bytes": [0, 3072], "change_pct": [-10.0, -1.0]})
    scaled = tradeoff.at_scale(configs, "1e3")
    assert scaled.n_vectors.tolist() == [1000, 1000]
    assert scaled.total_bytes.tolist() == [48_000, 435_072]
    assert scaled.ram_bytes.tolist() == [48_000, 51_072] and scaled.disk_bytes.tolist() == [0, 384_000]
    assert scaled.amortised_bytes_per_vector.tolist() == pytest.approx([48.0, 435.072])
    assert scaled.on_frontier.tolist() == [True, True]
    assert "n_vectors" not in configs  # a copy
    assert tradeoff.fits(scaled, 435_072).tolist() == [True, True]
    assert tradeoff.fits(scaled, 435_071).tolist() == [True, False]
    assert tradeoff.fits(scaled, 51_072, 384_000).tolist() == [True, True]
    assert tradeoff.fits(scaled, 51_071, 384_000).tolist() == [True, False]
    assert tradeoff.fits(scaled, 51_072, 383_999).tolist() == [True, False]
    # the overhead moves a point off the frontier at small N
    worse = configs.assign(change_pct=[-1.0, -10.0], overhead_bytes=[0, 10**6])
    assert tradeoff.at_scale(worse.assign(bytes_per_vector=[432.0, 48.0]), 1000).on_frontier.tolist() == [True, False]
    assert tradeoff.at_scale(worse.assign(bytes_per_vector=[432.0, 48.0]), 10**7).on_frontier.tolist() == [True, True]
    with pytest.raises(ParameterError):
        tradeoff.at_scale(configs, 0)


# --- configurations -----------------------------------------------------------------------------------------


def test_configurations_weighted_change_and_measured_storage():
    configs = tradeoff.configurations(tidy(BASE)).set_index("label")
    # texts-weighted: d1 has 100 texts, d2 300
    assert configs.loc["float32", "value"] == pytest.approx((0.5 * 100 + 0.7 * 300) / 400)
    int8 = (0.45 * 100 + 0.66 * 300) / 400
    assert configs.loc["int8", "change_pct"] == pytest.approx(100 * (int8 / 0.65 - 1))
    assert configs.loc["int8", "overhead_bytes"] == 3072
    assert configs.loc["binary", "compression_ratio"] == pytest.approx(32)
    unweighted = tradeoff.configurations(tidy(BASE), weighting="none").set_index("label")
    assert unweighted.loc["float32", "value"] == pytest.approx(0.6)
    # float16 ties float32 in quality at half the bytes: float32 is dominated; int8 is dominated by float8
    assert configs.on_frontier.to_dict() == {"binary": True, "float8_e4m3": True, "int8": False,
                                             "float16": True, "float32": False}


def test_configurations_are_listed_by_model_storage_and_quality_ties_as_scored():
    rows = [BASE[0], {"format": "float8_e5m2", "values": {"d1": 0.49, "d2": 0.69}}, *BASE[1:]]
    data = pd.concat([tidy(rows, model="mpnet-base"), tidy(rows)], ignore_index=True)
    configs = tradeoff.configurations(data)
    assert configs.index.tolist() == list(range(12))  # a configuration's number is its row
    mine = configs[configs.model == "minilm-l6"]
    assert configs.model.tolist()[:6] == ["minilm-l6"] * 6
    # float8 e5m2 and e4m3 tie on bytes and quality: e5m2 was scored first; int8 has the bytes, less quality
    assert mine.label.tolist() == ["binary", "float8_e5m2", "float8_e4m3", "int8", "float16", "float32"]


def test_the_expected_value_counts_each_collection_once_whatever_the_row_order():
    # int8 listed first, float32 repeated by a later stage on d1: the baseline is still d1 and d2 once each
    data = pd.concat([tidy([BASE[3]]), tidy(BASE), tidy([BASE[0]], datasets=(("d1", 100),)).assign(stage="04")],
                     ignore_index=True)
    configs = tradeoff.configurations(data).set_index("label")
    held_out = (0.45 * 100 + 0.66 * 300) / 400
    assert configs.expected["int8"] == pytest.approx(held_out) == configs.value["int8"]


def test_the_expected_value_is_on_the_held_out_collections_never_the_fit_set():
    """int8 calibrated on d3, where float32 scores 0.9: d3 is not averaged into any nDCG@10 of the table."""
    three = (("d1", 100), ("d2", 300), ("d3", 1000))
    rows = [BASE[0] | {"values": {"d1": 0.50, "d2": 0.70, "d3": 0.90}},
            BASE[3] | {"calibrate_on": "d3", "values": {"d1": 0.45, "d2": 0.66, "d3": 0.89}}]
    configs = tradeoff.configurations(tidy(rows, datasets=three)).set_index("label")
    assert configs.expected["float32"] == pytest.approx((0.50 * 100 + 0.70 * 300) / 400)
    assert configs.expected.filter(like="int8").iloc[0] == pytest.approx((0.45 * 100 + 0.66 * 300) / 400)


def test_a_rescored_configuration_is_its_own_kind():
    data = tidy(BASE + [{"format": "binary", "stage": "06", "values": {"d1": 0.499, "d2": 0.699}}])
    data.loc[data.stage == "06", "rescore"] = "int8x4"
    data["rescore_bytes_per_vector"] = np.where(data.stage == "06", np.nan, np.nan)  # not measured: 0 B
    configs = tradeoff.configurations(data).set_index("label")
    assert configs.kind["binary → int8 ×4"] == "binary + rescoring" and configs.kind["binary"] == "binary"
    assert configs.family["binary → int8 ×4"] == "binary + rescoring"
    assert configs.tier2_bytes_per_vector["binary → int8 ×4"] == 0.0


def test_mixing_collection_sets_would_flip_the_ranking_and_the_rule_prevents_it():
    # PCA 50 % ran on d2 only. Averaged over "the collections each configuration ran on", PCA (0.63 on d2, -10 %)
    # looks worse than int8 (-2.3 % over d1 + d2) — but on d2, the only collection both share, PCA is better
    rows = [{"format": "float32", "values": {"d1": 0.50, "d2": 0.70}},
            {"format": "int8", "values": {"d1": 0.55, "d2": 0.62}},
            {"format": "float32", "reducer": "pca", "fraction": 0.5, "stage": "03", "values": {"d2": 0.63}}]
    mixed_int8 = 100 * ((0.55 * 100 + 0.62 * 300) / (0.50 * 100 + 0.70 * 300) - 1)
    assert mixed_int8 > -10.0  # the flip the rule exists for
    shared = tradeoff.configurations(tidy(rows), policy="shared").set_index("label")
    assert set(shared.n_datasets) == {1} and set(shared.collections) == {"d2"}
    assert shared.loc["float32 + pca 50%", "change_pct"] == pytest.approx(-10.0)
    assert shared.loc["int8", "change_pct"] == pytest.approx(100 * (0.62 / 0.70 - 1))
    assert shared.loc["float32 + pca 50%", "change_pct"] > shared.loc["int8", "change_pct"]
    # the frontier's policy keeps the baseline's collections and leaves out what was not scored on all of them
    widest = tradeoff.configurations(tidy(rows))
    assert "float32 + pca 50%" not in set(widest.label) and set(widest.n_datasets) == {2}
    assert widest.attrs["dropped"]["minilm-l6"] and "d1" not in widest.attrs["sets"]["minilm-l6"].left_out


def test_the_fit_set_is_never_averaged_in():
    rows = BASE + [{"format": "float32", "reducer": "pca", "fraction": 0.5, "fit_on": "d1", "stage": "04",
                    "values": {"d1": 0.60, "d2": 0.63}}]  # in-sample on d1: better than float32 there
    configs = tradeoff.configurations(tidy(rows)).set_index("label")
    assert set(configs.n_datasets) == {1}  # every configuration on d2 alone, the held-out collection
    assert configs.loc["float32 + pca 50% (fit d1)", "change_pct"] == pytest.approx(-10.0)
    assert configs.loc["float32", "value"] == pytest.approx(0.70)
    sets = tradeoff.comparison_sets(tradeoff.configurations(tidy(rows)))["minilm-l6"]
    assert sets.names == ("d2",) and "in-sample" in sets.left_out["d1"]
    assert "1 collection (d2); left out: d1" in sets.describe()


def test_configurations_count_a_configuration_once_across_stage_files():
    rows = BASE + [{"format": "float16", "stage": "04", "values": {"d1": 0.50, "d2": 0.70}}]
    configs = tradeoff.configurations(tidy(rows))
    assert (configs.label == "float16").sum() == 1
    assert configs.set_index("label").loc["float16", "value"] == pytest.approx(0.65)
    clash = BASE + [{"format": "float16", "stage": "04", "values": {"d1": 0.1, "d2": 0.1}}]
    with pytest.raises(StudyError, match="different results in two stage files"):
        tradeoff.configurations(tidy(clash))


def test_configurations_name_what_they_refuse():
    with pytest.raises(ParameterError) as err:
        tradeoff.configurations(tidy(BASE), weighting="queries")
    assert str(err.value) == "parameter 'weighting': invalid value 'queries'; allowed: texts, none"
    with pytest.raises(ParameterError) as err:
        tradeoff.configurations(tidy(BASE), metric="map")
    assert str(err.value) == "parameter 'metric': invalid value 'map'; allowed: ndcg_at_10"
    with pytest.raises(ParameterError) as err:
        tradeoff.configurations(tidy(BASE).drop(columns="metric"))
    assert str(err.value) == "parameter 'metric': invalid value 'ndcg_at_10'; allowed: "
    no_base = pd.concat([tidy(BASE[1:]), tidy(BASE[1:], model="mpnet-base"), tidy(BASE, model="e5")])
    with pytest.raises(StudyError) as err:
        tradeoff.configurations(no_base)
    assert str(err.value) == ("no float32 unreduced baseline for minilm-l6, mpnet-base in the results: "
                              "run stage 02 first")
    with pytest.raises(ParameterError, match="^parameter 'n_vectors': invalid value 0"):
        tradeoff.select("1GB", 0, tidy(BASE))


def test_configurations_need_a_baseline_and_a_known_metric():
    with pytest.raises(StudyError, match="baseline"):
        tradeoff.configurations(tidy(BASE[1:]))
    with pytest.raises(ParameterError):
        tradeoff.configurations(tidy(BASE), metric="map")


# --- select -------------------------------------------------------------------------------------------------


def test_select_exactly_at_the_budget_and_one_byte_below():
    data = tidy(BASE)
    n = 1000
    at = tradeoff.select(768 * n, n, data)  # float16 needs exactly 768,000 bytes: it fits
    assert at.recommended.label == "float16"
    assert at.recommended.total_bytes == 768 * n
    assert at.expected_loss_pct == pytest.approx(0.0)
    below = tradeoff.select(768 * n - 1, n, data)  # one byte short: the next best, float8
    assert below.recommended.label == "float8_e4m3"
    assert below.runners_up.label.tolist() == ["int8", "binary"]
    assert below.n_fitting == 3


def test_select_counts_what_is_stored_once():
    rows = BASE + [{"format": "float16", "reducer": "pca", "fraction": 0.25, "stage": "03",
                    "values": {"d1": 0.499, "d2": 0.699}, "overhead": 10_000_000}]
    data = tidy(rows)
    # at N = 1000, PCA's 10 MB of matrix make it far bigger than float8; at N = 10^7 its 192 B/vector win
    assert tradeoff.select(500_000, 1000, data).recommended.label == "float8_e4m3"
    big = tradeoff.select(192 * 10**7 + 10_000_000, 10**7, data)
    assert big.recommended.label == "float16 + pca 25%"
    assert big.recommended.amortised_bytes_per_vector == pytest.approx(193)


def test_storage_counts_every_tier_and_a_disk_budget_takes_the_second():
    data = tidy(BASE + [{"format": "binary", "stage": "06", "values": {"d1": 0.499, "d2": 0.699}}])
    data.loc[data.stage == "06", "rescore"] = "float32x4"
    data["rescore_bytes_per_vector"] = np.where(data.stage == "06", 1536.0, np.nan)
    configs = tradeoff.configurations(data).set_index("label")
    two = configs.loc["binary → float32 ×4"]
    assert two.bytes_per_vector == 48 + 1536 and two.tier1_bytes_per_vector == 48
    assert two.compression_ratio == pytest.approx(1536 / 1584)
    assert not two.on_frontier  # at its real size float16 is smaller and as good
    # RAM only: everything must fit in it, so 48 kB of codes + 1.5 MB of float32 do not fit 100 kB
    ram_only = tradeoff.select(100_000, 1000, data)
    assert ram_only.recommended.label == "binary"
    # with a disk for the rescoring tier, the first tier fits RAM and the float32 copy fits the disk
    both = tradeoff.select(100_000, 1000, data, disk_bytes="2MB")
    assert both.recommended.label == "binary → float32 ×4"
    assert "rescoring tier 1.54 MB" in both.describe() and "on disk" in both.describe()
    assert tradeoff.select(100_000, 1000, data, disk_bytes="1MB").recommended.label == "binary"  # the copy does not fit


def test_a_rescoring_tier_not_measured_counts_nothing():
    data = tidy(BASE + [{"format": "binary", "stage": "06", "values": {"d1": 0.499, "d2": 0.699}}])
    data.loc[data.stage == "06", "rescore"] = "float32x4"  # and no rescore_bytes_per_vector column
    two = tradeoff.configurations(data).set_index("label").loc["binary → float32 ×4"]
    assert (two.tier2_bytes_per_vector, two.bytes_per_vector) == (0.0, 48.0)


def test_select_impossible_budget_names_the_smallest_configuration():
    with pytest.raises(StudyError) as err:
        tradeoff.select("47999B", 1000, tidy(BASE))
    assert "binary" in str(err.value) and "48 kB" in str(err.value)


def test_select_needs_a_model_when_results_hold_several():
    data = pd.concat([tidy(BASE), tidy(BASE, model="mpnet-base")])
    with pytest.raises(ParameterError, match="'model'"):
        tradeoff.select("1GB", 10, data)
    assert tradeoff.select("1GB", 10, data, model="mpnet-base").model == "mpnet-base"


def test_selections_table_marks_budgets_nothing_fits():
    configs = tradeoff.configurations(tidy(BASE))
    table = tradeoff.selections(configs, [1000], {"tiny": 10, "big": 10**9})
    picks = table.set_index("budget")
    assert pd.isna(picks.configuration["tiny"]) and np.isnan(picks.change_pct["tiny"])
    assert picks.configuration["big"] == "float16"
    assert picks.budget_size.to_dict() == {"tiny": "10 B", "big": "1 GB"}


def test_selections_table_one_row_per_model_size_and_budget():
    data = pd.concat([tidy(BASE), tidy(BASE[:3], model="mpnet-base")])
    table = tradeoff.selections(tradeoff.configurations(data), [1000, 10**6], {"small": 400_000, "big": 10**9})
    assert table.columns.tolist() == ["model", "n_vectors", "budget", "budget_bytes", "budget_size", "configuration",
                                      "total_bytes", "compression_ratio", "n_datasets", "expected", "change_pct",
                                      "ci_low", "ci_high", "top", "n_tied", "good_enough", "needed_bytes"]
    assert len(table) == 2 * 2 * 2
    row = table.set_index(["model", "n_vectors", "budget"]).loc[("minilm-l6", 1000, "small")]
    assert (row.configuration, row.budget_bytes, row.total_bytes) == ("float8_e4m3", 400_000, 384_000)
    assert (row.compression_ratio, row.n_datasets) == (4.0, 2)
    assert row.expected == pytest.approx((0.49 * 100 + 0.69 * 300) / 400)
    assert pd.isna(table.set_index(["model", "n_vectors", "budget"]).configuration[("mpnet-base", 10**6, "small")])


# --- result files and the CLI -------------------------------------------------------------------------------


def write_profile(rows: list[dict], profile: str = "unit") -> None:
    empty = pd.DataFrame({"config_id": pd.Series(dtype=str), "query_id": pd.Series(dtype=str)})
    report.save_results(tidy(rows), empty, "02-quantization", profile)


def test_a_table_with_exactly_the_tidy_columns_is_read_and_per_query_csvs_are_not_results(output_dir):
    folder = report.output_dirs("unit")["results"]
    folder.mkdir(parents=True, exist_ok=True)
    minimal = tidy(BASE)[sorted(tradeoff.TIDY_REQUIRED)]
    minimal.to_csv(folder / "02-quantization.csv", index=False)
    minimal.to_csv(folder / "03-reduction.csv", index=False)
    minimal.to_csv(folder / "02-quantization-per-query.csv", index=False)
    frame, used = tradeoff.load_tidy("unit")
    assert [p.name for p in used] == ["02-quantization.csv", "03-reduction.csv"]
    assert frame.index.tolist() == list(range(2 * len(minimal)))  # one table, one index
    for path in used:  # per-query tables with just their key columns and a score
        per_query_scores(tidy(BASE))[["config_id", "dataset", "query_id"]].to_parquet(
            path.with_name(f"{path.stem}-per-query.parquet"))
    loaded = tradeoff.load_per_query(used)
    assert loaded.index.tolist() == list(range(len(loaded))) and len(loaded) == 2 * 6 * len(minimal)


def test_comparison_sets_of_a_table_read_back_are_empty():
    configs = tradeoff.configurations(tidy(BASE))
    assert tradeoff.comparison_sets(configs)["minilm-l6"].names == ("d1", "d2")
    assert tradeoff.comparison_sets(pd.DataFrame(configs.to_dict("list"))) == {}


def test_load_tidy_skips_non_tidy_tables(output_dir):
    with pytest.raises(StudyError) as err:
        tradeoff.load_tidy("unit")
    assert str(err.value) == (f"no tidy results under {output_dir / 'results' / 'unit'}: run the study first "
                              "(make study PROFILE=unit)")
    write_profile(BASE)
    folder = report.output_dirs("unit")["results"]
    pd.DataFrame({"index": ["x"], "qps": [1.0]}).to_csv(folder / "07-indexes.csv", index=False)
    frame, used = tradeoff.load_tidy("unit")
    assert [p.name for p in used] == ["02-quantization.csv"]
    assert len(frame) == len(tidy(BASE))


def test_cli_select_prints_the_recommendation_and_runners_up(output_dir, capsys):
    write_profile(BASE)
    code = cli(["select", "--budget", "1MB", "--vectors", "1000", "--model", "minilm-l6", "--profile", "unit"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Recommended: float16" in out
    assert "Runners-up:" in out and "float8_e4m3" in out and "(dominated)" in out


@pytest.mark.parametrize("budget, message", [("lots", "'ram'"), ("5Gb", "bits"), ("1kB", "smallest is binary")])
def test_cli_select_exit_code_2_on_bad_or_impossible_budget(output_dir, capsys, budget, message):
    write_profile(BASE)
    code = cli(["select", "--budget", budget, "--vectors", "1000", "--model", "minilm-l6", "--profile", "unit"])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1


def test_cli_select_takes_a_ram_and_a_disk_budget(output_dir, capsys):
    rows = BASE + [{"format": "binary", "stage": "06", "values": {"d1": 0.499, "d2": 0.699}}]
    data = tidy(rows)
    data.loc[data.stage == "06", "rescore"] = "int8x10"
    data["rescore_bytes_per_vector"] = np.where(data.stage == "06", 384.0, np.nan)
    report.save_results(data, pd.DataFrame({"config_id": pd.Series(dtype=str)}), "06-beyond", "unit")
    args = ["select", "--ram", "60kB", "--vectors", "1000", "--model", "minilm-l6", "--profile", "unit"]
    assert cli(args) == 0
    assert "Recommended: binary\n" in capsys.readouterr().out  # 432 kB of both tiers do not fit 60 kB of RAM
    assert cli([*args, "--disk", "1MB"]) == 0
    out = capsys.readouterr().out
    assert "Recommended: binary → int8 ×10" in out and "RAM 60 kB (58.6 KiB) + disk 1 MB" in out
    assert cli([*args, "--disk", "1 Gb"]) == 2 and "'disk'" in capsys.readouterr().err


def test_cli_select_unknown_model_or_missing_results(output_dir, capsys):
    assert cli(["select", "--budget", "1GB", "--vectors", "10", "--model", "minilm-l6", "--profile", "unit"]) == 2
    assert "no tidy results" in capsys.readouterr().err
    write_profile(BASE)
    assert cli(["select", "--budget", "1GB", "--vectors", "10", "--model", "nope", "--profile", "unit"]) == 2
    assert "'model'" in capsys.readouterr().err


def test_labels_are_unique_per_configuration():
    rows = [dict(r) for r in BASE] + [{"format": "int8", "calibrate_on": "mlquestions", "stage": "06",
                                       "values": {"d1": 0.4, "d2": 0.6}}]
    configs = tradeoff.configurations(tidy(rows))
    assert configs.label.is_unique
    assert "int8 @mlquestions" in set(configs.label)


# --- the per-collection view and the intervals (what the explorer shows) --------------------------------------------


def per_query_scores(data: pd.DataFrame, spread: float = 0.0, n: int = 6, seed: int = 0) -> pd.DataFrame:
    """Per-query nDCG@10 of every tidy row: its value, plus noise of the given spread (0: every query scores the
    collection's value, so every bootstrap resample gives the point estimate); the mean is the tidy value."""
    rng = np.random.default_rng(seed)
    out = []
    for r in data.itertuples():
        noise = rng.normal(0, spread, n) if spread else np.zeros(n)
        noise -= noise.mean()
        out += [{"config_id": r.config_id, "dataset": r.dataset, "query_id": f"q{i}", "ndcg_at_10": r.value + e,
                 "mrr_at_10": 1.0 - r.value} for i, e in enumerate(noise)]
    return pd.DataFrame(out)


def test_configuration_rows_are_each_configurations_held_out_collections():
    rows = BASE + [{"format": "float32", "reducer": "pca", "fraction": 0.5, "fit_on": "d1", "stage": "04",
                    "values": {"d1": 0.60, "d2": 0.63}}]
    data = tidy(rows)
    configs = tradeoff.configurations(data)
    per = tradeoff.configuration_rows(data, configs)
    assert per.columns.tolist() == ["config", "model", "label", "dataset", "value", "baseline", "change_pct",
                                    "n_texts", "config_id", "baseline_id"]
    assert set(per.dataset) == {"d2"} and len(per) == len(configs) == 6  # d1 is the PCA's fit set
    assert per.config.tolist() == sorted(per.config) and per.config.is_unique
    assert (configs.label[per.config].to_numpy() == per.label.to_numpy()).all()
    pca = per.set_index("label").loc["float32 + pca 50% (fit d1)"]
    assert (pca.value, pca.baseline, pca.n_texts) == (0.63, 0.70, 300)
    assert pca.change_pct == pytest.approx(-10.0)
    assert pca.config_id == "float32|pca|0.5|d1|d2" and pca.baseline_id == "float32|none|1.0|none|d2"


def test_configuration_rows_use_the_frontiers_collections():
    # PCA ran on d2 only: the frontier's policy leaves it out and keeps d1 and d2 for the others
    rows = [*BASE, {"format": "float32", "reducer": "pca", "fraction": 0.5, "stage": "03", "values": {"d2": 0.63}}]
    data = tidy(rows)
    per = tradeoff.configuration_rows(data, tradeoff.configurations(data))
    assert set(per.label) == {r["format"] for r in BASE} and set(per.dataset) == {"d1", "d2"} and len(per) == 10


def test_configuration_rows_one_row_per_collection_in_order():
    data = tidy(BASE)
    configs = tradeoff.configurations(data)
    per = tradeoff.configuration_rows(data, configs)
    assert len(per) == 10
    int8 = per[per.label == "int8"]
    assert int8.dataset.tolist() == ["d1", "d2"] and int8.baseline.tolist() == [0.50, 0.70]
    assert int8.change_pct.tolist() == pytest.approx([-10.0, 100 * (0.66 / 0.70 - 1)])


def test_configuration_rows_of_some_configurations_and_a_fresh_index():
    data = tidy(BASE)
    configs = tradeoff.configurations(data)
    some = configs[configs.label.isin(["int8", "binary"])]
    per = tradeoff.configuration_rows(data, some)
    assert sorted(set(per.label)) == ["binary", "int8"] and per.config.isin(some.index).all()
    assert per.index.tolist() == list(range(4))
    assert per.baseline.tolist() == [0.50, 0.70, 0.50, 0.70]  # the baseline need not be among them
    with pytest.raises(pd.errors.MergeError):  # a configuration listed twice is a mistake, not two rows
        tradeoff.configuration_rows(data, pd.concat([configs, configs.iloc[:1]], ignore_index=True))


def test_configuration_rows_of_a_minimal_tidy_table_that_has_its_own_labels():
    data = tidy(BASE)[sorted(tradeoff.TIDY_REQUIRED) + ["n_texts"]].assign(label="stage label")
    configs = tradeoff.configurations(data)
    per = tradeoff.configuration_rows(data, configs)
    assert len(per) == 10 and set(per.label) == set(configs.label)
    assert per.config_id.isna().all() and per.baseline_id.isna().all()


def test_the_first_of_several_float32_rows_is_the_baseline_of_a_collection():
    rows = [*BASE, {"format": "float32", "calibrate_on": "self", "stage": "06", "values": {"d1": 0.9, "d2": 0.9}}]
    data = tidy(rows)
    configs = tradeoff.configurations(data)
    per = tradeoff.configuration_rows(data, configs)
    assert per[per.label == "int8"].baseline.tolist() == [0.50, 0.70]
    assert configs.set_index("label").baseline["int8"] == pytest.approx(0.65)
    assert configs.set_index("label").expected["int8"] == pytest.approx((0.45 * 100 + 0.66 * 300) / 400)


@pytest.mark.parametrize("weighting", ["texts", "none"])
def test_intervals_of_noiseless_scores_are_the_point_estimate(weighting):
    data = tidy(BASE)
    configs = tradeoff.configurations(data, weighting=weighting)
    per = tradeoff.configuration_rows(data, configs)
    out = tradeoff.with_intervals(configs, per, per_query_scores(data), weighting=weighting, n_resamples=50)
    np.testing.assert_allclose(out.ci_low, configs.change_pct, atol=1e-9)
    np.testing.assert_allclose(out.ci_high, configs.change_pct, atol=1e-9)
    assert out.drop(columns=["ci_low", "ci_high"]).equals(configs)
    each = tradeoff.per_collection_intervals(per, per_query_scores(data), n_resamples=50)
    np.testing.assert_allclose(each.ci_low, per.change_pct, atol=1e-9)
    np.testing.assert_allclose(each.ci_high, per.change_pct, atol=1e-9)


def test_intervals_read_the_metric_asked_for():
    data = tidy(BASE)
    configs = tradeoff.configurations(data)
    per = tradeoff.configuration_rows(data, configs)
    scores = per_query_scores(data)
    out = tradeoff.with_intervals(configs, per, scores, metric="mrr_at_10", n_resamples=50).set_index("label")
    # mrr here is 1 - nDCG: int8 scores 0.55 and 0.34 against float32's 0.50 and 0.30 (weights 100 and 300)
    assert out.ci_low["int8"] == pytest.approx(100 * ((0.55 * 100 + 0.34 * 300) / (0.5 * 100 + 0.3 * 300) - 1))
    each = tradeoff.per_collection_intervals(per, scores, metric="mrr_at_10", n_resamples=50).set_index("label")
    assert each.loc["int8"].ci_high.tolist() == pytest.approx([10.0, 100 * (0.34 / 0.30 - 1)])


def test_intervals_are_the_paired_bootstrap_of_stats_compare():
    data = tidy(BASE)
    configs = tradeoff.configurations(data)
    per = tradeoff.configuration_rows(data, configs)
    scores = per_query_scores(data, spread=0.05)
    out = tradeoff.with_intervals(configs, per, scores, n_resamples=300, seed=3).set_index("label")
    pairs = pd.DataFrame({"group": 0, "dataset": ["d1", "d2"], "config_id": ["int8|none|1.0|none|d1",
                                                                             "int8|none|1.0|none|d2"],
                          "baseline_id": ["float32|none|1.0|none|d1", "float32|none|1.0|none|d2"],
                          "weight": [0.25, 0.75]})  # texts: 100 and 300
    expected = stats.compare(pairs, scores, n_resamples=300, seed=3).iloc[0]
    assert (out.ci_low["int8"], out.ci_high["int8"]) == pytest.approx((expected.ci_low, expected.ci_high))
    assert out.ci_low["int8"] < out.change_pct["int8"] < out.ci_high["int8"]
    other_seed = tradeoff.with_intervals(configs, per, scores, n_resamples=300, seed=4).set_index("label")
    assert other_seed.ci_low["int8"] != out.ci_low["int8"]
    each = tradeoff.per_collection_intervals(per, scores, n_resamples=300, seed=3).set_index(["label", "dataset"])
    alone = stats.compare(pairs.iloc[1:].assign(weight=1.0), scores, n_resamples=300, seed=3).iloc[0]
    assert (each.ci_low["int8", "d2"], each.ci_high["int8", "d2"]) == pytest.approx((alone.ci_low, alone.ci_high))


def test_a_configuration_without_per_query_scores_everywhere_has_no_interval():
    data = tidy(BASE)
    configs = tradeoff.configurations(data)
    per = tradeoff.configuration_rows(data, configs)
    scores = per_query_scores(data)
    scores = scores[scores.config_id != "int8|none|1.0|none|d2"]
    out = tradeoff.with_intervals(configs, per, scores, n_resamples=50).set_index("label")
    assert np.isnan(out.ci_low["int8"]) and np.isnan(out.ci_high["int8"])
    assert out.drop(index="int8").ci_low.notna().all()
    each = tradeoff.per_collection_intervals(per, scores, n_resamples=50).set_index(["label", "dataset"])
    assert np.isnan(each.ci_low["int8", "d2"]) and each.ci_low["int8", "d1"] == pytest.approx(-10.0)
    # without the baseline's scores on d1, nothing on d1 has an interval, and no configuration has one overall
    no_base = per_query_scores(data).query("config_id != 'float32|none|1.0|none|d1'")
    assert tradeoff.with_intervals(configs, per, no_base, n_resamples=50).ci_low.isna().all()
    each = tradeoff.per_collection_intervals(per, no_base, n_resamples=50)
    assert each[each.dataset == "d1"].ci_low.isna().all() and each[each.dataset == "d2"].ci_low.notna().all()


def test_intervals_of_some_configurations_rows_alone():
    data = tidy(BASE)
    configs = tradeoff.configurations(data)
    per = tradeoff.configuration_rows(data, configs)
    scores = per_query_scores(data, spread=0.05)
    full = tradeoff.with_intervals(configs, per, scores, n_resamples=100)
    some = per[per.label.isin(["int8", "binary"])]  # a selection keeps its index
    assert some.index.tolist() != list(range(len(some)))
    part = tradeoff.with_intervals(configs, some, scores, n_resamples=100).set_index("label")
    full = full.set_index("label")
    for name in ("int8", "binary"):
        assert (part.ci_low[name], part.ci_high[name]) == (full.ci_low[name], full.ci_high[name])
    assert part.drop(index=["int8", "binary"]).ci_low.isna().all()


def test_no_per_query_scores_no_intervals():
    data = tidy(BASE)
    configs = tradeoff.configurations(data)
    per = tradeoff.configuration_rows(data, configs)
    for per_query in (None, per_query_scores(data)):
        bare = per.assign(config_id=np.nan) if per_query is not None else per
        assert tradeoff.with_intervals(configs, bare, per_query)[["ci_low", "ci_high"]].isna().all().all()
        assert tradeoff.per_collection_intervals(bare, per_query)[["ci_low", "ci_high"]].isna().all().all()


def test_load_per_query_reads_the_files_beside_the_tidy_tables(output_dir):
    write_profile(BASE)  # an empty per-query table without the needed columns
    _, used = tradeoff.load_tidy("unit")
    assert tradeoff.load_per_query(used) is None
    scores = per_query_scores(tidy(BASE))
    report.save_results(tidy(BASE), scores, "02-quantization", "unit")
    report.save_results(tidy(BASE), scores.iloc[:6], "03-reduction", "unit")
    _, used = tradeoff.load_tidy("unit")
    assert [p.name for p in tradeoff.result_files("unit")] == ["02-quantization.csv", "03-reduction.csv"]
    loaded = tradeoff.load_per_query(used)
    assert len(loaded) == len(scores) + 6
    (used[1].with_name("03-reduction-per-query.parquet")).unlink()
    assert len(tradeoff.load_per_query(used)) == len(scores)


def test_a_gzipped_tidy_table_is_read_where_only_it_exists(output_dir):
    """The committed full profile keeps stage 09's tidy table gzipped (over git's size limit as CSV): it is found,
    read like the CSV and paired with its per-query scores; a plain CSV beside it wins."""
    import gzip
    import shutil

    scores = per_query_scores(tidy(BASE))
    report.save_results(tidy(BASE), scores, "09-codecs", "unit")
    folder = report.output_dirs("unit")["results"]
    plain = folder / "09-codecs.csv"
    expected, _ = tradeoff.load_tidy("unit")
    with plain.open("rb") as src, gzip.open(folder / "09-codecs.csv.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert [p.name for p in tradeoff.result_files("unit")] == ["09-codecs.csv"]  # both: the CSV
    plain.unlink()
    assert [p.name for p in tradeoff.result_files("unit")] == ["09-codecs.csv.gz"]
    frame, used = tradeoff.load_tidy("unit")
    pd.testing.assert_frame_equal(frame, expected)
    assert len(tradeoff.load_per_query(used)) == len(scores)
    pd.testing.assert_frame_equal(report.load_results("09-codecs", "unit"), expected)
