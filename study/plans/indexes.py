"""Stage 07's plan: every index kind on every collection of ``indexes.datasets``, the kinds that train trained on
``train_on`` (``self``: the corpus, as a deployment trains them)."""

from __future__ import annotations

from study.core import artifacts
from study.experiment.indexes import IndexOptions, index_configs
from study.experiment.runner import Plan, RunOptions, plan_of, targets
from study.params import IndexParams

STAGE, STEM = "07", artifacts.STAGES["indexes"].stem


def plan(p: IndexParams, only: tuple[str, str] | None = None) -> Plan:
    """Each index kind of ``p.indexes`` on each (model, collection), in that order; one thread count, repeat
    count and HNSW graph for all (``RunOptions.indexes``)."""
    chosen = targets(p, only)
    configs = [c for t in chosen for c in index_configs(t.model, t.name, t.split, p.indexes, p.train_on)]
    options = IndexOptions(threads=p.threads, repeats=p.repeats, batch1_queries=p.batch1_queries, hnsw=p.hnsw)
    return plan_of(configs, RunOptions(STAGE, indexes=options), chosen)
