"""The parameters dataclasses of stages 02–10 (see the package docstring).

Every field is declared with :func:`param`: its default and its check ``(value, checked) -> value``, where
``checked`` holds the fields already validated (declaration order), so a check may depend on an earlier field
(kept fractions on the models' widths, the asymmetric formats on ``formats``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Self

from study import config
from study.analysis.report import WEIGHTINGS
from study.analysis.stats import N_RESAMPLES
from study.analysis.tradeoff import (
    DEFAULT_MARGIN,
    DEFAULT_MAX_LOSS,
    LABEL_FREE_MARGIN,
    check_margin,
    check_max_loss,
    check_n_vectors,
    parse_budget,
    parse_budgets,
)
from study.compress.formats import FORMATS, PAPER_FORMATS
from study.compress.reducers import METHODS, check_fit_sample, check_fractions
from study.config import ADVISE_FORMATS, PAPER_SET
from study.core.errors import ParameterError
from study.search.indexes import HNSWParams, check_hnsw, check_index_names, index_kinds
from study.search.metrics import METRICS

Check = Callable[[Any, dict[str, Any]], Any]
BUDGETS = {"edge device": "64MiB", "phone": "512MiB", "laptop": "4GiB", "server": "16GiB"}
"""Memory for the vectors by device class: ``select``'s budgets in stages 05 and 10."""


def param(default: Any, check: Check) -> Any:
    """A dataclass field with its default (copied for each instance when mutable) and its check."""
    if isinstance(default, list | dict):
        return field(default_factory=lambda: copy.deepcopy(default), metadata={"check": check})
    return field(default=default, metadata={"check": check})


def check_format_list(name: str, value: object, every: list[str]) -> list[str]:
    """A list of registered format names; ``"all"`` = ``every``; ``[]`` or ``"none"`` = none."""
    if value == "all":
        return list(every)
    if value in ("none", [], ()):
        return []
    return config.check_choices(name, config.as_list(name, value), list(FORMATS))


def _choice(name: str, allowed: list | tuple) -> Check:
    return lambda value, _: config.check_choice(name, value, allowed)


def _choices(name: str, allowed: list | tuple) -> Check:
    return lambda value, _: config.check_choices(name, value, list(allowed))


def _reference(name: str) -> Check:
    return lambda value, _: config.check_reference_set(name, value)


def _references(name: str) -> Check:
    return lambda value, _: [config.check_reference_set(name, v) for v in config.as_list(name, value)]


def _training_sets(name: str) -> Check:
    """Training sets of codecs: collections, ``self`` or ``pool`` (the model's other collections)."""
    return lambda value, _: [v if v == config.POOL else config.check_reference_set(name, v, pool=True)
                             for v in config.as_list(name, value)]


def _positive_int(name: str) -> Check:
    return lambda value, _: config.check_positive_int(name, value)


def _positive_ints(name: str) -> Check:
    return lambda value, _: [config.check_positive_int(name, v) for v in config.as_list(name, value)]


def _fractions(value: object, checked: dict[str, Any]) -> list[float]:
    return check_fractions(value, checked["models"])


def _formats_among(name: str, source: str | None) -> Check:
    """A format list checked by :func:`check_format_list`; ``"all"`` = the field ``source`` (else every format)."""
    return lambda value, checked: check_format_list(name, value, checked[source] if source else list(FORMATS))


def _publish(value: object, _: dict[str, Any]) -> bool:
    return config.check_choice("publish", value, [True, False])


def _budgets(value: object) -> object:
    """Named budgets as given (``{"phone": "512MiB"}``), once each parses (:meth:`TradeoffParams.budget_bytes`)."""
    parse_budgets(value)
    return value


def _optional(check: Check) -> Check:
    return lambda value, checked: None if value is None else check(value, checked)


@dataclass
class Params:
    """A stage's parameters: build with :meth:`of` (a notebook's namespace) or keywords, then :meth:`checked`."""

    @classmethod
    def of(cls, namespace: Mapping[str, Any]) -> Self:
        """The parameters found in a notebook's namespace (its parameters cell and papermill's injected one)."""
        return cls(**{f.name: namespace[f.name] for f in fields(cls) if f.name in namespace})

    def checked(self) -> Self:
        """A validated copy; the first invalid field raises its one-line ``ParameterError``."""
        done: dict[str, Any] = {}
        for f in fields(self):
            done[f.name] = f.metadata["check"](getattr(self, f.name), done)
        return replace(self, **done)


@dataclass
class StageParams(Params):
    """What every stage that evaluates collections takes: models, collections, output profile."""

    models: list[str] = param(["minilm-l6"], lambda v, _: config.check_models(v))
    datasets: list[str] = param(["scifact"], lambda v, _: config.check_datasets(v))
    datasets_per_model: dict[str, list[str]] = param(
        {}, lambda v, checked: config.check_datasets_per_model(v, checked["models"]))
    profile: str = param("default", lambda v, _: config.check_profile_name(v))
    publish: bool = param(True, _publish)

    def datasets_of(self, model: str) -> list[str]:
        """The collections ``model`` is evaluated on."""
        return self.datasets_per_model.get(model, self.datasets)

    def evaluated(self) -> list[str]:
        """Every collection some model is evaluated on, sorted."""
        return sorted({d for m in self.models for d in self.datasets_of(m)})


@dataclass
class QuantizationParams(StageParams):
    """Stage 02: the paper's formats, queries and documents quantized alike."""

    formats: list[str] = param(list(PAPER_FORMATS), _choices("formats", FORMATS))
    calibrate_on: str = param(PAPER_SET, _reference("calibrate_on"))
    weighting: str = param("texts", _choice("weighting", WEIGHTINGS))


@dataclass
class ReductionParams(StageParams):
    """Stage 03: every reducer × kept fraction, in float32 and float8."""

    methods: list[str] = param(["pca", "kpca_cosine", "kpca_rbf", "kpca_poly", "random_projection", "truncation"],
                               _choices("methods", METHODS))
    fractions: list[float] = param([0.5, 0.25], _fractions)
    formats: list[str] = param(["float32", "float8_e4m3"], _choices("formats", FORMATS))
    fit_on: str = param(PAPER_SET, _reference("fit_on"))
    calibrate_on: str = param(PAPER_SET, _reference("calibrate_on"))
    fit_sample: int | None = param(1000, lambda v, _: check_fit_sample(v))
    weighting: str = param("texts", _choice("weighting", WEIGHTINGS))


@dataclass
class CombinedParams(StageParams):
    """Stage 04: reduction × every format (the paper's Table 1)."""

    reducers: list[str] = param(["pca", "truncation"], _choices("reducers", METHODS))
    fractions: list[float] = param([0.9, 0.75, 0.5, 0.25], _fractions)
    formats: list[str] = param(list(PAPER_FORMATS), _choices("formats", FORMATS))
    fit_on: str = param(PAPER_SET, _reference("fit_on"))
    calibrate_on: str = param(PAPER_SET, _reference("calibrate_on"))
    fit_sample: int | None = param(2000, lambda v, _: check_fit_sample(v))
    weighting: str = param("texts", _choice("weighting", WEIGHTINGS))


@dataclass
class TradeoffParams(Params):
    """Stage 05: the trade-off, the scorecard and the recommendations from every stage's results."""

    models: list[str] = param(["minilm-l6"], lambda v, _: config.check_models(v))
    n_vectors: list[int] = param([125000, 10000000],
                                 lambda v, _: [check_n_vectors(n) for n in config.as_list("n_vectors", v)])
    budgets: dict[str, str] = param(BUDGETS, lambda v, _: _budgets(v))
    weighting: str = param("texts", _choice("weighting", WEIGHTINGS))
    metric: str = param("ndcg_at_10", _choice("metric", METRICS))
    max_loss: float = param(DEFAULT_MAX_LOSS, lambda v, _: check_max_loss(v))
    profile: str = param("default", lambda v, _: config.check_profile_name(v))

    def budget_bytes(self) -> dict[str, int]:
        """The named budgets in bytes, in the order given."""
        return parse_budgets(self.budgets)


@dataclass
class BeyondParams(StageParams):
    """Stage 06: the paper's formats repaired, asymmetric search, two-stage rescoring."""

    formats: list[str] = param(
        [*PAPER_FORMATS, "int8_clipped", "int8_quantile", "int4", "int4_quantile", "float8_e4m3_scaled",
         "float4_e2m1_scaled", "float8_e4m3_dimscaled", "float4_e2m1_dimscaled", "binary_sign", "binary_median"],
        _choices("formats", FORMATS))
    calibrate_on: list[str] = param(["self"], _references("calibrate_on"))
    paper_calibrate_on: str = param(PAPER_SET, _reference("paper_calibrate_on"))
    asymmetric: list[str] | str = param("all", _formats_among("asymmetric", "formats"))
    rescore_first: list[str] = param(["binary_sign", "binary_median", "binary", "int4", "float4_e2m1_scaled"],
                                     _formats_among("rescore_first", "formats"))
    rescore_tiers: list[str] = param(["float32", "int8_clipped"], _choices("rescore_tiers", FORMATS))
    oversampling: list[int] = param([1, 2, 4, 10], _positive_ints("oversampling"))
    weighting: str = param("texts", _choice("weighting", WEIGHTINGS))
    n_resamples: int = param(N_RESAMPLES, _positive_int("n_resamples"))
    seed: int = param(0, lambda v, _: config.check_seed(v))


@dataclass
class IndexParams(StageParams):
    """Stage 07: the same formats inside usearch and faiss indexes (flat and HNSW)."""

    datasets: list[str] = param(["scifact", "nfcorpus"], lambda v, _: config.check_datasets(v))
    indexes: list[str] | str = param("all", lambda v, _: check_index_names(v))
    threads: int = param(1, _positive_int("threads"))
    repeats: int = param(3, _positive_int("repeats"))
    batch1_queries: int = param(100, _positive_int("batch1_queries"))
    hnsw: HNSWParams | dict[str, int] = param({"connectivity": 16, "expansion_add": 128, "expansion_search": 64},
                                              lambda v, _: check_hnsw(v))
    train_on: str = param("self", _reference("train_on"))


@dataclass
class ScalingParams(Params):
    """Stage 08: what the scaling benchmark measured, shown as measured."""

    formats: list[str] = param(["float32", "float16", "float8_e4m3", "int8", "binary"], _choices("formats", FORMATS))
    indexes: list[str] | None = param(None, _optional(lambda v, _: config.check_choices(
        "indexes", v, index_kinds(searches=["hnsw"]))))
    budget: int | str | None = param(None, _optional(lambda v, _: parse_budget(v, "budget")))


@dataclass
class CodecParams(StageParams):
    """Stage 09: the codecs engineers use today, alone, after reduction and as rescoring's first tier."""

    formats: list[str] = param(
        ["float32", "binary_sign", "int8_clipped", "rabitq1", "rabitq2", "rabitq4", "rabitq1_rr", "opq8", "opq32",
         "pq32x4fs", "turboquant2", "turboquant4", "osq1", "osq4", "osq7", "binary_centred", "binary_rotated"],
        _choices("formats", FORMATS))
    calibrate_on: list[str] = param([PAPER_SET, "self"], _training_sets("calibrate_on"))
    asymmetric: list[str] = param(["binary_sign", "int8_clipped", "opq8", "opq32", "osq1", "osq4", "turboquant2"],
                                  _formats_among("asymmetric", "formats"))
    reducers: list[str] = param(["pca", "truncation"], _choices("reducers", ["pca", "truncation"]))
    fractions: list[float] = param([0.5, 0.25], _fractions)
    reduced_formats: list[str] = param(["rabitq1", "opq8", "osq1", "binary_centred"],
                                       _formats_among("reduced_formats", None))
    fit_on: str = param(PAPER_SET, _reference("fit_on"))
    rescore_first: list[str] = param(["rabitq1", "osq1", "opq8"], _formats_among("rescore_first", None))
    rescore_tiers: list[str] = param(["float32", "int8_clipped"], _choices("rescore_tiers", FORMATS))
    oversampling: list[int] = param([4, 10], _positive_ints("oversampling"))
    weighting: str = param("texts", _choice("weighting", WEIGHTINGS))
    n_resamples: int = param(N_RESAMPLES, _positive_int("n_resamples"))
    seed: int = param(0, lambda v, _: config.check_seed(v))


def _existing(name: str, what: str) -> Check:
    """A path that exists (as text)."""
    def check(value: object, _: dict[str, Any]) -> str:
        if not isinstance(value, str | Path) or not str(value) or not Path(value).expanduser().exists():
            raise ParameterError(name, value, what)
        return str(value)
    return check


def _budget(name: str) -> Check:
    """A size ``parse_budget`` reads (``512MiB``, ``2GB``, bytes), kept as given."""
    def check(value: object, _: dict[str, Any]) -> str | int:
        parse_budget(value, name)
        return value
    return check


def _margins(value: object) -> list[float]:
    """Notebook 10's label-free tolerances: a non-empty list of distinct margins (``check_margin`` each)."""
    allowed = "a non-empty list of distinct margins, each 0 ≤ margin < 1"
    if not isinstance(value, list | tuple) or not value or len(set(map(str, value))) != len(value):
        raise ParameterError("margins", value, allowed)
    try:
        return [check_margin(v) for v in value]
    except ParameterError:
        raise ParameterError("margins", value, allowed) from None


@dataclass
class YourVectorsParams(Params):
    """Stage 10: ``study advise`` on a user's vectors (``path``; None: a demo on one of the profile's collections),
    and whether its label-free measure chooses as nDCG@10 does, on every model × collection of the profile."""

    path: str | None = param(None, _optional(_existing(
        "path", "an existing .npy, .parquet or .h5 file of document vectors or a BEIR folder (None: the demo)")))
    format: str | None = param(None, _optional(_choice("format", ADVISE_FORMATS)))
    queries: str | None = param(None, _optional(_existing("queries", "an existing .npy or .parquet file of queries")))
    qrels: str | None = param(None, _optional(_existing(
        "qrels", "an existing qrels TSV (query id, document id, relevance)")))
    model: str | None = param(None, _optional(lambda v, _: config.check_model(v)))
    matryoshka: bool = param(False, lambda v, _: config.check_choice("matryoshka", v, [True, False]))
    n_vectors: int | None = param(None, _optional(lambda v, _: check_n_vectors(v)))
    ram: str | int = param("512MiB", _budget("ram"))
    disk: str | int | None = param(None, _optional(_budget("disk")))
    models: list[str] = param(["minilm-l6"], lambda v, _: config.check_models(v))
    datasets: list[str] = param(["scifact"], lambda v, _: config.check_datasets(v))
    datasets_per_model: dict[str, list[str]] = param(
        {}, lambda v, checked: config.check_datasets_per_model(v, checked["models"]))
    budgets: dict[str, str] = param(BUDGETS, lambda v, _: _budgets(v))
    budget_n_vectors: int = param(10000000, lambda v, _: check_n_vectors(v, "budget_n_vectors"))
    max_loss: float = param(DEFAULT_MAX_LOSS, lambda v, _: check_max_loss(v))
    margin: float | None = param(None, _optional(lambda v, _: check_margin(v)))
    margins: list[float] = param([DEFAULT_MARGIN, LABEL_FREE_MARGIN], lambda v, _: _margins(v))
    profile: str = param("default", lambda v, _: config.check_profile_name(v))

    def datasets_of(self, model: str) -> list[str]:
        """The collections ``model``'s validation runs on."""
        return self.datasets_per_model.get(model, self.datasets)

    def pairs(self) -> list[tuple[str, str]]:
        """(model, collection) of the validation, model by model."""
        return [(m, d) for m in self.models for d in self.datasets_of(m)]

    def budget_bytes(self) -> dict[str, int]:
        """The named budgets in bytes, in the order given."""
        return parse_budgets(self.budgets)
