"""The published numbers of Huerga-Pérez et al. (2025), Table 1 (weighted nDCG@10 over 67 MTEB
tasks), transcribed from ``shared/reference/paper.md``. Reference data to compare against —
never used as a result of ours."""

from __future__ import annotations

import pandas as pd

PAPER_CITATION = "Huerga-Pérez et al. (2025), arXiv:2505.00105"

# format, kept fraction, bge-small nDCG@10, nomic nDCG@10
_TABLE1 = [
    ("float32", 1.00, 0.595, 0.593), ("float32", 0.90, 0.589, 0.591), ("float32", 0.75, 0.583, 0.591),
    ("float32", 0.50, 0.565, 0.589), ("float32", 0.25, 0.513, 0.555),
    ("float16", 1.00, 0.595, 0.594), ("float16", 0.90, 0.589, 0.589), ("float16", 0.75, 0.584, 0.589),
    ("float16", 0.50, 0.565, 0.589), ("float16", 0.25, 0.513, 0.555),
    ("bfloat16", 1.00, 0.595, 0.592), ("bfloat16", 0.90, 0.589, 0.589), ("bfloat16", 0.75, 0.583, 0.589),
    ("bfloat16", 0.50, 0.575, 0.589), ("bfloat16", 0.25, 0.513, 0.555),
    ("float8_e4m3", 1.00, 0.594, 0.594), ("float8_e4m3", 0.90, 0.589, 0.589), ("float8_e4m3", 0.75, 0.583, 0.589),
    ("float8_e4m3", 0.50, 0.565, 0.584), ("float8_e4m3", 0.25, 0.512, 0.555),
    ("float8_e5m2", 1.00, 0.593, 0.592), ("float8_e5m2", 0.90, 0.589, 0.589), ("float8_e5m2", 0.75, 0.583, 0.589),
    ("float8_e5m2", 0.50, 0.574, 0.588), ("float8_e5m2", 0.25, 0.512, 0.554),
    ("float4_e2m1", 1.00, 0.000, 0.406), ("float4_e2m1", 0.90, 0.002, 0.001), ("float4_e2m1", 0.75, 0.002, 0.001),
    ("float4_e2m1", 0.50, 0.002, 0.001), ("float4_e2m1", 0.25, 0.002, 0.001),
    ("int8", 1.00, 0.574, 0.584), ("int8", 0.90, 0.541, 0.555), ("int8", 0.75, 0.540, 0.554),
    ("int8", 0.50, 0.527, 0.550), ("int8", 0.25, 0.487, 0.518),
    ("binary", 1.00, 0.526, 0.549), ("binary", 0.90, 0.525, 0.540), ("binary", 0.75, 0.510, 0.535),
    ("binary", 0.50, 0.484, 0.527), ("binary", 0.25, 0.348, 0.491),
]
FORMAT_BITS = {"float32": 32, "float16": 16, "bfloat16": 16, "float8_e4m3": 8, "float8_e5m2": 8,
               "float4_e2m1": 4, "int8": 8, "binary": 1}


def paper_table1() -> pd.DataFrame:
    """Long form: format, fraction, compression_ratio, model, ndcg_at_10, change_pct (vs float32 100 %)."""
    rows = []
    for fmt, kept, bge, nomic in _TABLE1:
        for model, value in (("bge-small", bge), ("nomic-v1.5", nomic)):
            rows.append({"format": fmt, "fraction": kept, "model": model, "ndcg_at_10": value,
                         "compression_ratio": 32 / FORMAT_BITS[fmt] / kept})
    df = pd.DataFrame(rows)
    base = df[(df.format == "float32") & (df.fraction == 1.0)].set_index("model").ndcg_at_10
    df["change_pct"] = 100 * (df.ndcg_at_10 / df.model.map(base) - 1)
    return df
