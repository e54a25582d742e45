"""Stage 06 (beyond the paper): its plan, its parameter checks, and a smoke run of the notebook on adi/time."""

import re

import pandas as pd
import papermill as pm
import pytest
from conftest import REPO

from study.analysis.tradeoff import label
from study.compress.formats import FORMATS
from study.config import check_seed
from study.core.errors import ParameterError
from study.experiment.configs import load_eval_data
from study.params import check_format_list
from study.plans.beyond import _plan

TIDY_COLUMNS = {"model", "dataset", "split", "stage", "reducer", "fraction", "dims", "fit_on", "format",
                "calibrate_on", "rescore", "query_format", "metric", "value", "bytes_per_vector",
                "overhead_bytes", "compression_ratio", "n_queries", "n_docs", "config_id",
                "ci_low", "ci_high", "p_value", "p_holm", "significant"}


def test_plan_calibrates_paper_and_corrected_formats_on_their_own_sets(tiny_embeddings):
    data = load_eval_data("minilm-l6", "adi")
    plan = _plan(data, ["float32", "int8", "int8_clipped", "binary_sign"], ["self", "time"], "time",
                 ["float32", "int8_clipped"], ["binary_sign"])
    seen = [(c.format, c.calibrate_on, c.query_format, kind) for c, kind in plan]
    assert seen == [
        ("float32", "none", "same", "symmetric"),
        ("int8", "time", "same", "symmetric"),             # the paper's int8 keeps the paper's set
        ("int8_clipped", "self", "same", "symmetric"),      # corrected: every calibration set
        ("int8_clipped", "time", "same", "symmetric"),
        ("binary_sign", "none", "same", "symmetric"),
        ("int8_clipped", "self", "float32", "asymmetric"),  # float32 itself is not repeated
        ("binary_sign", "self", "same", "rescore"),
    ]


def test_labels_name_every_non_default_part():
    def config_label(fmt, calibrate_on, query_format, rescore):
        return label({"format": fmt, "calibrate_on": calibrate_on, "query_format": query_format, "rescore": rescore})

    assert config_label("int8_clipped", "self", "same", "none") == "int8_clipped @self"
    assert config_label("binary_sign", "none", "same", "float32x4") == "binary_sign → float32 ×4"
    assert config_label("int4", "self", "float32", "none") == "int4 · float32 queries @self"


def test_parameter_checks_name_the_parameter():
    assert check_format_list("asymmetric", "all", ["float32", "int4"]) == ["float32", "int4"]
    assert check_format_list("asymmetric", "none", list(FORMATS)) == []
    with pytest.raises(ParameterError, match="'rescore_first'"):
        check_format_list("rescore_first", ["binary_sign", "float7"], list(FORMATS))
    with pytest.raises(ParameterError, match="'seed'"):
        check_seed(-1)


def run(tmp_path, **params):
    return pm.execute_notebook(
        str(REPO / "notebooks" / "06-beyond.ipynb"), str(tmp_path / "executed-06.ipynb"), parameters=params,
        cwd=str(REPO), progress_bar=False, kernel_name="python3",
    )


def test_beyond_notebook_runs_on_tiny_collections(tiny_embeddings, output_dir, tmp_path):
    nb = run(tmp_path, datasets=["adi", "time"], formats=["float32", "float8_e4m3", "float4_e2m1", "int8", "binary",
             "int8_clipped", "int4", "float4_e2m1_scaled", "binary_sign"], calibrate_on=["self"],
             paper_calibrate_on="time", asymmetric=["int8_clipped", "binary_sign"],
             rescore_first=["binary_sign"], rescore_tiers=["float32", "int8_clipped"], oversampling=[1, 4],
             n_resamples=500, profile="tiny")
    tidy = pd.read_csv(output_dir / "results/tiny/06-beyond.csv")
    assert set(tidy.columns) >= TIDY_COLUMNS
    nd = tidy[tidy.metric == "ndcg_at_10"]
    assert set(nd.rescore) == {"none", "float32x1", "float32x4", "int8_clippedx1", "int8_clippedx4"}
    assert set(nd.query_format) == {"same", "float32"}
    assert nd[nd.format == "float32"].p_value.isna().all() and nd[nd.format != "float32"].p_value.notna().all()
    bpv = nd.groupby("format").bytes_per_vector.first()
    assert bpv["float4_e2m1_scaled"] == 194 and bpv["int4"] == 192 and bpv["binary_sign"] == 48
    per_query = pd.read_parquet(output_dir / "results/tiny/06-beyond-per-query.parquet")
    assert set(per_query.config_id) == set(tidy.config_id)
    summary = pd.read_csv(output_dir / "results/tiny/06-beyond-summary.csv")
    assert set(summary.weighting) == {"texts", "none"}
    for path in ["figures/tiny/fig-beyond-formats.png", "figures/tiny/fig-beyond-formats.pdf",
                 "figures/tiny/fig-beyond-rescoring.png", "paper/generated/tiny/table-beyond.tex",
                 "results/tiny/tables/table-beyond.csv"]:
        assert (output_dir / path).stat().st_size > 0, path
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "minilm-l6, best at ≥ 8× (one tier): " in printed
    best_32 = next(line for line in printed.splitlines() if line.startswith("minilm-l6, best at ≥ 32× (one tier): "))
    number = r"[+-]\d+\.\d\d"  # at 32× one tier: a binary code of 48 B, 32× of all it stores
    assert re.fullmatch(rf"minilm-l6, best at ≥ 32× \(one tier\): binary.* {number} % \[{number}, {number}\], "
                        r"32× in all", best_32), best_32
    shown = "".join(str(o.get("data", {})) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "int8_clipped vs float8_e4m3" in shown  # the paired test of the paper's float8-beats-int8 claim
    from oracles import beyond_cases, check_notebook  # corrected formats, Hamming, rescoring without study

    check_notebook(output_dir, "06-beyond", beyond_cases(["adi", "time"], paper_calibrate_on="time"))


def test_bad_parameters_fail_with_one_clear_line_and_write_nothing(output_dir, tmp_path, cache_dir):
    with pytest.raises(pm.PapermillExecutionError) as err:
        run(tmp_path, datasets=["adi"], oversampling=[0], profile="tiny")
    assert "parameter 'oversampling'" in str(err.value)
    assert not (output_dir / "results").exists()
