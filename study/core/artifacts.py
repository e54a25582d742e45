"""The names of what each stage writes: one registry of figure and table stems, read by the workflow.

Where each kind of name lands, for a profile ``P``:

* ``stem`` — the stage notebook ``notebooks/<stem>.ipynb``; an experiment stage's tidy results
  ``results/P/<stem>.csv`` and ``results/P/<stem>-per-query.parquet``
* ``figures`` — ``figures/P/<name>.pdf`` and ``.png``
* ``tables`` — ``paper/generated/P/<name>.tex`` and ``results/P/tables/<name>.csv``
* ``latex`` — ``paper/generated/P/<name>.tex`` only; ``csv`` — ``results/P/tables/<name>.csv`` only
* ``experiment_tables`` — tables the experiment itself writes (measured while it runs), not its publish step

A stage's publish step (``study publish --stages <stage>``) writes its figures, tables, latex and csv; stage 05
(``tradeoff``) writes its own in its notebook. ``published`` gives what a profile's stage section makes of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Stage:
    """The file stems one stage writes (see the module docstring for where each kind lands)."""

    stem: str
    figures: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    latex: tuple[str, ...] = ()
    csv: tuple[str, ...] = ()
    experiment_tables: tuple[str, ...] = ()


FIG_BEYOND_RESCORING = "fig-beyond-rescoring"
COMBINED_VS_PAPER = "table1-combined-vs-paper"
FIG_TRADEOFF = "fig7-tradeoff"  # also the README's figure
TRADEOFF_SCORECARD = "table-tradeoff-scorecard"
TRADEOFF_CONFIGURATIONS = "tradeoff-configurations"  # every configuration, read by the explorer page

STAGES: dict[str, Stage] = {
    "embed": Stage("01-embed"),
    "quantization": Stage(
        "02-quantization", figures=("fig3-quantization",), tables=("table-quantization", "table-quantization-vs-paper")
    ),
    "reduction": Stage(
        "03-reduction",
        figures=("fig4-reduction",),
        tables=("table-reduction",),
        experiment_tables=("table-reduction-timings",),
    ),
    "combined": Stage("04-combined", figures=("fig6-combined",)),  # tables: combined_tables(reducers)
    "tradeoff": Stage(
        "05-tradeoff",
        figures=(FIG_TRADEOFF, "fig8-tradeoff-storage"),
        tables=("table-tradeoff-frontier", "table-tradeoff-selection", TRADEOFF_SCORECARD),
        latex=("macros", "scorecard-rules", "scorecard-collections", "other-results"),
        csv=(TRADEOFF_CONFIGURATIONS, "tradeoff-scorecard-checks", "tradeoff-scorecard-collections"),
    ),
    "beyond": Stage("06-beyond", figures=("fig-beyond-formats", FIG_BEYOND_RESCORING), tables=("table-beyond",)),
    "indexes": Stage("07-indexes", figures=("fig-indexes",), tables=("table-indexes",)),
    "scaling": Stage("08-scaling", figures=("scaling", "scaling-pool")),  # under figures/bench, not per profile
    "codecs": Stage(
        "09-codecs",
        figures=("fig-codecs",),
        tables=("table-codecs", "table-codecs-equal-bytes"),
        latex=("codecs-section",),
        csv=("codecs-peers",),
    ),
}

PUBLISHED_STAGES = ("quantization", "reduction", "combined", "beyond", "indexes", "codecs")


def combined_tables(reducers: Iterable[str]) -> tuple[str, ...]:
    """Stage 04's tables: one per reducer, and the comparison with the paper's Table 1 when PCA ran."""
    reducers = list(reducers)
    return (*(f"table1-combined-{r}" for r in reducers), *((COMBINED_VS_PAPER,) if "pca" in reducers else ()))


def published(stage: str, section: Mapping[str, Any] | None = None) -> Stage:
    """What a stage writes under a profile's section for it (stage 04 names its reducers' tables; stage 06 draws
    its rescoring figure only when it rescored)."""
    section = section or {}
    names = STAGES[stage]
    if stage == "combined":
        return replace(names, tables=combined_tables(section.get("reducers", ("pca", "truncation"))))
    if stage == "beyond" and not section.get("rescore_first"):
        return replace(names, figures=tuple(f for f in names.figures if f != FIG_BEYOND_RESCORING))
    return names
