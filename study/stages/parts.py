"""The stages whose plans the runner evaluates, and one part of one of them computed on its own: what a workflow
part job (``study part``) runs, so that a stage's configurations spread over cores and cluster nodes (scatter) and
its notebook then finds every part done (gather)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from study.core.errors import ParameterError
from study.data.datasets import collection_name
from study.experiment.runner import MANIFEST, Plan, computed_part, part_dir
from study.params import BeyondParams, CodecParams, CombinedParams, QuantizationParams, ReductionParams, StageParams
from study.stages import beyond, codecs, quantization, reduction


@dataclass(frozen=True)
class PlannedStage:
    """A stage evaluated by the runner: its parameters, its plan, the stem of its results, what it never evaluates."""

    params: type[StageParams]
    plan: Callable[..., Plan]
    stem: str
    trains_on: Callable[[Any], set[str]] = lambda p: set()


STAGES = {
    "quantization": PlannedStage(QuantizationParams, quantization.plan, quantization.STEM),
    "reduction": PlannedStage(ReductionParams, reduction.plan, "03-reduction"),
    "combined": PlannedStage(CombinedParams, reduction.plan, "04-combined"),
    "beyond": PlannedStage(BeyondParams, beyond.plan, beyond.STEM),
    "codecs": PlannedStage(CodecParams, codecs.plan, codecs.STEM, codecs.training_sets),
}


def planned(stage: str) -> PlannedStage:
    if stage not in STAGES:
        raise ParameterError("stage", stage, list(STAGES))
    return STAGES[stage]


def part_names(stage: str, parameters: dict[str, Any]) -> list[tuple[str, str]]:
    """(model, collection name) of every part of ``stage`` under ``parameters`` (no collection is loaded)."""
    spec = planned(stage)
    p = spec.params(**parameters).checked()
    skip = spec.trains_on(p)
    return [(m, collection_name(d)) for m in p.models for d in p.datasets_of(m)
            if d not in skip and collection_name(d) not in skip]


def part_manifest(stage: str, profile: str, model: str, collection: str) -> Path:
    """Where the part's manifest lands: what a part job declares it writes."""
    return part_dir(profile, planned(stage).stem, model, collection) / MANIFEST


def compute_part(stage: str, parameters: dict[str, Any], model: str, collection: str) -> Path:
    """Compute (or find in the result cache) one (model, collection) part of ``stage``; returns its manifest."""
    spec = planned(stage)
    p = spec.params(**parameters).checked()
    if (model, collection) not in part_names(stage, parameters):
        raise ParameterError("part", f"{model}--{collection}",
                             [f"{m}--{c}" for m, c in part_names(stage, parameters)])
    computed_part(spec.plan(p, only=(model, collection)), p.profile, spec.stem)
    return part_manifest(stage, p.profile, model, collection)
