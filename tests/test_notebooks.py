"""Notebooks: jupytext pairs in sync, committed clean; stages 01/02/04 run under papermill."""


import re

import nbformat
import pandas as pd
import papermill as pm
import pytest
from conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
TIDY_COLUMNS = {"model", "dataset", "split", "stage", "reducer", "fraction", "dims", "fit_on", "format",
                "calibrate_on", "rescore", "query_format", "metric", "value", "bytes_per_vector",
                "overhead_bytes", "compression_ratio", "n_queries", "n_docs", "config_id"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_have_no_outputs_and_a_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not any(c.outputs or c.execution_count for c in code)
    assert sum("parameters" in c.metadata.get("tags", []) for c in code) == 1
    assert nb.cells[0].cell_type == "markdown" and "Question" in nb.cells[0].source


def _cells(nb) -> list[tuple[str, str, list]]:
    return [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in nb.cells]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_notebook_is_in_sync_with_its_jupytext_source(path):
    """The percent-format script is the source; the .ipynb must hold the same cells (``jupytext --sync``)."""
    import jupytext
    from jupytext.config import load_jupytext_config

    source = path.with_suffix(".py")
    assert source.exists(), f"{path.name} has no paired {source.name}"
    paired = jupytext.read(source)
    committed = nbformat.read(path, as_version=4)
    assert _cells(committed) == _cells(paired), f"{path.name} and {source.name} differ: jupytext --sync {source}"
    assert load_jupytext_config(str(path)).default_formats(str(path)) == "ipynb,py:percent"  # what --sync pairs


STAGE_NOTEBOOKS = ("02", "03", "04", "05", "06", "07", "09", "10")


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name[:2] in STAGE_NOTEBOOKS], ids=lambda p: p.name)
def test_stage_notebooks_show_their_steps(path):
    """A stage notebook reads as the experiment: many small cells, no single call that does everything."""
    code = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    assert len(code) >= 6
    assert not any("run_" in src and "_stage(" in src for src in code)
    lines = [ln for src in code for ln in src.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    assert len(lines) <= 90, f"{path.name}: {len(lines)} lines of code"


def run(name, tmp_path, **params):
    return pm.execute_notebook(
        str(REPO / "notebooks" / name), str(tmp_path / f"executed-{name}"), parameters=params,
        cwd=str(REPO), progress_bar=False, kernel_name="python3",
    )


def test_embed_then_quantization_stages_run_on_tiny_collections(tiny_embeddings, output_dir, tmp_path):
    run("01-embed.ipynb", tmp_path, model="minilm-l6", datasets=["adi", "time"], profile="tiny")
    assert (output_dir / "results/tiny/embeddings/minilm-l6--adi.json").exists()

    executed = run("02-quantization.ipynb", tmp_path, datasets=["adi", "time"], calibrate_on="time", profile="tiny")
    shown = "".join(o.get("text", "") for cell in executed.cells for o in cell.get("outputs", []))
    assert "minilm-l6 · adi" not in shown and "config/s" not in shown  # the runner's bar went to the terminal
    html = "".join(o.get("data", {}).get("text/html", "") for cell in executed.cells for o in cell.get("outputs", []))
    changes = re.findall(r"<td>(-?\d+\.\d+)</td>", html)  # every float a shown table prints
    assert changes and max(len(v.split(".")[1]) for v in changes) <= 4
    comparison = html[html.rindex("ours minilm-l6 (%)"):]  # the last table: our % changes beside the paper's
    assert all(len(v.split(".")[1]) <= 2 for v in re.findall(r"<td>(-?\d+\.\d+)</td>", comparison)), comparison[:800]
    tidy = pd.read_csv(output_dir / "results/tiny/02-quantization.csv")
    assert set(tidy.columns) >= TIDY_COLUMNS
    assert set(tidy.format) == {"float32", "float16", "bfloat16", "float8_e4m3", "float8_e5m2", "float4_e2m1",
                                "int8", "binary"}
    bpv = tidy.groupby("format").bytes_per_vector.first()
    assert bpv["float32"] == 1536 and bpv["float4_e2m1"] == 192 and bpv["binary"] == 48
    per_query = pd.read_parquet(output_dir / "results/tiny/02-quantization-per-query.parquet")
    assert set(per_query.config_id) == set(tidy.config_id)
    for path in ["figures/tiny/fig3-quantization.png", "figures/tiny/fig3-quantization.pdf",
                 "paper/generated/tiny/table-quantization.tex", "paper/generated/tiny/table-quantization-vs-paper.tex"]:
        assert (output_dir / path).stat().st_size > 0, path
    from oracles import check_notebook, quantization_cases  # every format's nDCG@10 recomputed without study

    check_notebook(output_dir, "02-quantization", quantization_cases(["adi", "time"], calibrate_on="time"))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"formats": ["float7"]}, "parameter 'formats': invalid value 'float7'"),
        ({"models": ["gpt-embed"]}, "parameter 'models': invalid value 'gpt-embed'"),
        ({"datasets": ["nope"]}, "parameter 'datasets': invalid value 'nope'"),
        ({"calibrate_on": "nowhere"}, "parameter 'calibrate_on'"),
        ({"datasets": "[broken"}, "parameter 'datasets'"),
    ],
)
def test_bad_parameters_fail_with_one_clear_line_and_write_nothing(params, message, output_dir, tmp_path, cache_dir):
    with pytest.raises(pm.PapermillExecutionError) as err:
        run("02-quantization.ipynb", tmp_path, **({"datasets": ["adi"], "profile": "tiny"} | params))
    assert message in str(err.value)
    assert not (output_dir / "results").exists()


def test_notebooks_02_and_04_run_on_a_beir_folder_given_by_its_path(tiny_embeddings, output_dir, tmp_path):
    """A user's own collection, by absolute path outside the data folder: rows and per-query scores name it
    by its folder, and the stage's statistics (which pair the two) run."""
    import shutil

    from study.core.paths import data_root

    folder = tmp_path / "elsewhere" / "mycollection"
    shutil.copytree(data_root() / "adi", folder)
    path = str(folder.resolve())
    run("02-quantization.ipynb", tmp_path, datasets=[path, "time"], calibrate_on="self", profile="tiny")
    tidy = pd.read_csv(output_dir / "results/tiny/02-quantization.csv")
    per_query = pd.read_parquet(output_dir / "results/tiny/02-quantization-per-query.parquet")
    assert set(tidy.dataset) == {"mycollection", "time"} == set(per_query.dataset)
    assert set(per_query.config_id) == set(tidy.config_id)
    run("04-combined.ipynb", tmp_path, datasets=[path], reducers=["pca"], fractions=[0.5],
        formats=["float32", "int8"], fit_on="time", calibrate_on="time", profile="tiny")
    combined = pd.read_csv(output_dir / "results/tiny/04-combined.csv")
    assert set(combined.dataset) == {"mycollection"}
    assert (output_dir / "paper/generated/tiny/table1-combined-pca.tex").exists()
