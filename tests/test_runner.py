"""The one experiment runner (``study.experiment.runner``): a plan evaluated part by part, rows in plan order, the
result cache keyed by configuration, and the same rows however the parts were computed (one job or scattered,
fresh or cached, fitted or reused)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import study.experiment.runner as runner
from study.compress.formats import calibrate, quantize
from study.compress.reducers import fit_reducer
from study.core.errors import StudyError
from study.experiment.configs import NONE, Config, load_eval_data, reference_vectors
from study.experiment.rescore import rescore_sweep
from study.params import BeyondParams, CodecParams, ReductionParams
from study.plans import beyond, reduction
from study.plans import codecs as codecs_stage
from study.search.exact import evaluate

MODEL = "wordllama-256"
EVALUATED = ["adi", "time"]
CAL, FIT = "med", "cisi"


@pytest.fixture(scope="module")
def reduction_plan(cache_dir) -> runner.Plan:
    return reduction.plan(ReductionParams(models=[MODEL], datasets=EVALUATED, methods=["pca", "truncation"],
                                          fractions=[0.5], formats=["float32", "int8"], fit_on=FIT,
                                          calibrate_on=CAL).checked())


@pytest.fixture(scope="module")
def beyond_plan(cache_dir) -> runner.Plan:
    return beyond.plan(BeyondParams(models=[MODEL], datasets=EVALUATED, formats=["float32", "int8_clipped", "binary"],
                                    calibrate_on=[CAL], paper_calibrate_on=CAL, asymmetric=["int8_clipped"],
                                    rescore_first=["binary_sign"], rescore_tiers=["float32", "int8_clipped"],
                                    oversampling=[2, 4]).checked())


def ran(plan: runner.Plan, **kwargs) -> runner.PartResult:
    return runner.run(plan, progress=False, **kwargs)


def test_the_plan_is_a_table_of_configurations_in_the_order_rows_are_written(reduction_plan):
    table = reduction_plan.table()
    assert list(table.columns) == ["model", "dataset", "split", "reducer", "fraction", "fit_on", "format",
                                   "calibrate_on", "rescore", "query_format"]
    assert len(table) == 2 * 2 + 2 * 2 * 2  # baselines (2 collections × 2 formats), then 2 reducers × 2 × 2
    assert list(table.reducer[:4]) == [NONE] * 4 and list(table.dataset[:4]) == ["adi", "adi", "time", "time"]
    assert set(table[table.reducer == "truncation"].fit_on) == {NONE} and set(table[table.reducer == "pca"].fit_on) \
        == {FIT}
    assert list(table.calibrate_on[table.format == "int8"].unique()) == [CAL]
    assert list(reduction_plan.parts()) == [(MODEL, "adi"), (MODEL, "time")]


def test_rows_come_back_in_plan_order_whatever_order_the_parts_ran_in(reduction_plan):
    result = ran(reduction_plan)
    ids = [c.id for c in reduction_plan.configs]
    assert list(dict.fromkeys(result.tidy.config_id)) == ids
    assert list(dict.fromkeys(result.per_query.config_id)) == ids
    assert result.tidy.index.equals(pd.RangeIndex(len(result.tidy)))


def test_each_row_equals_the_configuration_evaluated_by_hand(reduction_plan):
    """pca fit on cisi, int8 ranges from the reduced med set: the runner's nDCG@10 is the one computed here."""
    tidy = ran(reduction_plan).tidy
    data = load_eval_data(MODEL, "time")
    pca = fit_reducer("pca", reference_vectors(MODEL, FIT, data), 0.5, fit_sample=reduction_plan.options.fit_sample)
    docs, queries = pca.transform(data.docs), pca.transform(data.queries)
    params = calibrate("int8", pca.transform(reference_vectors(MODEL, CAL, data)))
    by_hand, _ = evaluate(quantize(queries, "int8", params).decode(), data.query_ids,
                          quantize(docs, "int8", params).decode(), data.doc_ids, data.qrels)
    row = tidy[(tidy.dataset == "time") & (tidy.reducer == "pca") & (tidy.format == "int8")
               & (tidy.metric == "ndcg_at_10")]
    assert row.value.item() == by_hand.ndcg_at_10.mean()
    assert row.overhead_bytes.item() == quantize(docs, "int8", params).overhead_bytes + pca.overhead_bytes
    assert row.fit_rows.item() == pca.fit_rows and set(tidy[tidy.reducer != "pca"].fit_rows) == {0}


def test_a_two_tier_sweep_runs_its_first_stage_once_and_gives_the_sweeps_rows(beyond_plan, monkeypatch):
    calls = []
    real = runner.rescore_sweep
    monkeypatch.setattr(runner, "rescore_sweep", lambda cfg, *a, **k: calls.append(cfg) or real(cfg, *a, **k))
    tidy = ran(beyond_plan).tidy
    assert [(c.dataset, c.format, c.calibrate_on) for c in calls] == [("adi", "binary_sign", CAL),
                                                                      ("time", "binary_sign", CAL)]
    rescored = tidy[(tidy.rescore != NONE) & (tidy.metric == "ndcg_at_10") & (tidy.dataset == "adi")]
    assert list(rescored.rescore) == ["float32x2", "float32x4", "int8_clippedx2", "int8_clippedx4"]
    assert list(rescored.calibrate_on) == [NONE, NONE, CAL, CAL]  # only the calibrated tier names its set
    data = load_eval_data(MODEL, "adi")
    first = Config(MODEL, "adi", data.split, format="binary_sign", calibrate_on=CAL)
    want, _ = rescore_sweep(first, data, data.docs, data.queries, reference_vectors(MODEL, CAL, data),
                            ["float32", "int8_clipped"], [2, 4], "06")
    want = want[want.metric == "ndcg_at_10"]
    np.testing.assert_array_equal(rescored.value.to_numpy(), want.value.to_numpy())
    assert list(rescored.config_id) == list(want.config_id)


def test_two_tier_configurations_must_be_a_whole_sweep(beyond_plan):
    configs = [c for c in beyond_plan.configs if c.rescore != "float32x4"]
    with pytest.raises(StudyError, match="every tier × oversampling"):
        ran(replace(beyond_plan, configs=configs))


def test_a_plan_lists_each_configuration_once_and_runs_something(reduction_plan):
    with pytest.raises(StudyError, match="listed twice"):
        runner.Plan(reduction_plan.configs[:1] * 2, reduction_plan.options)
    with pytest.raises(StudyError, match="no configuration"):
        ran(runner.Plan([], reduction_plan.options))


def test_scattered_parts_then_gathered_equal_one_job(reduction_plan, output_dir):
    one_job = ran(reduction_plan)
    for model, collection in reversed(list(reduction_plan.parts())):  # the part jobs, in any order
        runner.computed_part(reduction_plan.part(model, collection), "t", "03-x", progress=False)
    computed = []
    gathered = ran(reduction_plan, profile="t", stem="03-x",
                   part=lambda *a: computed.append(a) or runner.computed_part(*a))
    pd.testing.assert_frame_equal(gathered.tidy, one_job.tidy)
    pd.testing.assert_frame_equal(gathered.per_query, one_job.per_query)
    assert len(computed) == 2


def test_a_run_alone_computes_only_the_parts_the_cache_lacks(reduction_plan, output_dir, monkeypatch):
    runner.computed_part(reduction_plan.part(MODEL, "adi"), "t", "03-x", progress=False)
    computed = []
    real = runner.run_part
    monkeypatch.setattr(runner, "run_part", lambda plan, progress=True: computed.append(plan) or real(plan, progress))
    result = ran(reduction_plan, profile="t", stem="03-x")
    assert [p.configs[0].dataset for p in computed] == ["time"]
    assert set(result.tidy.dataset) == {"adi", "time"}
    ran(reduction_plan, profile="t", stem="03-x")
    assert len(computed) == 1  # both parts are now stored


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "drop the manifest", "another key"])
def test_a_damaged_part_is_computed_again(reduction_plan, output_dir, monkeypatch, damage):
    part = reduction_plan.part(MODEL, "adi")
    want = runner.computed_part(part, "t", "03-x", progress=False)
    folder = runner.part_dir("t", "03-x", MODEL, "adi")
    target = folder / "tidy.parquet"
    if damage == "flip a byte":
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0xFF
        target.write_bytes(bytes(data))
    elif damage == "truncate":
        target.write_bytes(target.read_bytes()[:100])
    elif damage == "drop the manifest":
        (folder / runner.MANIFEST).unlink()
    else:
        manifest = json.loads((folder / runner.MANIFEST).read_text())
        (folder / runner.MANIFEST).write_text(json.dumps(manifest | {"key": "0" * 64}))
    computed = []
    real = runner.run_part
    monkeypatch.setattr(runner, "run_part", lambda plan, progress=True: computed.append(plan) or real(plan, progress))
    again = runner.computed_part(part, "t", "03-x", progress=False)
    assert len(computed) == 1
    pd.testing.assert_frame_equal(again.tidy, want.tidy)
    assert runner.load_part(folder, runner.part_key(part)) is not None


def test_the_key_changes_with_the_configurations_the_options_and_the_code(reduction_plan, monkeypatch):
    part = reduction_plan.part(MODEL, "adi")
    key = runner.part_key(part)
    assert runner.part_key(replace(part, configs=part.configs[:-1])) != key
    assert runner.part_key(replace(part, options=replace(part.options, seed=7))) != key
    assert runner.part_key(reduction_plan.part(MODEL, "adi")) == key
    monkeypatch.setattr(runner, "code_fingerprint", lambda: "another version of the code")
    assert runner.part_key(part) != key


def test_the_code_fingerprint_covers_the_modules_that_compute_rows():
    from study.core.codegraph import closure

    modules = closure("study.experiment.runner")
    assert {"study/experiment/evaluate.py", "study/experiment/rescore.py", "study/compress/formats.py",
            "study/compress/codecs.py", "study/compress/reducers.py", "study/search/exact.py"} <= set(modules)
    assert not any(m.startswith(("study/stages/", "study/analysis/", "study/figures/")) for m in modules)


def test_a_reused_fit_gives_the_rows_of_a_fresh_one(cache_dir, monkeypatch, tmp_path):
    plan = codecs_stage.plan(CodecParams(models=[MODEL], datasets=["adi"], formats=["float32", "opq8", "rabitq1"],
                                         calibrate_on=[CAL], asymmetric=[], reducers=["pca"], fractions=[0.5],
                                         reduced_formats=["opq8"], fit_on=FIT, rescore_first=[]).checked())
    monkeypatch.setenv("STUDY_FIT_CACHE", "off")
    fresh = ran(plan).tidy
    monkeypatch.setenv("STUDY_FIT_CACHE", "on")
    first, reused = ran(plan).tidy, ran(plan).tidy  # the second run loads every costly fit from the fit cache
    pd.testing.assert_frame_equal(first, fresh)
    pd.testing.assert_frame_equal(reused, fresh)


def test_a_part_runs_blas_and_faiss_on_one_thread_and_restores_them(reduction_plan, monkeypatch):
    import faiss
    from threadpoolctl import threadpool_info

    seen = []
    real = runner.evaluate_format

    def spy(*args, **kwargs):
        seen.append(({p["num_threads"] for p in threadpool_info()}, faiss.omp_get_max_threads()))
        return real(*args, **kwargs)

    before = faiss.omp_get_max_threads()
    monkeypatch.setattr(runner, "evaluate_format", spy)
    ran(reduction_plan.part(MODEL, "adi"))
    assert seen and all(threads == {1} and omp == 1 for threads, omp in seen)
    assert faiss.omp_get_max_threads() == before


def test_a_part_plan_loads_only_its_own_collection(cache_dir, monkeypatch):
    loaded = []
    real = runner.cached_collection
    monkeypatch.setattr(runner, "cached_collection", lambda name: loaded.append(name) or real(name))
    p = ReductionParams(models=[MODEL], datasets=EVALUATED, methods=["pca"], fractions=[0.5], formats=["float32"],
                        fit_on=FIT, calibrate_on=CAL).checked()
    part = reduction.plan(p, only=(MODEL, "time"))
    assert loaded == ["time"] and {c.dataset for c in part.configs} == {"time"}
    assert part.configs == reduction.plan(p).part(MODEL, "time").configs


def test_a_part_job_then_the_stage_finds_it_done(reduction_plan, output_dir, monkeypatch):
    """``study part`` (a workflow's scatter job) stores the part the stage's run (the notebook) then reads back."""
    from study.cli import main
    from study.plans.parts import part_names

    parameters = {"models": [MODEL], "datasets": EVALUATED, "methods": ["pca", "truncation"], "fractions": [0.5],
                  "formats": ["float32", "int8"], "fit_on": FIT, "calibrate_on": CAL, "profile": "t"}
    assert part_names("reduction", parameters) == [(MODEL, "adi"), (MODEL, "time")]
    for model, collection in part_names("reduction", parameters):
        assert main(["part", "--stage", "reduction", "--params", json.dumps(parameters), "--model", model,
                     "--collection", collection]) == 0
    one_job = ran(reduction_plan).tidy
    computed = []
    monkeypatch.setattr(runner, "run_part", lambda plan, progress=True: computed.append(plan))
    gathered = ran(reduction.plan(ReductionParams(**parameters).checked()), profile="t", stem="03-reduction")
    assert computed == []
    pd.testing.assert_frame_equal(gathered.tidy, one_job)


def test_a_part_job_refuses_a_part_the_stage_does_not_have(cache_dir, capsys):
    from study.cli import main

    parameters = {"models": [MODEL], "datasets": ["adi", CAL], "calibrate_on": [CAL], "fit_on": CAL,
                  "formats": ["rabitq1"], "asymmetric": [], "reduced_formats": [], "rescore_first": []}
    assert main(["part", "--stage", "codecs", "--params", json.dumps(parameters), "--model", MODEL,
                 "--collection", CAL]) == 2  # a training set is never evaluated
    error = capsys.readouterr().err
    assert "parameter 'part': invalid value 'wordllama-256--med'; allowed: wordllama-256--adi" in error
    assert main(["part", "--stage", "scaling", "--params", "{}", "--model", MODEL, "--collection", "adi"]) == 2
    assert main(["part", "--stage", "codecs", "--params", "[1]", "--model", MODEL, "--collection", "adi"]) == 2
