"""Stage 10 (your vectors; choosing without labels): a papermill run of notebook 10 on the tiny collections, its
numbers checked against independent computations (scipy's Spearman, per-query differences and counts by hand),
its one-line parameter errors, its workflow rule, and its figure drawn for print."""

from __future__ import annotations

import json
import re
import shlex

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import papermill as pm
import pytest
from conftest import REPO
from scipy.stats import spearmanr
from test_codegraph import plan
from test_figures_print import assert_drawn_for_print

from study.advise import your_vectors as yv
from study.config import workflow_config
from study.core import artifacts
from study.core.profiles import stage_parameters
from study.figures.proxy import plot_proxy

STEM = artifacts.STAGES["advise"].stem
TINY = {"models": ["minilm-l6"], "datasets": ["time", "adi"], "profile": "tiny", "n_vectors": 10_000_000,
        "ram": "512MiB"}


def run(tmp_path, **params):
    return pm.execute_notebook(str(REPO / "notebooks" / f"{STEM}.ipynb"), str(tmp_path / f"executed-{STEM}.ipynb"),
                               parameters=params, cwd=str(REPO), progress_bar=False, kernel_name="python3")


def printed(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


@pytest.fixture(scope="module")
def tiny_run(tiny_embeddings, tmp_path_factory):
    """Notebook 10 on time (advised) and adi (refused: 82 documents), once; its tables read back."""
    folder = tmp_path_factory.mktemp("stage10")
    out = folder / "out"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("STUDY_OUTPUT_DIR", str(out))
        nb = run(folder, **TINY)
    tables = {name: pd.read_csv(out / "results/tiny/tables" / f"{name}.csv", keep_default_na=False, na_values=[""])
              for name in (artifacts.TABLE_PROXY, artifacts.PROXY_COLLECTIONS, artifacts.PROXY_CHANGES,
                           artifacts.PROXY_MEANS, artifacts.PROXY_CORRELATIONS, artifacts.PROXY_SELECTIONS)}
    return {"nb": nb, "out": out, "tables": tables}


def test_the_notebook_writes_every_registered_output(tiny_run):
    out = tiny_run["out"]
    names = artifacts.published("advise")
    for path in [*(f"figures/tiny/{f}.{e}" for f in names.figures for e in ("pdf", "png")),
                 *(f"paper/generated/tiny/{t}.tex" for t in names.tables),
                 *(f"results/tiny/tables/{t}.csv" for t in (*names.tables, *names.csv))]:
        assert (out / path).stat().st_size > 0, path
    tex = (out / f"paper/generated/tiny/{artifacts.TABLE_PROXY}.tex").read_text()
    assert "minilm-l6/1-" in tex  # the caption names the collection set


def test_the_demo_is_advised_label_free_on_held_out_documents(tiny_run, tiny_embeddings):
    """Part 1: time's document vectors exported as a user holds them, queries drawn from them and held out."""
    out = tiny_run["out"] / "build/advise/tiny"
    vectors = np.load(out / "minilm-l6--time.npy")
    assert np.array_equal(vectors, np.asarray(tiny_embeddings["time"][1].vectors, dtype=np.float32))
    manifest = json.loads((out / "minilm-l6--time/advise.json").read_text())
    assert manifest["metric"] == "recall_at_10" and manifest["rows"]["held_out_queries"]
    roles = pd.read_csv(out / "minilm-l6--time/rows.csv")
    queries, training = set(roles[roles.role == "query"].row), set(roles[roles.role == "training"].row)
    assert len(queries) == manifest["rows"]["queries"] and not queries & training
    text = printed(tiny_run["nb"])
    assert f"queries: {len(queries)} documents drawn with seed 0 and held out of the index" in text
    assert "Budget RAM 537 MB (512 MiB) for 10,000,000 vectors" in text


def test_a_collection_advise_refuses_is_listed_with_its_reason(tiny_run):
    collections = tiny_run["tables"][artifacts.PROXY_COLLECTIONS].set_index("dataset")
    assert pd.isna(collections.loc["time", "reason"])  # advised
    assert collections.loc["time", "documents"] == 423 and collections.loc["time", "configurations"] == 62
    assert re.match(r"documents: 82 in the index; at least 100 are needed", collections.loc["adi", "reason"])


def test_the_rank_correlation_is_scipys_on_the_saved_changes(tiny_run):
    t = tiny_run["tables"]
    rows = t[artifacts.PROXY_CHANGES]
    rows = rows[(rows.dataset == "time") & ~rows.float32]
    assert len(rows) == 61  # every configuration but float32
    summary = t[artifacts.TABLE_PROXY]
    assert sorted(summary.margin.unique()) == [0.0, 0.05]  # the notebook's default margins, each a row
    for metric in yv.LABEL_FREE_METRICS:
        rho = spearmanr(rows.ndcg_at_10_change_pct, rows[f"{metric}_change_pct"]).statistic
        saved = t[artifacts.PROXY_CORRELATIONS].set_index("dataset").loc["time", f"rho_{metric}"]
        assert saved == pytest.approx(rho, abs=1e-9)
        for row in summary[summary.measure == yv.NAMES[metric]].to_dict("records"):
            assert row["ρ median"] == row["ρ least"] == row["ρ most"] == pytest.approx(rho, abs=1e-9)
            assert row["ρ on the set"] == pytest.approx(rho, abs=1e-9)  # the set is time alone
            assert row["collections"] == 1


def test_the_changes_are_the_per_query_means_against_float32(tiny_run, cache_dir):
    """nDCG@10 and recall@10 changes recomputed from the validation run's per-query scores."""
    per_query = pd.read_parquet(yv.validation_folder("minilm-l6", "time") / "per-query.parquet")
    rows = tiny_run["tables"][artifacts.PROXY_CHANGES]
    rows = rows[rows.dataset == "time"]
    base = rows[rows.float32].config_id.iloc[0]
    means = per_query.groupby("config_id")[["ndcg_at_10", "recall_at_10"]].mean()
    for metric in ("ndcg_at_10", "recall_at_10"):
        expected = 100 * (means[metric].reindex(rows.config_id) / means.loc[base, metric] - 1)
        assert np.allclose(rows[f"{metric}_change_pct"], expected.to_numpy(), atol=1e-4)
    assert (means.loc[base, "recall_at_10"]) == 1.0  # float32 is the reference of the label-free measure


def test_the_agreement_counts_and_differences_by_hand(tiny_run):
    """Each pick fits its budget; where the two differ, the paired nDCG@10 difference is the mean of the per-query
    differences; the outcome follows its CI; the table's counts and agreement are these rows counted."""
    t = tiny_run["tables"]
    picks = t[artifacts.PROXY_SELECTIONS]
    per_query = pd.read_parquet(yv.validation_folder("minilm-l6", "time") / "per-query.parquet")
    ids = dict(zip(t[artifacts.PROXY_CHANGES].label, t[artifacts.PROXY_CHANGES].config_id))
    scores = per_query.pivot(index="query_id", columns="config_id", values="ndcg_at_10")
    assert len(picks) == 4 * 2 * 2  # budgets × label-free measures × margins
    assert set(picks[picks.outcome == yv.NOTHING_FITS].budget) == {"edge device"}  # 6.7 B per vector
    text = printed(tiny_run["nb"])
    summary = t[artifacts.TABLE_PROXY].set_index(["measure", "margin"])
    for measure, mine in picks[picks.outcome != yv.NOTHING_FITS].groupby(["measure", "margin"]):
        for r in mine.itertuples():
            assert r.label_free_pick_bytes <= r.budget_bytes and r.ndcg_pick_bytes <= r.budget_bytes
            diff = (scores[ids[r.by_label_free]] - scores[ids[r.by_ndcg]]).mean()
            assert r.diff == pytest.approx(diff, abs=1e-9)
            assert r.diff_ci_low <= r.diff <= r.diff_ci_high
            expected = "same" if r.by_label_free == r.by_ndcg else (
                "not significantly worse" if r.diff_ci_high >= 0 else "significantly worse")
            assert r.outcome == expected
        row = summary.loc[measure]
        counts = {o: int((mine.outcome == o).sum()) for o in yv.OUTCOMES}
        assert {o: row[o] for o in yv.OUTCOMES} == counts and row["choices"] == len(mine) == 3
        near_float32 = mine[(mine.outcome == "significantly worse") & (mine.label_free_pick_ndcg_ci_high >= 0)]
        assert row[yv.WORSE_THAN_PICK] == len(near_float32)
        agreement = 100 * (counts["same"] + counts["not significantly worse"]) / len(mine)
        ratio = (mine.label_free_pick_bytes / mine.ndcg_pick_bytes).median()
        assert row["agreement (%)"] == pytest.approx(agreement) and row["storage ratio"] == pytest.approx(ratio)
        assert f"agreement {agreement:.1f} %), storing {ratio:.3g}× the nDCG@10 pick's bytes" in text
    assert "Not advised: 1 of 2 (model, collection) pairs; minilm-l6 adi: documents: 82 in the index" in text


def test_a_wider_margin_never_picks_more_storage(tiny_run):
    """A wider margin ties more configurations with the best, so select's cheapest tie costs no more, and here
    strictly less in some budget."""
    picks = tiny_run["tables"][artifacts.PROXY_SELECTIONS]
    picks = picks[picks.outcome != yv.NOTHING_FITS]
    wide = picks.pivot_table(index=["measure", "budget"], columns="margin", values="label_free_pick_bytes")
    assert (wide[0.05] <= wide[0.0]).all() and (wide[0.05] < wide[0.0]).any()


def test_the_figure_is_drawn_for_print(tiny_run):
    """One panel per model, at the text width, 7 pt, Okabe-Ito, symlog change axes; with three models too."""
    t = tiny_run["tables"]
    changes, means, summary = t[artifacts.PROXY_CHANGES], t[artifacts.PROXY_MEANS], t[artifacts.TABLE_PROXY]
    summary = summary[summary.measure == "recall@10"]
    fig = plot_proxy(changes, means, summary)
    assert len(fig.axes) == 1
    assert_drawn_for_print(fig, [a for ax in fig.axes for a in (ax.xaxis, ax.yaxis)])
    plt.close(fig)
    three = [frame.assign(model=m) for m in ("minilm-l6", "mpnet-base", "wordllama-256")
             for frame in (changes, means, summary)]
    fig = plot_proxy(pd.concat(three[0::3]), pd.concat(three[1::3]), pd.concat(three[2::3]))
    assert len(fig.axes) == 3
    assert_drawn_for_print(fig, [a for ax in fig.axes for a in (ax.xaxis, ax.yaxis)])
    plt.close(fig)


@pytest.mark.parametrize(("params", "message"), [
    ({"ram": "lots"}, "parameter 'ram': invalid value 'lots'"),
    ({"path": "/nowhere/vectors.npy"}, "parameter 'path': invalid value '/nowhere/vectors.npy'"),
    ({"budgets": {"phone": "big"}}, "parameter \"budgets['phone']\": invalid value 'big'"),
    ({"margins": [0.0, 1.5]}, "parameter 'margins': invalid value [0.0, 1.5]"),
    ({"margin": -1}, "parameter 'margin': invalid value -1"),
])
def test_a_bad_parameter_fails_with_one_line_and_writes_nothing(params, message, output_dir, tmp_path, cache_dir):
    with pytest.raises(pm.PapermillExecutionError) as err:
        run(tmp_path, **(TINY | params))
    line = next(ln for ln in str(err.value).splitlines() if "parameter " in ln)
    assert message in line
    assert not output_dir.exists()


def test_the_rule_runs_the_notebook_with_the_profiles_parameters(tmp_path):
    """The dry run plans notebook 10 with the tiny profile's `advise:` section, after the embeddings it reads, and
    its outputs are the registered names; the tradeoff job reads its collection sets."""
    jobs = plan(REPO / "Snakefile", tmp_path / "out", "tiny", "--forceall")
    (job,) = [j for j in jobs if j.rule == "advise"]
    words = shlex.split(job.shell)
    assert str(REPO / "notebooks" / f"{STEM}.ipynb") in words
    assert json.loads(words[words.index("-y") + 1]) == stage_parameters("advise", workflow_config("tiny"))
    assert {"results/tiny/embeddings/minilm-l6--time.json", "results/tiny/embeddings/minilm-l6--adi.json"} <= set(
        job.inputs)
    assert f"results/tiny/notebooks/{STEM}.ipynb" in job.outputs
    assert f"figures/tiny/{artifacts.FIG_PROXY}.pdf" in job.outputs
    assert f"paper/generated/tiny/{artifacts.TABLE_PROXY}.tex" in job.outputs
    (tradeoff,) = [j for j in jobs if j.rule == "tradeoff"]
    assert f"results/tiny/tables/{artifacts.stage_sets(STEM)}.csv" in tradeoff.inputs


def test_a_profile_turns_the_stage_off_with_null():
    from study.core.profiles import runs_stage

    assert runs_stage("advise", workflow_config("full")) and not runs_stage("advise", workflow_config("paper"))
    full = stage_parameters("advise", workflow_config("full"))
    assert full["models"] == ["minilm-l6", "mpnet-base", "wordllama-256"] and len(full["datasets"]) == 15
    assert full["budget_n_vectors"] == max(workflow_config("full")["tradeoff"]["n_vectors"])

