"""Stage 07 (real indexes): the notebook runs on adi/time and writes its table, per-query scores, figure and
LaTeX table (and ``study publish`` lists them); its closing cell quotes the numbers of its table; bad parameters
fail with one clear line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import papermill as pm
import pytest
from conftest import REPO

from study.experiment.configs import load_eval_data
from study.experiment.runner import run as runner_run
from study.search import indexes as ix
from study.stages.republish import publish

NB = "07-indexes.ipynb"


def run(tmp_path, **params):
    return pm.execute_notebook(
        str(REPO / "notebooks" / NB), str(tmp_path / f"executed-{NB}"), parameters=params,
        cwd=str(REPO), progress_bar=False, kernel_name="python3",
    )


def test_notebook_runs_on_tiny_collections(tiny_embeddings, output_dir, tmp_path):
    nb = run(tmp_path, datasets=["adi", "time"], profile="tiny", repeats=1, batch1_queries=5)
    table = pd.read_csv(output_dir / "results/tiny/07-indexes.csv")
    assert len(table) == 2 * len(ix.KINDS)
    assert set(table["index"]) == set(ix.KINDS)
    assert (table.bytes_per_vector >= table.code_bytes).all()
    per_query = pd.read_parquet(output_dir / "results/tiny/07-indexes-per-query.parquet")
    assert set(per_query.config_id) == set(table.config_id)
    for path in ["figures/tiny/fig-indexes.png", "figures/tiny/fig-indexes.pdf",
                 "paper/generated/tiny/table-indexes.tex", "results/tiny/tables/table-indexes.csv"]:
        assert (output_dir / path).stat().st_size > 0, path
    latex_rows = pd.read_csv(output_dir / "results/tiny/tables/table-indexes.csv")
    assert set(latex_rows.collection) == {"time"}  # the largest of the two
    closing = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    time = table[table.dataset == "time"]
    fastest = time.loc[time.qps_b1.idxmax()]
    assert f"time, fastest at batch 1: {fastest['index']} ({fastest.bytes_per_vector:.1f} B/vector" in closing
    gaps = "".join(str(o.get("data", {})) for o in nb.cells[-1].outputs)
    assert "largest_gap" in gaps and "faiss-f32-exact" in gaps  # the exact indexes against their simulation
    # `study publish` redraws them from the saved results and names what it wrote
    written = publish("tiny", ["indexes"])["indexes"]
    assert {p.relative_to(output_dir).as_posix() for p in written} == {
        "figures/tiny/fig-indexes.png", "figures/tiny/fig-indexes.pdf", "paper/generated/tiny/table-indexes.tex",
        "results/tiny/tables/table-indexes.csv"}
    from oracles import check_notebook, index_cases  # every kind rebuilt by its own library, scored by trec_eval

    check_notebook(output_dir, "07-indexes", index_cases(["adi", "time"], list(ix.KINDS)))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"indexes": ["faiss-pq-hnsw"]}, "parameter 'index': invalid value 'faiss-pq-hnsw'"),
        ({"hnsw": {"M": 8}}, "parameter 'hnsw': invalid value 'M'"),
    ],
)
def test_bad_parameters_fail_with_one_clear_line_and_write_nothing(params, message, output_dir, tmp_path, cache_dir):
    with pytest.raises(pm.PapermillExecutionError) as err:
        run(tmp_path, **({"datasets": ["adi"], "profile": "tiny"} | params))
    assert message in str(err.value)
    assert not (output_dir / "results").exists()


def test_bench_script_replaces_only_its_own_rows(tmp_path):
    from bench import indexes as bench_indexes
    from bench.common import make_rows, read_rows, write_rows

    target = tmp_path / "bench.csv"
    write_rows(make_rows("other", [{"case": "c", "metric": "m", "value": 1.0, "unit": "s"}]), target)
    args = ["--n", "300", "--queries", "12", "--repeats", "1", "--batch1-queries", "3", "--output", str(target),
            "--indexes", "usearch-i8-hnsw", "faiss-b1-exact"]
    assert bench_indexes.main(args) == 0
    assert bench_indexes.main(args) == 0  # a second run replaces the first one's rows
    rows = read_rows(target)
    assert set(rows.benchmark) == {"other", "indexes"}
    mine = rows[rows.benchmark == "indexes"]
    assert len(mine) == 2 * len(bench_indexes.UNITS)
    assert set(mine.metric) == set(bench_indexes.UNITS)
    bpv = mine[mine.metric == "bytes_per_vector"].set_index("case").value
    assert bpv[bpv.index.str.startswith("faiss-b1-exact")].iloc[0] >= 48


def test_partial_rerun_replaces_only_the_cases_it_measured(tmp_path):
    from bench.common import make_rows, read_rows, write_rows

    target = tmp_path / "bench.csv"
    first = [{"case": c, "metric": "t", "value": 1.0, "unit": "s"} for c in ("a", "b")]
    write_rows(make_rows("scaling", first), target)
    write_rows(make_rows("scaling", [{"case": "b", "metric": "t", "value": 2.0, "unit": "s"},
                                     {"case": "c", "metric": "t", "value": 3.0, "unit": "s"}]), target, only_cases=True)
    rows = read_rows(target).set_index("case").value
    assert rows.to_dict() == {"a": 1.0, "b": 2.0, "c": 3.0}
    write_rows(make_rows("scaling", [{"case": "c", "metric": "t", "value": 4.0, "unit": "s"}]), target)
    assert read_rows(target).set_index("case").value.to_dict() == {"c": 4.0}  # a whole rerun replaces all


def test_a_kind_that_trains_is_trained_on_the_set_its_configuration_names(tiny_embeddings):
    """Wiring, not labels: PQ, SQ and IVF indexes learn from ``train_on``'s vectors (adi's corpus + queries while
    time is searched); usearch kinds learn nothing and say ``none``."""
    from study.experiment.configs import reference_vectors
    from study.params import IndexParams
    from study.plans.indexes import plan

    names = ["faiss-pq-exact", "faiss-sq8-exact", "usearch-f16-exact"]
    p = IndexParams(datasets=["time"], indexes=names, train_on="adi", repeats=1, batch1_queries=2).checked()
    stage_plan = plan(p)
    assert [c.calibrate_on for c in stage_plan.configs] == ["adi", "adi", "none"]
    seen = []
    real_build = ix.build_index

    def spy(name, docs, *, train=None, **kw):
        seen.append((name, None if train is None else train.copy()))
        return real_build(name, docs, train=train, **kw)

    from study.experiment import indexes as experiment_indexes

    experiment_indexes.build_index, saved = spy, experiment_indexes.build_index
    try:
        table = runner_run(stage_plan).tidy
    finally:
        experiment_indexes.build_index = saved
    time_data = load_eval_data("minilm-l6", "time")
    adi = reference_vectors("minilm-l6", "adi", time_data)
    for name, train in seen[:2]:
        np.testing.assert_array_equal(train, adi, err_msg=name)
    assert seen[2][1] is None  # built on the documents alone
    pq = table.set_index("index").loc["faiss-pq-exact"]
    assert pq.train_on == "adi" and f"trained on {len(adi)} vectors" in pq.params
    assert table.set_index("index").loc["usearch-f16-exact", "train_on"] == "none"


def test_a_part_job_then_the_stage_finds_the_indexes_measured(tiny_embeddings, output_dir, monkeypatch):
    """Stage 07 through the one runner: a part job stores its rows (timings included), the stage's run reads them
    back instead of rebuilding any index."""
    from study.experiment import runner
    from study.params import IndexParams
    from study.plans import parts
    from study.plans.indexes import STEM, plan

    parameters = {"models": ["minilm-l6"], "datasets": ["adi", "time"], "repeats": 1, "batch1_queries": 2,
                  "indexes": ["usearch-f16-exact", "faiss-sq4-exact"], "profile": "t"}
    assert parts.part_names("indexes", parameters) == [("minilm-l6", "adi"), ("minilm-l6", "time")]
    for model, collection in parts.part_names("indexes", parameters):
        parts.compute_part("indexes", parameters, model, collection)
    stored = pd.concat([pd.read_parquet(parts.part_manifest("indexes", "t", "minilm-l6", c).parent / "tidy.parquet")
                        for c in ("adi", "time")], ignore_index=True)
    monkeypatch.setattr(runner, "run_part", lambda *a, **k: pytest.fail("an index was rebuilt"))
    gathered = runner.run(plan(IndexParams(**parameters).checked()), "t", STEM).tidy
    pd.testing.assert_frame_equal(gathered, stored)
    assert list(gathered["index"]) == parameters["indexes"] * 2


def test_a_kind_trains_exactly_when_faiss_says_it_must():
    """``IndexKind.trained`` (what decides a configuration's training set) against faiss' own ``is_trained`` of
    each kind's index, freshly made and not yet trained."""
    rng = np.random.default_rng(0)
    docs = rng.standard_normal((600, 64)).astype(np.float32)
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    untrained = {}
    for name, kind in ix.KINDS.items():
        if kind.library != "faiss":
            assert not kind.trained, name  # usearch learns nothing from a training set
            continue
        fresh = ix._Faiss.__new__(ix._Faiss)
        fresh.kind, fresh.binary, (fresh.n, fresh.dims) = kind, kind.format == "b1", docs.shape
        untrained[name] = not fresh._make(docs, ix.HNSWParams()).is_trained
    assert {n: ix.KINDS[n].trained for n in untrained} == untrained
    assert sum(untrained.values()) >= 5
