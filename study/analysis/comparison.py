"""The study's one comparison rule: like for like, and never in-sample.

Every average that judges configurations against each other (a table, a figure, the frontier,
``study select``, a scorecard check, a macro, a notebook conclusion) goes through this module:

1. **Held out only.** A collection named in a configuration's ``fit_on`` (the reducer was fit on
   it) or ``calibrate_on`` (the format's ranges were taken from it) is *in-sample* for that
   configuration; its rows are left out of every average that judges it. ``self`` (fit or
   calibrated on the stored corpus itself, the queries unseen: what a deployment does) and
   ``none`` name no other collection and leave nothing out.
2. **Like for like.** Configurations are compared on the collections *all* of them were scored
   on, held out (``policy="shared"``, the default) — or, for the trade-off frontier, on the
   widest set the model's float32 baseline was scored on, held out for every candidate, leaving
   out the configurations not scored on all of it (``policy="widest"``; they are named).
3. **Say which.** The set is a ``CollectionSet``: its names, what was left out and why, and a
   sentence (``describe``) that captions, tables and conclusions print.

A configuration found in several stage files (e.g. PCA 50 % + float8 in stages 03 and 04) is one
configuration scored on the union of their collections; its duplicate rows must agree.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from study.core.errors import ParameterError, StudyError
from study.core.profiles import NONE, is_named_set

# Columns that identify a configuration of a model (``index`` only where a stage writes it).
KEY = ["reducer", "fraction", "fit_on", "format", "calibrate_on", "rescore", "query_format"]
OPTIONAL_KEY = ["index"]
KEY_DEFAULTS = {"reducer": NONE, "fraction": 1.0, "fit_on": NONE, "calibrate_on": NONE, "rescore": NONE,
                "query_format": "same", "index": NONE}
REFERENCE_COLUMNS = ("fit_on", "calibrate_on")
BASELINE = {"format": "float32", "reducer": NONE, "fraction": 1.0, "rescore": NONE, "query_format": "same"}
POLICIES = ("shared", "widest")
IN_SAMPLE = "fit/calibration set (in-sample)"


def key_columns(rows: pd.DataFrame) -> list[str]:
    """The configuration key columns of a tidy table (``index`` when present)."""
    return KEY + [c for c in OPTIONAL_KEY if c in rows.columns]


def normalise_keys(rows: pd.DataFrame) -> pd.DataFrame:
    """Tidy rows with every key column present and filled (``none``, 1.0, ``same``), fraction rounded."""
    rows = rows.copy()
    for col in key_columns(rows):
        if col in KEY_DEFAULTS:
            rows[col] = rows[col].fillna(KEY_DEFAULTS[col]) if col in rows.columns else KEY_DEFAULTS[col]
    rows["fraction"] = rows["fraction"].astype(float).round(6)
    if "overhead_bytes" not in rows.columns:
        rows["overhead_bytes"] = 0
    if "n_texts" not in rows.columns:
        rows["n_texts"] = rows.get("n_docs", 1)
    return rows


def config_key(rows: pd.DataFrame) -> pd.Series:
    """One string per row naming its configuration (without model and collection)."""
    cols = key_columns(rows)
    return rows[cols].astype(str).agg("|".join, axis=1)


def is_baseline(rows: pd.DataFrame) -> np.ndarray:
    """Rows of the float32, unreduced, single-tier, symmetric configuration (outside any index)."""
    mask = np.ones(len(rows), bool)
    for col, value in BASELINE.items():
        if col in rows.columns:
            mask &= (rows[col] == value).to_numpy()
    if "index" in rows.columns:
        mask &= (rows["index"].fillna(NONE) == NONE).to_numpy()
    return mask


def collection_name(reference: object) -> str:
    """The collection a fit/calibration value names, as the tidy ``dataset`` column names it: a path by its
    folder (``/data/mlquestions`` → ``mlquestions``), an MTEB task without ``mteb:``."""
    text = str(reference)
    if text.startswith("mteb:"):
        return text[len("mteb:"):]
    return os.path.basename(os.path.normpath(text))  # a bare name is its own basename


def named_collections(values: Iterable[object]) -> set[str]:
    """The collections named by fit_on / calibrate_on values (``none``, ``self`` and NaN name none)."""
    return {collection_name(v) for v in values if isinstance(v, str) and v and is_named_set(v)}


def in_sample_mask(rows: pd.DataFrame) -> np.ndarray:
    """True where a row's collection is the one its configuration was fit or calibrated on."""
    mask = np.zeros(len(rows), bool)
    for col in REFERENCE_COLUMNS:
        if col in rows.columns:
            named = rows[col].map(collection_name)
            mask |= (named.astype(str) == rows["dataset"].astype(str)).to_numpy()
    return mask


def deduplicate(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per model × collection × configuration × metric (the first stage file's), after checking
    that rows repeated across stage files agree; raises ``StudyError`` when they do not."""
    ident = ["model", "dataset", *key_columns(rows)] + (["metric"] if "metric" in rows.columns else [])
    dup = rows.duplicated(ident, keep=False)
    if dup.any() and "value" in rows.columns:
        spread = rows[dup].groupby(ident, dropna=False).value.agg(lambda v: float(v.max() - v.min()))
        bad = spread[spread > 1e-9]
        if len(bad):
            raise StudyError("the same configuration has different results in two stage files: "
                             f"{', '.join(map(str, bad.index[0]))} "
                             f"(difference {bad.iloc[0]:.3g}); rerun the stages of this profile")
    return rows.drop_duplicates(ident)  # keeps the first


@dataclass(frozen=True)
class CollectionSet:
    """The collections one comparison of one model averages over, and what it left out (and why)."""

    model: str
    names: tuple[str, ...]
    left_out: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.names)

    @property
    def name(self) -> str:
        """A short, stable name a caption can print instead of the members: the model, how many collections, and a
        tag of the members themselves (``minilm-l6/14-3f2a``; ``sets_table`` lists the members under it)."""
        tag = hashlib.sha1(",".join(self.names).encode()).hexdigest()[:4]
        return f"{self.model}/{len(self.names)}-{tag}"

    def describe(self, with_names: bool = True) -> str:
        """``14 collections (adi, …); left out: mlquestions (fit/calibration set (in-sample))``."""
        text = f"{len(self.names)} collection{'s' if len(self.names) != 1 else ''}"
        if with_names:
            text += f" ({', '.join(self.names)})"
        if self.left_out:
            text += "; left out: " + ", ".join(f"{d} ({why})" for d, why in sorted(self.left_out.items()))
        return text


@dataclass
class Comparison:
    """Tidy rows restricted to the like-for-like, held-out collections of each model."""

    rows: pd.DataFrame
    sets: dict[str, CollectionSet]
    dropped: dict[str, list[str]]  # model -> configuration keys left out (policy "widest")

    def describe(self, with_names: bool = True) -> str:
        """One sentence per model: ``minilm-l6: 14 collections (...)``."""
        return "; ".join(f"{m}: {s.describe(with_names)}" for m, s in self.sets.items())


def _coverage(rows: pd.DataFrame) -> dict[str, set[str]]:
    return {k: set(f.dataset) for k, f in rows.groupby("cfg_key")}


def compare_like_for_like(rows: pd.DataFrame, policy: str = "shared") -> Comparison:
    """Restrict tidy rows (several models allowed) to each model's comparison set under ``policy``.

    ``shared``: the collections every configuration in ``rows`` was scored on, held out for each;
    ``widest``: the collections the model's float32 baseline was scored on, minus every collection a
    candidate was fit or calibrated on; configurations not scored on all of them are dropped (and
    listed in ``dropped``). Raises ``StudyError`` when a model is left with no collection."""
    if policy not in POLICIES:
        raise ParameterError("policy", policy, POLICIES)
    rows = deduplicate(normalise_keys(rows))
    rows = rows.assign(cfg_key=config_key(rows).to_numpy())
    kept, sets, dropped = [], {}, {}
    for model, mine in rows.groupby("model", sort=False):
        every = set(mine.dataset)
        references = named_collections(pd.concat([mine[c] for c in REFERENCE_COLUMNS if c in mine]))
        held = mine[~in_sample_mask(mine)]
        coverage = _coverage(held)
        if policy == "shared":
            names = set.intersection(*coverage.values()) if coverage else set()
            gone: list[str] = []
        else:
            base = set(mine[is_baseline(mine)].dataset)
            names = base - references
            gone = sorted(k for k, c in coverage.items() if not names <= c)
            held = held[~held.cfg_key.isin(gone)]
        if not names:
            raise StudyError(f"{model}: the configurations compared share no held-out collection "
                             f"(scored on: {', '.join(sorted(every))}; fit/calibration sets: "
                             f"{', '.join(sorted(references)) or 'none'})")
        why = {d: IN_SAMPLE if d in references else "not scored for every configuration compared"
               for d in every - names}
        sets[str(model)] = CollectionSet(str(model), tuple(sorted(names)), why)
        dropped[str(model)] = gone
        kept.append(held[held.dataset.isin(names)])
    out = pd.concat(kept, ignore_index=True).drop(columns="cfg_key")
    return Comparison(out, sets, dropped)


def sets_sentence(sets: dict[str, CollectionSet], with_names: bool = False) -> str:
    """A caption's closing sentence naming each model's collection set (``CollectionSet.name``; with_names: its
    members too) and what was left out; the members of every named set are in ``sets_table``."""
    if not sets:
        return ""
    if with_names:
        return "Averaged per model over the same collections for every configuration: " + "; ".join(
            f"{s.name}: {s.describe()}" for s in sets.values()) + "."
    left = sorted({f"{d} ({why})" for s in sets.values() for d, why in s.left_out.items()})
    return (f"Averaged over the same collections for every configuration: set{'s' if len(sets) > 1 else ''} "
            f"{set_names(sets)}" + ("; left out: " + ", ".join(left) if left else "") + ".")


def set_names(sets: dict[str, CollectionSet]) -> str:
    """The sets' names and where their members are listed, for a caption too short for ``sets_sentence``."""
    return ", ".join(s.name for s in sets.values()) + " (members: table of collection sets)"


SET_COLUMNS = ["set", "model", "collections", "members", "left out"]


def sets_table(sets: Iterable[CollectionSet]) -> pd.DataFrame:
    """One row per distinct collection set: its name, model, size, members and what it left out (and why)."""
    rows: dict[str, dict] = {}
    for s in sets:  # the first of sets with the same members says what it left out
        rows.setdefault(s.name, {"set": s.name, "model": s.model, "collections": len(s), "members": ", ".join(s.names),
                                 "left out": ", ".join(f"{d} ({why})" for d, why in sorted(s.left_out.items()))})
    return pd.DataFrame(list(rows.values()), columns=SET_COLUMNS)
