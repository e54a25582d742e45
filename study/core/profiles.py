"""A profile's stage parameters: what the workflow passes each stage (its notebook and its part jobs), built from
the profile's YAML, and the (model, collection) parts a stage is split into. Standard library only: the Snakefile
plans with it without importing the study's numerical code.

One function serves the Snakefile and ``study publish`` (``study.params.profiles``: the same parameters, checked),
so the two cannot disagree. Defaults between sections: a stage section's missing ``calibrate_on`` is the
``quantization:`` section's (stages 03/04), the paper's int8 in stage 06 keeps it too; stages 04 and 09 fit on the
``reduction:`` section's ``fit_on``. A section's own ``models`` (the full profile gives stage 03 a third model)
replaces the profile's.
"""

from __future__ import annotations

from typing import Any

from study.core.errors import ParameterError
from study.core.names import (  # noqa: F401  (re-exported: the profiles' and the workflow's names)
    MTEB_PREFIX,
    NONE,
    PAPER_SET,
    PER_COLLECTION_SETS,
    POOL,
    SELF,
    UNTRAINED,
    collection_name,
    is_named_set,
)

STAGES = ("quantization", "reduction", "combined", "beyond", "indexes", "codecs", "tradeoff", "advise")
PLANNED = ("quantization", "reduction", "combined", "beyond", "indexes", "codecs")
"""The stages the experiment runner evaluates part by part (a stage-07 part times its indexes with every core)."""
TIMED = ("indexes",)
"""Stages whose parts time what they run: a part job of theirs reserves every core, so nothing runs beside it."""
FITTING = ("reduction", "combined", "codecs")
"""Stages whose parts share costly fits made on a named set (reducers; codebooks): they get fit jobs. The others
calibrate only cheaply (ranges, thresholds), which each part does itself."""
FIT_SHARDS = 4
"""Fit jobs per (scattered stage, model): the fits its parts share, dealt round-robin in plan order (a stage's
plan lists a method's fractions, or a codec's widths, side by side, so each shard gets a similar mix)."""
REFERENCE_KEYS = ("calibrate_on", "fit_on", "paper_calibrate_on", "train_on")


def datasets_for(profile: dict[str, Any], model: str) -> list[str]:
    """The collections a profile evaluates ``model`` on."""
    return profile.get("datasets_per_model", {}).get(model, profile["datasets"])


def _evaluated(profile: dict[str, Any], section: dict[str, Any], models: list[str]) -> dict[str, Any]:
    per_model = {m: d for m, d in profile.get("datasets_per_model", {}).items() if m in models}
    return {"models": models, "datasets": profile["datasets"], "datasets_per_model": per_model,
            "profile": profile["profile"], "publish": False, **{k: v for k, v in section.items() if k != "models"}}


def _index_parameters(profile: dict[str, Any]) -> dict[str, Any]:
    section = profile.get("indexes", {})
    wanted = section.get("datasets", [])
    per_model = {m: [d for d in wanted if d in datasets_for(profile, m)] for m in profile["models"]}
    per_model = {m: ds for m, ds in per_model.items() if ds}
    return {**section, "models": list(per_model), "datasets_per_model": per_model, "profile": profile["profile"],
            "publish": False}


def _advise_parameters(profile: dict[str, Any], section: dict[str, Any]) -> dict[str, Any]:
    """Stage 10: the profile's models and collections (the section may name others), and ``select``'s budgets, the
    largest corpus size and the quality floor of the ``tradeoff:`` section unless the section names its own."""
    tradeoff = profile.get("tradeoff", {})
    models = section.get("models", profile["models"])
    defaults = {key: tradeoff[key] for key in ("budgets", "max_loss") if key in tradeoff}
    if tradeoff.get("n_vectors"):
        defaults["budget_n_vectors"] = max(tradeoff["n_vectors"])
    per_model = {m: d for m, d in profile.get("datasets_per_model", {}).items() if m in models}
    return {"models": models, "datasets": profile["datasets"], "datasets_per_model": per_model,
            "profile": profile["profile"], **defaults, **{k: v for k, v in section.items() if k != "models"}}


def stage_parameters(stage: str, profile: dict[str, Any]) -> dict[str, Any]:
    """The notebook parameters of ``stage`` under ``profile`` (a loaded profile YAML), as the workflow passes them."""
    if stage not in STAGES:
        raise ParameterError("stage", stage, STAGES)
    section = dict(profile.get(stage) or {})
    models = section.get("models", profile["models"])
    paper_set = profile.get("quantization", {}).get("calibrate_on", SELF)
    fit_on = profile.get("reduction", {}).get("fit_on", PAPER_SET)
    if stage == "quantization":
        return _evaluated(profile, section, profile["models"])
    if stage in ("reduction", "combined"):
        defaults = {"calibrate_on": paper_set} | ({"fit_on": fit_on} if stage == "combined" else {})
        return _evaluated(profile, defaults | section, models)
    if stage == "beyond":
        return _evaluated(profile, {"paper_calibrate_on": paper_set} | section, profile["models"])
    if stage == "codecs":
        return _evaluated(profile, {"fit_on": fit_on} | section, models)
    if stage == "indexes":
        return _index_parameters(profile)
    if stage == "advise":
        return _advise_parameters(profile, section)
    return {"models": profile["models"], "profile": profile["profile"], **section}


def runs_stage(stage: str, profile: dict[str, Any]) -> bool:
    """Whether the workflow runs ``stage`` under ``profile``: stages 06 and 09 need their section, stage 10 its
    section not set to null (``advise: null`` turns off what config/default.yaml gives every profile), stage 07 a
    collection of ``indexes.datasets`` that the profile evaluates."""
    if stage in ("beyond", "codecs"):
        return stage in profile
    if stage == "advise":
        return profile.get(stage) is not None
    if stage == "indexes":
        return bool(_index_parameters(profile)["models"])
    return stage in STAGES


def reference_sets(parameters: dict[str, Any]) -> list[str]:
    """The collections a stage's parameters train, calibrate or fit on (never ``self`` or ``none``)."""
    names: set[str] = set()
    for key in REFERENCE_KEYS:
        value = parameters.get(key, [])
        names |= {value} if isinstance(value, str) else set(value)
    return sorted(n for n in names if is_named_set(n))


def part_names(stage: str, parameters: dict[str, Any]) -> list[tuple[str, str]]:
    """(model, collection name) of every part of a planned ``stage`` under its ``parameters``: each model's
    collections, less those stage 09 trains on (it never evaluates them)."""
    if stage not in PLANNED:
        raise ParameterError("stage", stage, PLANNED)
    skip = set(reference_sets({k: parameters.get(k, []) for k in ("calibrate_on", "fit_on")})) \
        if stage == "codecs" else set()
    per_model = parameters.get("datasets_per_model") or {}
    return [(m, collection_name(d)) for m in parameters["models"] for d in per_model.get(m, parameters["datasets"])
            if d not in skip and collection_name(d) not in skip]


def pool_collections(stage: str, parameters: dict[str, Any], model: str) -> list[str]:
    """The collections a planned ``stage`` draws ``model``'s pools from (``calibrate_on`` names ``pool``): every
    collection it evaluates for the model; none without a pool."""
    calibrate_on = parameters.get("calibrate_on", [])
    if POOL not in ([calibrate_on] if isinstance(calibrate_on, str) else calibrate_on):
        return []
    return [c for m, c in part_names(stage, parameters) if m == model]
