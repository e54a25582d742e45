"""Stage parameters: one dataclass per stage holds the defaults its notebook shows, and each bad value gets the
one-line error naming the parameter and what is allowed."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import jupytext
import pytest

from study.config import workflow_config
from study.core.errors import ParameterError
from study.params import (
    BeyondParams,
    CodecParams,
    CombinedParams,
    IndexParams,
    QuantizationParams,
    ReductionParams,
    ScalingParams,
    TradeoffParams,
    YourVectorsParams,
)
from study.params.profiles import PARAMS, runs_stage, stage_parameters, stage_params

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_PARAMS = {
    "02-quantization": QuantizationParams,
    "03-reduction": ReductionParams,
    "04-combined": CombinedParams,
    "05-tradeoff": TradeoffParams,
    "06-beyond": BeyondParams,
    "07-indexes": IndexParams,
    "08-scaling": ScalingParams,
    "09-codecs": CodecParams,
    "10-your-vectors": YourVectorsParams,
}


def parameters_cell(stem: str) -> dict:
    """The names and values the notebook's parameters cell assigns (read from its jupytext source)."""
    notebook = jupytext.read(REPO / "notebooks" / f"{stem}.py")
    (cell,) = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    namespace: dict = {}
    exec(cell.source, {}, namespace)  # literal assignments only
    return namespace


@pytest.mark.parametrize("stem", NOTEBOOK_PARAMS)
def test_the_notebook_shows_exactly_the_dataclass_defaults(stem):
    cls = NOTEBOOK_PARAMS[stem]
    shown = parameters_cell(stem)
    defaults = {f.name: getattr(cls(), f.name) for f in fields(cls)}
    assert shown == defaults


@pytest.mark.parametrize("stem", NOTEBOOK_PARAMS)
def test_the_notebook_validates_in_one_line(stem):
    source = (REPO / "notebooks" / f"{stem}.py").read_text()
    cls = NOTEBOOK_PARAMS[stem].__name__
    assert source.count(f"p = {cls}.of(globals()).checked()") == 1
    assert "config.check_" not in source


@pytest.mark.parametrize("cls", list(NOTEBOOK_PARAMS.values()))
def test_the_defaults_pass_their_own_checks(cls):
    checked = cls().checked()
    assert isinstance(checked, cls)


BAD = [
    (QuantizationParams, "models", ["gpt-9"], "'models': invalid value 'gpt-9'"),
    (QuantizationParams, "datasets", ["nowhere"], "'datasets': invalid value 'nowhere'"),
    (QuantizationParams, "formats", ["float7"], "'formats': invalid value 'float7'"),
    (QuantizationParams, "calibrate_on", "nowhere", "'calibrate_on': invalid value 'nowhere'"),
    (QuantizationParams, "weighting", "docs", "'weighting': invalid value 'docs'; allowed: texts, none"),
    (QuantizationParams, "profile", "a/b", "'profile': invalid value 'a/b'"),
    (QuantizationParams, "publish", "yes", "'publish': invalid value 'yes'; allowed: True, False"),
    (QuantizationParams, "datasets_per_model", {"gpt-9": ["adi"]}, "'datasets_per_model': invalid value 'gpt-9'"),
    (ReductionParams, "methods", ["tsne"], "'methods': invalid value 'tsne'"),
    (ReductionParams, "fractions", [1.5], "'fractions': invalid value 1.5"),
    (ReductionParams, "fractions", [0.001], "'fractions': invalid value 0.001; allowed: fractions that keep 1..383"),
    (ReductionParams, "fit_sample", 0, "'fit_sample': invalid value 0"),
    (ReductionParams, "fit_on", "nowhere", "'fit_on': invalid value 'nowhere'"),
    (CombinedParams, "reducers", ["tsne"], "'reducers': invalid value 'tsne'"),
    (TradeoffParams, "n_vectors", [0], "'n_vectors': invalid value 0"),
    (TradeoffParams, "budgets", {"phone": "lots"}, "budgets['phone']\": invalid value 'lots'"),
    (TradeoffParams, "metric", "map", "'metric': invalid value 'map'"),
    (TradeoffParams, "max_loss", -1, "'max_loss': invalid value -1"),
    (BeyondParams, "asymmetric", ["float7"], "'asymmetric': invalid value 'float7'"),
    (BeyondParams, "rescore_first", ["float7"], "'rescore_first': invalid value 'float7'"),
    (BeyondParams, "rescore_tiers", ["float7"], "'rescore_tiers': invalid value 'float7'"),
    (BeyondParams, "oversampling", [2, 0], "'oversampling': invalid value 0; allowed: a positive integer"),
    (BeyondParams, "n_resamples", -1, "'n_resamples': invalid value -1"),
    (BeyondParams, "seed", -1, "'seed': invalid value -1; allowed: a non-negative integer"),
    (BeyondParams, "paper_calibrate_on", "nowhere", "'paper_calibrate_on': invalid value 'nowhere'"),
    (BeyondParams, "calibrate_on", ["self", "nowhere"], "'calibrate_on': invalid value 'nowhere'"),
    (IndexParams, "indexes", ["faiss-magic"], "faiss-magic"),
    (IndexParams, "threads", 0, "'threads': invalid value 0"),
    (IndexParams, "repeats", 1.5, "'repeats': invalid value 1.5"),
    (IndexParams, "batch1_queries", True, "'batch1_queries': invalid value True"),
    (IndexParams, "hnsw", {"m": 3}, "'hnsw': invalid value 'm'"),
    (IndexParams, "train_on", "nowhere", "'train_on': invalid value 'nowhere'"),
    (ScalingParams, "formats", ["float7"], "'formats': invalid value 'float7'"),
    (ScalingParams, "indexes", ["faiss-flat-magic"], "'indexes': invalid value 'faiss-flat-magic'"),
    (ScalingParams, "budget", "lots", "'budget': invalid value 'lots'"),
    (CodecParams, "reducers", ["umap"], "'reducers': invalid value 'umap'; allowed: pca, truncation"),
    (CodecParams, "reduced_formats", ["float7"], "'reduced_formats': invalid value 'float7'"),
    (CodecParams, "fit_on", "nowhere", "'fit_on': invalid value 'nowhere'"),
    (YourVectorsParams, "path", "/nowhere/x.npy", "'path': invalid value '/nowhere/x.npy'; allowed: an existing"),
    (YourVectorsParams, "format", "csv", "'format': invalid value 'csv'; allowed: npy, parquet, hdf5, beir"),
    (YourVectorsParams, "queries", "/nowhere/q.npy", "'queries': invalid value '/nowhere/q.npy'"),
    (YourVectorsParams, "qrels", "", "'qrels': invalid value ''"),
    (YourVectorsParams, "model", "gpt-9", "'model': invalid value 'gpt-9'"),
    (YourVectorsParams, "matryoshka", "yes", "'matryoshka': invalid value 'yes'; allowed: True, False"),
    (YourVectorsParams, "n_vectors", 0, "'n_vectors': invalid value 0"),
    (YourVectorsParams, "margin", 1.0, "'margin': invalid value 1.0; allowed: a tolerance in the measure's units"),
    (YourVectorsParams, "margins", [], "'margins': invalid value []; allowed: a non-empty list of distinct margins"),
    (YourVectorsParams, "ram", "lots", "'ram': invalid value 'lots'"),
    (YourVectorsParams, "disk", -1, "'disk': invalid value -1"),
    (YourVectorsParams, "budgets", {"phone": "big"}, "budgets['phone']\": invalid value 'big'"),
    (YourVectorsParams, "budget_n_vectors", 1.5, "'budget_n_vectors': invalid value 1.5"),
    (YourVectorsParams, "max_loss", "much", "'max_loss': invalid value 'much'"),
]


@pytest.mark.parametrize(("cls", "name", "value", "message"), BAD, ids=[f"{c.__name__}.{n}" for c, n, _, _ in BAD])
def test_a_bad_value_gets_one_line_naming_the_parameter(cls, name, value, message):
    with pytest.raises(ParameterError) as error:
        cls(**{name: value}).checked()
    text = str(error.value)
    assert message in text and "\n" not in text


def test_every_field_of_every_stage_has_a_bad_value_tested():
    tested = {(c, n) for c, n, _, _ in BAD}
    inherited = {"models", "datasets", "datasets_per_model", "profile", "publish", "weighting"}
    for cls in NOTEBOOK_PARAMS.values():
        for f in fields(cls):
            if (cls, f.name) not in tested and f.name not in inherited | {"formats", "calibrate_on", "fractions",
                                                                          "asymmetric", "rescore_first",
                                                                          "rescore_tiers", "oversampling",
                                                                          "n_resamples", "seed", "fit_sample",
                                                                          "fit_on"}:
                pytest.fail(f"{cls.__name__}.{f.name} has no bad-value test")


def test_a_check_that_depends_on_another_field_sees_its_checked_value():
    """Kept fractions are checked against the models given: 0.15 % keeps 1 of MiniLM's 384, none of WordLlama's 256."""
    assert ReductionParams(models=["minilm-l6"], fractions=[0.0015]).checked().fractions == [0.0015]
    with pytest.raises(ParameterError, match="fractions"):
        ReductionParams(models=["wordllama-256"], fractions=[0.0015]).checked()
    assert BeyondParams(formats=["float32", "int4"], asymmetric="all").checked().asymmetric == ["float32", "int4"]


def test_of_takes_the_notebook_namespace_and_ignores_everything_else():
    p = QuantizationParams.of({"formats": ["int8"], "pd": object(), "__name__": "x"})
    assert p.formats == ["int8"] and p.models == QuantizationParams().models


def test_mutable_defaults_are_not_shared_between_instances():
    a, b = CodecParams(), CodecParams()
    a.formats.append("int8")
    assert "int8" not in b.formats


@pytest.mark.parametrize("profile", ["default", "full", "paper"])
@pytest.mark.parametrize("stage", list(PARAMS))
def test_every_profile_gives_every_stage_parameters_its_dataclass_accepts(profile, stage):
    config = workflow_config(profile)
    if not runs_stage(stage, config):
        # the paper's MTEB tasks hold none of stage 07's sets, and its `advise: null` turns stage 10 off
        assert profile == "paper" and stage in ("indexes", "advise")
        return
    p = stage_params(stage, config)
    given = stage_parameters(stage, config)
    assert {f.name for f in fields(p)} >= set(given)
    assert p.profile == config["profile"]


def test_profile_sections_fill_each_others_defaults_as_the_workflow_did():
    config = {"profile": "x", "models": ["minilm-l6", "mpnet-base"], "datasets": ["adi"],
              "datasets_per_model": {"mpnet-base": ["adi"]},
              "quantization": {"calibrate_on": "time"}, "reduction": {"fit_on": "med", "models": ["minilm-l6"]},
              "combined": {}, "codecs": {"formats": ["rabitq1"]}}
    assert stage_parameters("reduction", config)["calibrate_on"] == "time"
    assert stage_parameters("reduction", config)["models"] == ["minilm-l6"]
    assert stage_parameters("reduction", config)["datasets_per_model"] == {}
    assert stage_parameters("combined", config)["fit_on"] == "med"
    assert stage_parameters("codecs", config)["fit_on"] == "med"
    assert stage_parameters("beyond", config)["paper_calibrate_on"] == "time"
    assert stage_parameters("quantization", config)["datasets_per_model"] == {"mpnet-base": ["adi"]}
    with pytest.raises(ParameterError, match="'stage': invalid value 'scaling'"):
        stage_parameters("scaling", config)
