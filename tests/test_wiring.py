"""Stage wiring (issue 19): which vectors each reducer, calibration and codec is actually fitted on.

A result row names its training sets (``fit_on``, ``calibrate_on``); a stage that fits on other vectors than the
ones its row names publishes a wrong study under a right label. These tests spy on the calls that fit
(``calibrate`` as ``evaluate_format`` and the rescoring tiers call it; ``fit_reducer`` in stages 03/04 and 09) and
check that the vectors passed ARE the named set's: ``self`` = the evaluated collection's own corpus, a collection =
its corpus + its dev queries (every query when it has no dev split). The evaluated collections (adi, time), the
calibration set (med) and the fit set (cisi) all differ, so using one in place of another fails here, naming the
set that was used. The model is wordllama-256 (static embeddings: the two extra sets encode in seconds).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import study.experiment.evaluate as evaluate_module
import study.experiment.rescore as rescore_module
import study.experiment.runner as runner_module
from study.compress.formats import calibrate, get_format, quantize, round_trip
from study.compress.reducers import SEED, fit_reducer
from study.config import SELF
from study.core.errors import ParameterError
from study.data.datasets import load_collection
from study.encoders.cache import load_embeddings
from study.experiment.configs import (
    NONE,
    Config,
    EvalData,
    References,
    load_eval_data,
    reference_vectors,
    search_inputs,
)
from study.experiment.evaluate import evaluate_format
from study.experiment.rescore import rescore_sweep
from study.experiment.runner import Plan, one_thread, run
from study.params import BeyondParams, CodecParams, CombinedParams, QuantizationParams, ReductionParams
from study.plans import beyond, quantization, reduction
from study.plans import codecs as codecs_stage
from study.plans.codecs import _plan
from study.search.exact import evaluate
from study.search.hamming import hamming_search
from study.search.metrics import METRICS
from study.search.ranking import top_k_of_scores

MODEL = "wordllama-256"
EVALUATED = ["adi", "time"]
CAL = "med"  # the calibration / training set
FIT = "cisi"  # the reducers' fit set
TRUNCATION = "truncation"  # keeps the first dimensions whatever it is fit on


def ran(plan: Plan, split: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(tidy rows, per-query scores) of a stage's plan, run as its notebook runs it (here without the result
    cache), on another split when given."""
    if split is not None:
        plan.configs = [replace(c, split=split) for c in plan.configs]
    result = run(plan, progress=False)
    return result.tidy, result.per_query


def run_quantization(model: str, datasets: list[str], formats: list[str], calibrate_on: str,
                     split: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stage 02's plan and run (the parameters unchecked: ``none`` names no calibration set)."""
    p = QuantizationParams(models=[model], datasets=datasets, formats=formats, calibrate_on=calibrate_on)
    return ran(quantization.plan(p), split)


def corpus(name: str) -> str:
    """The name this file gives to a collection's own corpus (what ``self`` means when it is evaluated)."""
    return f"{SELF}:{name}"


@pytest.fixture(scope="module")
def sets(cache_dir) -> dict[str, np.ndarray]:
    """Every set a stage may legitimately train on, by name: each evaluated corpus and each training set (med and
    cisi have no dev split: corpus + every query)."""
    out = {}
    for name in [*EVALUATED, CAL, FIT]:
        collection = load_collection(name)
        docs, queries = (np.asarray(load_embeddings(MODEL, collection, r).vectors, np.float32)
                         for r in ("docs", "queries"))
        out[corpus(name)] = docs
        if name in (CAL, FIT):
            assert "dev" not in collection.qrels
            out[name] = np.concatenate([docs, queries])
    return out


class Spy:
    """Records, while a stage runs, each configuration it evaluates and every calibration / codec training and
    reducer fit done for it, and names the vectors each was given."""

    def __init__(self, monkeypatch, stage_module, sets: dict[str, np.ndarray]) -> None:
        self.sets = sets
        self.evaluated: list[Config] = []
        self.calibrations: list[tuple[Config, str, np.ndarray]] = []
        self.fits: list[tuple[str, np.ndarray, object]] = []
        self._cfg: Config | None = None
        for module in (evaluate_module, rescore_module):
            monkeypatch.setattr(module, "calibrate", self._calibrating(module.calibrate))
        for name in ("evaluate_format", "rescore_sweep"):
            if hasattr(stage_module, name):
                monkeypatch.setattr(stage_module, name, self._evaluating(getattr(stage_module, name)))
        if hasattr(stage_module, "fit_reducer"):
            monkeypatch.setattr(stage_module, "fit_reducer", self._fitting(stage_module.fit_reducer))

    def _evaluating(self, real: Callable) -> Callable:
        def spy(cfg, *args, **kwargs):
            self.evaluated.append(cfg)
            self._cfg = cfg
            try:
                return real(cfg, *args, **kwargs)
            finally:
                self._cfg = None
        return spy

    def _calibrating(self, real: Callable) -> Callable:
        def spy(name, sample):
            if get_format(name).needs_calibration:
                self.calibrations.append((self._cfg, name, np.array(sample, dtype=np.float32)))
            return real(name, sample)
        return spy

    def _fitting(self, real: Callable) -> Callable:
        def spy(method, vectors, *args, **kwargs):
            reducer = real(method, vectors, *args, **kwargs)
            self.fits.append((method, np.array(vectors, dtype=np.float32), reducer))
            return reducer
        return spy

    def origin(self, sample: np.ndarray) -> str:
        """The name of the set ``sample`` equals: a set of ``sets`` or, reduced, ``method[fit set](set)``."""
        for name, vectors in self.sets.items():
            if vectors.shape == sample.shape and np.array_equal(vectors, sample):
                return name
        for method, fitted_on, reducer in self.fits:
            fit = TRUNCATION if method == TRUNCATION else f"{method}[{self.origin(fitted_on)}]"
            for name, vectors in self.sets.items():
                with one_thread():  # as the runner transforms (BLAS rounds a product otherwise on some CPUs)
                    reduced = reducer.transform(vectors) if len(vectors) == len(sample) else None
                if reduced is not None and np.array_equal(reduced, sample):
                    return f"{fit}({name})"
        return f"an unnamed set of shape {sample.shape}"

    def fitted(self) -> list[tuple[str, str]]:
        """(method, the set it was fit on) of every reducer fit."""
        return [(method, self.origin(vectors)) for method, vectors, _ in self.fits]

    def trained(self) -> list[tuple[str, str, str]]:
        """(configuration, format calibrated / trained, the set it was given) of every calibration."""
        return [(label(cfg), fmt, self.origin(sample)) for cfg, fmt, sample in self.calibrations]


def label(cfg: Config | None) -> str:
    if cfg is None:
        return "no configuration"
    text = f"{cfg.dataset} {cfg.format} @{cfg.calibrate_on}"
    if cfg.reducer != NONE:
        text += f" after {cfg.reducer} fit on {cfg.fit_on}"
    return text + ("" if cfg.query_format == "same" else " · float32 queries")


def named(cfg: Config, fit_on: str) -> str:
    """The set a calibration done for ``cfg`` must be given, from what its row says (``fit_on``: the stage's fit
    set, which a truncation row does not name)."""
    base = corpus(cfg.dataset) if cfg.calibrate_on == SELF else cfg.calibrate_on
    if cfg.reducer == NONE:
        return base
    if cfg.reducer == TRUNCATION:
        return f"{TRUNCATION}({base})"
    fit = corpus(cfg.dataset) if cfg.fit_on == SELF else cfg.fit_on
    assert cfg.fit_on == fit_on or cfg.fit_on == SELF
    return f"{cfg.reducer}[{fit}]({base})"


def expected(spy: Spy, fit_on: str = NONE) -> list[tuple[str, str, str]]:
    return [(label(cfg), fmt, named(cfg, fit_on)) for cfg, fmt, _ in spy.calibrations]


def assert_every_calibrated_row_was_calibrated(spy: Spy, tidy: pd.DataFrame) -> None:
    """Each evaluated configuration that names a training set trained something on it, and its rows say so."""
    wanted = {label(c) for c in spy.evaluated if c.calibrate_on != NONE}
    assert {label(cfg) for cfg, _, _ in spy.calibrations} == wanted
    rows = tidy[tidy.metric == "ndcg_at_10"]
    calibrated = rows[rows.calibrate_on != NONE]
    assert all(get_format(f).needs_calibration or r != NONE
               for f, r in zip(calibrated.format, calibrated.rescore, strict=True))
    uncalibrated = rows[(rows.calibrate_on == NONE) & (rows.rescore == NONE)]
    assert not any(get_format(f).needs_calibration for f in uncalibrated.format)


# --- stage 02 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("calibrate_on", [CAL, SELF])
def test_stage02_calibrates_on_calibrate_on_and_its_rows_name_that_set(sets, monkeypatch, calibrate_on):
    spy = Spy(monkeypatch, runner_module, sets)
    tidy, per_query = run_quantization(MODEL, EVALUATED, ["float32", "int8", "binary", "int8_clipped"], calibrate_on)
    assert spy.trained() == expected(spy)
    assert [(c.dataset, fmt) for c, fmt, _ in spy.calibrations] == [
        (d, f) for d in EVALUATED for f in ("int8", "int8_clipped")]
    assert {spy.origin(s) for *_, s in spy.calibrations} == (
        {CAL} if calibrate_on == CAL else {corpus(d) for d in EVALUATED})
    rows = tidy[tidy.metric == "ndcg_at_10"].set_index(["dataset", "format"])
    assert (rows.loc[(slice(None), ["int8", "int8_clipped"]), "calibrate_on"] == calibrate_on).all()
    assert (rows.loc[(slice(None), ["float32", "binary"]), "calibrate_on"] == NONE).all()
    assert set(per_query.config_id) == set(tidy.config_id) and set(tidy.model) == {MODEL}
    assert_every_calibrated_row_was_calibrated(spy, tidy)


def test_stage02_without_a_calibrated_format_loads_no_calibration_set(sets, monkeypatch):
    spy = Spy(monkeypatch, runner_module, sets)
    tidy, _ = run_quantization(MODEL, ["adi"], ["float32", "binary"], NONE)  # no set named: none is needed
    assert set(tidy.calibrate_on) == {NONE} and spy.calibrations == []


def test_stage02_scores_int8_with_the_ranges_of_the_named_set(sets):
    tidy, _ = run_quantization(MODEL, ["adi"], ["int8"], CAL)
    data = load_eval_data(MODEL, "adi")
    params = calibrate("int8", sets[CAL])
    by_hand, _ = evaluate(quantize(data.queries, "int8", params).decode(), data.query_ids,
                          quantize(data.docs, "int8", params).decode(), data.doc_ids, data.qrels)
    on_self, _ = run_quantization(MODEL, ["adi"], ["int8"], SELF)
    ndcg = tidy[tidy.metric == "ndcg_at_10"].value.item()
    assert ndcg == pytest.approx(by_hand.ndcg_at_10.mean(), abs=1e-12)
    assert ndcg != on_self[on_self.metric == "ndcg_at_10"].value.item()  # med's ranges are not adi's


# --- stages 03 / 04 ------------------------------------------------------------------------------------------


def test_reduction_fits_on_fit_on_and_calibrates_on_the_reduced_calibrate_on_set(sets, monkeypatch):
    spy = Spy(monkeypatch, runner_module, sets)
    tidy, _ = ran(reduction.plan(CombinedParams(models=[MODEL], datasets=EVALUATED, reducers=["pca", TRUNCATION],
                                                fractions=[0.25], formats=["float32", "int8"], fit_on=FIT,
                                                calibrate_on=CAL)))
    # asked for by each collection's part (the fit cache fits it once), on the fit set; truncation fits nothing
    assert spy.fitted() == [f for d in EVALUATED for f in [("pca", FIT), (TRUNCATION, corpus(d))]]
    assert spy.trained() == expected(spy, FIT)
    assert {o for *_, o in spy.trained()} == {CAL, f"pca[{FIT}]({CAL})", f"{TRUNCATION}({CAL})"}
    rows = tidy[tidy.metric == "ndcg_at_10"]
    assert set(rows[rows.reducer == "pca"].fit_on) == {FIT} and set(rows[rows.reducer == TRUNCATION].fit_on) == {NONE}
    assert_every_calibrated_row_was_calibrated(spy, tidy)


def test_reduction_on_self_fits_and_calibrates_each_collection_on_its_own_corpus(sets, monkeypatch):
    spy = Spy(monkeypatch, runner_module, sets)
    tidy, _ = ran(reduction.plan(ReductionParams(models=[MODEL], datasets=EVALUATED, methods=["pca"], fractions=[0.25],
                                                 formats=["int8"], fit_on=SELF, calibrate_on=SELF)))
    assert spy.fitted() == [("pca", corpus(d)) for d in EVALUATED]
    assert spy.trained() == expected(spy)
    assert f"pca[{corpus('time')}]({corpus('time')})" in {o for *_, o in spy.trained()}
    assert set(tidy[tidy.reducer == "pca"].fit_on) == {SELF}
    assert_every_calibrated_row_was_calibrated(spy, tidy)


# --- stage 06 ------------------------------------------------------------------------------------------------


def test_beyond_calibrates_paper_formats_on_the_paper_set_and_corrected_ones_on_their_own(sets, monkeypatch):
    spy = Spy(monkeypatch, runner_module, sets)
    tidy, _ = ran(beyond.plan(BeyondParams(
        models=[MODEL], datasets=EVALUATED, formats=["float32", "int8", "int8_clipped"], calibrate_on=[CAL, SELF],
        paper_calibrate_on=FIT, asymmetric=["int8", "int8_clipped"], rescore_first=["binary_median"],
        rescore_tiers=["float32", "int8_clipped"], oversampling=[2])))
    assert spy.trained() == expected(spy)
    adi = [t[1:] for t in spy.trained() if t[0].startswith("adi ")]
    assert adi == [("int8", FIT), ("int8_clipped", CAL), ("int8_clipped", corpus("adi")),
                   ("int8", FIT), ("int8_clipped", CAL),  # float32 queries: the first set of each
                   ("binary_median", CAL), ("int8_clipped", CAL)]  # rescoring: both tiers on the first set
    assert_every_calibrated_row_was_calibrated(spy, tidy)


# --- stage 09 ------------------------------------------------------------------------------------------------

CODECS = ["float32", "int8_clipped", "rabitq1", "pq8x4fs"]


def codecs(spy_sets, monkeypatch, calibrate_on: list[str], fit_on: str, reducers=("pca", TRUNCATION),
           datasets=(*EVALUATED, CAL, FIT), reduced_formats=("rabitq1", "pq8x4fs"), seed=SEED):
    """Stage 09 on ``datasets`` under a spy: (spy, tidy rows, per-query scores)."""
    spy = Spy(monkeypatch, runner_module, spy_sets)
    plan = codecs_plan(list(datasets), calibrate_on, fit_on, list(reducers), list(reduced_formats))
    plan.options = replace(plan.options, seed=seed)
    tidy, per_query = ran(plan)
    return spy, tidy, per_query


def codecs_plan(datasets: list[str], calibrate_on: list[str], fit_on: str, reducers: list[str],
                reduced_formats: list[str], formats: list[str] = CODECS) -> Plan:
    return codecs_stage.plan(CodecParams(
        models=[MODEL], datasets=datasets, formats=formats, calibrate_on=calibrate_on, asymmetric=["rabitq1"],
        reducers=reducers, fractions=[0.25], reduced_formats=reduced_formats, fit_on=fit_on,
        rescore_first=["rabitq1", "pq8x4fs"], rescore_tiers=["float32", "int8_clipped"], oversampling=[2]))


def test_codecs_train_on_each_calibrate_on(sets, monkeypatch):
    spy, tidy, _ = codecs(sets, monkeypatch, [CAL, SELF], FIT)
    assert spy.trained() == expected(spy, FIT)
    plain = {(t[0].split()[0], t[1], t[2]) for t in spy.trained() if "after" not in t[0]}
    for d in EVALUATED:
        assert {(f, o) for name, f, o in plain if name == d} == {
            ("int8_clipped", CAL), ("int8_clipped", corpus(d)), ("rabitq1", CAL), ("rabitq1", corpus(d)),
            ("pq8x4fs", CAL), ("pq8x4fs", corpus(d))}  # 16 centroids: every corpus here is large enough
    assert set(tidy.dataset) == set(EVALUATED)  # the training sets are not evaluated
    assert_every_calibrated_row_was_calibrated(spy, tidy)


def test_codecs_reduced_runs_fit_on_fit_on_and_train_on_the_reduced_shared_set(sets, monkeypatch):
    spy, tidy, _ = codecs(sets, monkeypatch, [CAL, SELF], FIT)
    assert spy.fitted() == [f for d in EVALUATED for f in [("pca", FIT), (TRUNCATION, corpus(d))]]
    reduced = {(t[1], t[2]) for t in spy.trained() if "after" in t[0]}
    assert reduced == {(f, o) for f in ("rabitq1", "pq8x4fs") for o in (f"pca[{FIT}]({CAL})", f"{TRUNCATION}({CAL})")}
    rows = tidy[(tidy.metric == "ndcg_at_10") & (tidy.reducer != NONE)]
    assert set(rows.calibrate_on) == {CAL} and set(rows[rows.reducer == "pca"].fit_on) == {FIT}


def test_codecs_rescoring_tiers_train_on_the_shared_set_their_rows_name(sets, monkeypatch):
    spy, tidy, _ = codecs(sets, monkeypatch, [SELF, CAL], FIT, reducers=())
    first = [t for t in spy.trained() if t[0].startswith("adi rabitq1 @")]
    assert (f"adi rabitq1 @{CAL}", "int8_clipped", CAL) in first  # the second tier
    rescored = tidy[(tidy.metric == "ndcg_at_10") & (tidy.rescore != NONE)]
    assert set(rescored.calibrate_on) == {CAL} and set(rescored.rescore) == {"float32x2", "int8_clippedx2"}
    assert spy.trained() == expected(spy)


def test_codecs_trained_only_on_self_train_each_corpus_on_itself_and_pq_only_alone(sets, monkeypatch):
    spy, tidy, _ = codecs(sets, monkeypatch, [SELF], FIT)
    assert spy.trained() == expected(spy, FIT)
    origins = {o for *_, o in spy.trained()}
    assert {corpus("time"), f"pca[{FIT}]({corpus('time')})", f"{TRUNCATION}({corpus('time')})"} <= origins
    assert not {CAL, FIT} & origins
    pq = tidy[tidy.format == "pq8x4fs"]  # alone on the corpus; reduced or rescored, PQ needs a named set
    assert set(pq.dataset) == set(tidy.dataset) and set(pq.reducer) == {NONE} and set(pq.rescore) == {NONE}
    assert set(tidy.calibrate_on) == {SELF, NONE}
    assert_every_calibrated_row_was_calibrated(spy, tidy)


def test_codecs_reducers_fit_on_self_fit_each_corpus(sets, monkeypatch):
    spy, tidy, _ = codecs(sets, monkeypatch, [CAL], SELF, reducers=("pca",), datasets=(*EVALUATED, CAL))
    assert spy.fitted() == [("pca", corpus(d)) for d in EVALUATED]
    assert spy.trained() == expected(spy, SELF)
    assert set(tidy[tidy.reducer == "pca"].fit_on) == {SELF}


def test_codecs_rows_carry_their_configuration_and_every_stored_byte(sets, monkeypatch):
    spy, tidy, per_query = codecs(sets, monkeypatch, [CAL], FIT, datasets=("adi", CAL, FIT),
                                  reduced_formats=("rabitq1", "float32"))
    adi = load_eval_data(MODEL, "adi")
    assert tidy.index.equals(pd.RangeIndex(len(tidy))) and per_query.index.equals(pd.RangeIndex(len(per_query)))
    rows = tidy[tidy.metric == "ndcg_at_10"].set_index(["reducer", "format", "rescore", "query_format"]).sort_index()
    assert set(rows.model) == {MODEL} and set(rows.split) == {adi.split} and set(rows.stage) == {"09"}
    assert set(rows.loc["pca"].fraction) == {0.25} and set(rows.loc[TRUNCATION].fit_on) == {NONE}
    assert rows.loc[(TRUNCATION, "float32", NONE, "same"), "calibrate_on"] == NONE

    def stored(docs, sample):  # the codec's own bytes stored once (trained on ``sample``)
        return quantize(docs, "rabitq1", calibrate("rabitq1", sample)).overhead_bytes

    pca = next(r for m, _, r in spy.fits if m == "pca")
    assert rows.loc[(NONE, "rabitq1", NONE, "same"), "overhead_bytes"] == stored(adi.docs, sets[CAL])
    assert rows.loc[("pca", "rabitq1", NONE, "same"), "overhead_bytes"] == stored(
        pca.transform(adi.docs), pca.transform(sets[CAL])) + pca.overhead_bytes > pca.overhead_bytes > 0
    assert rows.loc[("pca", "float32", NONE, "same"), "overhead_bytes"] == pca.overhead_bytes
    assert rows.loc[(TRUNCATION, "float32", NONE, "same"), "overhead_bytes"] == 0


def test_codecs_reducers_are_fit_with_the_stage_seed(sets, monkeypatch):
    spy, _, _ = codecs(sets, monkeypatch, [CAL], FIT, reducers=("random_projection",), datasets=("adi",), seed=7)
    (method, fitted_on, reducer), = spy.fits
    mine = fit_reducer(method, sets[FIT], 0.25, seed=7)
    np.testing.assert_array_equal(reducer.transform(sets[CAL]), mine.transform(sets[CAL]))
    assert not np.array_equal(reducer.transform(sets[CAL]), fit_reducer(method, sets[FIT], 0.25).transform(sets[CAL]))


def test_codecs_refuse_to_evaluate_only_training_sets(sets):
    with pytest.raises(ParameterError, match=r"'datasets': invalid value \['med', 'cisi'\]; allowed: at least one "
                                             r"collection that is not a training set$"):
        codecs_plan([CAL, FIT], [CAL, SELF], FIT, [], [], ["rabitq1"])


def test_plan_asks_float32_queries_only_of_compressed_formats(adi):
    plan, _ = _plan(adi, ["float32", "rabitq1", "pq16x4fs"], [CAL], ["float32", "rabitq1"])
    assert [(c.format, c.calibrate_on, c.query_format) for c in plan] == [
        ("float32", NONE, "same"), ("rabitq1", CAL, "same"), ("rabitq1", CAL, "float32"), ("pq16x4fs", CAL, "same"),
        ("pq16x4fs", CAL, "float32")]
    assert {(c.model, c.dataset, c.split) for c in plan} == {(MODEL, "adi", adi.split)}
    corpus_first, _ = _plan(adi, ["pq32x8", "rabitq1"], [SELF, CAL], [])  # too small for PQ: skips it, not what follows
    assert [(c.format, c.calibrate_on) for c in corpus_first if c.query_format == "same"] == [
        ("pq32x8", CAL), ("rabitq1", SELF), ("rabitq1", CAL)]


# --- the sets themselves --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dev_split(tmp_path_factory, cache_dir) -> str:
    """A small BEIR folder with a dev and a test split and one unjudged query."""
    root = tmp_path_factory.mktemp("wiring") / "devsplit"
    (root / "qrels").mkdir(parents=True)
    docs = ["solar panels on roofs", "wind turbines at sea", "river dams and power", "coal plants closing",
            "batteries store energy", "nuclear reactors cooling"]
    queries = {"d1": "offshore wind", "d2": "hydro power", "t1": "energy storage", "t2": "solar", "u1": "nothing"}
    (root / "corpus.jsonl").write_text("".join(json.dumps({"_id": f"doc{i}", "title": "", "text": t}) + "\n"
                                               for i, t in enumerate(docs)))
    (root / "queries.jsonl").write_text("".join(json.dumps({"_id": k, "text": v}) + "\n" for k, v in queries.items()))
    (root / "qrels" / "dev.tsv").write_text("query-id\tcorpus-id\tscore\nd2\tdoc2\t1\nd1\tdoc1\t1\n")
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nt1\tdoc4\t1\nt2\tdoc0\t1\n")
    return str(root)


def test_a_reference_set_is_its_corpus_and_dev_queries_or_every_query_without_dev(sets, dev_split):
    adi = load_eval_data(MODEL, "adi")
    assert reference_vectors(MODEL, SELF, adi) is adi.docs
    np.testing.assert_array_equal(reference_vectors(MODEL, CAL, adi), sets[CAL])
    collection = load_collection(dev_split)
    docs, queries = (load_embeddings(MODEL, collection, r) for r in ("docs", "queries"))
    ref = reference_vectors(MODEL, dev_split, adi)
    np.testing.assert_array_equal(ref, np.concatenate([docs.vectors, queries.rows(["d1", "d2"])]))
    assert ref.dtype == np.float32


def test_references_load_each_set_once_and_none_is_no_calibration(sets, monkeypatch):
    adi = load_eval_data(MODEL, "adi")
    references = References(MODEL, adi)
    loads = []
    real = reference_vectors

    def counting(model, name, data):
        loads.append((model, name, data.dataset))
        return real(model, name, data)

    monkeypatch.setattr("study.experiment.configs.reference_vectors", counting)
    assert references(NONE) is None
    np.testing.assert_array_equal(references(CAL), sets[CAL])
    assert references(CAL) is references(CAL) and references(SELF) is adi.docs
    assert loads == [(MODEL, CAL, "adi"), (MODEL, SELF, "adi")]


def test_eval_data_of_a_split_holds_that_splits_queries(dev_split):
    data = load_eval_data(MODEL, dev_split, "dev")
    assert (data.split, data.query_ids, data.n_texts) == ("dev", ["d1", "d2"], 6 + 2)
    assert load_eval_data(MODEL, dev_split).query_ids == ["t1", "t2"]  # default: test
    queries = load_embeddings(MODEL, load_collection(dev_split), "queries")
    np.testing.assert_array_equal(data.queries, queries.rows(["d1", "d2"]))
    tidy, _ = run_quantization(MODEL, [dev_split], ["float32"], SELF, split="dev")
    assert set(tidy.split) == {"dev"} and set(tidy.n_queries) == {2} and set(tidy.n_texts) == {8}


# --- one configuration ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def adi(cache_dir) -> EvalData:
    return load_eval_data(MODEL, "adi")


def by_hand(data: EvalData, queries: np.ndarray, docs: np.ndarray, search_fn=None) -> np.ndarray:
    per_query, _ = evaluate(queries, data.query_ids, docs, data.doc_ids, data.qrels, search_fn=search_fn)
    return per_query.ndcg_at_10.to_numpy()


def test_evaluate_format_searches_each_format_its_own_way(adi):
    binary = quantize(adi.docs, "binary_sign"), quantize(adi.queries, "binary_sign")
    params = calibrate("rabitq1", adi.docs)
    codes = quantize(adi.docs, "rabitq1", params)

    def estimate(q, d, ids, k=100):
        return top_k_of_scores(codes.format.score(q, d, "same"), ids, k)

    for fmt, calibration, want in [
        ("binary_sign", None, by_hand(adi, binary[1].packed, binary[0].packed, hamming_search)),  # Hamming on bits
        ("rabitq1", adi.docs, by_hand(adi, adi.queries, codes, estimate)),  # the codec's own estimator
        ("int8", adi.docs, by_hand(adi, *(round_trip(x, "int8", calibrate("int8", adi.docs))
                                          for x in (adi.queries, adi.docs)))),  # cosine on decoded vectors
    ]:
        cfg = Config(MODEL, "adi", adi.split, format=fmt, calibrate_on=SELF if calibration is not None else NONE)
        _, per_query = evaluate_format(cfg, adi, adi.docs, adi.queries, calibration, "t")
        np.testing.assert_array_equal(per_query.ndcg_at_10.to_numpy(), want, err_msg=fmt)


def test_evaluate_format_rows_and_per_query_scores_carry_their_configuration(adi):
    cfg = Config(MODEL, "adi", adi.split, reducer="pca", fraction=0.5, fit_on=FIT, format="int8", calibrate_on=CAL)
    rows, per_query = evaluate_format(cfg, adi, adi.docs[:, :128], adi.queries[:, :128], adi.docs[:, :128], "04")
    assert list(per_query.columns[:3]) == ["config_id", "dataset", "split"]
    assert (per_query.config_id == cfg.id).all() and (per_query.dataset == "adi").all()
    assert (per_query.split == adi.split).all() and len(per_query) == len(adi.query_ids)
    one = rows.iloc[0]
    assert (one.stage, one.dims, one.n_docs, one.n_texts, one.n_queries) == ("04", 128, 82, 82 + 35, 35)
    assert (one.bytes_per_vector, one.compression_ratio, one.config_id) == (128, 4 * 256 / 128, cfg.id)
    assert list(rows.metric) == list(METRICS) and rows.value.tolist() == [per_query[m].mean() for m in METRICS]


def test_evaluate_format_refuses_a_calibrated_format_without_a_calibration_set(adi):
    with pytest.raises(ParameterError, match="calibrat"):
        evaluate_format(Config(MODEL, "adi", adi.split, format="int8"), adi, adi.docs, adi.queries, None, "t")


def test_evaluate_format_passes_the_calibration_set_and_stage_to_a_two_stage_run(adi, sets):
    cfg = Config(MODEL, "adi", adi.split, format="binary_sign", calibrate_on=CAL, rescore="int8_clippedx2")
    rows, per_query = evaluate_format(cfg, adi, adi.docs, adi.queries, sets[CAL], "06")
    _, swept = rescore_sweep(replace(cfg, rescore=NONE), adi, adi.docs, adi.queries, sets[CAL], ["int8_clipped"],
                             [2], "06")
    np.testing.assert_array_equal(per_query.ndcg_at_10.to_numpy(), swept.ndcg_at_10.to_numpy())
    assert set(rows.stage) == {"06"} and set(rows.config_id) == {cfg.id} and set(rows.calibrate_on) == {CAL}


def test_stage02_numbers_its_rows_once(sets):
    tidy, per_query = run_quantization(MODEL, EVALUATED, ["float32", "int8"], CAL)
    assert tidy.index.equals(pd.RangeIndex(len(tidy))) and per_query.index.equals(pd.RangeIndex(len(per_query)))
    assert list(tidy.stage.unique()) == ["02"] and len(tidy) == 2 * 2 * len(METRICS)


def test_evaluated_and_reference_vectors_are_float32_whatever_the_cache_holds(monkeypatch, dev_split):
    real = load_embeddings

    def float64(model, collection, role, *args, **kwargs):
        emb = real(model, collection, role, *args, **kwargs)
        return replace(emb, vectors=np.asarray(emb.vectors, dtype=np.float64))

    monkeypatch.setattr("study.experiment.configs.load_embeddings", float64)
    data = load_eval_data(MODEL, "adi")
    assert data.model == MODEL and data.docs.dtype == np.float32 and data.queries.dtype == np.float32
    assert reference_vectors(MODEL, CAL, data).dtype == np.float32
    assert reference_vectors(MODEL, dev_split, data).dtype == np.float32


def test_search_inputs_give_codecs_and_asymmetric_search_float32_queries(adi):
    queries = adi.queries.astype(np.float64)
    for fmt, query_format in [("rabitq1", "same"), ("rabitq1", "float32"), ("int8", "float32")]:
        p = calibrate(fmt, adi.docs)
        cfg = Config(MODEL, "adi", adi.split, format=fmt, query_format=query_format)
        q, _, _ = search_inputs(cfg, quantize(adi.docs, fmt, p), queries, p)
        assert q.dtype == np.float32, (fmt, query_format)
    with pytest.raises(ParameterError, match="'query_format'"):
        search_inputs(Config(MODEL, "adi", adi.split, query_format="int8"), quantize(adi.docs, "float32"),
                      adi.queries, {})
