"""Independent oracles for the nDCG@10 the stage notebooks write (issue 19): no code shared with ``study``.

Every number here is recomputed from the inputs alone and scored by ``pytrec_eval`` (trec_eval itself):

* judgments and ids straight from the BEIR files (``json``/``csv``), not ``study.data``;
* embeddings read as raw arrays from the embedding cache: ``<cache>/embeddings/<model>/<name>-<sha12>/<role>/
  vectors.npy`` (rows in file order), where ``sha12`` starts the sha256 of ``corpus.jsonl``, ``queries.jsonl``
  and ``qrels/*.tsv`` (sorted) read back to back, the layout ``study/encoders/cache.py`` documents;
* formats written from the paper's description (``/work/shared/reference/paper.md``) with numpy / ml_dtypes;
  reducers are scikit-learn's estimators with the paper's settings; codecs and indexes are faiss' and usearch's
  own objects, built with the parameters the notebooks print;
* scores in float64 (cosine), exact integers (Hamming) or the library's own float32 (codecs, index ranks).

**Tolerances, and why.** nDCG@10 is a step function of the ranking, so it is compared query by query.
trec_eval orders a run by score *as a C float* (single precision: pytrec_eval ties 0.5 and 0.5 + 1e-8), then by
document id descending; the study claims that order on its float32 scores. The study computes cosines in float32
(normalised rows, one GEMM), the oracle in float64, so two documents whose cosines differ by less than the
float32 rounding of a d-term dot product of unit vectors (γ_d ≈ d·2⁻²⁴: 2.3e-5 at d = 384) may be ordered
either way, and exact ties may be split. For each query the oracle gives trec_eval's nDCG@10 and the lowest and
highest nDCG@10 over the orders such near-ties allow (``Expected.low``/``high``): a query without near-ties must
match to ``TOL`` = 1e-9 (two double computations of one DCG), a query with them must fall in its range. Scores no
rounding can move are never widened: a pair with no component nonzero in both (zero vectors included, which the
study scores 0), Hamming distances, a library's own float32 scores, an index's own ranking. The tidy CSV's value
(written ``%.6g``) must be the mean of the notebook's per-query values to its six significant digits.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import ml_dtypes
import numpy as np
import pandas as pd
import pytrec_eval

REPO = Path(__file__).resolve().parents[1]
MODEL = "minilm-l6"
TOL = 1e-9
CSV_DIGITS = 5e-6  # the tidy CSV keeps 6 significant digits ("%.6g"): its values are within 5e-6 relative
K = 10
SEED = 42  # the paper's random_state for PCA and the random projection
CASTS = {"float16": np.float16, "bfloat16": ml_dtypes.bfloat16, "float8_e4m3": ml_dtypes.float8_e4m3fn,
         "float8_e5m2": ml_dtypes.float8_e5m2, "float4_e2m1": ml_dtypes.float4_e2m1fn}
PAPER_FORMATS = ["float32", *CASTS, "int8", "binary"]


def float32_eps(dims: int) -> float:
    """Largest float32 rounding of a cosine of unit vectors of width ``dims`` (γ_d, plus the normalisation)."""
    return (dims + 4) * 2.0**-24


# --- the inputs: BEIR files and cached vectors --------------------------------------------------------------


@dataclass(frozen=True)
class Beir:
    """One BEIR folder read with plain Python: ids in file order, the positive judgments of one split."""

    name: str
    doc_ids: list[str]
    query_ids: list[str]
    qrels: dict[str, dict[str, int]]
    checksum: str

    @property
    def evaluated(self) -> list[str]:
        """Judged queries that have a text."""
        known = set(self.query_ids)
        return sorted(q for q in self.qrels if q in known)


def data_root() -> Path:
    value = os.environ.get("STUDY_DATA_DIR")
    return Path(value).expanduser().resolve() if value else REPO.parent / "shared" / "datasets"


def _ids(path: Path) -> list[str]:
    with open(path, "rb") as fh:
        return [str(json.loads(line)["_id"]) for line in fh if line.strip()]


def _qrels(path: Path, docs: set[str], queries: set[str]) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for n, row in enumerate(csv.reader(fh, delimiter="\t")):
            if not row or (n == 0 and row[0] == "query-id"):
                continue
            score = int(float(row[2]))
            if score > 0 and row[1] in docs and row[0] in queries:
                qrels.setdefault(row[0], {})[row[1]] = score
    return qrels


@cache
def read_beir(name: str, split: str = "test") -> Beir:
    root = data_root() / name
    files = [root / "corpus.jsonl", root / "queries.jsonl", *sorted((root / "qrels").glob("*.tsv"))]
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.read_bytes())
    doc_ids, query_ids = _ids(root / "corpus.jsonl"), _ids(root / "queries.jsonl")
    qrels = _qrels(root / "qrels" / f"{split}.tsv", set(doc_ids), set(query_ids))
    return Beir(name, doc_ids, query_ids, qrels, digest.hexdigest())


@cache
def cached(name: str, role: str, model: str = MODEL) -> np.ndarray:
    """The cached float32 vectors of a collection's documents or queries (every query, file order)."""
    beir = read_beir(name)
    folder = Path(os.environ["STUDY_CACHE_DIR"]) / "embeddings" / model / f"{name}-{beir.checksum[:12]}" / role
    vectors = np.load(folder / "vectors.npy")
    assert vectors.shape[0] == len(beir.doc_ids if role == "docs" else beir.query_ids), folder
    assert json.loads((folder / "manifest.json").read_text())["model"] == model
    return np.ascontiguousarray(vectors, dtype=np.float32)


def evaluated_queries(name: str, model: str = MODEL) -> np.ndarray:
    beir = read_beir(name)
    row = {q: i for i, q in enumerate(beir.query_ids)}
    return cached(name, "queries", model)[[row[q] for q in beir.evaluated]]


def reference_set(name: str, model: str = MODEL) -> np.ndarray:
    """The paper's calibration / fit set made of a collection: its corpus (file order), then its judged dev queries
    (by id), or all its queries (file order) when it has no dev split."""
    queries, ids = cached(name, "queries", model), read_beir(name).query_ids
    if (data_root() / name / "qrels" / "dev.tsv").exists():
        row = {q: i for i, q in enumerate(ids)}
        queries = queries[[row[q] for q in read_beir(name, "dev").evaluated]]
    return np.concatenate([cached(name, "docs", model), queries])


# --- formats, from the paper's description --------------------------------------------------------------------


def paper_int8(x: np.ndarray, calibration: np.ndarray) -> np.ndarray:
    """The paper's int8: per-dimension min/max of the calibration set, 255 steps, the uint8 cast *without*
    clipping (a value outside the range wraps: truncation toward zero, then modulo 256, what numpy's cast does on
    x86), scored on the codes themselves."""
    lo, hi = calibration.min(axis=0).astype(np.float64), calibration.max(axis=0).astype(np.float64)
    step = np.where(hi > lo, (hi - lo) / 255, 1.0)
    return np.mod(np.trunc((x - lo) / step).astype(np.int64), 256).astype(np.float64)


def paper_format(x: np.ndarray, fmt: str, calibration: np.ndarray | None = None) -> np.ndarray:
    """What the paper scores for ``fmt``: the cast and cast back, int8 codes, or the {0, 1} bits."""
    if fmt == "float32":
        return x.astype(np.float64)
    if fmt in CASTS:
        return x.astype(CASTS[fmt]).astype(np.float64)
    if fmt == "int8":
        return paper_int8(x, calibration)
    if fmt == "binary":
        return (x > 0).astype(np.float64)
    raise KeyError(fmt)


def centred_int(x: np.ndarray, calibration: np.ndarray, bits: int) -> np.ndarray:
    """Corrected integers (``int8_clipped``, ``int4``): centre each dimension on the middle of its calibration
    range, 2^(bits-1) - 1 levels per side, round, saturate, de-quantize."""
    lo, hi = calibration.min(axis=0), calibration.max(axis=0)
    centre, half = ((lo + hi) / 2).astype(np.float32), ((hi - lo) / 2).astype(np.float32)
    levels = 2 ** (bits - 1) - 1
    step = np.where(half > 0, half.astype(np.float64) / levels, 1.0)
    codes = np.clip(np.rint((x - centre.astype(np.float64)) / step), -levels, levels)
    return (codes * step + centre).astype(np.float32).astype(np.float64)


def float4_scaled(x: np.ndarray) -> np.ndarray:
    """float4 E2M1 after a per-vector absmax scale (stored as float16) maps each vector onto ±6."""
    absmax = np.abs(x).max(axis=1).astype(np.float16).astype(np.float32)
    absmax = np.where(absmax > 0, absmax, np.float32(1))
    y = np.clip(x * (np.float32(6) / absmax)[:, None], -6, 6)
    return y.astype(ml_dtypes.float4_e2m1fn).astype(np.float64) * (absmax / 6)[:, None]


def unit(x: np.ndarray) -> np.ndarray:
    """float32 L2-normalised rows (codecs and truncation work on unit vectors)."""
    x = np.asarray(x, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# --- reducers: scikit-learn's, with the paper's settings -------------------------------------------------------


def fitted_reducer(method: str, fit: np.ndarray, dims: int, fraction: float,
                   sample: int | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """``round(D × fraction)`` components, fit on ``fit`` (kernel PCA on a seeded subsample of ``sample`` rows).

    Fit and transform on one BLAS thread, as the study's runner does (``study.experiment.runner``): scikit-learn
    picks its randomized SVD for PCA here (as for the paper), whose components moved by up to 1.4e-4 (relative)
    between one and two OpenBLAS threads on time's fit set, enough to change float8 and sign-bit codes and
    per-query nDCG@10."""
    from sklearn.decomposition import PCA, KernelPCA
    from sklearn.random_projection import GaussianRandomProjection
    from threadpoolctl import threadpool_limits

    k = round(dims * fraction)
    if method == "truncation":
        return lambda x: unit(x[:, :k])
    if method == "pca":
        estimator = PCA(n_components=k, whiten=False, random_state=SEED)
    elif method == "random_projection":
        estimator = GaussianRandomProjection(n_components=k, random_state=SEED)
    elif method == "kpca_cosine":
        estimator = KernelPCA(n_components=k, kernel="cosine", random_state=SEED)
        if sample is not None and len(fit) > sample:
            fit = fit[np.sort(np.random.default_rng(SEED).choice(len(fit), size=sample, replace=False))]
    else:
        raise KeyError(method)
    with threadpool_limits(limits=1):
        estimator.fit(fit)

    def transform(x: np.ndarray) -> np.ndarray:
        with threadpool_limits(limits=1):
            return np.asarray(estimator.transform(x), dtype=np.float32)

    return transform


# --- scores and trec_eval ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    """A full run (evaluated queries × documents): its scores, which of them any arithmetic gives exactly
    (``exact``: no rounding can move them), and how far the study's float32 may move the others (``eps``)."""

    values: np.ndarray
    exact: np.ndarray
    eps: float = 0.0

    @classmethod
    def exactly(cls, values: np.ndarray) -> Scores:
        """Scores the study computes exactly as well (integers, a library's own float32 output)."""
        return cls(np.asarray(values, dtype=np.float64), np.ones(np.shape(values), dtype=bool))


def cosines(queries: np.ndarray, docs: np.ndarray) -> Scores:
    """float64 cosines; a zero or non-finite vector scores 0 (the study's rule). A pair with no component nonzero
    in both scores exactly 0 in any arithmetic; every other cosine is within float32 rounding of the study's."""

    def rows(x: np.ndarray) -> np.ndarray:
        x = np.where(np.isfinite(x).all(axis=1, keepdims=True), x, 0.0).astype(np.float64)
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)

    q, d = rows(queries), rows(docs)
    shared = (q != 0).astype(np.int64) @ (d != 0).astype(np.int64).T
    return Scores(q @ d.T, shared == 0, float32_eps(q.shape[1]))


def minus_hamming(query_bits: np.ndarray, doc_bits: np.ndarray) -> Scores:
    """-(number of differing bits) between boolean codes, exact."""
    q, d = query_bits.astype(np.int64), doc_bits.astype(np.int64)
    return Scores.exactly(-(q @ (1 - d).T + (1 - q) @ d.T))


@dataclass(frozen=True)
class Expected:
    """The oracle's nDCG@10 per query (trec_eval's) and the range near-tied orders allow."""

    ndcg: dict[str, float]
    low: dict[str, float]
    high: dict[str, float]

    @property
    def mean(self) -> float:
        return float(np.mean(list(self.ndcg.values())))

    @property
    def ambiguous(self) -> list[str]:
        return [q for q in self.ndcg if self.high[q] - self.low[q] > TOL]


def trec_ndcg(run: dict[str, dict[str, float]], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """nDCG@10 of every query of ``run`` as trec_eval computes it (``ndcg_cut_10``)."""
    evaluator = pytrec_eval.RelevanceEvaluator({q: qrels[q] for q in run}, {"ndcg_cut_10"})
    return {q: v["ndcg_cut_10"] for q, v in evaluator.evaluate(run).items()}


def trec_order(scores: np.ndarray, ids: list[str]) -> np.ndarray:
    """trec_eval's order of one run: score high first (as a C ``float``: trec_eval keeps scores in single
    precision, so closer scores tie), then document id descending."""
    by_id = np.argsort(np.asarray(ids, dtype=object))[::-1]
    return by_id[np.argsort(-scores[by_id].astype(np.float32), kind="stable")]


def _dcg(gains: np.ndarray) -> float:
    top = gains[:K]
    return float((top / np.log2(np.arange(2, len(top) + 2))).sum())


def _groups(s: np.ndarray, exact: np.ndarray, eps: float) -> np.ndarray:
    """Group number of each position of a descending run: a score that is not exact may land anywhere within
    ``eps`` of itself, so the positions it can reach form one group (overlapping reaches merge)."""
    links = np.zeros(len(s) + 1, dtype=np.int64)
    s = np.minimum.accumulate(s)  # float32 ties may leave float64 values a hair out of order
    if eps > 0:
        loose = -s[~exact]
        np.add.at(links, np.searchsorted(-s, loose - eps, side="left"), 1)
        np.add.at(links, np.searchsorted(-s, loose + eps, side="right") - 1, -1)
    linked = np.cumsum(links)[: len(s) - 1] > 0
    return np.concatenate([[0], np.cumsum(~linked)])


def _range(scores: np.ndarray, exact: np.ndarray, ids: list[str], judged: dict[str, int], eps: float
           ) -> tuple[float, float, float]:
    """(nDCG@10 in trec order, lowest, highest over the orders near-ties allow)."""
    order = trec_order(scores, ids)
    g = np.array([judged.get(ids[j], 0) for j in order], dtype=np.float64)
    group = _groups(scores[order], exact[order], eps)
    ideal = _dcg(np.sort(np.array(list(judged.values()), dtype=np.float64))[::-1])
    worst, best = g[np.lexsort((g, group))], g[np.lexsort((-g, group))]
    return _dcg(g) / ideal, _dcg(worst) / ideal, _dcg(best) / ideal


def expected(scores: Scores, beir: Beir, kept: np.ndarray | None = None) -> Expected:
    """trec_eval's nDCG@10 of the run ``scores`` (only the documents ``kept`` per query, default all), and the
    range its near-ties allow."""
    kept = np.ones(scores.values.shape, dtype=bool) if kept is None else kept
    ids = np.asarray(beir.doc_ids, dtype=object)
    runs = {q: (list(ids[m]), v[m], e[m]) for q, v, e, m in
            zip(beir.evaluated, scores.values, scores.exact, kept, strict=True)}
    ndcg = trec_ndcg({q: dict(zip(i, map(float, v), strict=True)) for q, (i, v, _) in runs.items()}, beir.qrels)
    low, high = {}, {}
    for q, (i, v, e) in runs.items():
        mine, low[q], high[q] = _range(v, e, i, beir.qrels[q], scores.eps)
        assert abs(mine - ndcg[q]) <= TOL, (q, mine, ndcg[q])  # our reading of trec_eval's order is its own
    return Expected(ndcg, low, high)


def expected_ranking(indices: np.ndarray, beir: Beir) -> Expected:
    """A library's own ranking scored as it is (rank r gets score K - r; -1 = no result)."""
    run = {q: {beir.doc_ids[i]: float(K - r) for r, i in enumerate(row) if i >= 0}
           for q, row in zip(beir.evaluated, indices, strict=True)}
    ndcg = trec_ndcg(run, beir.qrels)
    return Expected(ndcg, ndcg, ndcg)


def rescored(first: Scores, second: Scores, beir: Beir, candidates: int) -> Expected:
    """Two stages: trec_eval's first ``candidates`` of the exact first-stage run, re-ranked by ``second``
    (nDCG@10 sees only the re-ranked head while ``candidates`` ≥ 10)."""
    assert first.exact.all() and candidates >= K
    kept = np.zeros(first.values.shape, dtype=bool)
    for row, values in zip(kept, first.values, strict=True):
        row[trec_order(values, beir.doc_ids)[:candidates]] = True
    return expected(second, beir, kept)


# --- the notebook's numbers against the oracle --------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One configuration of a notebook (the tidy columns that pick its row) and the oracle's numbers for it."""

    where: dict[str, object]
    expected: Expected


@dataclass(frozen=True)
class Outcome:
    where: dict[str, object]
    notebook: float
    oracle: float
    ambiguous: int


def notebook_results(output_dir: Path, stem: str, profile: str = "tiny") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per configuration with its nDCG@10 in ``ndcg``, per-query scores) as the notebook saved them."""
    folder = output_dir / "results" / profile
    table = pd.read_csv(folder / f"{stem}.csv")
    if "metric" in table:
        table = table[table.metric == "ndcg_at_10"].rename(columns={"value": "ndcg"})
    else:
        table = table.rename(columns={"ndcg_at_10": "ndcg"})
    return table, pd.read_parquet(folder / f"{stem}-per-query.parquet")


def _row(table: pd.DataFrame, where: dict[str, object]) -> pd.Series:
    rows = table
    for column, value in where.items():
        rows = rows[np.isclose(rows[column], value)] if isinstance(value, float) else rows[rows[column] == value]
    assert len(rows) == 1, f"{len(rows)} notebook rows for {where}"
    return rows.iloc[0]


def check_case(table: pd.DataFrame, per_query: pd.DataFrame, case: Case) -> Outcome:
    """The notebook's per-query nDCG@10 equal the oracle's (within the near-tie range where there is one), and
    its table value is their mean."""
    row = _row(table, case.where)
    ours = per_query[per_query.config_id == row.config_id].set_index("query_id").ndcg_at_10
    exp = case.expected
    assert sorted(ours.index) == sorted(exp.ndcg), f"{case.where}: other queries than the oracle's"
    for q, value in ours.items():
        if q in exp.ambiguous:
            assert exp.low[q] - TOL <= value <= exp.high[q] + TOL, (case.where, q, value, exp.low[q], exp.high[q])
        else:
            assert abs(value - exp.ndcg[q]) <= TOL, (case.where, q, value, exp.ndcg[q])
    assert abs(row.ndcg - ours.mean()) <= CSV_DIGITS * abs(ours.mean()) + TOL, (case.where, row.ndcg, ours.mean())
    return Outcome(case.where, float(row.ndcg), exp.mean, len(exp.ambiguous))


def check_notebook(output_dir: Path, stem: str, cases: Iterable[Case]) -> list[Outcome]:
    """Check every case against the notebook's saved results; the outcomes, for the test's report."""
    table, per_query = notebook_results(output_dir, stem)
    outcomes = [check_case(table, per_query, case) for case in cases]
    for o in outcomes:
        print(f"{stem} {o.where}: notebook {o.notebook:.6f}, oracle {o.oracle:.6f}, near-tied queries {o.ambiguous}")
    return outcomes


# --- stage oracles ----------------------------------------------------------------------------------------------


def cosine_case(where: dict[str, object], queries: np.ndarray, docs: np.ndarray, beir: Beir) -> Case:
    return Case(where, expected(cosines(queries, docs), beir))


def quantization_cases(datasets: list[str], calibrate_on: str, formats: list[str] = PAPER_FORMATS) -> list[Case]:
    """Stage 02: every paper format, queries and documents alike, cosine; int8 ranges from ``calibrate_on``."""
    calibration = reference_set(calibrate_on)
    cases = []
    for name in datasets:
        beir, docs, queries = read_beir(name), cached(name, "docs"), evaluated_queries(name)
        for fmt in formats:
            cases.append(cosine_case({"dataset": name, "format": fmt, "reducer": "none"},
                                     paper_format(queries, fmt, calibration), paper_format(docs, fmt, calibration),
                                     beir))
    return cases


def reduction_cases(datasets: list[str], fit_on: str, methods: list[str], fractions: list[float],
                    formats: list[str], fit_sample: int | None = None) -> list[Case]:
    """Stages 03/04 (``calibrate_on='self'``): each reducer fit once on ``fit_on``, then the format; int8 ranges
    from the evaluated corpus after reduction (unreduced rows: from the corpus itself)."""
    fit = reference_set(fit_on)
    reducers = [("none", 1.0, lambda x: x)] + [
        (m, f, fitted_reducer(m, fit, fit.shape[1], f, fit_sample)) for m in methods for f in fractions]
    cases = []
    for name in datasets:
        beir = read_beir(name)
        for method, fraction, reduce in reducers:
            docs, queries = reduce(cached(name, "docs")), reduce(evaluated_queries(name))
            for fmt in formats:
                cases.append(cosine_case({"dataset": name, "reducer": method, "fraction": fraction, "format": fmt},
                                         paper_format(queries, fmt, docs), paper_format(docs, fmt, docs), beir))
    return cases


def beyond_cases(datasets: list[str], paper_calibrate_on: str) -> list[Case]:
    """Stage 06: the paper's int8 on its own calibration set, the corrected formats (calibrated on the corpus),
    sign bits by Hamming distance, float32 queries against compressed documents, sign bits re-ranked by a
    second tier (float32, int8_clipped) at 1× and 4× oversampling."""
    paper_set = reference_set(paper_calibrate_on)
    cases = []
    for name in datasets:
        beir, docs, queries = read_beir(name), cached(name, "docs"), evaluated_queries(name)
        same = {"dataset": name, "query_format": "same", "rescore": "none"}
        asym = same | {"query_format": "float32"}
        int8 = centred_int(docs, docs, 8)
        hamming = minus_hamming(queries > 0, docs > 0)
        cases += [
            cosine_case(same | {"format": "int8"}, paper_int8(queries, paper_set), paper_int8(docs, paper_set), beir),
            cosine_case(same | {"format": "int8_clipped"}, centred_int(queries, docs, 8), int8, beir),
            cosine_case(same | {"format": "int4"}, centred_int(queries, docs, 4), centred_int(docs, docs, 4), beir),
            cosine_case(same | {"format": "float4_e2m1_scaled"}, float4_scaled(queries), float4_scaled(docs), beir),
            Case(same | {"format": "binary_sign"}, expected(hamming, beir)),
            cosine_case(asym | {"format": "int8_clipped"}, queries, int8, beir),
            cosine_case(asym | {"format": "binary_sign"}, queries, np.where(docs > 0, 1.0, -1.0), beir),
        ]
        for tier, tier_docs in (("float32", docs), ("int8_clipped", int8)):
            for m in (1, 4):
                cases.append(Case(same | {"format": "binary_sign", "rescore": f"{tier}x{m}"},
                                  rescored(hamming, cosines(queries, tier_docs), beir, K * m)))
    return cases


# --- stage 07: the libraries' own indexes ---------------------------------------------------------------------


@contextmanager
def one_faiss_thread():
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield faiss
    finally:
        faiss.omp_set_num_threads(before)


HNSW = {"connectivity": 16, "expansion_add": 128, "expansion_search": 64}
SQ_TYPES = {"f16": "QT_fp16", "bf16": "QT_bf16", "sq8": "QT_8bit", "sq4": "QT_4bit"}


def usearch_ranking(fmt: str, search: str, docs: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """usearch's own index (cosine; b1: Hamming on the packed x > 0 bits), HNSW or its exact scan, which converts
    float32 vectors to its dtype itself. b1's exact kind is usearch's brute-force kernel over the bit matrix
    (``usearch.index.search``), whose order among tied distances is not the ``Index`` exact path's."""
    from usearch.index import Index
    from usearch.index import search as brute_force

    if fmt == "b1" and search == "exact":
        bits = brute_force(np.packbits(docs > 0, axis=1), np.packbits(queries > 0, axis=1), K, "hamming",
                           exact=True, threads=1, dtype="b1")
        return np.asarray(bits.keys, dtype=np.int64).reshape(len(queries), -1)
    binary = fmt == "b1"
    index = Index(ndim=docs.shape[1], metric="hamming" if binary else "cos", dtype=fmt, **HNSW)
    prepare = (lambda x: np.packbits(x > 0, axis=1)) if binary else (lambda x: x)
    index.add(np.arange(len(docs), dtype=np.uint64), prepare(docs), threads=1)
    matches = index.search(prepare(queries), K, threads=1, exact=search == "exact")
    return np.asarray(matches.keys, dtype=np.int64).reshape(len(queries), -1)


def faiss_pq_bits(n_train: int) -> int:
    """8-bit sub-quantizers, fewer when the training set has under 256 vectors (one per centroid)."""
    return max(1, min(8, int(math.floor(math.log2(max(2, n_train))))))


def _faiss_flat_or_sq(faiss, fmt: str, search: str, d: int):
    ip = faiss.METRIC_INNER_PRODUCT
    if fmt == "f32":
        return faiss.IndexFlatIP(d) if search == "exact" else faiss.IndexHNSWFlat(d, HNSW["connectivity"], ip)
    qtype = getattr(faiss.ScalarQuantizer, SQ_TYPES[fmt])
    return (faiss.IndexScalarQuantizer(d, qtype, ip) if search == "exact"
            else faiss.IndexHNSWSQ(d, qtype, HNSW["connectivity"], ip))


def _faiss_ivf(faiss, fmt: str, d: int, n: int, quantizer):
    """IVF over ≈ √N lists (at most one per 39 training vectors), 1/8 of them probed."""
    ip = faiss.METRIC_INNER_PRODUCT
    nlist = max(1, min(round(math.sqrt(n)), n // 39))
    if fmt == "rabitq":
        index = faiss.IndexIVFRaBitQ(quantizer, d, nlist, ip)
        index.qb = 8
    else:
        index = faiss.IndexIVFPQ(quantizer, d, nlist, d // 8, faiss_pq_bits(n), ip)
        index.pq.cp.min_points_per_centroid = 1
    index.nprobe = max(1, math.ceil(nlist / 8))
    index.cp.min_points_per_centroid = 1
    if fmt == "pqrflat":
        refined = faiss.IndexRefineFlat(index)
        refined.k_factor = 4
        return refined, index
    return index, None


def faiss_index(faiss, fmt: str, search: str, d: int, n: int):
    """The faiss index a kind names (trained on the corpus); (index, objects it points to, kept alive)."""
    ip = faiss.METRIC_INNER_PRODUCT
    if fmt == "b1":
        return (faiss.IndexBinaryFlat(d) if search == "exact" else faiss.IndexBinaryHNSW(d, HNSW["connectivity"])), []
    if search == "ivf":
        quantizer = faiss.IndexFlatIP(d)
        index, base = _faiss_ivf(faiss, fmt, d, n, quantizer)
        return index, [quantizer, base]
    if fmt == "rabitq":
        index = faiss.IndexRaBitQ(d, ip)
        index.qb = 8
        return index, []
    if fmt == "pq":
        index = faiss.IndexPQ(d, d // 8, faiss_pq_bits(n), ip)
        index.pq.cp.min_points_per_centroid = 1
        return index, []
    return _faiss_flat_or_sq(faiss, fmt, search, d), []


def faiss_ranking(fmt: str, search: str, docs: np.ndarray, queries: np.ndarray) -> np.ndarray:
    with one_faiss_thread() as faiss:
        index, _kept = faiss_index(faiss, fmt, search, docs.shape[1], len(docs))
        if search == "hnsw":
            index.hnsw.efConstruction, index.hnsw.efSearch = HNSW["expansion_add"], HNSW["expansion_search"]
        prepare = (lambda x: np.packbits(x > 0, axis=1)) if fmt == "b1" else (lambda x: x)
        if not index.is_trained:
            index.train(docs)
        index.add(prepare(docs))
        return index.search(prepare(queries), K)[1].astype(np.int64)


def index_cases(datasets: list[str], kinds: list[str]) -> list[Case]:
    """Stage 07: each kind ``<library>-<format>-<search>`` built by its own library on the corpus, its top 10
    scored as the library ranks it."""
    cases = []
    for name in datasets:
        beir, docs, queries = read_beir(name), cached(name, "docs"), evaluated_queries(name)
        for kind in kinds:
            library, fmt, search = kind.split("-")
            ranking = (usearch_ranking if library == "usearch" else faiss_ranking)(fmt, search, docs, queries)
            cases.append(Case({"dataset": name, "index": kind}, expected_ranking(ranking, beir)))
    return cases


# --- stage 09: codecs searched by their library -----------------------------------------------------------------


def faiss_scores(index, queries: np.ndarray, n_docs: int, params=None) -> Scores:
    """Every document's score from the index's own search (k = all documents)."""
    distances, labels = index.search(queries, n_docs, params=params) if params else index.search(queries, n_docs)
    out = np.full((len(queries), n_docs), -np.inf, dtype=np.float32)
    np.put_along_axis(out, labels, distances, axis=1)
    return Scores.exactly(out)


def rabitq_scores(train: np.ndarray, docs: np.ndarray, queries: np.ndarray, query_bits: int) -> Scores:
    """faiss ``IndexRaBitQ`` (1 bit, inner product) trained on the unit training vectors, queries at
    ``query_bits`` bits (0 = float32)."""
    with one_faiss_thread() as faiss:
        index = faiss.IndexRaBitQ(docs.shape[1], faiss.METRIC_INNER_PRODUCT)
        index.train(unit(train))
        index.add(unit(docs))
        params = faiss.RaBitQSearchParameters()
        params.qb = query_bits
        return faiss_scores(index, unit(queries), len(docs), params)


def pq_fast_scan_scores(train: np.ndarray, docs: np.ndarray, queries: np.ndarray, m: int) -> Scores:
    """faiss ``IndexPQFastScan`` (m sub-quantizers of 16 centroids, 20 k-means iterations, seed 0); queries
    encoded and decoded by the same PQ first (``same``)."""
    with one_faiss_thread() as faiss:
        index = faiss.IndexPQFastScan(docs.shape[1], m, 4, faiss.METRIC_INNER_PRODUCT)
        index.pq.cp.niter, index.pq.cp.seed = 20, 0
        index.train(unit(train))
        index.add(unit(docs))
        q = index.pq.decode(index.pq.compute_codes(unit(queries)))
        return faiss_scores(index, q, len(docs))


def opq_scores(train: np.ndarray, docs: np.ndarray, queries: np.ndarray, m: int) -> Scores:
    """faiss ``OPQ{m},PQ{m}x8`` (10 OPQ rounds, 10 k-means iterations in the first, 20 per PQ training, seed
    0), trained on the unit training vectors; queries rotated, encoded and decoded by the PQ (``same``)."""
    with one_faiss_thread() as faiss:
        index = faiss.index_factory(docs.shape[1], f"OPQ{m},PQ{m}x8", faiss.METRIC_INNER_PRODUCT)
        opq = faiss.downcast_VectorTransform(index.chain.at(0))
        opq.niter, opq.niter_pq_0 = 10, 10
        pq_index = faiss.downcast_index(index.index)
        pq_index.pq.cp.niter, pq_index.pq.cp.seed = 20, 0
        index.train(unit(train))
        index.add(unit(docs))
        rotated = opq.apply(unit(queries))
        q = pq_index.pq.decode(pq_index.pq.compute_codes(rotated))
        return faiss_scores(pq_index, q, len(docs))


def codec_cases(name: str, train_on: str, fit_on: str) -> list[Case]:
    """Stage 09 on ``name``: float32, sign bits (Hamming; float32 queries on ±1), int8_clipped and RaBitQ and the
    centred sign bits (trained on ``train_on`` and on the corpus), OPQ + PQ and PQ fast-scan (``train_on`` only),
    RaBitQ after PCA fit on ``fit_on``. (TurboQuant rotates with the study's own seeded matrix, not faiss' ``RR``;
    OSQ is checked against Lucene in ``test_osq_lucene.py``.)"""
    beir, docs, queries = read_beir(name), cached(name, "docs"), evaluated_queries(name)
    shared = reference_set(train_on)
    where = {"dataset": name, "reducer": "none", "query_format": "same", "rescore": "none"}
    cases = [cosine_case(where | {"format": "float32"}, queries, docs, beir),
             Case(where | {"format": "binary_sign"}, expected(minus_hamming(queries > 0, docs > 0), beir)),
             cosine_case(where | {"format": "binary_sign", "query_format": "float32"}, queries,
                         np.where(docs > 0, 1.0, -1.0), beir)]
    for cal, train in ((train_on, shared), ("self", docs)):
        at = where | {"calibrate_on": cal}
        cases.append(cosine_case(at | {"format": "int8_clipped"}, centred_int(queries, train, 8),
                                 centred_int(docs, train, 8), beir))
        cases.append(Case(at | {"format": "rabitq1"}, expected(rabitq_scores(train, docs, queries, 8), beir)))
        threshold = train.astype(np.float64).mean(axis=0).astype(np.float32)
        cases.append(Case(at | {"format": "binary_centred"},
                          expected(minus_hamming(queries > threshold, docs > threshold), beir)))
    at = where | {"calibrate_on": train_on}
    cases.append(Case(at | {"format": "pq16x4fs"}, expected(pq_fast_scan_scores(shared, docs, queries, 16), beir)))
    cases.append(Case(at | {"format": "opq8"}, expected(opq_scores(shared, docs, queries, 8), beir)))
    reduce = fitted_reducer("pca", reference_set(fit_on), docs.shape[1], 0.5)
    cases.append(Case(at | {"format": "rabitq1", "reducer": "pca", "fraction": 0.5}, expected(
        rabitq_scores(reduce(shared), reduce(docs), reduce(queries), 8), beir)))
    return cases
