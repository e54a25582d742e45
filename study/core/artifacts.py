"""The names of what each stage writes: one registry of figure and table stems, read by the workflow.

Where each kind of name lands, for a profile ``P``:

* ``stem`` — the stage notebook ``notebooks/<stem>.ipynb``; an experiment stage's tidy results
  ``results/P/<stem>.csv`` and ``results/P/<stem>-per-query.parquet``
* ``figures`` — ``figures/P/<name>.pdf`` and ``.png``
* ``tables`` — ``paper/generated/P/<name>.tex`` and ``results/P/tables/<name>.csv``
* ``latex`` — ``paper/generated/P/<name>.tex`` only; ``csv`` — ``results/P/tables/<name>.csv`` only
* ``experiment_tables`` — tables the experiment itself writes (measured while it runs), not its publish step

Besides: ``BEYOND_SUMMARY`` (``results/P/<name>.csv``, stage 06's publish step) and stage 04's per-reducer tables
(``combined_table``, ``combined_tables``).

A stage's publish step (``study publish --stages <stage>``) writes its figures, tables, latex and csv; stages 05
(``tradeoff``) and 10 (``advise``) write their own in their notebooks. ``published`` gives what a profile's stage
section makes of them.
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


# Every name has one handle here; modules, notebooks and the workflow use the handle, never the string
# (tests/test_artifacts.py checks that no other source types a registered name).

# 02-quantization
FIG_QUANTIZATION = "fig3-quantization"  # paper Fig. 3
TABLE_QUANTIZATION = "table-quantization"
QUANTIZATION_VS_PAPER = "table-quantization-vs-paper"
# 03-reduction
FIG_REDUCTION = "fig4-reduction"  # paper Fig. 4 and 5
TABLE_REDUCTION = "table-reduction"
REDUCTION_TIMINGS = "table-reduction-timings"  # measured while the experiment runs
# 04-combined
FIG_COMBINED = "fig6-combined"  # paper Fig. 6
COMBINED_TABLE = "table1-combined-{reducer}"  # our Table 1, one per reducer: combined_table(reducer)
COMBINED_VS_PAPER = "table1-combined-vs-paper"
# 05-tradeoff
FIG_TRADEOFF = "fig7-tradeoff"  # also the README's figure
FIG_TRADEOFF_STORAGE = "fig8-tradeoff-storage"
TRADEOFF_FRONTIER = "table-tradeoff-frontier"
TRADEOFF_SELECTION = "table-tradeoff-selection"
TRADEOFF_SCORECARD = "table-tradeoff-scorecard"
MACROS = "macros"  # the paper's numeric macros
SCORECARD_RULES = "scorecard-rules"
COLLECTION_SETS = "collection-sets"  # every named collection set of the profile: name -> members (method section)
STAGE_SETS = "collection-sets-{stem}"  # the sets one stage's captions name: stage_sets(stem)
SCORECARD_COLLECTIONS = "scorecard-collections"
TRADEOFF_VERDICTS = "table-verdicts"  # the scorecard in one line per claim (the paper's results section)
TRADEOFF_CONFIGURATIONS = "tradeoff-configurations"  # every configuration, read by the explorer page
TRADEOFF_SCORECARD_CHECKS = "tradeoff-scorecard-checks"
TRADEOFF_SCORECARD_COLLECTIONS = "tradeoff-scorecard-collections"
# 06-beyond
FIG_BEYOND_FORMATS = "fig-beyond-formats"
FIG_BEYOND_RESCORING = "fig-beyond-rescoring"
TABLE_BEYOND = "table-beyond"
BEYOND_SUMMARY = "06-beyond-summary"  # results/P/<name>.csv: the stage's aggregate, both weightings, with CIs
# 07-indexes
FIG_INDEXES = "fig-indexes"
TABLE_INDEXES = "table-indexes"
# 08-scaling (figures/bench/<name>.pdf and .png)
FIG_SCALING = "scaling"
FIG_SCALING_POOL = "scaling-pool"
# 09-codecs
FIG_CODECS = "fig-codecs"
TABLE_CODECS = "table-codecs"
CODECS_EQUAL_BYTES = "table-codecs-equal-bytes"
CODECS_PEERS = "codecs-peers"  # the peers' claims, their wording and our paired tests of them
CODECS_PEERS_TABLE = "table-codecs-peers"  # the same tests for the paper: labels and numbers
CODECS_TRAINING = "table-codecs-training"  # where a codec is trained: self, pool, the fit set, paired
CODECS_BEST = "table-codecs-best"  # per model and ratio: the best codec, its CI, training set and ties
CODECS_DROPPED = "codecs-not-on-every-collection"  # configurations the summary leaves out, and what they lack
# 10-your-vectors (study advise; whether its label-free measure chooses as nDCG@10 does)
FIG_PROXY = "fig-proxy"  # recall@10 change against nDCG@10 change, per configuration, one panel per model
TABLE_PROXY = "table-proxy"  # per model: rank correlations and select's agreement under the two measures
PROXY_COLLECTIONS = "proxy-collections"  # each (model, collection): advised (its sizes) or why not
PROXY_CHANGES = "proxy-changes"  # each (model, collection, configuration): its change under every measure
PROXY_MEANS = "proxy-means"  # each (model, configuration): its change over the model's shared collection set
PROXY_CORRELATIONS = "proxy-correlations"  # each (model, collection): Spearman's rho of the changes
PROXY_SELECTIONS = "proxy-selections"  # each (model, collection, budget): select's pick under each measure

STAGES: dict[str, Stage] = {
    "embed": Stage("01-embed"),
    "quantization": Stage(
        "02-quantization", figures=(FIG_QUANTIZATION,), tables=(TABLE_QUANTIZATION, QUANTIZATION_VS_PAPER)
    ),
    "reduction": Stage(
        "03-reduction",
        figures=(FIG_REDUCTION,),
        tables=(TABLE_REDUCTION,),
        experiment_tables=(REDUCTION_TIMINGS,),
    ),
    "combined": Stage("04-combined", figures=(FIG_COMBINED,)),  # tables: combined_tables(reducers)
    "tradeoff": Stage(
        "05-tradeoff",
        figures=(FIG_TRADEOFF, FIG_TRADEOFF_STORAGE),
        tables=(TRADEOFF_FRONTIER, TRADEOFF_SELECTION, TRADEOFF_SCORECARD),
        latex=(MACROS, SCORECARD_RULES, SCORECARD_COLLECTIONS, TRADEOFF_VERDICTS, COLLECTION_SETS),
        csv=(TRADEOFF_CONFIGURATIONS, TRADEOFF_SCORECARD_CHECKS, TRADEOFF_SCORECARD_COLLECTIONS, COLLECTION_SETS),
    ),
    "beyond": Stage("06-beyond", figures=(FIG_BEYOND_FORMATS, FIG_BEYOND_RESCORING), tables=(TABLE_BEYOND,)),
    "indexes": Stage("07-indexes", figures=(FIG_INDEXES,), tables=(TABLE_INDEXES,)),
    "scaling": Stage("08-scaling", figures=(FIG_SCALING, FIG_SCALING_POOL)),  # under figures/bench, not per profile
    "codecs": Stage(
        "09-codecs",
        figures=(FIG_CODECS,),
        tables=(TABLE_CODECS, CODECS_EQUAL_BYTES, CODECS_TRAINING, CODECS_BEST, CODECS_PEERS_TABLE),
        csv=(CODECS_PEERS, CODECS_DROPPED),
    ),
    "advise": Stage(
        "10-your-vectors",
        figures=(FIG_PROXY,),
        tables=(TABLE_PROXY,),
        csv=(PROXY_COLLECTIONS, PROXY_CHANGES, PROXY_MEANS, PROXY_CORRELATIONS, PROXY_SELECTIONS),
    ),
}

PUBLISHED_STAGES = ("quantization", "reduction", "combined", "beyond", "indexes", "codecs")


def combined_tables(reducers: Iterable[str]) -> tuple[str, ...]:
    """Stage 04's tables: one per reducer, and the comparison with the paper's Table 1 when PCA ran."""
    reducers = list(reducers)
    return (*(combined_table(r) for r in reducers), *((COMBINED_VS_PAPER,) if "pca" in reducers else ()))


def combined_table(reducer: str) -> str:
    """Stage 04's Table 1 of one reducer."""
    return COMBINED_TABLE.format(reducer=reducer)


def stage_sets(stem: str) -> str:
    """The CSV of the collection sets a stage's captions name (``comparison.sets_table``)."""
    return STAGE_SETS.format(stem=stem)


SETS_STAGES = ("quantization", "reduction", "combined", "beyond", "codecs", "advise")  # captions name collection sets


def published(stage: str, section: Mapping[str, Any] | None = None) -> Stage:
    """What a stage writes under a profile's section for it (stage 04 names its reducers' tables; stage 06 draws
    its rescoring figure only when it rescored; a stage whose captions name collection sets lists them)."""
    section = section or {}
    names = STAGES[stage]
    if stage in SETS_STAGES:
        names = replace(names, csv=(*names.csv, stage_sets(names.stem)))
    if stage == "combined":
        return replace(names, tables=combined_tables(section.get("reducers", ("pca", "truncation"))))
    if stage == "beyond" and not section.get("rescore_first"):
        return replace(names, figures=tuple(f for f in names.figures if f != FIG_BEYOND_RESCORING))
    return names
