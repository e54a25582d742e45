"""The one experiment runner (``study.experiment.runner``): a plan evaluated part by part, rows in plan order, the
result cache keyed by configuration, and the same rows however the parts were computed (one job or scattered,
fresh or cached, fitted or reused)."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import study.compress.reducers as reducers
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


@pytest.mark.parametrize("entry", ["study.experiment.runner", "study.advise.evaluate"])
def test_editing_a_profile_or_a_notebooks_parameters_keeps_stored_results(entry):
    """The stored parts' and advise's code fingerprints leave out the profiles, the parameters and the analysis:
    adding a stage's parameters (as stage 10 did) must not make every part and advise run compute again."""
    from study.core.codegraph import closure

    modules = set(closure(entry))
    assert not modules & {"study/config.py", "study/core/profiles.py", "study/core/artifacts.py"}
    assert not any(m.startswith(("study/params/", "study/plans/", "study/analysis/", "study/stages/")) for m in modules)


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


# --- the runner's contract, edge by edge (each test kills a class of mutants of study/experiment/runner.py) ------


def test_a_part_shows_a_progress_bar_counting_its_configurations(reduction_plan, output_dir, capsys):
    """Long work shows a progress bar (on stderr): the part's model and collection, configurations done of all."""
    part = reduction_plan.part(MODEL, "adi")
    n = len(part.configs)
    for kwargs in ({}, {"profile": "t", "stem": "03-bar"}):  # computed directly, and through the result cache
        runner.run(part, progress=True, **kwargs)
        err = capsys.readouterr().err
        assert f"{MODEL} · adi" in err and f"{n}/{n}" in err, err[-300:]
        assert re.search(r"(config/s|s/config)\]", err), err[-300:]
    runner.run(part, progress=False, profile="t", stem="03-quiet")
    runner.run(part, progress=False)
    assert MODEL not in capsys.readouterr().err
    for shown_by_default in (lambda: runner.run(part), lambda: runner.run_part(part),
                             lambda: runner.computed_part(part, "t", "03-default")):
        shown_by_default()
        assert f"{MODEL} · adi" in capsys.readouterr().err


def test_every_table_comes_back_with_a_clean_index(reduction_plan):
    part = runner.run_part(reduction_plan.part(MODEL, "time"), progress=False)
    for frame in (part.tidy, part.per_query):
        assert frame.index.equals(pd.RangeIndex(len(frame)))
    fits = ran(reduction_plan).fits
    assert len(fits) == 4 and fits.index.equals(pd.RangeIndex(4))  # pca and truncation, once per part


def test_a_plan_without_sources_loads_each_collection_by_its_name(reduction_plan, monkeypatch):
    split_asked = []
    real = runner.load_eval_data
    monkeypatch.setattr(runner, "load_eval_data", lambda m, d, s: split_asked.append((d, s)) or real(m, d, s))
    configs = [c for c in reduction_plan.part(MODEL, "adi").configs]
    bare = runner.Plan(configs, reduction_plan.options)  # no sources: a collection's name is its argument
    assert set(ran(bare).tidy.dataset) == {"adi"}
    assert split_asked == [("adi", configs[0].split)]  # the configuration's split, not a default


def test_a_part_of_one_configuration_runs_and_is_stored(reduction_plan, output_dir):
    one = runner.Plan(reduction_plan.configs[:1], reduction_plan.options, reduction_plan.sources)
    stored = ran(one, profile="t", stem="03-one")
    assert list(stored.tidy.config_id.unique()) == [one.configs[0].id]
    assert runner.load_part(runner.part_dir("t", "03-one", MODEL, "adi"), runner.part_key(one)) is not None


def test_without_a_stem_nothing_is_stored(reduction_plan, output_dir):
    ran(reduction_plan.part(MODEL, "adi"), profile="t", stem=None)
    ran(reduction_plan.part(MODEL, "adi"), profile=None, stem="03-x")
    assert not (output_dir / "build" / "parts").exists()


def test_parts_land_where_the_workflow_declares_them(output_dir):
    """The Snakefile's part outputs (``part_outputs``) and the runner's folders are one layout."""
    from conftest import REPO

    assert 'f"build/parts/{PROFILE}/{stem}/{m}/{c}/manifest.json"' in (REPO / "Snakefile").read_text()
    folder = runner.part_dir("P", "02-quantization", "M", "C")
    assert folder == output_dir / "build" / "parts" / "P" / "02-quantization" / "M" / "C"


class _Collection:
    def __init__(self, checksum: str) -> None:
        self.checksum = checksum


def test_the_cache_key_covers_every_collection_a_part_reads(reduction_plan, monkeypatch):
    """The evaluated collection (by its source), the fit set and the calibration set: a change in any of them
    makes the stored part stale."""
    part = replace(reduction_plan.part(MODEL, "adi"), sources={"adi": "/data/adi"})
    checksums = {"/data/adi": "a", FIT: "f", CAL: "c"}
    asked = []
    monkeypatch.setattr(runner, "cached_collection", lambda s: asked.append(s) or _Collection(checksums[s]))
    key = runner.part_key(part)
    assert sorted(asked) == sorted(checksums)
    for changed in checksums:
        monkeypatch.setitem(checksums, changed, "edited")
        assert runner.part_key(part) != key, changed
        monkeypatch.setitem(checksums, changed, {"/data/adi": "a", FIT: "f", CAL: "c"}[changed])
    assert runner.part_key(part) == key


def test_a_stage_without_rows_for_a_configuration_says_which(reduction_plan):
    def part_missing_one(plan, *_):
        result = runner.run_part(plan, progress=False)
        first = plan.configs[0].id
        return runner.PartResult(result.tidy[result.tidy.config_id != first],
                                 result.per_query[result.per_query.config_id != first], result.fits)

    only = reduction_plan.part(MODEL, "adi")
    with pytest.raises(StudyError, match=rf"no rows for 1 configuration\(s\), e.g. {re.escape(only.configs[0].id)}"):
        ran(only, part=part_missing_one)


def test_rows_keep_their_order_within_a_configuration():
    """Plan order by a stable sort: the metric rows of one configuration stay in the order they were written."""
    frame = pd.DataFrame({"config_id": ["b", "a"] * 200, "seq": range(400)})
    ordered = runner._in_plan_order(frame, {"a": 0, "b": 1})
    assert list(ordered.config_id) == ["a"] * 200 + ["b"] * 200
    assert list(ordered.seq) == list(range(1, 400, 2)) + list(range(0, 400, 2))


def test_a_sweep_is_calibrated_on_one_set(beyond_plan):
    configs = [replace(c, calibrate_on=FIT) if c.rescore == "int8_clippedx4" and c.dataset == "adi" else c
               for c in beyond_plan.configs]
    with pytest.raises(StudyError, match="calibrated on one set"):
        ran(replace(beyond_plan, configs=configs).part(MODEL, "adi"))


def test_the_run_options_reach_the_fits_and_the_sweeps(beyond_plan, reduction_plan, monkeypatch):
    ks, samples = [], []
    real_sweep, real_fit = runner.rescore_sweep, runner.fit_reducer
    monkeypatch.setattr(runner, "rescore_sweep", lambda *a: ks.append(a[-1]) or real_sweep(*a))
    monkeypatch.setattr(runner, "fit_reducer", lambda *a, **k: samples.append(k["fit_sample"]) or real_fit(*a, **k))
    ran(replace(beyond_plan, options=replace(beyond_plan.options, rescore_k=37)).part(MODEL, "adi"))
    ran(replace(reduction_plan, options=replace(reduction_plan.options, fit_sample=123)).part(MODEL, "adi"))
    assert ks == [37] and samples == [123, 123]  # pca and truncation


def test_targets_follow_each_models_collections_and_skip_by_name(cache_dir, monkeypatch):
    p = ReductionParams(models=[MODEL, "minilm-l6"], datasets=["adi", "time"],
                        datasets_per_model={MODEL: ["time"]}).checked()
    assert [(t.model, t.name) for t in runner.targets(p)] == [(MODEL, "time"), ("minilm-l6", "adi"),
                                                               ("minilm-l6", "time")]
    monkeypatch.setattr(p, "datasets", ["/somewhere/adi", "time"])
    monkeypatch.setattr(p, "datasets_per_model", {})

    class _Split:
        def default_split(self) -> str:
            return "test"

    monkeypatch.setattr(runner, "cached_collection", lambda source: _Split())
    assert [t.source for t in runner.targets(p, skip={"adi"})] == ["time", "time"]  # skipped by name, not path


def test_a_collection_the_plan_lacks_is_an_empty_part(reduction_plan):
    assert reduction_plan.part(MODEL, "nowhere").configs == []


def test_transform_time_adds_up_every_transform(reduction_plan, monkeypatch):
    """``transform_s`` sums the time of each transform (documents, queries, training sets): a clock that moves one
    second per reading makes it the number of transforms."""
    ticks = iter(range(10_000))

    class _Clock:
        @staticmethod
        def perf_counter() -> float:
            return float(next(ticks))

    monkeypatch.setattr(reducers, "time", _Clock)  # the clock of every timed transform (reducers.timer)
    fits = ran(reduction_plan.part(MODEL, "adi")).fits
    assert fits.transform_s.tolist() == [3.0, 3.0]  # per reducer: documents, queries, the int8 calibration set


# --- shared fits, made ahead of the parts by fit jobs ------------------------------------------------------------


def _cfg(**kwargs) -> Config:
    return Config(MODEL, "adi", "test", **kwargs)


def test_shared_fits_are_the_fits_made_on_named_sets_once_each_in_plan_order():
    opq, pca_opq = _cfg(format="opq8", calibrate_on=CAL), _cfg(reducer="pca", fraction=0.5, fit_on=FIT,
                                                                format="opq8", calibrate_on=CAL)
    trunc_opq = _cfg(reducer="truncation", fraction=0.5, format="opq8", calibrate_on=CAL)
    configs = [
        _cfg(format="float32"), _cfg(format="int8", calibrate_on=CAL),         # nothing / a cheap calibration
        opq, replace(opq, query_format="float32"), replace(opq, dataset="time"),  # one training, three rows
        _cfg(format="opq8", calibrate_on="self"),                              # trained on the corpus: the part's
        pca_opq,                                                               # the reducer's fit, then the codec's
        _cfg(reducer="pca", fraction=0.5, fit_on=FIT, format="float32"),       # that same reducer fit again
        _cfg(reducer="pca", fraction=0.25, fit_on=FIT, format="int8", calibrate_on=CAL),  # another fit
        _cfg(reducer="pca", fraction=0.5, fit_on="self", format="opq8", calibrate_on=CAL),  # reduced on the corpus
        trunc_opq,                                                             # truncation fits nothing
        _cfg(format="rabitq1", calibrate_on=CAL, rescore="float32@4"),          # a two-tier first stage
        replace(opq, model="minilm-l6"),                                       # another model: its own fit
    ]
    assert runner.shared_fits(configs) == [
        opq, pca_opq, pca_opq, configs[8], trunc_opq, configs[11], configs[12]]


def test_fit_shards_deal_the_shared_fits_round_robin_on_one_thread(monkeypatch):
    import faiss
    from threadpoolctl import threadpool_info

    made = []
    monkeypatch.setattr(runner, "_fit", lambda cfg, references, data, options: made.append(("fit", cfg)))
    monkeypatch.setattr(runner, "calibrate", lambda fmt, sample: made.append(
        ("train", fmt, {p["num_threads"] for p in threadpool_info()}, faiss.omp_get_max_threads())))
    monkeypatch.setattr(runner._Reduced, "training", lambda self, name: name)
    configs = [_cfg(format=f, calibrate_on=CAL) for f in ("opq8", "opq16", "rabitq1", "pq8x4fs", "turboquant2")]
    plan = runner.Plan(configs, runner.RunOptions("09"))
    shards = [runner.fit_shared(plan, i, 2, progress=False) for i in range(2)]
    assert shards == [configs[0::2], configs[1::2]]
    assert [m[1] for m in made if m[0] == "train"] == ["opq8", "rabitq1", "turboquant2", "opq16", "pq8x4fs"]
    assert all(m[2:] == ({1}, 1) for m in made if m[0] == "train")
    assert runner.fit_shared(plan, 0, 1, progress=False) == configs


@pytest.mark.parametrize(("shard", "shards"), [(2, 2), (-1, 2), (0, 0)])
def test_a_fit_shard_outside_the_shards_is_an_error(shard, shards):
    with pytest.raises(StudyError, match=f"fit shard {shard} of {shards}"):
        runner.fit_shared(runner.Plan([_cfg(format="opq8", calibrate_on=CAL)], runner.RunOptions("09")), shard, shards)


def test_an_index_plan_has_no_shared_fits_to_make():
    from study.experiment.indexes import IndexOptions

    plan = runner.Plan([_cfg(format="faiss_pq48", calibrate_on=CAL)],
                       runner.RunOptions("07", indexes=IndexOptions.__new__(IndexOptions)))
    assert runner.fit_shared(plan, progress=False) == []


def test_fits_made_ahead_are_what_the_parts_then_find(cache_dir, monkeypatch, caplog, tmp_path):
    import logging

    plan = codecs_stage.plan(CodecParams(models=[MODEL], datasets=["adi", "time"], formats=["float32", "pq8x4fs"],
                                         calibrate_on=[CAL], asymmetric=[], reducers=["pca", "truncation"],
                                         fractions=[0.25],
                                         reduced_formats=["pq8x4fs"], fit_on=FIT, rescore_first=[]).checked())
    monkeypatch.setenv("STUDY_FIT_CACHE", "off")
    fresh = ran(plan).tidy
    monkeypatch.setenv("STUDY_FIT_CACHE", "on")
    (tmp_path / "embeddings").symlink_to(cache_dir / "embeddings")  # the session's embeddings, an empty fit cache
    monkeypatch.setenv("STUDY_CACHE_DIR", str(tmp_path))
    trained = runner.calibrate.__globals__["_TRAINED"]  # what this process holds: cleared, so the parts read the disk
    trained.clear()
    assert len(runner.fit_shared(plan, progress=False)) == 4  # pca 25 %, pq8x4fs, after pca, after truncation
    trained.clear()
    with caplog.at_level(logging.INFO, logger="study.compress.fitcache"):
        ahead = ran(plan).tidy
    assert "fit cache miss" not in caplog.text and caplog.text.count("fit cache hit") >= 4
    pd.testing.assert_frame_equal(ahead, fresh)


def test_a_fit_job_writes_the_list_of_its_fits(cache_dir, output_dir, monkeypatch, capsys):
    from study.plans import parts

    parameters = {"models": [MODEL], "datasets": ["adi"], "formats": ["float32", "rabitq1", "rabitq4"],
                  "calibrate_on": [CAL], "asymmetric": [], "reduced_formats": [], "rescore_first": [],
                  "profile": "t"}
    assert parts.main(["--fits", "codecs", json.dumps(parameters), MODEL, "1"]) == 0
    marker = parts.fit_marker("codecs", "t", MODEL, 1)
    assert capsys.readouterr().out.strip() == str(marker)
    assert marker == output_dir / "build" / "parts" / "t" / "09-codecs" / MODEL / "fits-1-of-4.json"
    written = json.loads(marker.read_text())
    assert written == {"stage": "codecs", "model": MODEL, "shard": 1, "shards": 4,
                       "fits": [_cfg(format="rabitq4", calibrate_on=CAL).id]}
    assert parts.main(["--fits", "codecs", json.dumps(parameters), MODEL, "4"]) == 2
    assert "parameter 'shard': invalid value '4'; allowed: 0..3" in capsys.readouterr().err
    assert parts.main(["--fits", "codecs", json.dumps(parameters), "minilm-l6", "0"]) == 2
    assert "parameter 'model'" in capsys.readouterr().err
    assert parts.main(["--fits", "codecs", json.dumps(parameters), MODEL]) == 2


# --- the pool: a codec trained on the model's other collections (two-fold cross-fitting) ---------------------


def test_a_pool_is_the_other_fold_of_the_models_collections():
    from study.experiment.configs import pool_members

    collections = ["time", "adi", "med", "cisi"]  # sorted: adi, cisi, med, time → folds {adi, med}, {cisi, time}
    assert pool_members("adi", collections) == ["cisi", "time"]
    assert pool_members("med", collections) == ["cisi", "time"]
    assert pool_members("time", collections) == ["adi", "med"]
    assert all(c not in pool_members(c, collections) for c in collections)
    assert pool_members("npl", ["adi"]) == ["adi"]  # a collection outside the list joins the dealing


def test_a_pool_is_a_seeded_sample_of_its_members_documents(cache_dir):
    from study.encoders.cache import load_embeddings
    from study.experiment.configs import cached_collection, pool_vectors

    members = ["adi", "time"]
    docs = np.concatenate([np.asarray(load_embeddings(MODEL, cached_collection(m), "docs").vectors) for m in members])
    np.testing.assert_array_equal(pool_vectors(MODEL, members, rows=10 ** 6), docs)
    sample = pool_vectors(MODEL, members, rows=100)
    assert sample.shape == (100, docs.shape[1]) and sample.dtype == np.float32
    np.testing.assert_array_equal(sample, pool_vectors(MODEL, members, rows=100))
    assert {r.tobytes() for r in sample} <= {r.tobytes() for r in docs}
    assert not np.array_equal(sample, pool_vectors(MODEL, members, rows=100, seed=1))


def pool_plan(formats: list[str]) -> runner.Plan:
    return codecs_stage.plan(CodecParams(models=[MODEL], datasets=["adi", "time", CAL, FIT], formats=formats,
                                         calibrate_on=["pool"], asymmetric=[], reduced_formats=[],
                                         rescore_first=[]).checked())


def test_pool_fits_are_shared_by_a_fold_and_its_checksums_key_the_part(cache_dir):
    plan = pool_plan(["float32", "rabitq1", "osq1"])
    assert dict(plan.options.pools) == {MODEL: ("adi", "time", CAL, FIT)}
    fits = runner.shared_fits(plan.configs, plan.options, plan.sources)
    assert [(c.dataset, c.format) for c in fits] == [("adi", "rabitq1"), ("time", "rabitq1")]  # one per fold
    assert runner.shared_fits(plan.configs) == []  # without the pools, nothing to share
    part = plan.part(MODEL, "adi")
    other = replace(part, options=replace(part.options, pools=((MODEL, ("adi", "time", CAL)),)))
    assert runner.part_key(part) != runner.part_key(other)  # another pool, another key


def test_a_pool_configuration_trains_on_its_pool(cache_dir, monkeypatch):
    from study.experiment.configs import pool_vectors

    seen = []
    real = runner.calibrate
    monkeypatch.setattr(runner, "calibrate", lambda fmt, sample: seen.append((fmt, sample.copy())) or real(fmt, sample))
    import study.experiment.evaluate as evaluate_module
    monkeypatch.setattr(evaluate_module, "calibrate", lambda fmt, sample: seen.append((fmt, sample.copy()))
                        or real(fmt, sample))
    result = ran(pool_plan(["float32", "rabitq1"]).part(MODEL, "adi"))
    trained = [s for f, s in seen if f == "rabitq1"]
    assert trained and all(np.array_equal(s, pool_vectors(MODEL, ["cisi", "time"])) for s in trained)
    rows = result.tidy[result.tidy.metric == "ndcg_at_10"]
    assert list(rows.calibrate_on) == ["none", "pool"]


def test_the_workflow_gives_a_pool_job_every_collection_its_pools_draw_on():
    from study.core import profiles

    parameters = {"models": [MODEL, "minilm-l6"], "datasets": ["adi", "time", CAL, FIT],
                  "datasets_per_model": {"minilm-l6": ["adi", CAL]}, "calibrate_on": [CAL, "self", "pool"],
                  "fit_on": CAL}
    assert profiles.pool_collections("codecs", parameters, MODEL) == ["adi", "time", FIT]  # CAL trains: not a part
    assert profiles.pool_collections("codecs", parameters, "minilm-l6") == ["adi"]
    assert profiles.pool_collections("codecs", parameters | {"calibrate_on": [CAL, "self"]}, MODEL) == []
    assert profiles.reference_sets(parameters) == [CAL]  # pool and self name no collection
