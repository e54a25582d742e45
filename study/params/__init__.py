"""Each stage's parameters: one dataclass per stage, its defaults and its validation in one place.

A notebook's parameters cell is the reader's copy of these defaults (``tests/test_params.py`` holds the two
equal); its validation is one line, ``p = QuantizationParams.of(globals()).checked()``, which raises the same
one-line ``ParameterError`` as before, naming the parameter and its allowed values.
"""

from study.params.stages import (
    BeyondParams,
    CodecParams,
    CombinedParams,
    IndexParams,
    QuantizationParams,
    ReductionParams,
    ScalingParams,
    StageParams,
    TradeoffParams,
    YourVectorsParams,
    check_format_list,
)

__all__ = [
    "BeyondParams",
    "CodecParams",
    "CombinedParams",
    "IndexParams",
    "QuantizationParams",
    "ReductionParams",
    "ScalingParams",
    "StageParams",
    "TradeoffParams",
    "YourVectorsParams",
    "check_format_list",
]
