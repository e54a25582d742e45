"""``study select`` without a browser: how equal candidates are ranked, and the expected nDCG@10 it prints.

The table is written by hand so every number is known: three collections, int8 calibrated on d3 (so every
configuration is compared on d1 + d2, held out), float8 e4m3 and e5m2 equal in quality and storage, int8 equal to
them in quality but storing 3,072 B of ranges once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from study.analysis import report, tradeoff
from study.cli import main as cli
from study.core.errors import ParameterError, StudyError

TEXTS = {"d1": 100, "d2": 300, "d3": 200}
BYTES = {"float32": 1536, "float16": 768, "float8_e5m2": 384, "float8_e4m3": 384, "int8": 384, "binary": 48}
TABLE = [  # format, calibrate_on, overhead, nDCG@10 on d1, d2, d3
    ("float32", "none", 0, (0.50, 0.70, 0.80)),
    ("float16", "none", 0, (0.50, 0.70, 0.80)),
    ("float8_e5m2", "none", 0, (0.49, 0.69, 0.79)),
    ("float8_e4m3", "none", 0, (0.49, 0.69, 0.79)),
    ("int8", "d3", 3072, (0.49, 0.69, 0.80)),
    ("binary", "none", 0, (0.40, 0.60, 0.70)),
]


def hand_table(model: str = "minilm-l6") -> pd.DataFrame:
    rows = []
    for fmt, calibrate_on, overhead, values in TABLE:
        for (dataset, n_texts), value in zip(TEXTS.items(), values):
            rows.append({"model": model, "dataset": dataset, "split": "test", "stage": "02", "reducer": "none",
                         "fraction": 1.0, "fit_on": "none", "format": fmt, "calibrate_on": calibrate_on,
                         "rescore": "none", "query_format": "same", "metric": "ndcg_at_10", "value": value,
                         "bytes_per_vector": BYTES[fmt], "overhead_bytes": overhead, "n_texts": n_texts,
                         "config_id": f"{fmt}|{dataset}"})
    return pd.DataFrame(rows)


def by_hand(fmt: str, weighting: str = "texts") -> tuple[float, float, float]:
    """(change %, float32 over every collection, expected nDCG@10) of a format, from TABLE alone."""
    values = {f: dict(zip(TEXTS, v)) for f, _, _, v in TABLE}
    weight = TEXTS if weighting == "texts" else dict.fromkeys(TEXTS, 1)

    def mean(f: str, datasets: tuple[str, ...]) -> float:
        return sum(weight[d] * values[f][d] for d in datasets) / sum(weight[d] for d in datasets)

    held = ("d1", "d2")  # d3 is int8's calibration set: left out for every configuration, the nDCG@10 too
    change = 100 * (mean(fmt, held) / mean("float32", held) - 1)
    baseline = mean("float32", tuple(TEXTS))
    return change, baseline, mean(fmt, held)


# --- ties ------------------------------------------------------------------------------------------------------


def test_equal_quality_and_storage_the_label_decides_then_the_smaller_storage():
    # 390 kB for 1000 vectors: both float8s (384 kB), int8 (387,072 B) and binary fit; float16 does not
    chosen = tradeoff.select(390_000, 1000, hand_table())
    assert chosen.recommended.label == "float8_e4m3"  # ties float8_e5m2 on quality and bytes: e4m3 < e5m2
    assert chosen.runners_up.label.tolist() == ["float8_e5m2", "int8 @d3", "binary"]
    assert chosen.n_fitting == 4 and chosen.n_configurations == 6


def test_equal_quality_the_smaller_total_storage_wins_whatever_the_name():
    table = hand_table()
    zzz = table[table.format == "float8_e4m3"].assign(format="zzz")  # 384 B/vector, nothing stored once
    aaa = zzz.assign(format="aaa", overhead_bytes=3072)  # the same, and 3,072 B stored once; first by name
    table = pd.concat([table[table.format.isin(["float32", "binary"])], zzz, aaa], ignore_index=True)
    chosen = tradeoff.select(390_000, 1000, table)
    assert chosen.recommended.label == "zzz" and chosen.recommended.total_bytes == 384_000
    assert chosen.runners_up.label.tolist() == ["aaa", "binary"]


def test_quality_comes_before_storage():
    chosen = tradeoff.select(10**9, 1000, hand_table())  # everything fits
    assert chosen.recommended.label == "float16"  # as good as float32 at half the bytes
    assert chosen.runners_up.label.tolist() == ["float32", "float8_e4m3", "float8_e5m2", "int8 @d3",
                                                "binary"]
    assert tradeoff.select(10**9, 1000, hand_table(), runners_up=1).runners_up.label.tolist() == ["float32"]


def test_the_rank_order_directly():
    candidates = pd.DataFrame({"label": ["b", "a", "c", "d", "e"], "change_pct": [-1.0, -1.0, -1.0, 0.5, -3.0],
                               "total_bytes": [10, 10, 5, 99, 1]})
    assert tradeoff.rank(candidates).label.tolist() == ["d", "c", "a", "b", "e"]


# --- the expected nDCG@10 it prints ------------------------------------------------------------------------------


@pytest.mark.parametrize("weighting", ["texts", "none"])
def test_expected_is_the_held_out_value_never_the_calibration_set(weighting):
    change, baseline, expected = by_hand("float8_e4m3", weighting)
    chosen = tradeoff.select(390_000, 1000, hand_table(), weighting=weighting)
    assert chosen.recommended.change_pct == pytest.approx(change)
    assert chosen.recommended.expected == pytest.approx(expected)
    assert chosen.expected_loss_pct == pytest.approx(-change)
    printed = next(line for line in chosen.describe().splitlines() if line.startswith("  expected"))
    assert printed == (f"  expected  nDCG@10 {expected:.4f} ({change:+.2f} % vs float32; 2 collection(s), "
                       f"{weighting}-weighted: d1, d2)")
    # float32 over every collection (d3, the calibration set, included) would differ at the printed precision
    assert chosen.recommended.value == pytest.approx(expected)
    assert len({f"{x:.4f}" for x in (expected, chosen.recommended.baseline, baseline)}) == 3


def test_selections_report_the_same_expected_value():
    configs = tradeoff.configurations(hand_table())
    table = tradeoff.selections(configs, [1000], {"small": 390_000})
    change, _, expected = by_hand("float8_e4m3")
    row = table.iloc[0]
    assert row.configuration == "float8_e4m3"
    assert row.expected == pytest.approx(expected) and row.change_pct == pytest.approx(change)


def test_describe_is_the_whole_recommendation():
    change, _, expected = by_hand("float8_e4m3")
    change_e5, _, _ = by_hand("float8_e5m2")
    change_int8, _, _ = by_hand("int8")
    change_binary, _, _ = by_hand("binary")
    text = tradeoff.select(390_000, 1000, hand_table()).describe()
    assert text.splitlines() == [
        "Budget RAM 390 kB (381 KiB) for 1,000 vectors of minilm-l6: 4 of 6 configurations fit.",
        "Recommended: float8_e4m3",
        "  storage   384 kB (375 KiB) = 1,000 × 384 B/vector + 0 B stored once; compression 4×",
        f"  expected  nDCG@10 {expected:.4f} ({change:+.2f} % vs float32; 2 collection(s), texts-weighted: d1, d2)",
        "  (no per-query scores: differences were not tested; ranked by point estimate)",
        "Runners-up:",
        f"  {'float8_e5m2':40s} {'384 kB (375 KiB)':>24s}  {change_e5:+7.2f} %",
        f"  {'int8 @d3':40s} {'387 kB (378 KiB)':>24s}  {change_int8:+7.2f} %  (dominated)",
        f"  {'binary':40s} {'48 kB (46.9 KiB)':>24s}  {change_binary:+7.2f} %",
    ]


def test_cli_select_prints_the_expected_value(output_dir, capsys):
    report.save_results(hand_table(), pd.DataFrame({"config_id": pd.Series(dtype=str)}), "02-quantization", "unit")
    code = cli(["select", "--ram", "390kB", "--vectors", "1000", "--model", "minilm-l6", "--profile", "unit"])
    out = capsys.readouterr().out
    change, _, expected = by_hand("float8_e4m3")
    assert code == 0
    assert "Recommended: float8_e4m3\n" in out
    assert f"nDCG@10 {expected:.4f} ({change:+.2f} % vs float32" in out


def two_tier(tier2: float) -> pd.DataFrame:
    """The hand table and a binary code rescored from a second tier of ``tier2`` bytes per vector (int8 ranges
    stored once), as good as float16."""
    table = hand_table()
    extra = table[table.format == "float16"].assign(format="binary", rescore="int8x4", bytes_per_vector=48,
                                                    overhead_bytes=3072, config_id=lambda f: "rescored|" + f.dataset)
    table = pd.concat([table, extra], ignore_index=True)
    table["rescore_bytes_per_vector"] = np.where(table.rescore == "none", np.nan, tier2)
    return table


def test_a_two_tier_recommendation_names_both_tiers_and_where_the_second_is():
    ram_only = tradeoff.select(500_000, 1000, two_tier(384)).describe().splitlines()
    assert ram_only[1] == "Recommended: binary → int8 ×4"
    assert ram_only[2] == ("  storage   435 kB (425 KiB) = 1,000 × 432 B/vector + 3,072 B stored once; "
                           "compression 3.56×")
    assert ram_only[3] == ("  tiers     RAM 51.1 kB (49.9 KiB) (48 B/vector searched + what is stored once), "
                           "rescoring tier 384 kB (375 KiB) (384 B/vector)")
    with_disk = tradeoff.select(60_000, 1000, two_tier(384), disk_bytes="1MB").describe().splitlines()
    assert with_disk[0] == ("Budget RAM 60 kB (58.6 KiB) + disk 1 MB (977 KiB) for 1,000 vectors of minilm-l6: "
                            "2 of 7 configurations fit.")
    assert with_disk[3].endswith("rescoring tier 384 kB (375 KiB) (384 B/vector, on disk)")
    # the smallest second tier, one byte per vector, is a tier too
    assert tradeoff.select(60_000, 1000, two_tier(1)).describe().splitlines()[3].startswith("  tiers     RAM ")
    one_tier = tradeoff.select(390_000, 1000, two_tier(384)).describe()
    assert "tiers" not in one_tier and "Recommended: float8_e4m3\n" in one_tier


# --- what select refuses, and what it names ----------------------------------------------------------------------


def test_select_names_the_budget_it_refuses():
    with pytest.raises(ParameterError, match="^parameter 'ram': invalid value 'lots'; allowed: a positive size"):
        tradeoff.select("lots", 1000, hand_table())
    with pytest.raises(ParameterError, match="^parameter 'disk': invalid value '1 Gb'; allowed: a size in bytes"):
        tradeoff.select("1GB", 1000, hand_table(), disk_bytes="1 Gb")


def test_select_names_the_models_it_knows():
    both = pd.concat([hand_table(), hand_table("mpnet-base")])
    for model in (None, "nope"):
        with pytest.raises(ParameterError) as err:
            tradeoff.select("1GB", 1000, both, model=model)
        assert str(err.value) == f"parameter 'model': invalid value {model!r}; allowed: minilm-l6, mpnet-base"
        assert err.value.name == "model" and err.value.value == model


def small_first_tier() -> pd.DataFrame:
    """Binary (48 B) and a 16-B code rescored from a 384-B second tier: the smallest in RAM is not the smallest."""
    table = hand_table()
    extra = table[table.format == "binary"].assign(format="rabitq1", rescore="int8x4", bytes_per_vector=16,
                                                   config_id=lambda f: "rabitq|" + f.dataset)
    table = pd.concat([table, extra], ignore_index=True)
    table["rescore_bytes_per_vector"] = np.where(table.rescore == "none", np.nan, 384.0)
    return table


def test_when_nothing_fits_the_smallest_is_named_by_what_must_fit():
    with pytest.raises(StudyError) as err:
        tradeoff.select(10_000, 1000, small_first_tier())
    assert str(err.value) == ("no configuration of minilm-l6 fits 10 kB (9.77 KiB) for 1,000 vectors; the smallest "
                              "is binary at 48 kB (46.9 KiB) (48 B/vector + 0 B overhead)")
    with pytest.raises(StudyError) as err:
        tradeoff.select(10_000, 1000, small_first_tier(), disk_bytes="1MB")
    assert str(err.value) == ("no configuration of minilm-l6 fits 10 kB (9.77 KiB) of RAM (with 1 MB (977 KiB) of "
                              "disk) for 1,000 vectors; the smallest is rabitq1 → int8 ×4 at 16 kB (15.6 KiB) "
                              "(400 B/vector + 0 B overhead)")


def test_select_takes_a_configurations_table_as_well_as_tidy_rows():
    configs = tradeoff.configurations(hand_table())
    from_configs = tradeoff.select(390_000, 1000, configs)
    from_tidy = tradeoff.select(390_000, 1000, hand_table())
    assert from_configs.describe() == from_tidy.describe()


def test_select_lists_five_runners_up_unless_told():
    table = small_first_tier()  # seven configurations, all fit 1 GB
    assert len(tradeoff.select("1GB", 1000, table).runners_up) == 5
    assert len(tradeoff.select("1GB", 1000, table, runners_up=6).runners_up) == 6
    assert len(tradeoff.select("1GB", 1000, table, runners_up=0).runners_up) == 0
