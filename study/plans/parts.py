"""The stages whose plans the runner evaluates, and one part of one of them computed on its own: what a workflow
part job (``study part``) runs, so that a stage's configurations spread over cores and cluster nodes (scatter) and
its notebook then finds every part done (gather). Before a model's parts, its fit jobs (``fit_shard``) make the
fits all its parts share (``runner.shared_fits``), one shard each, into the fit cache."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from study import params
from study.core import artifacts
from study.core.errors import ParameterError, StudyError
from study.core.io import write_json_atomic
from study.core.profiles import FIT_SHARDS, part_names
from study.experiment.runner import MANIFEST, Plan, computed_part, fit_shared, part_dir
from study.plans import beyond, codecs, indexes, quantization, reduction

__all__ = ["STAGES", "compute_part", "fit_marker", "fit_shard", "part_manifest", "part_names", "planned"]


@dataclass(frozen=True)
class PlannedStage:
    """A stage evaluated by the runner: its parameters, its plan, the stem of its results."""

    params: type[params.StageParams]
    plan: Callable[..., Plan]
    stem: str


STAGES = {
    "quantization": PlannedStage(params.QuantizationParams, quantization.plan, artifacts.STAGES["quantization"].stem),
    "reduction": PlannedStage(params.ReductionParams, reduction.plan, artifacts.STAGES["reduction"].stem),
    "combined": PlannedStage(params.CombinedParams, reduction.plan, artifacts.STAGES["combined"].stem),
    "beyond": PlannedStage(params.BeyondParams, beyond.plan, artifacts.STAGES["beyond"].stem),
    "indexes": PlannedStage(params.IndexParams, indexes.plan, artifacts.STAGES["indexes"].stem),
    "codecs": PlannedStage(params.CodecParams, codecs.plan, artifacts.STAGES["codecs"].stem),
}


def planned(stage: str) -> PlannedStage:
    if stage not in STAGES:
        raise ParameterError("stage", stage, list(STAGES))
    return STAGES[stage]


def part_manifest(stage: str, profile: str, model: str, collection: str) -> Path:
    """Where the part's manifest lands: what a part job declares it writes."""
    return part_dir(profile, planned(stage).stem, model, collection) / MANIFEST


def fit_marker(stage: str, profile: str, model: str, shard: int, shards: int = FIT_SHARDS) -> Path:
    """What a fit job declares it writes: the list of the fits its shard made."""
    return part_dir(profile, planned(stage).stem, model, f"fits-{shard}-of-{shards}").with_suffix(".json")


def _checked(stage: str, parameters: dict[str, Any]) -> tuple[PlannedStage, params.StageParams]:
    spec = planned(stage)
    if not isinstance(parameters, dict):
        raise ParameterError("parameters", parameters, "a mapping of the stage notebook's parameters")
    return spec, spec.params(**parameters).checked()


def fit_shard(stage: str, parameters: dict[str, Any], model: str, shard: int, shards: int = FIT_SHARDS) -> Path:
    """Make shard ``shard`` of the fits that ``model``'s parts of ``stage`` share (``runner.fit_shared``), then
    write its marker (atomically) listing them; returns the marker."""
    spec, p = _checked(stage, parameters)
    if model not in p.models:
        raise ParameterError("model", model, p.models)
    plan = spec.plan(p)
    made = fit_shared(Plan([c for c in plan.configs if c.model == model], plan.options, plan.sources), shard, shards)
    return write_json_atomic(fit_marker(stage, p.profile, model, shard, shards),
                             {"stage": stage, "model": model, "shard": shard, "shards": shards,
                              "fits": [c.id for c in made]})


def compute_part(stage: str, parameters: dict[str, Any], model: str, collection: str) -> Path:
    """Compute (or find in the result cache) one (model, collection) part of ``stage``; returns its manifest."""
    spec, p = _checked(stage, parameters)
    parts = part_names(stage, vars(p))
    if (model, collection) not in parts:
        raise ParameterError("part", f"{model}--{collection}", [f"{m}--{c}" for m, c in parts])
    computed_part(spec.plan(p, only=(model, collection)), p.profile, spec.stem)
    return part_manifest(stage, p.profile, model, collection)


def _shard(text: str) -> int:
    if not text.isdigit() or int(text) >= FIT_SHARDS:
        raise ParameterError("shard", text, f"0..{FIT_SHARDS - 1}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    """``python -m study.plans.parts STAGE PARAMETERS_JSON MODEL COLLECTION``: a workflow part job, and
    ``python -m study.plans.parts --fits STAGE PARAMETERS_JSON MODEL SHARD``: a fit job (both import only what they
    run, unlike ``study part``, whose CLI imports every subcommand)."""
    args = sys.argv[1:] if argv is None else argv
    try:
        if args[:1] == ["--fits"] and len(args) == 5:
            print(fit_shard(args[1], json.loads(args[2]), args[3], _shard(args[4])))
            return 0
        if len(args) != 4:
            raise ParameterError("arguments", args, "STAGE PARAMETERS_JSON MODEL COLLECTION, or --fits STAGE "
                                 "PARAMETERS_JSON MODEL SHARD")
        print(compute_part(args[0], json.loads(args[1]), args[2], args[3]))
    except (StudyError, json.JSONDecodeError) as exc:
        print(f"study part: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
