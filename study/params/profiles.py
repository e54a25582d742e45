"""A profile's stage parameters, checked: ``study.core.profiles.stage_parameters`` (what the workflow passes each
stage) made into the stage's parameters object (``study.params``), with its defaults and checks."""

from __future__ import annotations

from typing import Any

from study.core.profiles import runs_stage, stage_parameters
from study.params.stages import (
    BeyondParams,
    CodecParams,
    CombinedParams,
    IndexParams,
    Params,
    QuantizationParams,
    ReductionParams,
    TradeoffParams,
    YourVectorsParams,
)

__all__ = ["PARAMS", "runs_stage", "stage_parameters", "stage_params"]

PARAMS: dict[str, type[Params]] = {
    "quantization": QuantizationParams, "reduction": ReductionParams, "combined": CombinedParams,
    "beyond": BeyondParams, "indexes": IndexParams, "codecs": CodecParams, "tradeoff": TradeoffParams,
    "advise": YourVectorsParams,
}


def stage_params(stage: str, profile: dict[str, Any]) -> Params:
    """``stage``'s checked parameters object under ``profile``."""
    return PARAMS[stage](**stage_parameters(stage, profile)).checked()
