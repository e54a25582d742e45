"""The study's one experiment runner: a *plan* (a list of ``Config``s, shown as a table) evaluated by ``run``.

Every stage states its grid as a plan (``study.stages.<stage>.plan``) and calls ``run(plan)``. The runner splits
the plan into *parts*, one per (model, collection), the unit a Snakemake job computes (scatter). A part loads its
vectors once, fits each reducer it needs once (``fit_reducer``: the fit cache shares a fit between parts and
processes), reduces the queries, documents and training sets, then evaluates each configuration:

* one tier (``rescore == "none"``): ``evaluate_format``, trained/calibrated on ``calibrate_on`` (``self``: the
  evaluated corpus; a collection: its corpus and dev queries), reduced like the documents;
* two tiers: the configurations sharing a first stage are one ``rescore_sweep`` (the first stage searched once);
* a real index (stage 07, ``RunOptions.indexes`` set): ``evaluate_indexes`` builds the kind ``Config.format`` names,
  trained on ``calibrate_on``, and times it; its rows are one per index, not one per metric.

A reducer's stored bytes join each row's ``overhead_bytes``; ``RunOptions.fit_rows`` adds its ``fit_rows`` column.

**Result cache.** With ``profile`` and ``stem``, each part is stored under
``<output>/build/parts/<profile>/<stem>/<model>/<collection>/`` (tidy rows, per-query scores, reducer fits, and
``manifest.json`` written last, every file atomically), keyed by the sha256 of the part's configuration ids, the
run options, the embeddings' identity (model, collection checksums) and the source of every study module this
runner imports (``study.core.codegraph``). A part whose key, or any file's checksum, does not match is computed
again; so a notebook run alone computes what is missing, and a workflow's part jobs (``study part``) leave it
only the gathering. ``run`` returns the rows in plan order, whichever order the parts were computed in.

**Shared fits.** What every part of a model fits on a named set (a reducer on the fit set, a codebook on the
training set: ``shared_fits``) can be made ahead by ``fit_shared``, one shard per workflow job, into the fit cache;
the parts then load it. Without that, the parts make them themselves, one part at a time under the fit cache's lock.

**Threads.** A part runs with BLAS and faiss on one thread: another thread count rounds dot products differently
and can swap near-tied documents, moving an nDCG@10 in its fifth decimal. One thread is what the committed results
used (Snakemake gives a job one thread), so a part computed anywhere gives the same rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from study.compress.codecs import fixed_threads
from study.compress.formats import calibrate, get_format
from study.compress.reducers import DEFAULT_FIT_SAMPLE, SEED, Reducer, fit_reducer, timed_transform
from study.core.codegraph import closure
from study.core.errors import StudyError
from study.core.io import atomic_write, sha256_file, write_json_atomic
from study.core.names import SELF
from study.core.paths import REPO_ROOT, output_root
from study.core.progress import progress_bar
from study.data.datasets import collection_name
from study.encoders.registry import get_spec
from study.experiment.configs import (
    NONE,
    POOL,
    UNTRAINED,
    Config,
    EvalData,
    References,
    cached_collection,
    is_named_set,
    load_eval_data,
    pool_members,
)
from study.experiment.evaluate import evaluate_format
from study.experiment.indexes import IndexOptions, evaluate_indexes
from study.experiment.rescore import RESCORE_K, RescoreSpec, parse_rescore, rescore_sweep

PART_VERSION = 1
"""Bump when stored parts change meaning in a way the key does not see."""
TABLES = ("tidy", "per_query", "fits")
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class RunOptions:
    """What a plan's configurations do not say: the stage label of its rows, the reducers' fit subsample and seed,
    the two-tier cut-off, whether rows carry the reducer's ``fit_rows`` (stages 03/04), and, for real indexes
    (stage 07), what every index shares."""

    stage: str
    fit_sample: int | None = DEFAULT_FIT_SAMPLE
    seed: int = SEED
    rescore_k: int = RESCORE_K
    fit_rows: bool = False
    indexes: IndexOptions | None = None
    pools: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Per model, the collections (sources) its ``pool`` training sets are drawn from (``pool_members``)."""

    def pool_of(self, model: str, source: str) -> list[str]:
        """The members of the pool a codec for ``model`` on collection ``source`` trains on (none without pools)."""
        collections = dict(self.pools).get(model, ())
        return pool_members(source, collections) if collections else []


@dataclass
class Plan:
    """A stage's configurations in the order its results are written, the options they run with, and the dataset
    argument (name, path or ``mteb:<Task>``) behind each collection name."""

    configs: list[Config]
    options: RunOptions
    sources: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ids = [c.id for c in self.configs]
        if len(set(ids)) != len(ids):
            raise StudyError(f"plan of stage {self.options.stage}: a configuration is listed twice")

    def table(self) -> pd.DataFrame:
        """One row per configuration: what the notebook shows before it runs."""
        return pd.DataFrame([asdict(c) for c in self.configs])

    def parts(self) -> dict[tuple[str, str], list[Config]]:
        """{(model, collection): its configurations, in plan order}, parts in order of first appearance."""
        out: dict[tuple[str, str], list[Config]] = {}
        for cfg in self.configs:
            out.setdefault((cfg.model, cfg.dataset), []).append(cfg)
        return out

    def part(self, model: str, collection: str) -> Plan:
        """The sub-plan of one (model, collection)."""
        return Plan(self.parts().get((model, collection), []), self.options, self.sources)


@dataclass
class PartResult:
    """What a part computed: tidy rows, per-query scores, one row per reducer fit it used."""

    tidy: pd.DataFrame
    per_query: pd.DataFrame
    fits: pd.DataFrame


class EvaluatesCollections(Protocol):
    """What a plan needs of a stage's parameters (``study.params.StageParams``)."""

    models: list[str]

    def datasets_of(self, model: str) -> list[str]: ...


@dataclass(frozen=True)
class Target:
    """One evaluated (model, collection): the collection's name, the argument that loads it, its split."""

    model: str
    name: str
    source: str
    split: str

    @property
    def dataset(self) -> str:
        """The collection's name, as ``Config.dataset`` and ``EvalData.dataset`` give it."""
        return self.name

    @property
    def dims(self) -> int:
        """The model's embedding width."""
        return get_spec(self.model).dims

    @property
    def n_docs(self) -> int:
        """The corpus' number of documents (the vectors a codec trained on it sees)."""
        return len(cached_collection(self.source).doc_ids)


def targets(p: EvaluatesCollections, only: tuple[str, str] | None = None, skip: set[str] = frozenset()) -> list[Target]:
    """Every (model, collection) a stage evaluates, in the order given (only ``only``, a (model, collection name),
    when given: a part job loads no other collection); collections named in ``skip`` are left out."""
    out = []
    for model in p.models:
        for source in p.datasets_of(model):
            name = collection_name(source)
            if name in skip or source in skip or (only is not None and only != (model, name)):
                continue
            out.append(Target(model, name, source, cached_collection(source).default_split()))
    return out


def two_tier(cfg: Config, tiers: list[str], oversampling: list[int]) -> list[Config]:
    """The two-tier configurations of a first stage ``cfg``: each tier × oversampling, in that order; a configuration
    names ``cfg.calibrate_on`` only where its first stage or its tier is calibrated (as ``rescore_sweep`` rows do)."""
    out = []
    for tier in tiers:
        calibrated = get_format(cfg.format).needs_calibration or get_format(tier).needs_calibration
        out += [replace(cfg, rescore=RescoreSpec(tier, m).label, calibrate_on=cfg.calibrate_on if calibrated else NONE)
                for m in oversampling]
    return out


def plan_of(configs: list[Config], options: RunOptions, chosen: list[Target]) -> Plan:
    """A plan of ``configs`` over the ``chosen`` targets (their sources)."""
    return Plan(configs, options, {t.name: t.source for t in chosen})


# --- threads ------------------------------------------------------------------------------------------------


def one_thread() -> AbstractContextManager[None]:
    """BLAS (numpy, scikit-learn) and faiss on one thread for the duration, then as before."""
    return fixed_threads(1)


# --- evaluating one part ------------------------------------------------------------------------------------


class _Reduced:
    """The vectors of one part seen through one reducer (or none): documents, queries, training sets, and the
    time spent transforming them."""

    def __init__(self, data: EvalData | None, references: References, reducer: Reducer | None) -> None:
        self.data, self.references, self.reducer = data, references, reducer
        self.seconds, self.vectors, self._training = 0.0, 0, {}
        if data is not None:
            self.docs = self._transform(data.docs)
            self.queries = self._transform(data.queries)

    @classmethod
    def of_training_sets(cls, references: References, reducer: Reducer | None) -> _Reduced:
        """The named training sets only, through ``reducer`` (no collection searched: ``self`` has no meaning)."""
        return cls(None, references, reducer)

    def _transform(self, vectors: np.ndarray) -> np.ndarray:
        if self.reducer is None:
            return vectors
        out, seconds = timed_transform(self.reducer, vectors)
        self.seconds += seconds
        self.vectors += len(vectors)
        return out

    def training(self, name: str) -> np.ndarray | None:
        """The vectors a format is calibrated / a codec trained on: ``self`` = the (reduced) documents; so is
        ``untrained`` (a codec whose parameters do not depend on the sample, only on its width)."""
        if name == NONE:
            return None
        if name in (SELF, UNTRAINED):
            return self.docs
        if name not in self._training:
            self._training[name] = self._transform(self.references(name))
        return self._training[name]

    @property
    def overhead_bytes(self) -> int:
        return self.reducer.overhead_bytes if self.reducer is not None else 0


def _fit(cfg: Config, references: References, data: EvalData | None, options: RunOptions) -> Reducer | None:
    """The reducer of ``cfg`` fit on its fit set; one that fits nothing (truncation: ``fit_on`` is ``none``) is
    made from the vectors at hand, the corpus or, in a fit job (no corpus), the codec's training set."""
    if cfg.reducer == NONE:
        return None
    if cfg.fit_on not in (NONE, SELF):
        vectors = references(cfg.fit_on)
    else:
        vectors = data.docs if data is not None else references(cfg.calibrate_on)
    return fit_reducer(cfg.reducer, vectors, cfg.fraction, fit_sample=options.fit_sample, seed=options.seed)


def _groups(configs: list[Config]) -> dict[tuple, list[Config]]:
    """Configurations by what they are reduced with, in order of first appearance."""
    out: dict[tuple, list[Config]] = {}
    for cfg in configs:
        out.setdefault((cfg.reducer, cfg.fraction, cfg.fit_on), []).append(cfg)
    return out


def _sweeps(configs: list[Config]) -> list[Config | tuple[Config, list[str], list[int]]]:
    """One-tier configurations as they are; two-tier ones merged into (first stage, tiers, oversamplings) sweeps,
    each at the position of its first configuration. A sweep's first stage is calibrated on the set its
    configurations name (those whose formats need none name ``none``)."""
    order: list[tuple[bool, Config]] = []  # (is a sweep, the configuration or the sweep's first stage)
    sweeps: dict[Config, list[Config]] = {}
    for cfg in configs:
        if cfg.rescore == NONE:
            order.append((False, cfg))
            continue
        first = replace(cfg, rescore=NONE, calibrate_on=NONE)
        if first not in sweeps:
            sweeps[first] = []
            order.append((True, first))
        sweeps[first].append(cfg)
    return [_sweep(first, sweeps[first]) if is_sweep else first for is_sweep, first in order]


def _sweep(first: Config, members: list[Config]) -> tuple[Config, list[str], list[int]]:
    specs = [parse_rescore(c.rescore) for c in members]
    calibrated = sorted({c.calibrate_on for c in members} - {NONE}) or [NONE]
    tiers = list(dict.fromkeys(s.format for s in specs))
    ms = list(dict.fromkeys(s.oversample for s in specs))
    if len(calibrated) > 1 or len(members) != len(tiers) * len(ms):
        raise StudyError(f"two-tier configurations of {first.format} must be every tier × oversampling, "
                         f"calibrated on one set; got {[(c.rescore, c.calibrate_on) for c in members]}")
    return replace(first, calibrate_on=calibrated[0]), tiers, ms


def _evaluate_group(configs: list[Config], view: _Reduced, options: RunOptions) -> Iterator[tuple]:
    data = view.data
    for item in _sweeps(configs):
        if isinstance(item, tuple):
            first, tiers, ms = item
            yield rescore_sweep(first, data, view.docs, view.queries, view.training(first.calibrate_on), tiers, ms,
                                options.stage, options.rescore_k)
        else:
            yield evaluate_format(item, data, view.docs, view.queries, view.training(item.calibrate_on),
                                  options.stage)


def _fit_row(cfg: Config, view: _Reduced, dataset: str) -> dict:
    r = view.reducer
    return {"model": cfg.model, "dataset": dataset, "reducer": cfg.reducer, "fraction": float(cfg.fraction),
            "fit_on": cfg.fit_on, "dims": r.n_components, "fit_rows": r.fit_rows, "fit_s": r.fit_seconds,
            "transform_s": view.seconds, "vectors_transformed": view.vectors, "overhead_bytes": r.overhead_bytes}


def run_part(plan: Plan, progress: bool = True) -> PartResult:
    """Evaluate the configurations of one (model, collection) on one thread."""
    configs = plan.configs
    model, name, split = configs[0].model, configs[0].dataset, configs[0].split
    options = plan.options
    tidy, per_query, fits = [], [], []
    with one_thread():
        data = load_eval_data(model, plan.sources.get(name, name), split)
        references = References(model, data, options.pool_of(model, plan.sources.get(name, name)))
        if options.indexes is not None:
            return PartResult(*evaluate_indexes(data, configs, references, options.indexes), pd.DataFrame())
        bar = progress_bar(total=len(configs), desc=f"{model} · {name}", unit="config", disable=not progress)
        for group in _groups(configs).values():
            view = _Reduced(data, references, _fit(group[0], references, data, options))
            for rows, pq in _evaluate_group(group, view, options):
                rows["overhead_bytes"] = rows["overhead_bytes"] + view.overhead_bytes
                if options.fit_rows:
                    rows["fit_rows"] = view.reducer.fit_rows if _fitted(view.reducer) else 0
                tidy.append(rows)
                per_query.append(pq)
                bar.update(rows["config_id"].nunique())
            if view.reducer is not None:
                fits.append(_fit_row(group[0], view, name))
        bar.close()
    return PartResult(pd.concat(tidy, ignore_index=True), pd.concat(per_query, ignore_index=True),
                      pd.DataFrame(fits))


def _fitted(reducer: Reducer | None) -> bool:
    """A reducer fit on data (truncation keeps the first dimensions: it fits nothing)."""
    return reducer is not None and reducer.name != "truncation"


# --- shared fits, ahead of the parts -------------------------------------------------------------------------


def shared_fits(configs: list[Config], options: RunOptions | None = None, sources: dict[str, str] | None = None
                ) -> list[Config]:
    """One configuration per distinct fit the configurations make on a named set (not on the corpus searched), in
    plan order: a reducer fit on a named set (``fit_on``), and a costly codec (``Format.costly_calibration``)
    trained on a named set or on a pool (``calibrate_on``; a pool is shared by the collections of its fold:
    ``options.pool_of``) after a reducer that is not fit on the corpus (or none). Those are the fits several parts
    of a model share; what a part fits on its own corpus is its own."""
    out: dict[tuple, Config] = {}
    for cfg in configs:
        if cfg.fit_on == SELF:
            continue
        if cfg.fit_on != NONE:
            out.setdefault((cfg.model, cfg.reducer, cfg.fraction, cfg.fit_on), cfg)
        if not get_format(cfg.format).costly_calibration:
            continue
        if is_named_set(cfg.calibrate_on):
            out.setdefault((cfg.model, cfg.reducer, cfg.fraction, cfg.fit_on, cfg.format, cfg.calibrate_on), cfg)
        elif cfg.calibrate_on == POOL and options is not None:
            pool = tuple(options.pool_of(cfg.model, (sources or {}).get(cfg.dataset, cfg.dataset)))
            out.setdefault((cfg.model, cfg.reducer, cfg.fraction, cfg.fit_on, cfg.format, POOL, pool), cfg)
    return list(out.values())


def fit_shared(plan: Plan, shard: int = 0, shards: int = 1, progress: bool = True) -> list[Config]:
    """Make shard ``shard`` of ``shards`` (every ``shards``-th, from ``shard``) of the plan's ``shared_fits``, into
    the fit cache, exactly as a part would make them (same vectors, options and thread count): the workflow runs the
    shards as jobs of their own before the parts, so the fits spread over cores and nodes instead of the parts
    queueing on one fit cache lock while a core idles. Returns the fits made or found."""
    if not 0 <= shard < shards:
        raise StudyError(f"fit shard {shard} of {shards}: a shard is 0..{shards - 1}")
    mine = shared_fits(plan.configs, plan.options, plan.sources)[shard::shards] if plan.options.indexes is None else []
    bar = progress_bar(total=len(mine), desc=f"stage {plan.options.stage} · fits {shard + 1}/{shards}", unit="fit",
                       disable=not progress)
    with one_thread():
        for cfg in mine:
            references = References(cfg.model, None, plan.options.pool_of(cfg.model,
                                                                          plan.sources.get(cfg.dataset, cfg.dataset)))
            view = _Reduced.of_training_sets(references, _fit(cfg, references, None, plan.options))
            if cfg.calibrate_on != NONE:
                calibrate(cfg.format, view.training(cfg.calibrate_on))
            bar.update()
    bar.close()
    return mine


# --- the result cache ---------------------------------------------------------------------------------------


@cache
def code_fingerprint() -> str:
    """sha256 of the source of every study module this runner imports, transitively."""
    digest = hashlib.sha256()
    for path in closure("study.experiment.runner"):
        digest.update(path.encode() + b"\0" + (REPO_ROOT / path).read_bytes())
    return digest.hexdigest()


def part_key(plan: Plan) -> str:
    """The key a stored part must carry to stand for ``plan`` (one part)."""
    cfg = plan.configs[0]
    references = sorted({c.calibrate_on for c in plan.configs} | {c.fit_on for c in plan.configs})
    pool = plan.options.pool_of(cfg.model, plan.sources.get(cfg.dataset, cfg.dataset)) if POOL in references else []
    checksums = {name: cached_collection(plan.sources.get(name, name)).checksum
                 for name in [cfg.dataset, *references, *pool] if is_named_set(name)}
    # a list, not a dict: what is hashed is the values, in this order (every dict inside is built in a fixed order)
    payload = [PART_VERSION, [c.id for c in plan.configs], asdict(plan.options), checksums, code_fingerprint()]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


def part_dir(profile: str, stem: str, model: str, collection: str) -> Path:
    return output_root() / "build" / "parts" / profile / stem / model / collection


def load_part(folder: Path, key: str) -> PartResult | None:
    """The stored part if its manifest carries ``key`` and every file its checksum; else None."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        if manifest.get("key") != key:
            return None
        for table in TABLES:
            if sha256_file(folder / f"{table}.parquet") != manifest["sha256"][table]:
                return None
        return PartResult(*(pd.read_parquet(folder / f"{t}.parquet") for t in TABLES))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store_part(folder: Path, key: str, result: PartResult) -> Path:
    """Write a part's tables (each atomically), then its manifest: a part without its manifest is never read."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)
    sha = {}
    for table in TABLES:
        frame = getattr(result, table)
        path = atomic_write(folder / f"{table}.parquet", lambda p, f=frame: f.to_parquet(p, index=False))
        sha[table] = sha256_file(path)
    return write_json_atomic(folder / MANIFEST, {"key": key, "sha256": sha})


def computed_part(plan: Plan, profile: str | None, stem: str | None, progress: bool = True) -> PartResult:
    """One part, from the result cache when it holds it (with ``profile`` and ``stem``), else computed (and
    stored there). Stored or not, the rows are those read back, so both paths give the same tables."""
    if profile is None or stem is None:
        return run_part(plan, progress)
    cfg = plan.configs[0]
    folder, key = part_dir(profile, stem, cfg.model, cfg.dataset), part_key(plan)
    found = load_part(folder, key)
    if found is None:
        store_part(folder, key, run_part(plan, progress))
        found = load_part(folder, key)
    return found


# --- the whole plan -----------------------------------------------------------------------------------------


def _in_plan_order(frame: pd.DataFrame, position: dict[str, int]) -> pd.DataFrame:
    order = frame["config_id"].map(position)
    return frame.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)


def run(plan: Plan, profile: str | None = None, stem: str | None = None, progress: bool = True,
        part: Callable[[Plan, str | None, str | None, bool], PartResult] = computed_part) -> PartResult:
    """Every configuration of ``plan``: (tidy rows, per-query scores, reducer fits), rows in plan order."""
    if not plan.configs:
        raise StudyError(f"stage {plan.options.stage}: the plan has no configuration to run")
    results = [part(plan.part(m, c), profile, stem, progress) for m, c in plan.parts()]
    position = {c.id: i for i, c in enumerate(plan.configs)}
    tidy = _in_plan_order(pd.concat([r.tidy for r in results]), position)  # re-indexed there
    per_query = _in_plan_order(pd.concat([r.per_query for r in results]), position)
    missing = set(position) - set(tidy["config_id"])
    if missing:
        raise StudyError(f"stage {plan.options.stage}: no rows for {len(missing)} configuration(s), e.g. "
                         f"{sorted(missing)[0]}")
    fits = [r.fits for r in results if len(r.fits)]
    return PartResult(tidy, per_query, pd.concat(fits, ignore_index=True) if fits else pd.DataFrame())
