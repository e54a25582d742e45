"""The comparison rule (``study.analysis.comparison``) on small hand-written tidy tables.

Every expected collection set here is worked out by hand from the table in the test: a collection a
configuration was fit or calibrated on is left out for every configuration of that model (held out only), and
the configurations are averaged over the same collections (like for like), per model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from study.analysis import comparison
from study.analysis.comparison import IN_SAMPLE, CollectionSet, compare_like_for_like, sets_sentence, sets_table
from study.core.errors import ParameterError, StudyError

NOT_EVERYWHERE = "not scored for every configuration compared"


def rows(*configs: dict, model: str = "m") -> pd.DataFrame:
    """Tidy rows (metric ndcg_at_10): each config is ``{format, values: {dataset: value}, ...key columns}``;
    key columns left out are filled by ``normalise_keys`` as a stage file's would be."""
    out = []
    for config in configs:
        keys = {k: v for k, v in config.items() if k != "values"}
        for dataset, value in config["values"].items():
            out.append({"model": config.get("model", model), "dataset": dataset, "metric": "ndcg_at_10",
                        "value": value, "n_texts": 100, **keys})
    return pd.DataFrame(out)


def f32(*datasets: str, **extra) -> dict:
    return {"format": "float32", "values": dict.fromkeys(datasets, 0.5), **extra}


def fmt(name: str, *datasets: str, **extra) -> dict:
    return {"format": name, "values": dict.fromkeys(datasets, 0.4), **extra}


def kept(result: comparison.Comparison, model: str = "m") -> set[tuple[str, str]]:
    """(format, dataset) pairs a comparison kept for a model."""
    mine = result.rows[result.rows.model == model]
    return set(zip(mine.format, mine.dataset))


# --- held out only: fit_on and calibrate_on ------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["shared", "widest"])
def test_a_calibration_set_is_left_out_for_every_configuration(policy):
    table = rows(f32("a", "b", "c"), fmt("int8", "a", "b", "c", calibrate_on="a"))
    result = compare_like_for_like(table, policy)
    assert result.sets["m"].names == ("b", "c")
    assert result.sets["m"].left_out == {"a": IN_SAMPLE}
    assert kept(result) == {("float32", "b"), ("float32", "c"), ("int8", "b"), ("int8", "c")}
    assert result.dropped["m"] == []


@pytest.mark.parametrize("policy", ["shared", "widest"])
def test_a_fit_set_is_left_out_for_every_configuration(policy):
    table = rows(f32("a", "b", "c"), fmt("float32", "a", "b", "c", reducer="pca", fraction=0.5, fit_on="b"))
    result = compare_like_for_like(table, policy)
    assert result.sets["m"].names == ("a", "c")
    assert result.sets["m"].left_out == {"b": IN_SAMPLE}
    assert set(result.rows.dataset) == {"a", "c"} and len(result.rows) == 4


def test_under_shared_only_the_configuration_fit_on_a_collection_loses_its_row_there_before_intersecting():
    # int8 was calibrated on c but has no row there: c is still in-sample for the comparison (named), and
    # the held-out rows of the other configurations decide nothing about it
    table = rows(f32("a", "b", "c"), fmt("int8", "a", "b", calibrate_on="c"))
    for policy in ("shared", "widest"):
        result = compare_like_for_like(table, policy)
        assert result.sets["m"].names == ("a", "b")
        assert result.sets["m"].left_out == {"c": IN_SAMPLE}


def test_in_sample_rows_are_left_out_even_where_every_configuration_shares_the_collection():
    table = rows(f32("a", "b"), fmt("int8", "a", "b", calibrate_on="a"))
    mask = comparison.in_sample_mask(comparison.normalise_keys(table))
    assert mask.tolist() == [False, False, True, False]  # only int8's row on a, its own calibration set


@pytest.mark.parametrize("column", ["fit_on", "calibrate_on"])
def test_in_sample_mask_reads_each_reference_column(column):
    table = pd.DataFrame({"dataset": ["a", "b", "a"], column: ["a", "a", "none"]})
    assert comparison.in_sample_mask(table).tolist() == [True, False, False]


@pytest.mark.parametrize("policy", ["shared", "widest"])
def test_self_and_none_leave_nothing_out(policy):
    table = rows(f32("a", "b"), fmt("int8", "a", "b", calibrate_on="self"),
                 fmt("float16", "a", "b", reducer="pca", fraction=0.5, fit_on="self"))
    result = compare_like_for_like(table, policy)
    assert result.sets["m"].names == ("a", "b") and result.sets["m"].left_out == {}
    assert len(result.rows) == 6


# --- names given as paths and as mteb: -----------------------------------------------------------------------


@pytest.mark.parametrize("reference, name", [
    ("/data/x/mlquestions", "mlquestions"), ("/data/x/mlquestions/", "mlquestions"), ("x/mlquestions", "mlquestions"),
    ("mteb:SciFact", "SciFact"), ("mlquestions", "mlquestions"),
])
def test_collection_name_as_the_dataset_column_names_it(reference, name):
    assert comparison.collection_name(reference) == name


def test_named_collections_skip_none_self_empty_and_missing():
    values = ["none", "self", "", np.nan, None, "/data/x/mlq", "mteb:SciFact", "adi"]
    assert comparison.named_collections(values) == {"mlq", "SciFact", "adi"}


@pytest.mark.parametrize("policy", ["shared", "widest"])
@pytest.mark.parametrize("column, reference", [
    ("calibrate_on", "/data/x/mlquestions"), ("calibrate_on", "mteb:mlquestions"),
    ("fit_on", "/data/x/mlquestions/"), ("fit_on", "mteb:mlquestions"),
])
def test_a_reference_given_as_a_path_or_an_mteb_task_is_its_collection(policy, column, reference):
    extra = {"reducer": "pca", "fraction": 0.5} if column == "fit_on" else {}
    table = rows(f32("mlquestions", "adi"), fmt("int8", "mlquestions", "adi", **{column: reference}, **extra))
    result = compare_like_for_like(table, policy)
    assert result.sets["m"].names == ("adi",)
    assert result.sets["m"].left_out == {"mlquestions": IN_SAMPLE}
    assert set(result.rows.dataset) == {"adi"}


# --- several models at once --------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["shared", "widest"])
def test_each_model_has_its_own_set(policy):
    table = pd.concat([
        rows(f32("a", "b", "c"), fmt("int8", "a", "b", "c", calibrate_on="a"), model="m1"),
        rows(f32("a", "b", "c"), fmt("int8", "a", "b", "c", calibrate_on="self"), model="m2"),
        rows(f32("b", "c", "d"), fmt("int8", "b", "c", "d", calibrate_on="d"), model="m3"),
    ])
    result = compare_like_for_like(table, policy)
    assert {m: s.names for m, s in result.sets.items()} == {"m1": ("b", "c"), "m2": ("a", "b", "c"),
                                                          "m3": ("b", "c")}
    assert {m: s.model for m, s in result.sets.items()} == {"m1": "m1", "m2": "m2", "m3": "m3"}
    assert result.sets["m3"].left_out == {"d": IN_SAMPLE}
    assert set(result.rows[result.rows.model == "m2"].dataset) == {"a", "b", "c"}
    assert set(result.rows[result.rows.model == "m1"].dataset) == {"b", "c"}
    assert len(result.rows) == 4 + 6 + 4
    assert "cfg_key" not in result.rows.columns
    assert result.dropped == {"m1": [], "m2": [], "m3": []}


def test_one_models_calibration_set_is_not_left_out_for_another_model():
    table = pd.concat([rows(f32("a", "b"), fmt("int8", "a", "b", calibrate_on="a"), model="m1"),
                       rows(f32("a", "b"), fmt("int8", "a", "b"), model="m2")])
    result = compare_like_for_like(table)
    assert result.sets["m1"].names == ("b",) and result.sets["m2"].names == ("a", "b")


def test_models_keep_the_order_they_come_in():
    table = pd.concat([rows(f32("a"), model="mpnet"), rows(f32("b"), model="minilm")])
    result = compare_like_for_like(table)
    assert list(result.sets) == ["mpnet", "minilm"] and list(result.dropped) == ["mpnet", "minilm"]
    assert result.rows.model.tolist() == ["mpnet", "minilm"]
    assert sets_sentence(result.sets, with_names=True) == (
        "Averaged per model over the same collections for every configuration: "
        f"{result.sets['mpnet'].name}: 1 collection (a); {result.sets['minilm'].name}: 1 collection (b).")


def test_the_rows_come_back_with_a_fresh_index_when_stage_files_repeat_one():
    table = pd.concat([rows(f32("a", "b"), fmt("int8", "a", "b")), rows(fmt("float16", "a", "b"))])
    assert not table.index.is_unique  # two stage files concatenated as read
    result = compare_like_for_like(table)
    assert result.rows.index.tolist() == list(range(6))


# --- like for like: shared and widest --------------------------------------------------------------------------


def test_shared_keeps_the_collections_every_configuration_was_scored_on():
    table = rows(f32("a", "b", "c"), fmt("int8", "a", "b"), fmt("float16", "b", "c"))
    result = compare_like_for_like(table)
    assert result.sets["m"].names == ("b",)
    assert result.sets["m"].left_out == {"a": NOT_EVERYWHERE, "c": NOT_EVERYWHERE}
    assert kept(result) == {("float32", "b"), ("int8", "b"), ("float16", "b")}
    assert result.dropped == {"m": []}


def test_widest_keeps_the_baselines_collections_and_names_the_configurations_it_drops():
    table = rows(f32("a", "b", "c"), fmt("int8", "a", "b", "c"),
                 fmt("float32", "b", "z", reducer="pca", fraction=0.5), fmt("binary", "a", "c"))
    result = compare_like_for_like(table, "widest")
    assert result.sets["m"].names == ("a", "b", "c")
    assert result.sets["m"].left_out == {"z": NOT_EVERYWHERE}  # scored (by pca alone), never by the baseline
    assert result.dropped["m"] == ["none|1.0|none|binary|none|none|same", "pca|0.5|none|float32|none|none|same"]
    assert set(result.rows.format) == {"float32", "int8"} and set(result.rows.reducer) == {"none"}
    assert len(result.rows) == 6


def test_widest_leaves_every_fit_and_calibration_set_out_of_the_baselines_collections():
    table = rows(f32("a", "b", "c", "d"), fmt("int8", "a", "b", "c", "d", calibrate_on="a"),
                 fmt("float16", "b", "c", "d", reducer="pca", fraction=0.5, fit_on="d"), fmt("binary", "b", "c"))
    result = compare_like_for_like(table, "widest")
    assert result.sets["m"].names == ("b", "c")
    assert result.sets["m"].left_out == {"a": IN_SAMPLE, "d": IN_SAMPLE}
    assert result.dropped["m"] == []
    assert set(result.rows.dataset) == {"b", "c"} and len(result.rows) == 8


def test_an_unknown_policy_is_refused():
    with pytest.raises(ParameterError, match="parameter 'policy': invalid value 'union'; allowed: shared, widest"):
        compare_like_for_like(rows(f32("a")), "union")


# --- when nothing is left ------------------------------------------------------------------------------------


def test_no_shared_held_out_collection_is_an_error_naming_what_was_scored():
    table = rows(f32("a", "b"), fmt("int8", "c"))
    with pytest.raises(StudyError) as err:
        compare_like_for_like(table)
    assert str(err.value) == ("m: the configurations compared share no held-out collection "
                              "(scored on: a, b, c; fit/calibration sets: none)")


@pytest.mark.parametrize("policy", ["shared", "widest"])
def test_a_model_fit_on_all_its_collections_is_an_error_naming_the_fit_sets(policy):
    table = pd.concat([rows(f32("a", "b"), model="fine"),
                       rows(f32("a", "b"), fmt("int8", "a", "b", calibrate_on="/data/b"),
                            fmt("float16", "a", "b", reducer="pca", fraction=0.5, fit_on="mteb:a"), model="bad")])
    with pytest.raises(StudyError) as err:
        compare_like_for_like(table, policy)
    assert str(err.value) == ("bad: the configurations compared share no held-out collection "
                              "(scored on: a, b; fit/calibration sets: a, b)")


@pytest.mark.parametrize("policy", ["shared", "widest"])
def test_a_model_with_only_in_sample_rows_is_an_error(policy):
    table = rows(fmt("int8", "a", calibrate_on="a"), fmt("float32", "a", reducer="pca", fraction=0.5, fit_on="a"))
    with pytest.raises(StudyError) as err:
        compare_like_for_like(table, policy)
    assert str(err.value) == ("m: the configurations compared share no held-out collection "
                              "(scored on: a; fit/calibration sets: a)")


# --- duplicates across stage files ------------------------------------------------------------------------------


def test_a_configuration_in_two_stage_files_counts_once_when_they_agree():
    table = pd.concat([rows(f32("a", "b"), fmt("int8", "a", "b")).assign(stage="02"),
                       rows(fmt("int8", "a", "b"), fmt("int8", "c")).assign(stage="06")], ignore_index=True)
    table.loc[table.stage == "06", "value"] += 1e-12  # rounding noise between two runs is no disagreement
    out = comparison.deduplicate(comparison.normalise_keys(table))
    assert len(out) == 5 and out.stage.tolist() == ["02", "02", "02", "02", "06"]  # the first file's rows
    result = compare_like_for_like(table)
    assert result.sets["m"].names == ("a", "b") and len(result.rows) == 4


def test_two_stage_files_that_disagree_are_an_error_naming_the_configuration():
    table = pd.concat([rows(f32("a"), fmt("int8", "a", "b")),
                       rows({"format": "int8", "values": {"b": 0.25}})], ignore_index=True)
    with pytest.raises(StudyError) as err:
        comparison.deduplicate(comparison.normalise_keys(table))
    assert str(err.value) == ("the same configuration has different results in two stage files: "
                              "m, b, none, 1.0, none, int8, none, none, same, ndcg_at_10 "
                              "(difference 0.15); rerun the stages of this profile")
    with pytest.raises(StudyError, match="different results in two stage files"):
        compare_like_for_like(table)


def test_agreement_is_to_within_1e_9():
    agree = rows({"format": "int8", "values": {"a": 0.0}}, {"format": "int8", "values": {"a": 1e-9}})
    assert len(comparison.deduplicate(comparison.normalise_keys(agree))) == 1
    differ = rows({"format": "int8", "values": {"a": 0.0}}, {"format": "int8", "values": {"a": 2e-9}})
    with pytest.raises(StudyError, match="\\(difference 2e-09\\)"):
        comparison.deduplicate(comparison.normalise_keys(differ))


def test_a_disagreement_is_found_in_rows_not_yet_normalised():
    table = pd.DataFrame({"model": "m", "dataset": "a", "format": "int8", "reducer": "none", "fraction": 1.0,
                          "fit_on": "none", "calibrate_on": np.nan, "rescore": "none", "query_format": "same",
                          "value": [0.5, 0.4]})  # a stage file that leaves calibrate_on empty
    with pytest.raises(StudyError, match="m, a, none, 1.0, none, int8, nan, none, same \\(difference 0.1\\)"):
        comparison.deduplicate(table)


def test_rows_without_a_metric_column_are_one_metric():
    table = rows(f32("a"), fmt("int8", "a"), fmt("int8", "a")).drop(columns="metric")
    out = comparison.deduplicate(comparison.normalise_keys(table))
    assert out.format.tolist() == ["float32", "int8"]


def test_different_metrics_or_configurations_are_not_duplicates():
    table = rows(f32("a"), fmt("int8", "a"), fmt("int8", "a", calibrate_on="self"))
    table = pd.concat([table, table.assign(metric="recall_at_10", value=0.9)], ignore_index=True)
    assert len(comparison.deduplicate(comparison.normalise_keys(table))) == 6


def test_rows_without_values_are_deduplicated_without_a_check():
    table = rows(f32("a"), f32("a")).drop(columns="value")
    assert len(comparison.deduplicate(comparison.normalise_keys(table))) == 1


# --- keys and the baseline ----------------------------------------------------------------------------------------


def test_missing_key_columns_are_filled_as_a_stage_file_writes_them():
    table = pd.DataFrame({"model": ["m", "m"], "dataset": ["a", "a"], "format": ["float32", "int8"],
                          "fraction": [1.0, 0.5000000001], "calibrate_on": [np.nan, "a"], "n_docs": [7, 7]})
    out = comparison.normalise_keys(table)
    assert out.reducer.tolist() == ["none", "none"] and out.fit_on.tolist() == ["none", "none"]
    assert out.calibrate_on.tolist() == ["none", "a"]
    assert out.rescore.tolist() == ["none", "none"] and out.query_format.tolist() == ["same", "same"]
    assert out.fraction.tolist() == [1.0, 0.5]
    assert out.overhead_bytes.tolist() == [0, 0] and out.n_texts.tolist() == [7, 7]
    assert "index" not in out.columns
    assert table.columns.tolist() == ["model", "dataset", "format", "fraction", "calibrate_on", "n_docs"]  # a copy
    assert comparison.normalise_keys(table.drop(columns="n_docs")).n_texts.tolist() == [1, 1]


def test_a_fraction_read_back_from_a_csv_is_the_same_configuration():
    # stage files are written with 6 significant digits: 1/3 comes back as 0.333333
    table = rows(fmt("int8", "a", reducer="pca", fraction=1 / 3), fmt("int8", "a", reducer="pca", fraction=0.333333))
    out = comparison.normalise_keys(table)
    assert out.fraction.tolist() == [0.333333, 0.333333]
    assert len(comparison.deduplicate(out)) == 1


def test_present_columns_are_kept_and_an_index_column_is_a_key():
    table = pd.DataFrame({"dataset": ["a", "a"], "format": ["float32", "float32"], "fraction": [1, 1],
                          "index": ["hnsw", np.nan], "overhead_bytes": [5, 6], "n_texts": [3, 4], "n_docs": [9, 9]})
    out = comparison.normalise_keys(table)
    assert out["index"].tolist() == ["hnsw", "none"]
    assert out.overhead_bytes.tolist() == [5, 6] and out.n_texts.tolist() == [3, 4]
    assert comparison.key_columns(out) == [*comparison.KEY, "index"]
    assert comparison.config_key(out).tolist() == ["none|1.0|none|float32|none|none|same|hnsw",
                                                   "none|1.0|none|float32|none|none|same|none"]


def test_the_baseline_is_float32_unreduced_single_tier_symmetric_and_outside_any_index():
    table = comparison.normalise_keys(pd.DataFrame({
        "format": ["float32", "float32", "float32", "int8", "float32", "float32", "float32"],
        "reducer": ["none", "pca", "none", "none", "none", "none", "none"],
        "fraction": [1.0, 1.0, 0.5, 1.0, 1.0, 1.0, 1.0],
        "rescore": ["none", "none", "none", "none", "int8x4", "none", "none"],
        "query_format": ["same", "same", "same", "same", "same", "float32", "same"],
        "index": [np.nan, "none", "none", "none", "none", "none", "hnsw"]}))
    assert comparison.is_baseline(table).tolist() == [True, False, False, False, False, False, False]
    assert comparison.is_baseline(pd.DataFrame({"format": ["float32", "int8"]})).tolist() == [True, False]
    raw = pd.DataFrame({"format": ["float32", "float32"], "index": [np.nan, "hnsw"]})  # not normalised
    assert comparison.is_baseline(raw).tolist() == [True, False]


def test_a_configuration_inside_an_index_is_compared_as_its_own_configuration():
    table = rows(f32("a", "b"), f32("a", index="hnsw"))
    result = compare_like_for_like(table, "widest")
    assert result.dropped["m"] == ["none|1.0|none|float32|none|none|same|hnsw"]
    assert set(result.rows["index"]) == {"none"}


# --- saying which --------------------------------------------------------------------------------------------------


def test_describe_names_the_set_and_what_was_left_out():
    cset = CollectionSet("m", ("b", "c"), {"z": NOT_EVERYWHERE, "a": IN_SAMPLE})
    assert len(cset) == 2
    assert cset.describe() == ("2 collections (b, c); left out: a (fit/calibration set (in-sample)), "
                               "z (not scored for every configuration compared)")
    assert cset.describe(with_names=False) == ("2 collections; left out: a (fit/calibration set (in-sample)), "
                                               "z (not scored for every configuration compared)")
    assert CollectionSet("m", ("b",)).describe() == "1 collection (b)"
    assert CollectionSet("m", ()).describe(False) == "0 collections"


def test_a_set_is_named_by_its_model_size_and_members():
    one, same, other = CollectionSet("m", ("b", "c")), CollectionSet("m", ("b", "c"), {"a": IN_SAMPLE}), \
        CollectionSet("m", ("b", "d"))
    assert one.name.startswith("m/2-") and len(one.name) == len("m/2-") + 4
    assert one.name == same.name  # the members name a set; why others were left out is said beside it
    assert one.name != other.name and CollectionSet("n", ("b", "c")).name.startswith("n/2-")


def test_sets_sentence_names_the_sets_and_what_was_left_out():
    sets = {"m1": CollectionSet("m1", ("b", "c"), {"a": IN_SAMPLE}), "m2": CollectionSet("m2", ("c",))}
    assert sets_sentence(sets) == (f"Averaged over the same collections for every configuration: sets "
                                   f"{sets['m1'].name}, {sets['m2'].name} (members: table of collection sets); left "
                                   f"out: a (fit/calibration set (in-sample)).")
    assert "(b, c)" not in sets_sentence(sets)  # members are listed once, in the table
    assert sets_sentence(sets, with_names=True) == (
        "Averaged per model over the same collections for every configuration: "
        f"{sets['m1'].name}: 2 collections (b, c); left out: a (fit/calibration set (in-sample)); "
        f"{sets['m2'].name}: 1 collection (c).")
    assert sets_sentence({"m": CollectionSet("m", ("b",))}) == (
        f"Averaged over the same collections for every configuration: set {CollectionSet('m', ('b',)).name} "
        "(members: table of collection sets).")
    assert sets_sentence({}) == ""


def test_the_table_of_sets_has_one_row_per_set_with_its_members():
    sets = [CollectionSet("m1", ("b", "c"), {"a": IN_SAMPLE}), CollectionSet("m1", ("b", "c")),
            CollectionSet("m2", ("c",))]
    table = sets_table(sets)
    assert list(table.columns) == ["set", "model", "collections", "members", "left out"]
    assert table.set.tolist() == [sets[0].name, sets[2].name]
    assert table.members.tolist() == ["b, c", "c"] and table.collections.tolist() == [2, 1]
    assert table["left out"].tolist() == ["a (fit/calibration set (in-sample))", ""]
    assert table.model.tolist() == ["m1", "m2"]
    two = sets_table([CollectionSet("m", ("c",), {"a": IN_SAMPLE, "b": NOT_EVERYWHERE})])
    assert two["left out"].iloc[0] == "a (fit/calibration set (in-sample)), b (not scored for every configuration " \
                                      "compared)"
    assert list(sets_table([]).columns) == ["set", "model", "collections", "members", "left out"]
    both = {"m": CollectionSet("m", ("c",), {"a": IN_SAMPLE, "b": NOT_EVERYWHERE})}
    assert sets_sentence(both).endswith("; left out: a (fit/calibration set (in-sample)), b (not scored for every "
                                        "configuration compared).")


def test_a_comparison_describes_each_model():
    table = pd.concat([rows(f32("a", "b"), fmt("int8", "a", "b", calibrate_on="a"), model="m1"),
                       rows(f32("a"), model="m2")])
    result = compare_like_for_like(table)
    assert result.describe() == ("m1: 1 collection (b); left out: a (fit/calibration set (in-sample)); "
                                 "m2: 1 collection (a)")
    assert result.describe(False) == "m1: 1 collection; left out: a (fit/calibration set (in-sample)); m2: 1 collection"
