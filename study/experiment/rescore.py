"""Two-stage search: a compressed first stage proposes ``k × m`` candidates, a finer tier re-ranks them.

The first stage searches the compressed documents (binary by Hamming, int8/float4 by cosine on
decoded vectors; queries quantized alike, or float32 with ``query_format='float32'``) and keeps the
``k · m`` best candidates (``m`` = oversampling). The second tier (float32, or e.g. int8 "on disk")
re-scores only those candidates: cosine between the float32 query and the tier's decoded vectors,
ties in trec_eval order. The final run is the re-ranked candidates followed by the rest of the
first-stage top-100 (so recall@100 is the first stage's while ``k · m`` < 100). A configuration's
``rescore`` is ``"<tier format>x<m>"`` (e.g. ``"float32x4"``); its tidy rows carry the bytes of
both tiers: ``bytes_per_vector`` (first tier, e.g. RAM) and ``rescore_bytes_per_vector`` (second
tier, e.g. disk); ``compression_ratio`` is the first tier's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from study.compress.formats import calibrate, get_format, quantize
from study.core.errors import ParameterError
from study.core.vectors import normalise
from study.experiment.configs import NONE, Config, EvalData, search_inputs, tidy_rows
from study.search.metrics import DEPTH, per_query_metrics
from study.search.ranking import tie_rank

RESCORE_K = 10  # the cut-off the first stage oversamples (nDCG@10, MRR@10)
OVERSAMPLING = (1, 2, 4, 10)


@dataclass(frozen=True)
class RescoreSpec:
    """Second tier format and oversampling factor of a two-stage configuration."""

    format: str
    oversample: int

    @property
    def label(self) -> str:
        return f"{self.format}x{self.oversample}"


def parse_rescore(spec: str) -> RescoreSpec:
    """``"float32x4"`` → RescoreSpec("float32", 4); the tier must be a registered format."""
    name, sep, m = str(spec).rpartition("x")
    if not sep or not m.isdigit() or m != str(int(m)) or int(m) < 1:
        raise ParameterError("rescore", spec, "'none' or '<format>x<m>' such as 'float32x4' (m a positive integer)")
    get_format(name)
    return RescoreSpec(name, int(m))


def rerank(
    candidates: np.ndarray,
    queries: np.ndarray,
    tier_docs: np.ndarray,
    doc_ids: list[str],
    block_bytes: int = 64 << 20,
) -> np.ndarray:
    """Re-order each row of ``candidates`` (document indices) by cosine between the float32 query and
    the documents' second-tier vectors: score high first, ties by document id descending (trec_eval)."""
    q = normalise(np.asarray(queries, dtype=np.float32))
    d = normalise(np.asarray(tier_docs, dtype=np.float32))
    rank = tie_rank(doc_ids)
    rows = max(1, block_bytes // max(1, 4 * candidates.shape[1] * d.shape[1]))
    out = np.empty_like(candidates)
    for start in range(0, len(q), rows):
        cand = candidates[start : start + rows]
        scores = np.matmul(d[cand], q[start : start + rows, :, None])[..., 0]
        order = np.lexsort((-rank[cand], -scores), axis=-1)
        out[start : start + rows] = np.take_along_axis(cand, order, axis=1)
    return out


def final_run(first: np.ndarray, reranked: np.ndarray, depth: int = DEPTH) -> np.ndarray:
    """The re-ranked candidates, then the first stage's next results, cut at ``depth``."""
    return np.concatenate([reranked, first[:, reranked.shape[1] :]], axis=1)[:, :depth]


def _needs(name: str) -> bool:
    return get_format(name).needs_calibration


def rescore_sweep(
    cfg: Config,
    data: EvalData,
    docs: np.ndarray,
    queries: np.ndarray,
    calibration: np.ndarray | None,
    tiers: list[str],
    multipliers: list[int],
    stage: str,
    k: int = RESCORE_K,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every (tier, m) for one first stage (``cfg`` with ``rescore='none'``), searched once at depth
    ``max(100, k · max m)``: the top ``k · m`` of a deeper trec-ordered run are its prefix."""
    for name in (cfg.format, *tiers):
        if _needs(name) and calibration is None:
            raise ParameterError("calibrate_on", cfg.calibrate_on, f"a calibration set: format {name!r} needs one")
    params = calibrate(cfg.format, calibration) if _needs(cfg.format) else {}
    packed = quantize(docs, cfg.format, params)
    q, d, search_fn = search_inputs(cfg, packed, queries, params)
    first = search_fn(q, d, data.doc_ids, k=max(DEPTH, k * max(multipliers))).indices
    qrels_rows = [data.qrels[qid] for qid in data.query_ids]
    tidy, per_query = [], []
    for tier in tiers:
        tier_params = calibrate(tier, calibration) if _needs(tier) else {}
        tier_packed = quantize(docs, tier, tier_params)
        tier_docs = tier_packed.decode()
        for m in multipliers:
            spec = RescoreSpec(tier, m)
            calibrated = _needs(cfg.format) or _needs(tier)
            cfg_m = replace(cfg, rescore=spec.label, calibrate_on=cfg.calibrate_on if calibrated else NONE)
            run = final_run(first, rerank(first[:, : k * m], queries, tier_docs, data.doc_ids))
            pq = per_query_metrics(data.query_ids, [[data.doc_ids[i] for i in row] for row in run], qrels_rows)
            pq.insert(0, "config_id", cfg_m.id)
            pq.insert(1, "dataset", data.dataset)
            pq.insert(2, "split", data.split)
            rows = tidy_rows(
                cfg_m, pq, stage=stage, dims=docs.shape[1], original_dims=data.docs.shape[1],
                bytes_per_vector=packed.bytes_per_vector,
                overhead_bytes=packed.overhead_bytes + tier_packed.overhead_bytes,
                n_docs=len(data.doc_ids), n_texts=data.n_texts,
            )
            rows["rescore_format"] = tier
            rows["oversample"] = m
            rows["candidates"] = min(k * m, len(data.doc_ids))
            rows["rescore_bytes_per_vector"] = tier_packed.bytes_per_vector
            tidy.append(rows)
            per_query.append(pq)
    return pd.concat(tidy, ignore_index=True), pd.concat(per_query, ignore_index=True)


def evaluate_rescored(
    cfg: Config,
    data: EvalData,
    docs: np.ndarray,
    queries: np.ndarray,
    calibration: np.ndarray | None,
    stage: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One two-stage configuration (``cfg.rescore`` = ``"<format>x<m>"``), as ``evaluate_format`` returns it."""
    spec = parse_rescore(cfg.rescore)
    return rescore_sweep(replace(cfg, rescore=NONE), data, docs, queries, calibration, [spec.format],
                         [spec.oversample], stage)
