"""Stage 02's plan: every format on every collection, queries and documents quantized alike."""

from __future__ import annotations

from study.compress.formats import get_format
from study.core import artifacts
from study.experiment.configs import NONE, Config
from study.experiment.runner import Plan, RunOptions, plan_of, targets
from study.params import QuantizationParams

STAGE, STEM = "02", artifacts.STAGES["quantization"].stem


def plan(p: QuantizationParams, only: tuple[str, str] | None = None) -> Plan:
    """Every format on every collection, queries and documents quantized alike; a calibrated format (int8) on
    ``p.calibrate_on``."""
    chosen = targets(p, only)
    configs = [Config(t.model, t.name, t.split, format=fmt,
                      calibrate_on=p.calibrate_on if get_format(fmt).needs_calibration else NONE)
               for t in chosen for fmt in p.formats]
    return plan_of(configs, RunOptions(STAGE), chosen)
