"""The evaluation of a configuration: compress a collection's vectors, search (one or two tiers), score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from study.compress.formats import calibrate, quantize
from study.experiment.configs import (
    NONE,
    Config,
    EvalData,
    search_inputs,
    tidy_rows,
)
from study.experiment.rescore import evaluate_rescored
from study.search.exact import evaluate


def evaluate_format(
    cfg: Config,
    data: EvalData,
    docs: np.ndarray,
    queries: np.ndarray,
    calibration: np.ndarray | None,
    stage: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Quantize (already reduced) docs and queries in ``cfg.format``, search, and score.

    Queries follow ``cfg.query_format``; a ``cfg.rescore`` other than ``none`` runs the two-stage
    search of ``study.experiment.rescore``."""
    if cfg.rescore != NONE:
        return evaluate_rescored(cfg, data, docs, queries, calibration, stage)
    params = calibrate(cfg.format, calibration) if calibration is not None else {}
    packed_docs = quantize(docs, cfg.format, params)
    q, d, search_fn = search_inputs(cfg, packed_docs, queries, params)
    per_query, _ = evaluate(q, data.query_ids, d, data.doc_ids, data.qrels, search_fn=search_fn)
    per_query.insert(0, "config_id", cfg.id)
    per_query.insert(1, "dataset", data.dataset)
    per_query.insert(2, "split", data.split)
    rows = tidy_rows(
        cfg,
        per_query,
        stage=stage,
        dims=docs.shape[1],
        original_dims=data.docs.shape[1],
        bytes_per_vector=packed_docs.bytes_per_vector,
        overhead_bytes=packed_docs.overhead_bytes,
        n_docs=len(data.doc_ids),
        n_texts=data.n_texts,
    )
    return rows, per_query
