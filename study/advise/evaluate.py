"""Each configuration of a grid searched on the user's vectors and scored per query, as the study scores it.

The pieces are the study's: ``calibrate`` and ``quantize`` (a block of rows at a time, as ``quantize_in_blocks``
encodes), the streaming cosine and Hamming searches in trec_eval's tie order, each codec's own estimator
(``Format.score``), ``fit_reducer``, the two-tier cut-off and ``final_run``. Where the study's stage would hold a
whole decoded copy of the corpus, this decodes a block (cosine search) or the candidates (rescoring) at a time:
the same numbers, bounded memory. Codecs are scored as the stage scores them (every document, a block of queries
at a time) while queries × documents is small; beyond that each is searched as its library searches it, in
bounded memory (``study.advise.search``, which says where the two can differ).

**Reuse within a run.** A format's codes are encoded once per reducer group and kept while a later unit uses them
(a format searched with both query kinds, a rescoring tier), and a first stage's top-k is searched once: a
two-tier sweep reuses the single-tier configuration's. Training, encoding and searching are deterministic, so
this changes no number.

**Quality.** Label-free: each query's top-10 against the exact float32 top-10 of the same index (``recall_at_10``)
and the share of the exact top-100 in the top-100 (``overlap_at_100``), from the exact search that *is* float32's
configuration, so float32 scores exactly 1. With judgments, the study's nDCG@10, recall@100 and MRR@10 too
(``metrics_from_relevance``, as ``study.search.exact.evaluate`` computes them).

**Resuming.** ``run_grid`` looks every configuration up in the result cache (``study.advise.store``) before it
computes anything, fits a reducer only for a group that has something left to compute, and stores each result as
soon as it is made. A two-tier first stage and its rescorings are one unit.

**Training ahead.** The PQ codecs still to compute are trained in a second process from the start
(``study.advise.prefit``), into the fit cache, where this run's ``calibrate`` finds them: the same fits, while the
first process works on the rest of the grid.

**Threads.** BLAS and faiss run on ``threads`` threads (codecs train on one, as in the study; the dense path scores
on one; the searches of ``study.advise.search`` on ``threads``, one thread per query); the count is part of the
cache key, since another count may round dot products differently.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from study.advise.grid import Grid
from study.advise.inputs import Prepared
from study.advise.prefit import training_ahead
from study.advise.search import DENSE_PAIRS, estimator_top
from study.advise.store import ResultCache, data_key
from study.compress.codecs import fixed_threads
from study.compress.formats import Params, Quantized, calibrate, get_format, quantize
from study.compress.reducers import DEFAULT_FIT_SAMPLE, SEED, Reducer, fit_reducer
from study.core.checks import check_choice
from study.core.progress import progress_bar
from study.core.vectors import normalise
from study.experiment.configs import NONE, QUERY_FORMATS, Config
from study.experiment.rescore import RESCORE_K, final_run, parse_rescore
from study.search.metrics import DEPTH, metrics_from_relevance, neighbour_recall, relevance_of_indices
from study.search.ranking import tie_rank
from study.search.streaming import (
    least_budget,
    stream_search,
    stream_search_hamming,
    transform_in_blocks,
)

STAGE = "advise"
LABEL_FREE = {"recall_at_10": 10, "overlap_at_100": DEPTH}
"""Label-free metric → depth: the share of the exact float32 top-``depth`` found in the top-``depth``."""
SEARCH_BLOCK_BYTES = 256 << 20  # ``study.search.exact.search``'s working memory
HAMMING_BLOCK_BYTES = 64 << 20  # ``study.search.hamming.hamming_search``'s
RERANK_BLOCK_BYTES = 64 << 20  # ``study.experiment.rescore.rerank``'s
QUANTIZE_BLOCK_ROWS = 16384  # rows encoded per call by a faiss codec (which spreads a call over its threads)
ENCODE_BLOCK_VALUES = 1 << 18
"""About the values encoded per call by the numpy formats without a rotation: their many passes over a block then
run in cache (OSQ's interval search 3-4x faster than in blocks of ``QUANTIZE_BLOCK_ROWS``)."""
ENCODE_BLOCK_ALIGN = 64
"""Their blocks are a multiple of this many rows, as ``QUANTIZE_BLOCK_ROWS`` is: BLAS' matrix-vector kernels sum a
row in another order at another position modulo their unrolling (OSQ's ⟨x, c⟩; measured: blocks of 341 rows change
the codes of 37 rows in 32,768, blocks of 320 none), so every row gets the codes of ``QUANTIZE_BLOCK_ROWS`` blocks."""
TRANSFORM_BLOCK_ROWS = 65536


# --- searching ---------------------------------------------------------------------------------------------


@dataclass
class Searching:
    """What every search of a run shares: the documents' ids and tie ranks, whether long steps show a progress bar,
    and the size up to which codecs are scored densely (``study.advise.search``)."""

    doc_ids: list[str]
    rank: np.ndarray
    progress: bool = False
    dense_pairs: int = DENSE_PAIRS

    @classmethod
    def of(cls, doc_ids: list[str], progress: bool = False, dense_pairs: int = DENSE_PAIRS) -> Searching:
        return cls(doc_ids, tie_rank(doc_ids), progress, dense_pairs)


def cosine_top(queries: np.ndarray, docs: np.ndarray | Quantized, rank: np.ndarray, k: int,
               progress: bool = False) -> np.ndarray:
    """``study.search.exact.search(queries, decoded docs, doc_ids, k)``'s indices, decoding a block at a time
    (``rank``: the ids' tie ranks, ``tie_rank``)."""
    n, dims = (docs.n, docs.dims) if isinstance(docs, Quantized) else docs.shape
    budget = max(SEARCH_BLOCK_BYTES, least_budget(len(queries), n, dims, k, raw_row_bytes=4 * dims))
    return stream_search(queries, docs, k=k, memory_budget=budget, rank=rank, progress=progress).indices


def hamming_top(query_bits: np.ndarray, doc_bits: np.ndarray, rank: np.ndarray, k: int) -> np.ndarray:
    """``study.search.hamming.hamming_search(query_bits, doc_bits, doc_ids, k)``'s indices (the same plan)."""
    words = -(-query_bits.shape[1] // 8)
    least = least_budget(len(query_bits), len(doc_bits), 8 * words, k, hamming=True, raw_row_bytes=doc_bits[:1].nbytes)
    return stream_search_hamming(query_bits, doc_bits, k=k, memory_budget=max(HAMMING_BLOCK_BYTES, least),
                                 rank=rank).indices


def ranked(cfg: Config, packed: Quantized, queries: np.ndarray, params: Params, searching: Searching,
           k: int = DEPTH) -> np.ndarray:
    """The top-k document indices of every query for ``cfg`` (what ``configs.search_inputs`` searches)."""
    check_choice("query_format", cfg.query_format, QUERY_FORMATS)
    q = np.asarray(queries, dtype=np.float32)
    rank = searching.rank
    if packed.format.score is not None:
        return estimator_top(packed, q, cfg.query_format, searching.doc_ids, rank, k, searching.dense_pairs,
                             searching.progress)
    if cfg.query_format == "float32":
        return cosine_top(q, packed, rank, k)
    packed_queries = quantize(q, cfg.format, params)
    if packed.format.similarity == "hamming":
        return hamming_top(packed_queries.packed, packed.packed, rank, k)
    return cosine_top(packed_queries.decode(), packed, rank, k)


def rerank_rows(candidates: np.ndarray, queries: np.ndarray, rows_of: Callable[[np.ndarray], np.ndarray],
                rank: np.ndarray) -> np.ndarray:
    """``study.experiment.rescore.rerank`` with the second tier's vectors of the candidates only (``rows_of``: the
    decoded rows of given documents): the same scores and order, without a decoded copy of the corpus."""
    q = normalise(np.asarray(queries, dtype=np.float32))
    dims = q.shape[1]
    rows = max(1, RERANK_BLOCK_BYTES // max(1, 4 * candidates.shape[1] * dims))
    out = np.empty_like(candidates)
    for start in range(0, len(q), rows):
        cand = candidates[start : start + rows]
        d = normalise(rows_of(cand.reshape(-1))).reshape(*cand.shape, dims)
        scores = np.matmul(d, q[start : start + rows, :, None])[..., 0]
        order = np.lexsort((-rank[cand], -scores), axis=-1)
        out[start : start + rows] = np.take_along_axis(cand, order, axis=1)
    return out


# --- scoring -----------------------------------------------------------------------------------------------


def scores(indices: np.ndarray, reference: np.ndarray, data: Prepared) -> pd.DataFrame:
    """Per query: the label-free metrics against ``reference`` (the exact float32 top-100), and the study's metrics
    where there are judgments."""
    out = pd.DataFrame({"query_id": data.query_ids})
    for metric, depth in LABEL_FREE.items():
        out[metric] = neighbour_recall(indices[:, :depth], reference[:, :depth])
    if data.qrels is not None:
        rows = [data.qrels[q] for q in data.query_ids]
        judged = metrics_from_relevance(data.query_ids, relevance_of_indices(indices, data.doc_ids, rows), rows)
        out = pd.concat([out, judged.drop(columns="query_id")], axis=1)
    return out


def tidy_of(cfg: Config, per_query: pd.DataFrame, data: Prepared, dims: int, bytes_per_vector: float,
            overhead_bytes: int, extra: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(tidy rows, one per metric, in the study's schema; per-query scores keyed like the stage's)."""
    base = asdict(cfg) | {"stage": STAGE, "dims": dims, "bytes_per_vector": float(bytes_per_vector),
                          "overhead_bytes": int(overhead_bytes), "compression_ratio": 4 * data.dims / bytes_per_vector,
                          "n_queries": len(per_query), "n_docs": len(data.doc_ids),
                          "n_texts": len(data.doc_ids) + len(data.query_ids), "config_id": cfg.id} | (extra or {})
    metrics = [c for c in per_query.columns if c != "query_id"]
    tidy = pd.DataFrame([base | {"metric": m, "value": float(per_query[m].mean())} for m in metrics])
    pq = per_query.copy()
    pq.insert(0, "config_id", cfg.id)
    pq.insert(1, "dataset", cfg.dataset)
    pq.insert(2, "split", cfg.split)
    return tidy, pq


# --- one reducer's view of the data --------------------------------------------------------------------------


class View:
    """The index, queries and training sample through one reducer (or none), reduced on first use; the codes of a
    format, kept while a later unit of the group uses them (``plan``, ``done``), and each first stage's top-k: a
    two-tier sweep reuses the single-tier configuration's search of the same codes (the same numbers: training,
    codes and searches are deterministic)."""

    def __init__(self, data: Prepared, cfg: Config, searching: Searching | None = None) -> None:
        self.data, self.cfg = data, cfg
        self.searching = searching or Searching.of(data.doc_ids)
        self.reducer: Reducer | None = None
        self.seconds = 0.0
        self._vectors: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._codes: dict[str, tuple[Quantized, Params]] = {}
        self._uses: Counter[str] = Counter()
        self._found: dict[tuple[str, str, int], tuple[np.ndarray, float, int]] = {}

    def _reduce(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        data, cfg = self.data, self.cfg
        if cfg.reducer == NONE:
            return data.docs, data.queries, data.training
        start = time.perf_counter()
        self.reducer = fit_reducer(cfg.reducer, data.training, cfg.fraction, fit_sample=DEFAULT_FIT_SAMPLE, seed=SEED)
        docs = transform_in_blocks(self.reducer.transform, data.docs, block_rows=TRANSFORM_BLOCK_ROWS)
        training = docs if data.training is data.docs else np.asarray(self.reducer.transform(data.training),
                                                                      dtype=np.float32)
        queries = np.asarray(self.reducer.transform(data.queries), dtype=np.float32)
        self.seconds = time.perf_counter() - start
        return docs, queries, training

    @property
    def vectors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(documents, queries, training sample), reduced."""
        if self._vectors is None:
            self._vectors = self._reduce()
        return self._vectors

    @property
    def overhead_bytes(self) -> int:
        return self.reducer.overhead_bytes if self.reducer is not None else 0

    def plan(self, units: list[tuple[Config, list[Config]]]) -> None:
        """Count the units of the group that use each format's codes."""
        for first, members in units:
            self._uses.update(unit_formats(first, members))

    def done(self, first: Config, members: list[Config]) -> None:
        """A unit is finished (computed or from the cache): codes no later unit uses are dropped."""
        for fmt in unit_formats(first, members):
            self._uses[fmt] -= 1
            if self._uses[fmt] <= 0:
                self._codes.pop(fmt, None)

    def encoded(self, fmt: str) -> tuple[Quantized, Params]:
        """The documents' codes in ``fmt``, trained on the training sample; float32's are the documents' own bytes."""
        if fmt not in self._codes:
            docs, _, training = self.vectors
            self._codes[fmt] = _packed(fmt, docs, training, self.searching.progress)
        return self._codes[fmt]

    def top(self, cfg: Config, k: int = DEPTH) -> tuple[np.ndarray, float, int]:
        """(``cfg``'s top-k per query, its codes' bytes per vector, their bytes stored once), searched once per
        (format, query format, k) in the group."""
        key = (cfg.format, cfg.query_format, k)
        if key not in self._found:
            packed, params = self.encoded(cfg.format)
            indices = ranked(cfg, packed, self.vectors[1], params, self.searching, k)
            self._found[key] = (indices, packed.bytes_per_vector, packed.overhead_bytes)
        return self._found[key]


def unit_formats(first: Config, members: list[Config]) -> list[str]:
    """The formats whose codes a unit encodes: its first stage's (none for float32's own reference) and its
    rescoring tiers' (float32's rows are the documents themselves)."""
    if members[0].rescore == NONE:
        return [] if _is_reference(first) else [first.format]
    tiers = dict.fromkeys(parse_rescore(c.rescore).format for c in members)
    return [first.format, *(t for t in tiers if t != "float32")]


def _is_reference(cfg: Config) -> bool:
    return cfg.format == "float32" and cfg.reducer == NONE and cfg.query_format == "same"


def _packed(fmt: str, docs: np.ndarray, training: np.ndarray, progress: bool = False) -> tuple[Quantized, Params]:
    """(codes of ``docs`` in ``fmt``, its parameters). float32's codes are the documents' bytes, not copied: the
    bytes ``quantize`` would write."""
    if fmt == "float32" and docs.dtype == np.float32 and docs.flags.c_contiguous:
        return Quantized(get_format(fmt), docs.view(np.uint8), {}, docs.shape[1]), {}
    params = calibrate(fmt, training) if get_format(fmt).needs_calibration else {}
    return encode(docs, fmt, params, encode_block_rows(params, docs.shape[1]), progress), params


def encode(docs: np.ndarray, fmt: str, params: Params, block_rows: int, progress: bool = False) -> Quantized:
    """``study.search.streaming.quantize_in_blocks(docs, fmt, params, block_rows)`` (the same blocks, so the same
    codes), with a progress bar that leaves no line behind."""
    n, dims = docs.shape
    width = quantize(np.zeros((1, dims), np.float32), fmt, params).packed.shape[1]
    out = np.empty((n, width), dtype=np.uint8)
    for start in progress_bar(range(0, n, block_rows), desc=f"encode {fmt}", unit="block", leave=False,
                              disable=not progress):
        out[start : start + block_rows] = quantize(docs[start : start + block_rows], fmt, params).packed
    return Quantized(get_format(fmt), out, params, dims)


def encode_block_rows(params: Params, dims: int) -> int:
    """Rows per encoding call: ``QUANTIZE_BLOCK_ROWS`` for a faiss codec or a rotation (one large product is faster),
    else about ``ENCODE_BLOCK_VALUES`` values in a multiple of ``ENCODE_BLOCK_ALIGN`` rows."""
    if "index" in params or "rotation" in params:
        return QUANTIZE_BLOCK_ROWS
    return max(1, ENCODE_BLOCK_VALUES // max(1, dims) // ENCODE_BLOCK_ALIGN) * ENCODE_BLOCK_ALIGN


def evaluate_alone(cfg: Config, view: View, data: Prepared, reference: np.ndarray
                   ) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """One single-tier configuration: trained on the (reduced) training sample, encoded, searched, scored. float32
    unreduced with queries alike is the exact search itself (the reference)."""
    dims = view.vectors[0].shape[1]
    if _is_reference(cfg):
        return [tidy_of(cfg, scores(reference, reference, data), data, dims, 4 * dims, 0)]
    indices, bytes_per_vector, overhead = view.top(cfg)
    return [tidy_of(cfg, scores(indices, reference, data), data, dims, bytes_per_vector,
                    overhead + view.overhead_bytes)]


def _tier(tier: str, view: View) -> tuple[Callable[[np.ndarray], np.ndarray], float, int]:
    """(the decoded rows of given documents, bytes per vector, bytes stored once) of a rescoring tier. float32's rows
    are the documents themselves (its codes decode to the same values)."""
    docs = view.vectors[0]
    if tier == "float32":
        return (lambda rows: docs[rows]), quantize(docs[:1], tier).bytes_per_vector, 0
    packed, _ = view.encoded(tier)
    return ((lambda rows: packed.format.decode(packed.packed[rows], packed.params, packed.dims)),
            packed.bytes_per_vector, packed.overhead_bytes)


def evaluate_sweep(first: Config, members: list[Config], view: View, data: Prepared, reference: np.ndarray,
                   rank: np.ndarray, rescore_k: int = RESCORE_K) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """A first stage searched once, at depth ``max(100, k · max m)``, re-ranked by each of its members' tiers ×
    oversampling (``study.experiment.rescore.rescore_sweep``), in the members' order."""
    docs, queries, _ = view.vectors
    specs = [parse_rescore(c.rescore) for c in members]
    found, first_bytes, first_overhead = view.top(first, k=max(DEPTH, rescore_k * max(s.oversample for s in specs)))
    tiers = {tier: _tier(tier, view) for tier in dict.fromkeys(s.format for s in specs)}
    out = []
    for cfg, spec in zip(members, specs, strict=True):
        rows_of, tier_bytes, tier_overhead = tiers[spec.format]
        run = final_run(found, rerank_rows(found[:, : rescore_k * spec.oversample], queries, rows_of, rank))
        extra = {"rescore_format": spec.format, "oversample": spec.oversample,
                 "candidates": min(rescore_k * spec.oversample, len(data.doc_ids)),
                 "rescore_bytes_per_vector": tier_bytes}
        out.append(tidy_of(cfg, scores(run, reference, data), data, docs.shape[1], first_bytes,
                           first_overhead + tier_overhead + view.overhead_bytes, extra))
    return out


# --- the grid ------------------------------------------------------------------------------------------------


@dataclass
class Results:
    """Tidy rows and per-query scores in plan order, how many configurations were computed or found in the cache,
    and the seconds each unit took when it was computed (``timings``)."""

    tidy: pd.DataFrame
    per_query: pd.DataFrame
    computed: int
    cached: int
    timings: pd.DataFrame = field(default_factory=pd.DataFrame)
    reference: np.ndarray | None = None  # the exact float32 top-100 (rows of the index)


def groups(configs: list[Config]) -> list[list[tuple[Config, list[Config]]]]:
    """Units of work by reducer (in order of first appearance), each unit (first stage, its configurations): a
    single-tier configuration alone, the two-tier ones sharing a first stage together, at the position of the
    first of them."""
    units: dict[tuple, tuple[Config, list[Config]]] = {}
    for cfg in configs:
        first = cfg if cfg.rescore == NONE else replace(cfg, rescore=NONE, calibrate_on=NONE)
        units.setdefault((cfg.rescore != NONE, first), (first, []))[1].append(cfg)
    out: dict[tuple, list] = {}
    for first, members in units.values():
        out.setdefault((first.reducer, first.fraction, first.fit_on), []).append((first, members))
    return list(out.values())


def settings(threads: int, rescore_k: int) -> dict:
    """What decides the numbers besides the data and the code (part of the cache key)."""
    return {"threads": threads, "rescore_k": rescore_k, "fit_sample": DEFAULT_FIT_SAMPLE, "reducer_seed": SEED,
            "quantize_block_rows": QUANTIZE_BLOCK_ROWS, "encode_block_values": ENCODE_BLOCK_VALUES,
            "encode_block_align": ENCODE_BLOCK_ALIGN,
            "transform_block_rows": TRANSFORM_BLOCK_ROWS,
            "dense_pairs": DENSE_PAIRS}


def _first_of(first: Config, members: list[Config]) -> Config:
    """The first stage of a sweep, trained on the set its members name (``runner._sweep``'s rule)."""
    named = sorted({c.calibrate_on for c in members} - {NONE}) or [NONE]
    return replace(first, calibrate_on=named[0])


@dataclass
class _Run:
    """What ``run_grid`` shares between units: the data, the reference, the tie ranks, the cache, the tallies."""

    data: Prepared
    reference: np.ndarray
    searching: Searching
    cache: ResultCache | None
    rescore_k: int
    rows: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = field(default_factory=dict)
    timings: list[dict] = field(default_factory=list)
    computed: int = 0
    cached: int = 0

    def unit(self, first: Config, members: list[Config], view: View) -> None:
        """One unit from the cache if every configuration of it is there, else computed and stored."""
        found = [self.cache.load(c.id) if self.cache is not None else None for c in members]
        if all(f is not None for f in found):
            self.cached += len(members)
            view.done(first, members)
        else:
            start = time.perf_counter()
            if members[0].rescore == NONE:
                found = evaluate_alone(first, view, self.data, self.reference)
            else:
                found = evaluate_sweep(_first_of(first, members), members, view, self.data, self.reference,
                                       self.searching.rank, self.rescore_k)
            view.done(first, members)
            self.timings.append({"configuration": members[0].id, "configurations": len(members),
                                 "seconds": time.perf_counter() - start, "reducer_seconds": view.seconds})
            view.seconds = 0.0
            self.computed += len(members)
            for cfg, (rows, pq) in zip(members, found, strict=True):
                if self.cache is not None:
                    self.cache.store(cfg.id, rows, pq)
        for cfg, result in zip(members, found, strict=True):
            self.rows[cfg.id] = result


def exact_reference(data: Prepared, searching: Searching | None = None) -> np.ndarray:
    """The exact float32 top-100 of every query over the index (float32's own configuration):
    ``study.search.exact.search``, with its plan."""
    searching = searching or Searching.of(data.doc_ids)
    return cosine_top(data.queries, data.docs, searching.rank, DEPTH, searching.progress)


def _all_cached(cache: ResultCache | None, members: list[Config]) -> bool:
    return cache is not None and all(cache.load(c.id) is not None for c in members)


def run_grid(grid: Grid, data: Prepared, cache: ResultCache | None = None, threads: int = 1,
             rescore_k: int = RESCORE_K, progress: bool = True) -> Results:
    """Every configuration of ``grid`` on ``data``: from the cache where it holds it, else computed and stored. A
    reducer's view lives while its configurations are evaluated."""
    bar = progress_bar(total=len(grid.configs), desc=f"advise {data.name}", unit="config", disable=not progress)
    searching = Searching.of(data.doc_ids, progress)
    ahead = [first.format for group in groups(grid.configs) for first, members in group
             if first.reducer == NONE and not _all_cached(cache, members)]
    with training_ahead(ahead, data.training, threads), fixed_threads(threads):
        reference = (cache.array("reference", lambda: exact_reference(data, searching)) if cache
                     else exact_reference(data, searching))
        run = _Run(data, reference, searching, cache, rescore_k)
        for group in groups(grid.configs):
            view = View(data, group[0][0], searching)
            view.plan(group)
            for first, members in group:
                run.unit(first, members, view)
                bar.update(len(members))
            del view
    bar.close()
    order = [c.id for c in grid.configs]
    return Results(pd.concat([run.rows[i][0] for i in order], ignore_index=True),
                   pd.concat([run.rows[i][1] for i in order], ignore_index=True), run.computed, run.cached,
                   pd.DataFrame(run.timings), reference)


def cache_for(folder: Path, data: Prepared, threads: int, rescore_k: int = RESCORE_K) -> ResultCache:
    """The result cache of ``data`` in ``folder``."""
    return ResultCache(Path(folder), data_key(data.docs, data.queries, data.training, data.doc_ids, data.query_ids,
                                              data.qrels, settings(threads, rescore_k)))
