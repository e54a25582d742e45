"""Tables rounded for reading: what a notebook shows and the paper prints (the tidy results keep full precision)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

PERCENT = re.compile(r"%|change|^ci_(low|high)$|^CI (low|high)")
BYTES = re.compile(r"bytes|B/vector|\(B\)|^B$")
PERCENT_DECIMALS = 2
OTHER_DECIMALS = 4


def column_kind(name: object) -> str:
    """``percent`` (a % change or its CI), ``bytes`` or ``other``, from a column's name."""
    text = str(name)
    if BYTES.search(text):
        return "bytes"
    return "percent" if PERCENT.search(text) else "other"


def _integral(values: pd.Series) -> bool:
    finite = values[np.isfinite(values)]
    return bool(np.allclose(finite, np.round(finite))) if len(finite) else True


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """A copy with percentages at two decimals, bytes as integers (one decimal where a value has a fraction) and
    other numbers at four; text and integer columns unchanged."""
    out = table.copy()
    for column in out.columns:
        values = out[column]
        if not pd.api.types.is_float_dtype(values):
            continue
        kind = column_kind(column)
        if kind == "percent":
            out[column] = values.round(PERCENT_DECIMALS)
        elif kind == "bytes":
            out[column] = values.round().astype("Int64") if _integral(values.to_numpy(float)) else values.round(1)
        else:
            out[column] = values.round(OTHER_DECIMALS)
    return out
