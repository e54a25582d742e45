"""Notebook 10's computations: ``study advise`` on vectors, and how far its label-free choice can be trusted.

**Your vectors.** ``your_options`` makes the notebook's parameters into ``study advise``'s options; without a path,
the demo exports one of the profile's collections (its document vectors only, as a user holds them) to a ``.npy``
under ``build/advise/<profile>/`` and advises it label-free (queries held out of the documents).

**The validation.** Each (model, collection) of the profile is advised as a BEIR folder with its model
(``advise_collection``): the study's cached embeddings, the collection's judged queries (advise's seeded sample where
there are more than it takes) and qrels, every configuration of advise's grid (truncation too for a
Matryoshka-trained model), each scored per query by nDCG@10 and by the label-free recall@10 (against the exact
float32 top-10) and overlap@100. Its output folder, result cache included, is ``<cache>/advise/<model>/<collection>``
(``validation_folder``): a rerun computes nothing, a stopped run resumes. A collection advise refuses (too few
documents) is listed with its reason.

Per (model, collection), ``judge`` analyses the results as advise does (``configurations`` and
``with_uncertainty`` of the study, under each measure) and gives:

* every configuration's change against float32 under each measure (``changes``), and Spearman's rho between the
  nDCG@10 changes and each label-free measure's, float32 itself left out (``correlations``); the same on the
  per-configuration means over the collections every configuration of the model was scored on (``mean_changes``:
  ``configurations`` with policy ``shared``, its collection set named);
* ``select``'s pick inside each budget for the largest corpus size (``choices``), by each label-free measure
  (recall@10 is what advise compares without judgments) under each of the notebook's ``margins`` (0: the study's
  rule; ``LABEL_FREE_MARGIN``: advise's default without judgments) and by nDCG@10 (margin 0, the study's rule), each
  with its own paired bootstrap draws. The label-free pick is ``same``, ``not significantly worse`` (the paired
  95 % CI of its per-query nDCG@10 difference from the nDCG@10 pick reaches 0: ``stats.paired_test``) or
  ``significantly worse``; where nothing fits there is no choice.

``proxy_table`` sums this up per model, label-free measure and margin; ``write_proxy`` writes the tables and the figure
under their registered names. The sentences that read these numbers are the notebook's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from study.advise.evaluate import LABEL_FREE
from study.advise.report import METRICS, WEIGHTING
from study.advise.run import AdviseOptions, advise
from study.analysis import report, stats
from study.analysis.comparison import CollectionSet, is_baseline, set_names
from study.analysis.tradeoff import DEFAULT_MARGIN, Draws, configurations, label, select, with_uncertainty
from study.core import artifacts
from study.core.errors import CacheError, DatasetError, ParameterError, StudyError
from study.core.io import atomic_write, write_npy_atomic
from study.core.paths import cache_root, output_root
from study.core.profiles import collection_name
from study.core.progress import progress_bar
from study.data.datasets import resolve_collection_path
from study.encoders.cache import load_embeddings
from study.encoders.registry import get_spec
from study.experiment.configs import cached_collection
from study.figures import plots
from study.figures.proxy import plot_proxy
from study.params import YourVectorsParams

STEM = artifacts.STAGES["advise"].stem
JUDGED = "ndcg_at_10"
CHOSEN_BY = "recall_at_10"  # what advise compares without judgments (``report.metric_of``): the figure's measure
LABEL_FREE_METRICS = tuple(LABEL_FREE)  # recall@10, overlap@100
NAMES = {**METRICS, "overlap_at_100": "overlap@100"}
SAME, NOT_WORSE, WORSE, NOTHING_FITS = "same", "not significantly worse", "significantly worse", "nothing fits"
OUTCOMES = (SAME, NOT_WORSE, WORSE)
WORSE_THAN_PICK = "of which ≈ float32"
"""Label-free picks significantly worse than the nDCG@10 pick yet not than float32 (its CI vs float32 reaches 0):
the nDCG@10 pick beat float32 on that collection, which a measure of fidelity to float32 cannot see."""
KEYS = ["model", "label", "kind", "format", "reducer", "fraction", "rescore", "query_format", "calibrate_on",
        "bytes_per_vector", "compression_ratio"]


# --- your vectors ----------------------------------------------------------------------------------------------


def advise_folder(profile: str) -> Path:
    """Where notebook 10 keeps the demo's vectors and every run on a user's path: ``build/advise/<profile>``."""
    return output_root() / "build" / "advise" / profile


def demo_vectors(model: str, dataset: str, profile: str) -> Path:
    """The document vectors of ``dataset`` by ``model`` (the study's cache) as a float32 ``.npy`` (atomically)."""
    docs = load_embeddings(model, cached_collection(dataset), "docs").vectors
    target = advise_folder(profile) / f"{model}--{collection_name(dataset)}.npy"
    return write_npy_atomic(target, np.asarray(docs, dtype=np.float32))


def your_options(p: YourVectorsParams, progress: bool = True) -> AdviseOptions:
    """``study advise``'s options for the notebook's parameters: the user's ``path``, or the demo (the first model's
    first collection, exported by ``demo_vectors``, advised label-free). The output folder, cache included, is
    ``advise_folder/<name>``."""
    if p.path is None:
        path = demo_vectors(p.models[0], p.datasets_of(p.models[0])[0], p.profile)
        given = {"path": str(path), "format": "npy"}
    else:
        path = Path(p.path)
        given = {"path": p.path, "format": p.format, "queries": p.queries, "qrels": p.qrels, "model": p.model}
    return AdviseOptions(**given, matryoshka=p.matryoshka, n_vectors=p.n_vectors, ram=p.ram, disk=p.disk,
                         max_loss=p.max_loss, margin=p.margin, out=str(advise_folder(p.profile) / path.stem),
                         progress=progress)


# --- the validation: every (model, collection) advised with its judgments ------------------------------------------


def validation_folder(model: str, dataset: str) -> Path:
    """The output folder (and result cache) of one validation run: ``<cache>/advise/<model>/<collection>``."""
    return cache_root() / "advise" / model / collection_name(dataset)


@dataclass
class Advised:
    """One (model, collection) advised: its tidy results and per-query scores, the rows used (advise's ``rows``), or
    why advise refused it."""

    model: str
    dataset: str
    tidy: pd.DataFrame | None = None
    per_query: pd.DataFrame | None = None
    rows: dict = field(default_factory=dict)
    reason: str | None = None


def advise_collection(model: str, dataset: str, n_vectors: int, ram: str | int, progress: bool = True) -> Advised:
    """``study advise`` on the collection's BEIR folder with ``model``, its folder ``validation_folder``; a vector
    cosine cannot score (all zeros: a text a static model knows no word of) is left out, and counted. Data advise
    refuses (too few documents) gives the reason; a bad parameter, a missing collection or a bad cache still raise."""
    options = AdviseOptions(path=str(resolve_collection_path(dataset)), format="beir", model=model,
                            matryoshka=get_spec(model).matryoshka, n_vectors=n_vectors, ram=ram, bad_rows="drop",
                            out=str(validation_folder(model, dataset)), progress=progress)
    try:
        outcome = advise(options)
    except (ParameterError, DatasetError, CacheError):
        raise
    except StudyError as exc:
        return Advised(model, collection_name(dataset), reason=str(exc))
    return Advised(model, outcome.data.name, outcome.results.tidy, outcome.results.per_query, outcome.data.rows)


def advise_all(pairs: list[tuple[str, str]], n_vectors: int, ram: str | int, progress: bool = True) -> list[Advised]:
    """``advise_collection`` for every (model, collection), in order."""
    return [advise_collection(m, d, n_vectors, ram, progress)
            for m, d in progress_bar(pairs, desc="validation", unit="collection", disable=not progress)]


def collections_table(advised: list[Advised]) -> pd.DataFrame:
    """One row per (model, collection): the documents, queries and configurations advised, the documents left out
    (all zeros, NaN or inf), or why it was not advised."""
    columns = ["model", "dataset", "documents", "queries", "dropped", "configurations", "reason"]
    table = pd.DataFrame([{
        "model": a.model, "dataset": a.dataset, "documents": a.rows.get("index"), "queries": a.rows.get("queries"),
        "dropped": a.rows.get("dropped_documents"),
        "configurations": None if a.tidy is None else a.tidy.config_id.nunique(), "reason": a.reason or ""}
        for a in advised], columns=columns)
    return table.astype({c: "Int64" for c in ("documents", "queries", "dropped", "configurations")})


# --- one collection: changes under each measure, and select's two picks ---------------------------------------------


@dataclass
class Judged:
    """One advised collection analysed under each measure: configurations with CIs (and draws where tested)."""

    advised: Advised
    configs: dict[str, pd.DataFrame]
    draws: dict[str, Draws | None]


def judge(a: Advised) -> Judged:
    """The study's trade-off analysis of one collection under nDCG@10 and each label-free measure, with the paired
    bootstrap CIs and draws ``select`` uses."""
    configs, draws = {}, {}
    for metric in (JUDGED, *LABEL_FREE_METRICS):
        table = configurations(a.tidy, metric=metric, weighting=WEIGHTING)
        configs[metric], draws[metric] = with_uncertainty(table, a.tidy, a.per_query, WEIGHTING, metric)
    return Judged(a, configs, draws)


def config_ids(tidy: pd.DataFrame) -> dict[str, str]:
    """label -> config_id of one collection's configurations."""
    rows = tidy[tidy.metric == JUDGED].drop_duplicates("config_id")
    return dict(zip(rows.apply(label, axis=1), rows.config_id, strict=True))


def side_by_side(configs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Each configuration (``KEYS``) with its value and change (%) under each measure, its CI where there is one."""
    out = configs[JUDGED][KEYS].copy()
    for metric, table in configs.items():
        extra = table.set_index("label").reindex(out.label)
        out[f"{metric}"] = extra.value.to_numpy()
        out[f"{metric}_change_pct"] = extra.change_pct.to_numpy()
        if "ci_low" in extra:
            out[f"{metric}_ci_low"], out[f"{metric}_ci_high"] = extra.ci_low.to_numpy(), extra.ci_high.to_numpy()
    out["float32"] = is_baseline(out)
    return out


def changes(judged: Judged) -> pd.DataFrame:
    """One row per configuration of the collection: its id, value and change under each measure."""
    out = side_by_side(judged.configs)
    out.insert(1, "dataset", judged.advised.dataset)
    out.insert(2, "config_id", out.label.map(config_ids(judged.advised.tidy)))
    return out


def spearman(x: pd.Series, y: pd.Series) -> float:
    """Spearman's rho of two columns (ties averaged), NaN where either is constant."""
    if x.nunique() < 2 or y.nunique() < 2:
        return float("nan")
    return float(spearmanr(x, y).statistic)


def correlations(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per group of ``by``: how many configurations (float32 left out), and Spearman's rho between the nDCG@10
    changes and each label-free measure's."""
    rows = []
    for key, part in table[~table.float32].groupby(by, sort=False):
        row = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)) | {"configurations": len(part)}
        for metric in LABEL_FREE_METRICS:
            row[f"rho_{metric}"] = spearman(part[f"{JUDGED}_change_pct"], part[f"{metric}_change_pct"])
        rows.append(row)
    return pd.DataFrame(rows, columns=[*by, "configurations", *(f"rho_{m}" for m in LABEL_FREE_METRICS)])


def picked(judged: Judged, metric: str, budget: int, n_vectors: int, max_loss: float,
           margin: float = DEFAULT_MARGIN) -> pd.Series | None:
    """``select``'s recommendation by ``metric`` with ``margin`` (None where nothing fits), as advise asks it."""
    try:
        return select(budget, n_vectors, judged.configs[metric], model=judged.advised.model,
                      draws=judged.draws[metric], max_loss=max_loss, metric_label=NAMES[metric],
                      margin=margin).recommended
    except (ParameterError, DatasetError):
        raise
    except StudyError:
        return None


def ndcg_difference(per_query: pd.DataFrame, config_id: str, other_id: str) -> dict[str, float]:
    """The paired difference of per-query nDCG@10, ``config_id`` − ``other_id``, its 95 % bootstrap CI."""
    scores = per_query.pivot(index="query_id", columns="config_id", values=JUDGED)
    return stats.paired_test(scores[config_id].to_numpy(), scores[other_id].to_numpy())


def outcome_of(same: bool, ci_high: float) -> str:
    """``same``, ``not significantly worse`` (the CI of the difference reaches 0) or ``significantly worse``."""
    return SAME if same else NOT_WORSE if ci_high >= 0 else WORSE


def choices(judged: Judged, budgets: dict[str, int], n_vectors: int, max_loss: float,
            margins: list[float]) -> pd.DataFrame:
    """Per label-free measure, margin and budget: the configuration ``select`` picks by that measure with that
    margin and by nDCG@10 (the study's rule), their storage and nDCG@10 change, and how the label-free pick compares
    in nDCG@10 (``outcome_of``)."""
    a, ids = judged.advised, config_ids(judged.advised.tidy)
    ndcg = judged.configs[JUDGED].set_index("label")
    rows = []
    for name, budget in budgets.items():
        by_ndcg = picked(judged, JUDGED, budget, n_vectors, max_loss)
        for metric, margin in ((m, g) for m in LABEL_FREE_METRICS for g in margins):
            row = {"model": a.model, "dataset": a.dataset, "measure": NAMES[metric], "margin": margin,
                   "budget": name, "budget_bytes": budget, "n_vectors": n_vectors}
            by_proxy = picked(judged, metric, budget, n_vectors, max_loss, margin)
            if by_proxy is None or by_ndcg is None:
                rows.append(row | {"outcome": NOTHING_FITS})
                continue
            test = ndcg_difference(a.per_query, ids[by_proxy.label], ids[by_ndcg.label])
            rows.append(row | {
                "by_label_free": by_proxy.label, "by_ndcg": by_ndcg.label,
                "label_free_pick_bytes": by_proxy.total_bytes, "ndcg_pick_bytes": by_ndcg.total_bytes,
                "label_free_pick_ndcg_change_pct": ndcg.change_pct[by_proxy.label],
                "label_free_pick_ndcg_ci_low": ndcg.ci_low[by_proxy.label],
                "label_free_pick_ndcg_ci_high": ndcg.ci_high[by_proxy.label],
                "ndcg_pick_ndcg_change_pct": ndcg.change_pct[by_ndcg.label],
                "diff": test["diff"], "diff_ci_low": test["diff_ci_low"], "diff_ci_high": test["diff_ci_high"],
                "outcome": outcome_of(by_proxy.label == by_ndcg.label, test["diff_ci_high"])})
    return pd.DataFrame(rows, columns=CHOICE_COLUMNS)


def all_choices(judged: list[Judged], budgets: dict[str, int], n_vectors: int, max_loss: float,
                margins: list[float]) -> pd.DataFrame:
    """``choices`` of every judged collection, one table."""
    return pd.concat([choices(j, budgets, n_vectors, max_loss, margins) for j in judged], ignore_index=True)


CHOICE_COLUMNS = ["model", "dataset", "measure", "margin", "budget", "budget_bytes", "n_vectors", "by_label_free",
                  "by_ndcg", "label_free_pick_bytes", "ndcg_pick_bytes", "label_free_pick_ndcg_change_pct",
                  "label_free_pick_ndcg_ci_low", "label_free_pick_ndcg_ci_high", "ndcg_pick_ndcg_change_pct", "diff",
                  "diff_ci_low", "diff_ci_high", "outcome"]


# --- over the collections of a model ------------------------------------------------------------------------------


def mean_changes(advised: list[Advised]) -> pd.DataFrame:
    """Per model: each configuration's change under each measure over the collections every one of its
    configurations was scored on (``configurations``, policy ``shared``); ``set`` names that collection set
    (``attrs["sets"]``: the ``CollectionSet`` per model)."""
    done = [a for a in advised if a.tidy is not None]
    if not done:
        return pd.DataFrame(columns=[*KEYS, "set", "collections"])
    tidy = pd.concat([a.tidy for a in done], ignore_index=True)
    configs = {m: configurations(tidy, metric=m, weighting=WEIGHTING, policy="shared")
               for m in (JUDGED, *LABEL_FREE_METRICS)}
    frames = []
    for model in dict.fromkeys(a.model for a in done):
        out = side_by_side({m: t[t.model == model].reset_index(drop=True) for m, t in configs.items()})
        chosen = configs[JUDGED].attrs["sets"][model]
        frames.append(out.assign(set=chosen.name, collections=len(chosen)))
    table = pd.concat(frames, ignore_index=True)
    table.attrs["sets"] = dict(configs[JUDGED].attrs["sets"])
    return table


def proxy_table(collections: pd.DataFrame, per_collection: pd.DataFrame, on_means: pd.DataFrame,
                picks: pd.DataFrame) -> pd.DataFrame:
    """Per model, label-free measure and margin: the collections advised; Spearman's rho of its changes with
    nDCG@10's per collection (median, least, most) and on the means over the model's collection set; and, of the
    budgets where something fits, how often ``select`` by that measure with that margin picks ``select`` by
    nDCG@10's configuration, one not significantly worse in nDCG@10, or one significantly worse (agreement: the
    first two; ``WORSE_THAN_PICK``: of the last, those not significantly worse than float32), with the median ratio
    of its pick's storage to the nDCG@10 pick's."""
    rows = []
    for model in dict.fromkeys(collections.model):
        advised = int((collections[collections.model == model].reason == "").sum())
        rho, means = per_collection[per_collection.model == model], on_means[on_means.model == model]
        for metric, margin in ((m, g) for m in LABEL_FREE_METRICS for g in dict.fromkeys(picks.margin)):
            mine = picks[(picks.model == model) & (picks.measure == NAMES[metric]) & (picks.margin == margin)
                         & (picks.outcome != NOTHING_FITS)]
            counts = mine.outcome.value_counts().reindex(OUTCOMES, fill_value=0)
            values = rho[f"rho_{metric}"]
            rows.append({
                "model": model, "measure": NAMES[metric], "margin": margin, "collections": advised,
                "ρ median": values.median(), "ρ least": values.min(), "ρ most": values.max(),
                "ρ on the set": float(means[f"rho_{metric}"].iloc[0]) if len(means) else float("nan"),
                "choices": len(mine), **{o: int(counts[o]) for o in OUTCOMES},
                WORSE_THAN_PICK: int(((mine.outcome == WORSE) & (mine.label_free_pick_ndcg_ci_high >= 0)).sum()),
                "agreement (%)": 100 * (counts[SAME] + counts[NOT_WORSE]) / len(mine) if len(mine) else float("nan"),
                "storage ratio": (mine.label_free_pick_bytes / mine.ndcg_pick_bytes).median()})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


SUMMARY_COLUMNS = ["model", "measure", "margin", "collections", "ρ median", "ρ least", "ρ most", "ρ on the set",
                   "choices", *OUTCOMES, WORSE_THAN_PICK, "agreement (%)", "storage ratio"]


# --- writing -------------------------------------------------------------------------------------------------------


def _csv(frame: pd.DataFrame, name: str, profile: str) -> Path:
    """A table at full precision (rounded changes could tie, or untie, two configurations' ranks)."""
    folder = report.output_dirs(profile)["results"] / "tables"
    return atomic_write(folder / f"{name}.csv", lambda p: frame.to_csv(p, index=False))


def write_proxy(summary: pd.DataFrame, collections: pd.DataFrame, table: pd.DataFrame, means: pd.DataFrame,
                per_collection: pd.DataFrame, picks: pd.DataFrame, profile: str) -> dict[str, Path]:
    """The stage's tables (``table-proxy`` as CSV and LaTeX, the others as CSV), its collection sets and its
    figure, under their registered names."""
    sets: dict[str, CollectionSet] = means.attrs.get("sets", {})
    chosen = summary[summary.measure == NAMES[CHOSEN_BY]]  # what advise compares: the paper's table and figure
    files = {f"table_{k}": v for k, v in report.write_table(
        summary, artifacts.TABLE_PROXY, profile,
        "Choosing without labels, per model and select's margin: Spearman's rho of the configurations' recall@10 "
        "changes with nDCG@10's (per collection; on the means over the model's set), how often select by recall@10 "
        "picks select by nDCG@10's configuration or one not significantly worse in nDCG@10 (agreement), and its "
        "pick's storage over the nDCG@10 pick's (median); overlap@100 in the CSV. Sets: "
        f"{set_names(sets)}.",
        printed=chosen.drop(columns="measure")).items()}
    for name, frame in ((artifacts.PROXY_COLLECTIONS, collections), (artifacts.PROXY_CHANGES, table),
                        (artifacts.PROXY_MEANS, means), (artifacts.PROXY_CORRELATIONS, per_collection),
                        (artifacts.PROXY_SELECTIONS, picks)):
        files[name] = _csv(frame, name, profile)
    files["sets"] = report.write_collection_sets(sets, STEM, profile)
    figure = plot_proxy(table, means, chosen)
    files |= {f"figure_{k}": v for k, v in plots.save_figure(
        figure, report.output_dirs(profile)["figures"] / artifacts.FIG_PROXY).items()}
    return files
