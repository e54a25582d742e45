"""Stage 09, the codecs engineers use today: RaBitQ, OPQ + PQ, PQ fast-scan, TurboQuant, OSQ and the cheap
fixes to sign binary, on the same collections as the study's formats, trained on the fit set or on each corpus,
alone, after PCA / truncation, and as the first tier of two-stage rescoring.

Training set (``Config.calibrate_on``): the paper's fit set, ``self`` (the evaluated corpus, as a deployment
trains), ``pool`` (the model's other collections) or ``untrained`` (a codec that ignores its sample); the rules
are ``study.plans.codecs``'. ``training_set_tests`` pairs the sets a codec was trained on. A training collection is
never evaluated here (``study.analysis.comparison`` would leave it out anyway).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from study.analysis import comparison, report, stats
from study.analysis.tradeoff import kind, label
from study.core import artifacts
from study.core.io import atomic_write
from study.experiment.configs import NONE, POOL, SELF, is_named_set
from study.figures import plots
from study.figures.codecs import plot_codecs

STEM = artifacts.STAGES["codecs"].stem
POLICY = "widest"  # every held-out collection of the model; configurations not scored on all of them are listed
KEYS = ["reducer", "fraction", "fit_on", "format", "calibrate_on", "query_format", "rescore"]


@dataclass
class CodecsOutput:
    summary: pd.DataFrame
    table: pd.DataFrame
    tests: pd.DataFrame
    figures: dict[str, dict[str, Path]]
    files: dict[str, Path] = field(default_factory=dict)


def codec_family(fmt: str) -> str:
    """The family a codec belongs to (``opq16`` → ``OPQ+PQ``), as the trade-off groups them."""
    return kind(fmt)


# --- aggregate, compare, publish ----------------------------------------------------------------------------


def summarise_codecs(tidy: pd.DataFrame, per_query: pd.DataFrame, weighting: str,
                     n_resamples: int = stats.N_RESAMPLES, seed: int = stats.SEED) -> pd.DataFrame:
    """Per model × configuration over every held-out collection of the model (policy ``widest``): nDCG@10, change
    vs float32 with its CI, bytes of every tier, the family. A configuration not scored on all of them (a codec
    that cannot train on a small corpus) is left out of the summary and listed in ``attrs["dropped"]``;
    ``training_set_tests`` compares it on the collections it has."""
    summary = report.summarise(tidy, KEYS, weighting=weighting, baseline=stats.BASELINE, policy=POLICY)
    sets, dropped = summary.attrs.get("sets", {}), summary.attrs.get("dropped", {})
    summary = stats.add_significance(summary, tidy, per_query, KEYS, weighting, n_resamples=n_resamples, seed=seed,
                                     policy=POLICY)
    rows = tidy[tidy.metric == "ndcg_at_10"].drop_duplicates(["model", *KEYS]).set_index(["model", *KEYS])
    index = pd.MultiIndex.from_frame(summary[["model", *KEYS]])
    tier2 = rows["rescore_bytes_per_vector"].reindex(index) if "rescore_bytes_per_vector" in rows else np.nan
    summary["tier2_bytes_per_vector"] = np.nan_to_num(np.asarray(tier2, dtype=float))
    summary["overhead_bytes"] = rows["overhead_bytes"].reindex(index).to_numpy()
    summary["stored_bytes_per_vector"] = summary.bytes_per_vector + summary.tier2_bytes_per_vector
    baseline = summary[(summary.format == "float32") & (summary.reducer == NONE)]
    summary["stored_ratio"] = (summary.model.map(baseline.groupby("model").bytes_per_vector.first())
                               / summary.stored_bytes_per_vector)
    summary["family"] = [codec_family(f) + (" + rescoring" if r != NONE else "") + (f" + {m}" if m != NONE else "")
                         for f, r, m in zip(summary.format, summary.rescore, summary.reducer, strict=True)]
    summary["label"] = [label(r) for r in summary.to_dict("records")]
    summary.attrs["sets"], summary.attrs["dropped"] = sets, dropped
    return summary


def dropped_table(summary: pd.DataFrame, tidy: pd.DataFrame) -> pd.DataFrame:
    """The configurations the summary left out, per model: the held-out collections they lack (a codec too big
    to train on a small corpus, ``study.plans.codecs.not_applicable``)."""
    rows = comparison.normalise_keys(tidy[tidy.metric == "ndcg_at_10"])
    rows = rows.assign(cfg_key=comparison.config_key(rows).to_numpy())
    out = []
    for model, keys in summary.attrs.get("dropped", {}).items():
        names = set(summary.attrs["sets"][model].names)
        for key in keys:
            mine = rows[(rows.model == model) & (rows.cfg_key == key)]
            out.append({"model": model, "configuration": label(mine.iloc[0].to_dict()),
                        "lacks": ", ".join(sorted(names - set(mine.dataset)))})
    return pd.DataFrame(out, columns=["model", "configuration", "lacks"])


STATED_N = 125_000
"""The corpus size at which the tables also give the ratio with what is stored once (the paper's 125k example)."""


def ratio_at(summary: pd.DataFrame, n: int) -> pd.Series:
    """float32's bytes over everything a configuration stores for ``n`` vectors: every tier's bytes per vector
    × n + what is stored once (codebooks, rotations, centroids, ranges)."""
    float32 = summary.stored_bytes_per_vector * summary.stored_ratio
    return float32 * n / (summary.stored_bytes_per_vector * n + summary.overhead_bytes)


def codecs_table(summary: pd.DataFrame, n: int = STATED_N) -> pd.DataFrame:
    table = pd.DataFrame({
        "model": summary.model, "configuration": summary.label, "family": summary.family,
        "B/vector (all tiers)": summary.stored_bytes_per_vector, "stored once (B)": summary.overhead_bytes,
        "CR (all tiers)": summary.stored_ratio, f"CR at N = {n:,}": ratio_at(summary, n),
        "nDCG@10": summary.value, "change (%)": summary.change_pct,
        "CI low (%)": summary.ci_low, "CI high (%)": summary.ci_high,
    })
    return table.sort_values(["model", "B/vector (all tiers)", "change (%)"], ascending=[True, True, False],
                             ignore_index=True)


def _ids(tidy: pd.DataFrame, model: str, datasets: list[str], row: pd.Series | dict) -> list[str] | None:
    rows = tidy[(tidy.model == model) & (tidy.metric == "ndcg_at_10")]
    for key in KEYS:
        rows = rows[rows[key] == row[key]]
    by_dataset = rows.drop_duplicates("dataset").set_index("dataset").config_id
    return [by_dataset[d] for d in datasets] if set(datasets) <= set(by_dataset.index) else None


PAIR_COLUMNS = ["best", "bytes", "reference", "reference_bytes"]
TEST_COLUMNS = ["diff", "diff_ci_low", "diff_ci_high", "p_value"]


def _paired(model: str, pairs: list, meta: list[tuple], names: list[str], tidy: pd.DataFrame,
            per_query: pd.DataFrame, weighting: str, n_resamples: int, seed: int) -> pd.DataFrame | None:
    """One model's paired tests (``stats.paired_differences``) beside what each compares (``meta`` rows)."""
    tests = stats.paired_differences(per_query, tidy, pairs, weighting, n_resamples=n_resamples, seed=seed)
    if not len(tests):
        return None
    frame = pd.DataFrame(meta, columns=[*names, *PAIR_COLUMNS])
    return pd.concat([frame, tests.reset_index(drop=True)], axis=1).assign(model=model)


def _stacked(parts: list[pd.DataFrame | None], names: list[str]) -> pd.DataFrame:
    columns = ["model", *names, *PAIR_COLUMNS, *TEST_COLUMNS]
    parts = [p for p in parts if p is not None]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def equal_bytes_tests(summary: pd.DataFrame, tidy: pd.DataFrame, per_query: pd.DataFrame, weighting: str,
                      references: dict[str, str], n_resamples: int = stats.N_RESAMPLES,
                      seed: int = stats.SEED) -> pd.DataFrame:
    """Each family's best configuration stored in no more bytes (all tiers) than a reference format (sign
    binary, int8), against that reference: paired nDCG@10 difference with its 95 % bootstrap CI, on the
    collections every configuration of the summary was scored on."""
    sets = summary.attrs["sets"]  # the collections every configuration of the summary was scored on
    parts = []
    for model, rows in summary.groupby("model", sort=False):
        datasets = list(sets[model].names)
        pairs, meta = [], []
        for ref_name, ref_format in references.items():
            ref = rows[(rows.format == ref_format) & (rows.reducer == NONE) & (rows.rescore == NONE)
                       & (rows.query_format == "same")]
            if ref.empty:
                continue
            ref = ref.loc[ref.change_pct.idxmax()]
            fits = rows[(rows.stored_bytes_per_vector <= ref.stored_bytes_per_vector) & (rows.format != ref_format)
                        & ~rows.format.isin(["float32"])]
            for family, frame in fits.groupby("family", sort=False):
                best = frame.loc[frame.change_pct.idxmax()]
                a, b = _ids(tidy, model, datasets, best), _ids(tidy, model, datasets, ref)
                if a is not None and b is not None:
                    pairs.append((a, b))
                    meta.append((ref_name, family, best.label, best.stored_bytes_per_vector, ref.label,
                                 ref.stored_bytes_per_vector))
        parts.append(_paired(model, pairs, meta, ["against", "family"], tidy, per_query, weighting, n_resamples,
                             seed))
    return _stacked(parts, ["against", "family"])


def _held_out_alone(tidy: pd.DataFrame) -> pd.DataFrame:
    """nDCG@10 rows of codecs alone (no reducer, no second tier), never on their own training collection."""
    rows = comparison.normalise_keys(tidy[tidy.metric == "ndcg_at_10"])
    rows = rows[~comparison.in_sample_mask(rows)]
    return rows[(rows.reducer == NONE) & (rows.rescore == NONE)]


def training_set_tests(summary: pd.DataFrame, tidy: pd.DataFrame, per_query: pd.DataFrame, weighting: str,
                       n_resamples: int = stats.N_RESAMPLES, seed: int = stats.SEED) -> pd.DataFrame:
    """Where a codec is trained: each codec (alone, each query format) trained on two or more of the corpus
    (``self``), the pool and a named set, each pair of those sets against each other (self − named, pool − named,
    self − pool): paired nDCG@10 difference with its 95 % CI on the held-out collections *both* were scored on
    (``collections``: how many; fewer than the summary's where a codec cannot train on a small corpus)."""
    rows = _held_out_alone(tidy)
    parts = []
    for model in dict.fromkeys(summary.model):
        pairs, meta = [], []
        for (fmt, query), group in rows[rows.model == model].groupby(["format", "query_format"], sort=False):
            by_set = {c: frame.drop_duplicates("dataset").set_index("dataset") for c, frame in
                      group.groupby("calibrate_on", sort=False)}
            named = sorted(c for c in by_set if is_named_set(c))
            for a, b in [(SELF, n) for n in named] + [(POOL, n) for n in named] + [(SELF, POOL)]:
                if a not in by_set or b not in by_set:
                    continue
                datasets = sorted(set(by_set[a].index) & set(by_set[b].index))
                if not datasets:
                    continue
                ra, rb = by_set[a].iloc[0].to_dict(), by_set[b].iloc[0].to_dict()
                pairs.append((list(by_set[a].config_id[datasets]), list(by_set[b].config_id[datasets])))
                meta.append((fmt, query, f"{a} − {b}", len(datasets), label(ra), float(ra["bytes_per_vector"]),
                             label(rb), float(rb["bytes_per_vector"])))
        parts.append(_paired(model, pairs, meta, ["codec", "queries", "sets", "collections"], tidy, per_query,
                             weighting, n_resamples, seed))
    return _stacked(parts, ["codec", "queries", "sets", "collections"])


def _at_sign_binary_bytes(rows: pd.DataFrame) -> pd.Series:
    """Rows stored in exactly sign binary's bytes per vector (the model's 32× point)."""
    sign = rows.loc[rows.format == "binary_sign", "stored_bytes_per_vector"]
    return rows.stored_bytes_per_vector == (sign.iloc[0] if len(sign) else np.nan)


PEER_CLAIMS = [
    # (the claim's short name, A = the codec's best configuration matching it, B = what it is compared with); each
    # claim in full, with its source, is main.tex's (the codec section) and notebook 09's
    ("RaBitQ vs sign binary",
     lambda r: r.format.str.startswith("rabitq1") & (r.reducer == NONE) & (r.rescore == NONE),
     lambda r: (r.format == "binary_sign") & (r.query_format == "same") & (r.rescore == NONE)),
    ("OPQ at 32× vs sign binary",
     lambda r: r.format.str.startswith("opq") & _at_sign_binary_bytes(r) & (r.reducer == NONE) & (r.rescore == NONE),
     lambda r: (r.format == "binary_sign") & (r.query_format == "same") & (r.rescore == NONE)),
    ("BBQ vs sign binary",
     lambda r: (r.format == "osq1") & (r.reducer == NONE) & (r.rescore == NONE) & (r.query_format == "same"),
     lambda r: (r.format == "binary_sign") & (r.query_format == "same") & (r.rescore == NONE)),
    ("BBQ rescored vs BBQ alone",
     lambda r: (r.format == "osq1") & (r.rescore.str.startswith("float32x")),
     lambda r: (r.format == "osq1") & (r.reducer == NONE) & (r.rescore == NONE) & (r.query_format == "same")),
    ("TurboQuant 4-bit vs int8",
     lambda r: (r.format == "turboquant4") & (r.reducer == NONE) & (r.rescore == NONE),
     lambda r: (r.format == "int8_clipped") & (r.query_format == "same") & (r.rescore == NONE)),
    ("BitBudget: bits beat dimensions (4×)",
     lambda r: (r.format == "int8_clipped") & (r.reducer == NONE) & (r.rescore == NONE) & (r.query_format == "same"),
     lambda r: (r.format == "float32") & (r.reducer == "pca") & (r.fraction == 0.25) & (r.rescore == NONE)),
    ("BitBudget: binary + rerank vs float32",
     lambda r: (r.format == "binary_sign") & (r.rescore.str.startswith("float32x")),
     lambda r: (r.format == "float32") & (r.reducer == NONE) & (r.rescore == NONE)),
]


def _best(rows: pd.DataFrame, mask: pd.Series) -> pd.Series | None:
    part = rows[mask.to_numpy()]
    return None if part.empty else part.loc[part.change_pct.idxmax()]


def peer_tests(summary: pd.DataFrame, tidy: pd.DataFrame, per_query: pd.DataFrame, weighting: str,
               n_resamples: int = stats.N_RESAMPLES, seed: int = stats.SEED) -> pd.DataFrame:
    """Each published claim of ``PEER_CLAIMS`` on our models and collections: the best configuration of the named
    codec against the named reference, paired nDCG@10 difference with its 95 % CI (same collections)."""
    sets = summary.attrs["sets"]  # the collections every configuration of the summary was scored on
    parts = []
    for model, rows in summary.groupby("model", sort=False):
        datasets = list(sets[model].names)
        pairs, meta = [], []
        for name, pick_a, pick_b in PEER_CLAIMS:
            a, b = _best(rows, pick_a(rows)), _best(rows, pick_b(rows))
            ids_a = _ids(tidy, model, datasets, a) if a is not None else None
            ids_b = _ids(tidy, model, datasets, b) if b is not None else None
            if ids_a is None or ids_b is None:
                continue
            pairs.append((ids_a, ids_b))
            meta.append((name, a.label, a.stored_bytes_per_vector, b.label, b.stored_bytes_per_vector))
        parts.append(_paired(model, pairs, meta, ["comparison"], tidy, per_query, weighting, n_resamples, seed))
    return _stacked(parts, ["comparison"])


def reading(low: float, high: float) -> str:
    """A paired difference's 95 % CI read as a label: above zero, below zero, or reaching it."""
    return "better" if low > 0 else "worse" if high < 0 else "not distinguishable"


PEER_COLUMNS = {"model": "model", "comparison": "claim", "best": "A", "bytes": "A (B/vector)", "reference": "B",
                "reference_bytes": "B (B/vector)", "diff": "A − B", "diff_ci_low": "CI from", "diff_ci_high": "CI to"}


def peers_table(peers: pd.DataFrame) -> pd.DataFrame:
    """``peer_tests`` for the paper: per model and claim, what was compared, the paired nDCG@10 difference with its
    CI, and its reading; the claims' wording is the paper's (main.tex), not the table's."""
    table = peers[list(PEER_COLUMNS)].rename(columns=PEER_COLUMNS)
    table["reading"] = [reading(lo, hi) for lo, hi in zip(peers.diff_ci_low, peers.diff_ci_high, strict=True)]
    return table


RATIOS = (8, 16, 32, 64, 128, 256)
BEST_COLUMNS = ["model", "at least (×)", "best", "training set", "B/vector (all tiers)", "CR (all tiers)", "change (%)",
                "CI low (%)", "CI high (%)", "not worse", "not worse, e.g."]


def best_by_ratio(summary: pd.DataFrame, tidy: pd.DataFrame, per_query: pd.DataFrame, weighting: str,
                  ratios: tuple[int, ...] = RATIOS, n_resamples: int = stats.N_RESAMPLES,
                  seed: int = stats.SEED) -> pd.DataFrame:
    """Per model and compression ratio: the configuration of the stage (any codec, sign binary and int8 included)
    with the best nDCG@10 change among those storing at most 1/ratio of float32 (every tier), its training set and
    CI, and how many of the others there are *not significantly worse* than it (paired 95 % CI of best − other
    reaches 0): the best is a point estimate, those are its ties. One bootstrap pass for every comparison."""
    sets, found, pairs = summary.attrs["sets"], [], []
    for model in dict.fromkeys(summary.model):
        datasets = list(sets[model].names)
        stored = summary[(summary.model == model) & (summary.format != "float32")]
        for ratio in ratios:
            fits = stored[stored.stored_ratio >= ratio / 1.001]
            if fits.empty:
                continue
            best = fits.loc[fits.change_pct.idxmax()]
            rows = fits[fits.label != best.label]
            best_ids = _ids(tidy, model, datasets, best)
            others = [(r["label"], _ids(tidy, model, datasets, r)) for _, r in rows.iterrows()]
            others = [(label, ids) for label, ids in others if ids is not None and best_ids is not None]
            found.append((model, ratio, best, [label for label, _ in others]))
            pairs += [(best_ids, ids) for _, ids in others]
    tests = stats.paired_differences(per_query, tidy, pairs, weighting, n_resamples=n_resamples, seed=seed)
    lows = iter(tests.diff_ci_low.tolist() if len(tests) else [])
    out = []
    for model, ratio, best, labels in found:
        tied = [label for label in labels if next(lows) <= 0]
        out.append([model, ratio, best.label, best.calibrate_on, best.stored_bytes_per_vector, best.stored_ratio,
                    best.change_pct, best.ci_low, best.ci_high, len(tied), "; ".join(tied[:3])])
    return pd.DataFrame(out, columns=BEST_COLUMNS)


REFERENCES = {"sign binary": "binary_sign", "int8": "int8_clipped"}


def publish_codecs(tidy: pd.DataFrame, per_query: pd.DataFrame, weighting: str, profile: str,
                   n_resamples: int = stats.N_RESAMPLES, seed: int = stats.SEED) -> CodecsOutput:
    """Stage 09's summary, figure and tables from its saved tidy results, like for like (the conclusions are
    the notebook's, the paper's prose is main.tex's)."""
    summary = summarise_codecs(tidy, per_query, weighting, n_resamples, seed)
    sets = report.caption_sets(summary)
    set_file = report.write_collection_sets(summary.attrs["sets"], STEM, profile)
    dirs = report.output_dirs(profile)
    figures = {"codecs": plots.save_figure(plot_codecs(summary, weighting), dirs["figures"] / artifacts.FIG_CODECS)}
    table = codecs_table(summary)
    tests = equal_bytes_tests(summary, tidy, per_query, weighting, REFERENCES, n_resamples, seed)
    files = report.write_table(
        table, artifacts.TABLE_CODECS, profile,
        f"Codecs (RaBitQ, OPQ+PQ, PQ fast-scan, TurboQuant, OSQ, binary fixes): nDCG@10 change vs float32 with 95 % "
        f"bootstrap CI ({weighting}-weighted); bytes count every tier; '@set' = the training set. {sets} "
        f"Configurations not scored on all of them (a codec that cannot train on a small corpus) are left out "
        f"here and listed in {artifacts.CODECS_DROPPED}.csv.")
    files |= {f"tests_{k}": v for k, v in report.write_table(
        tests, artifacts.CODECS_EQUAL_BYTES, profile,
        f"Each family's best configuration within the bytes of sign binary / int8, paired nDCG@10 difference "
        f"with 95 % CI. {sets}").items()}
    training = training_set_tests(summary, tidy, per_query, weighting, n_resamples, seed)
    files |= {f"training_{k}": v for k, v in report.write_table(
        training, artifacts.CODECS_TRAINING, profile,
        f"Where a codec is trained: the same codec trained on the corpus (self), on the pool (the model's other "
        f"collections, two-fold cross-fitting) and on the fit set, paired nDCG@10 difference with 95 % CI, over "
        f"the held-out collections both were scored on (their number: column collections; all of them: "
        f"{sets})").items()}
    files["collection_sets"] = set_file
    files["dropped"] = atomic_write(dirs["results"] / "tables" / f"{artifacts.CODECS_DROPPED}.csv",
                                    lambda p: dropped_table(summary, tidy).to_csv(p, index=False))
    best = best_by_ratio(summary, tidy, per_query, weighting, n_resamples=n_resamples, seed=seed)
    files |= {f"best_{k}": v for k, v in report.write_table(
        best, artifacts.CODECS_BEST, profile,
        f"The best codec configuration at each compression ratio (every tier counted; training set: where it was "
        f"trained), its nDCG@10 change vs float32 with 95 % CI, and how many others at that ratio are not "
        f"significantly worse than it (paired 95 % CI). {sets}").items()}
    peers = peer_tests(summary, tidy, per_query, weighting, n_resamples, seed)
    files["peers"] = atomic_write(dirs["results"] / "tables" / f"{artifacts.CODECS_PEERS}.csv",
                                  lambda p: peers.to_csv(p, index=False, float_format="%.6g"))
    files |= {f"peers_{k}": v for k, v in report.write_table(
        peers_table(peers), artifacts.CODECS_PEERS_TABLE, profile,
        f"Peers' published claims on our models and collections: the best configuration A of the codec a claim "
        f"names against B, paired nDCG@10 difference A − B with 95 % CI (better / worse: the CI excludes 0). "
        f"{sets}").items()}
    return CodecsOutput(summary, table, tests, figures, files)
