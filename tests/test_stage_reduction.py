"""Stages 03/04: the reduce-then-quantize grid on real tiny collections, and both notebooks under papermill
(adi and time only), their closing cells' numbers read back from the stage's tables."""

import numpy as np
import pandas as pd
import papermill as pm
import pytest
from conftest import REPO

from study.analysis.comparison import CollectionSet
from study.compress.formats import calibrate, quantize
from study.compress.reducers import DEFAULT_FIT_SAMPLE, fit_reducer
from study.core.errors import StudyError
from study.experiment import runner
from study.experiment.configs import load_eval_data, reference_vectors
from study.params import ReductionParams
from study.plans.reduction import plan
from study.search.exact import evaluate
from study.stages.reduction import timings


def run_reduction_grid(model: str, datasets: list[str], methods: list[str], fractions: list[float],
                       formats: list[str], fit_on: str, calibrate_on: str) -> tuple[pd.DataFrame, ...]:
    """Stage 03's plan on these parameters, run: (tidy rows, per-query scores, the reducers' timings)."""
    p = ReductionParams(models=[model], datasets=datasets, methods=methods, fractions=fractions, formats=formats,
                        fit_on=fit_on, calibrate_on=calibrate_on, fit_sample=DEFAULT_FIT_SAMPLE)
    result = runner.run(plan(p), progress=False)
    return result.tidy, result.per_query, timings(result.fits)

TIDY_COLUMNS = {"model", "dataset", "split", "stage", "reducer", "fraction", "dims", "fit_on", "format",
                "calibrate_on", "metric", "value", "bytes_per_vector", "overhead_bytes", "compression_ratio",
                "n_queries", "n_docs", "config_id", "fit_rows"}


def ndcg(tidy: pd.DataFrame, **where) -> float:
    rows = tidy[tidy.metric == "ndcg_at_10"]
    for k, v in where.items():
        rows = rows[rows[k] == v]
    assert len(rows) == 1, where
    return float(rows.value.iloc[0])


def test_grid_reduces_then_quantizes_with_ranges_from_the_reduced_calibration_set(tiny_embeddings):
    tidy, per_query, timings = run_reduction_grid(
        "minilm-l6", ["adi", "time"], ["pca", "truncation"], [0.5], ["float32", "int8"], "time", "self")
    assert set(tidy.columns) >= TIDY_COLUMNS
    assert set(per_query.config_id) == set(tidy.config_id)
    assert len(tidy) == 2 * 3 * (2 + 2 * 2)  # datasets × metrics × (baselines + reducers × formats)

    pca = tidy[(tidy.reducer == "pca") & (tidy.metric == "ndcg_at_10")].set_index(["dataset", "format"])
    pca_bytes = (192 * 384 + 384) * 4
    assert (pca.dims == 192).all() and (pca.fit_on == "time").all() and (pca.fit_rows == 423 + 83).all()
    assert pca.loc[("adi", "float32")].bytes_per_vector == 768 and pca.loc[("adi", "float32")].compression_ratio == 2
    assert pca.loc[("adi", "int8")].bytes_per_vector == 192 and pca.loc[("adi", "int8")].compression_ratio == 8
    assert pca.loc[("adi", "float32")].overhead_bytes == pca_bytes
    assert pca.loc[("adi", "int8")].overhead_bytes > pca_bytes  # + the int8 ranges of 192 dimensions
    trunc = tidy[tidy.reducer == "truncation"]
    assert (trunc.fit_on == "none").all() and (trunc.overhead_bytes[trunc.format == "float32"] == 0).all()

    # the same numbers by hand: PCA fit on time (corpus + queries), int8 ranges from the reduced adi corpus
    data = load_eval_data("minilm-l6", "adi")
    reducer = fit_reducer("pca", reference_vectors("minilm-l6", "time", data), 0.5)
    docs, queries = reducer.transform(data.docs), reducer.transform(data.queries)
    params = calibrate("int8", docs)
    by_hand, _ = evaluate(quantize(queries, "int8", params).decode(), data.query_ids,
                          quantize(docs, "int8", params).decode(), data.doc_ids, data.qrels)
    assert ndcg(tidy, dataset="adi", reducer="pca", format="int8") == pytest.approx(
        by_hand.ndcg_at_10.mean(), abs=1e-12)
    float_hand, _ = evaluate(queries, data.query_ids, docs, data.doc_ids, data.qrels)
    assert ndcg(tidy, dataset="adi", reducer="pca", format="float32") == pytest.approx(
        float_hand.ndcg_at_10.mean(), abs=1e-12)

    assert list(timings.reducer) == ["pca", "truncation"]
    assert (timings.vectors_transformed == 82 + 35 + 423 + 83).all()
    assert (timings.transform_s_per_1k > 0).all()


def test_fit_on_self_fits_one_reducer_per_collection(tiny_embeddings):
    tidy, _, timings = run_reduction_grid(
        "minilm-l6", ["adi", "time"], ["pca"], [0.1], ["float32"], "self", "self")
    assert sorted(timings.fit_rows) == [82, 423] and list(timings.fit_on) == ["self", "self"]
    assert set(tidy[tidy.reducer == "pca"].fit_on) == {"self"}
    with pytest.raises(StudyError, match="fit set has 82 vectors but 192 components"):
        run_reduction_grid("minilm-l6", ["adi"], ["pca"], [0.5], ["float32"], "self", "self")


def test_wordllama_truncation_keeps_its_matryoshka_prefix(cache_dir):
    tidy, _, timings = run_reduction_grid(
        "wordllama-256", ["adi"], ["truncation", "pca"], [0.5], ["float32"], "time", "self")
    rows = tidy[tidy.metric == "ndcg_at_10"].set_index("reducer")
    assert rows.loc["none"].dims == 256 and rows.loc["truncation"].dims == 128 and rows.loc["pca"].dims == 128
    assert rows.loc["truncation"].bytes_per_vector == 512 and rows.loc["truncation"].fit_rows == 0
    assert 0 < rows.loc["truncation"].value <= 1 and rows.loc["pca"].fit_rows == 423 + 83
    assert list(timings.reducer) == ["truncation", "pca"]


def run(name, tmp_path, **params):
    return pm.execute_notebook(
        str(REPO / "notebooks" / name), str(tmp_path / f"executed-{name}"), parameters=params,
        cwd=str(REPO), progress_bar=False, kernel_name="python3",
    )


def printed(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_reduction_notebook_runs_on_tiny_collections(tiny_embeddings, output_dir, tmp_path):
    nb = run("03-reduction.ipynb", tmp_path, datasets=["adi", "time"], fit_on="time", calibrate_on="self",
             methods=["pca", "kpca_cosine", "random_projection", "truncation"], fractions=[0.5, 0.25],
             fit_sample=200, profile="tiny")
    tidy = pd.read_csv(output_dir / "results/tiny/03-reduction.csv")
    assert set(tidy.columns) >= TIDY_COLUMNS
    assert set(tidy.reducer) == {"none", "pca", "kpca_cosine", "random_projection", "truncation"}
    assert set(tidy.format) == {"float32", "float8_e4m3"} and set(tidy.dims) == {384, 192, 96}
    assert set(tidy[tidy.reducer == "kpca_cosine"].fit_rows) == {200}
    per_query = pd.read_parquet(output_dir / "results/tiny/03-reduction-per-query.parquet")
    assert set(per_query.config_id) == set(tidy.config_id)
    timings = pd.read_csv(output_dir / "results/tiny/tables/table-reduction-timings.csv")
    assert len(timings) == 4 * 2 and (timings.fits == 1).all() and timings.fit_s.notna().all()  # one fit each, timed
    assert set(zip(timings.reducer, timings.dims, strict=True)) == {
        (m, d) for m in ("pca", "kpca_cosine", "random_projection", "truncation") for d in (192, 96)}
    for path in ["figures/tiny/fig4-reduction.png", "figures/tiny/fig4-reduction.pdf",
                 "paper/generated/tiny/table-reduction.tex", "paper/generated/tiny/table-reduction-timings.tex"]:
        assert (output_dir / path).stat().st_size > 0, path
    text = printed(nb)
    ranking = next(line for line in text.splitlines() if line.startswith("minilm-l6, 25% kept:"))
    assert {"pca", "kpca_cosine", "random_projection", "truncation"} <= set(ranking.replace("(", " ").split())
    assert (f"set {CollectionSet('minilm-l6', ('adi',)).name} (members: table of collection sets); left out: time"
            in text)  # time is the fit set
    sets = pd.read_csv(output_dir / "results/tiny/tables/collection-sets-03-reduction.csv")
    assert sets[["model", "collections", "members"]].values.tolist() == [["minilm-l6", 1, "adi"]]
    from oracles import check_notebook, reduction_cases  # every reducer's nDCG@10 recomputed without study

    check_notebook(output_dir, "03-reduction", reduction_cases(
        ["adi", "time"], "time", ["pca", "kpca_cosine", "random_projection", "truncation"], [0.5, 0.25],
        ["float32", "float8_e4m3"], fit_sample=200))


def test_combined_notebook_runs_on_tiny_collections(tiny_embeddings, output_dir, tmp_path):
    nb = run("04-combined.ipynb", tmp_path, datasets=["adi", "time"], fit_on="time", calibrate_on="self",
             fractions=[0.5, 0.25], profile="tiny")
    tidy = pd.read_csv(output_dir / "results/tiny/04-combined.csv")
    assert set(tidy.reducer) == {"none", "pca", "truncation"} and len(set(tidy.format)) == 8
    table = pd.read_csv(output_dir / "results/tiny/tables/table1-combined-pca.csv")
    assert len(table) == 8 * 3  # formats × (100 %, 50 %, 25 %)
    row = table[(table.format == "binary") & (table["kept (%)"] == 25)].iloc[0]
    assert row["CR minilm-l6"] == pytest.approx(128)
    comparison = pd.read_csv(output_dir / "results/tiny/tables/table1-combined-vs-paper.csv")
    assert {"ours minilm-l6 (%)", "paper bge-small (%)", "paper nomic-v1.5 (%)"} <= set(comparison.columns)
    paper = comparison[(comparison.format == "int8") & (comparison["kept (%)"] == 50)]["paper bge-small (%)"]
    assert paper.iloc[0] == pytest.approx(100 * (0.527 / 0.595 - 1))
    for path in ["figures/tiny/fig6-combined.png", "paper/generated/tiny/table1-combined-pca.tex",
                 "paper/generated/tiny/table1-combined-truncation.tex",
                 "paper/generated/tiny/table1-combined-vs-paper.tex"]:
        assert (output_dir / path).stat().st_size > 0, path
    # the closing cell's claim-3 line quotes Table 1's changes: PCA 50 % + float8 (8×) against int8 alone (4×)
    change = table.set_index(["format", "kept (%)"])["minilm-l6 change (%)"]
    assert (f"minilm-l6: PCA 50 % + float8_e4m3 {change['float8_e4m3', 50]:+.2f} % vs int8 "
            f"{change['int8', 100]:+.2f} %") in printed(nb)
    assert np.isfinite(tidy.value).all()
    from oracles import PAPER_FORMATS, check_notebook, reduction_cases  # recomputed without study

    check_notebook(output_dir, "04-combined", reduction_cases(["adi", "time"], "time", ["pca", "truncation"],
                                                             [0.5, 0.25], PAPER_FORMATS))


@pytest.mark.parametrize(
    ("notebook", "params", "message"),
    [
        ("03-reduction.ipynb", {"methods": ["pca", "tsne"]}, "parameter 'methods': invalid value 'tsne'"),
        ("03-reduction.ipynb", {"fractions": [0.5, 1.0]}, "parameter 'fractions': invalid value 1.0"),
        ("04-combined.ipynb", {"fit_on": "nowhere"}, "parameter 'fit_on': invalid value 'nowhere'"),
    ],
)
def test_bad_parameters_fail_with_one_clear_line_and_write_nothing(notebook, params, message, output_dir, tmp_path,
                                                                   cache_dir):
    with pytest.raises(pm.PapermillExecutionError) as err:
        run(notebook, tmp_path, **({"datasets": ["adi"], "profile": "tiny"} | params))
    assert message in str(err.value)
    assert not (output_dir / "results").exists()
