"""The configurations ``study advise`` evaluates, for vectors of any width: a plan of the study's ``Config`` rows.

The same method as the study's stages 02, 04, 06 and 09, on the user's vectors:

* number formats alone (``FORMATS``), queries stored alike, and with float32 queries where that is how the format
  is searched (``ASYMMETRIC``);
* the codecs of stage 09 (``CODECS``), trained on the training sample (``self``: the user's own vectors, as a
  deployment trains), with float32 queries where asymmetric;
* PQ families at target compression ratios (``PQ_TARGETS``): their sub-quantizer count ``m`` must divide the width,
  so the divisor nearest the target (within a factor ``MAX_M_FACTOR``) is chosen and recorded (``PQChoice``), or
  the codec is not applicable, with the reason; searched as faiss searches them, float32 queries against the codes;
* PCA (and truncation, only for a Matryoshka-trained model) at ``FRACTIONS``, fit on the training sample, then each
  of ``REDUCED_FORMATS`` trained on the reduced sample;
* two-tier rescoring: each of ``RESCORE_FIRST`` (and OPQ at sign binary's bytes) re-ranked by each of
  ``RESCORE_TIERS`` × ``OVERSAMPLING`` (``runner.two_tier``).

What cannot run is listed with its reason (``Grid.not_applicable``): a training sample smaller than a codec needs
(``codecs.min_training_rows``), a reducer with fewer training rows than components, a fraction that keeps no
dimension or all of them, a width no PQ ``m`` fits.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import pandas as pd

from study.compress.codecs import fast_scan_format, min_training_rows, opq_format, pq_format
from study.compress.formats import FORMATS as REGISTERED
from study.compress.formats import get_format, register_format
from study.compress.reducers import n_components
from study.core.errors import ParameterError
from study.core.names import SELF
from study.experiment.configs import NONE, Config, is_pq, training_set_of
from study.experiment.runner import two_tier

FORMATS = ["float32", "float16", "bfloat16", "float8_e4m3", "float8_e4m3_dimscaled", "int8_clipped", "int4",
           "float4_e2m1_scaled", "binary_sign", "binary_median"]
CODECS = ["rabitq1", "rabitq2", "rabitq4", "rabitq1_rr", "turboquant2", "turboquant4", "osq1", "osq4", "osq7",
          "binary_centred", "binary_rotated"]
ASYMMETRIC = ["int8_clipped", "int4", "binary_sign", "osq1", "osq4", "turboquant2"]
PQ_TARGETS = (("opq", 16), ("opq", 32), ("opq", 64), ("pq", 32), ("fast-scan", 32))
"""(PQ family, target compression ratio against float32): OPQ + PQ and plain PQ store ``m`` bytes, fast-scan
``m / 2``."""
MAX_M_FACTOR = 2.0
FRACTIONS = (0.5, 0.25)
REDUCED_FORMATS = ["float32", "float8_e4m3", "int8_clipped", "binary_sign", "rabitq1", "osq1", "binary_centred"]
RESCORE_FIRST = ["binary_sign", "rabitq1", "osq1"]
RESCORE_PQ_RATIO = 32
RESCORE_TIERS = ["float32", "int8_clipped"]
OVERSAMPLING = [4, 10]
NA_COLUMNS = ["format", "reducer", "fraction", "reason"]


@dataclass(frozen=True)
class PQChoice:
    """The sub-quantizer count a PQ family uses at one target ratio for width ``dims`` (``m`` None: none fits)."""

    family: str
    ratio: int
    dims: int
    target: float
    m: int | None
    format: str | None

    @property
    def reason(self) -> str | None:
        if self.m is not None:
            return None
        return (f"no divisor of the width {self.dims} within {MAX_M_FACTOR:g}x of the target m = {self.target:g} "
                f"({self.family} at {self.ratio}x needs m to divide the width)")


def divisors(n: int) -> list[int]:
    """Every divisor of ``n``, ascending."""
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return sorted({*small, *(n // d for d in small)})


def nearest_divisor(dims: int, target: float, even: bool = False) -> int | None:
    """The divisor of ``dims`` (even ones only with ``even``) nearest ``target`` on a log scale (a tie: the larger),
    or None when none is within ``MAX_M_FACTOR`` of it."""
    found = [m for m in divisors(dims) if not even or m % 2 == 0]
    if not found or target <= 0:
        return None
    best = min(found, key=lambda m: (abs(math.log(m / target)), -m))
    return best if abs(math.log(best / target)) <= math.log(MAX_M_FACTOR) else None


def pq_choice(family: str, ratio: int, dims: int) -> PQChoice:
    """The ``m`` of a PQ family at a target compression ``ratio`` (float32's 4·dims bytes / ratio), its format
    registered under the study's name (``opq{m}``, ``pq{m}x8``, ``pq{m}x4fs``) when the registry lacks it."""
    if family == "fast-scan":
        target = 8 * dims / ratio  # 4-bit codes: m / 2 bytes
        m = nearest_divisor(dims, target, even=True)
        name, make = (f"pq{m}x4fs", lambda: fast_scan_format(m // 2)) if m else (None, None)
    elif family in ("opq", "pq"):
        target = 4 * dims / ratio
        m = nearest_divisor(dims, target)
        name = (f"opq{m}" if family == "opq" else f"pq{m}x8") if m else None
        make = (lambda: opq_format(m)) if family == "opq" else (lambda: pq_format(m))
    else:
        raise ParameterError("PQ family", family, ["opq", "pq", "fast-scan"])
    if name is not None and name not in REGISTERED:
        register_format(make())
    return PQChoice(family, ratio, dims, target, m, name)


@dataclass
class Grid:
    """The plan (configurations in evaluation order), what does not apply (and why), the PQ choices."""

    configs: list[Config]
    not_applicable: pd.DataFrame
    pq_choices: list[PQChoice] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(c) for c in self.configs])

    def choices_table(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(c) | {"reason": c.reason} for c in self.pq_choices])


def _trainable(fmt: str, dims: int, rows: int) -> str | None:
    """Why ``fmt`` cannot train on ``rows`` vectors of width ``dims`` (None: it can)."""
    needed = min_training_rows(get_format(fmt), dims) if get_format(fmt).needs_calibration else 0
    if rows < needed:
        return f"the training sample has {rows} vectors; {fmt} needs at least {needed} to train"
    return None


def _formatted(base: Config, fmt: str, asymmetric: bool) -> list[Config]:
    """``base`` in ``fmt`` (trained on the training sample where it learns), with float32 queries too where
    ``asymmetric``; PQ families with float32 queries only (ADC, as faiss searches them)."""
    cfg = Config(**(asdict(base) | {"format": fmt, "calibrate_on": training_set_of(fmt, SELF)}))
    if is_pq(fmt):
        return [Config(**(asdict(cfg) | {"query_format": "float32"}))]
    return [cfg, Config(**(asdict(cfg) | {"query_format": "float32"}))] if asymmetric else [cfg]


def _reduced(base: Config, dims: int, rows: int, methods: list[str], skipped: list[dict]) -> list[Config]:
    configs = []
    for method in methods:
        for fraction in FRACTIONS:
            try:
                width = n_components(dims, fraction)
            except ParameterError:
                skipped.append({"format": "*", "reducer": method, "fraction": fraction,
                                "reason": f"{fraction:g} of {dims} dimensions keeps none or all of them"})
                continue
            if method != "truncation" and rows <= width:
                skipped.append({"format": "*", "reducer": method, "fraction": fraction,
                                "reason": f"the training sample has {rows} vectors; {method} to {width} dimensions "
                                          f"needs more than {width}"})
                continue
            reduced = Config(**(asdict(base) | {"reducer": method, "fraction": float(fraction),
                                                "fit_on": NONE if method == "truncation" else SELF}))
            for fmt in REDUCED_FORMATS:
                reason = _trainable(fmt, width, rows)
                if reason:
                    skipped.append({"format": fmt, "reducer": method, "fraction": fraction, "reason": reason})
                else:
                    configs += _formatted(reduced, fmt, False)
    return configs


def grid(model: str, dataset: str, split: str, dims: int, training_rows: int, matryoshka: bool = False) -> Grid:
    """Every configuration for vectors of width ``dims`` with ``training_rows`` training vectors (module
    docstring), in evaluation order: formats and codecs alone, reduced, then two-tier."""
    base = Config(model, dataset, split)
    skipped: list[dict] = []
    choices = [pq_choice(family, ratio, dims) for family, ratio in PQ_TARGETS]
    for c in choices:
        if c.m is None:
            skipped.append({"format": f"{c.family} at {c.ratio}x", "reducer": NONE, "fraction": 1.0,
                            "reason": c.reason})
    pq = list(dict.fromkeys(c.format for c in choices if c.format is not None))
    configs: list[Config] = []
    for fmt in [*FORMATS, *CODECS, *pq]:
        reason = _trainable(fmt, dims, training_rows)
        if reason:
            skipped.append({"format": fmt, "reducer": NONE, "fraction": 1.0, "reason": reason})
        else:
            configs += _formatted(base, fmt, fmt in ASYMMETRIC)
    configs += _reduced(base, dims, training_rows, ["pca", *(["truncation"] if matryoshka else [])], skipped)
    rescore_pq = next((c.format for c in choices if (c.family, c.ratio) == ("opq", RESCORE_PQ_RATIO) and c.format),
                      None)
    for fmt in [*RESCORE_FIRST, *([rescore_pq] if rescore_pq else [])]:
        if _trainable(fmt, dims, training_rows) or any(_trainable(t, dims, training_rows) for t in RESCORE_TIERS):
            continue  # listed above
        first = Config(**(asdict(base) | {"format": fmt, "calibrate_on": SELF,
                                          "query_format": "float32" if is_pq(fmt) else "same"}))
        configs += two_tier(first, RESCORE_TIERS, OVERSAMPLING)
    return Grid(configs, pd.DataFrame(skipped, columns=NA_COLUMNS), choices)
