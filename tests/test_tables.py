"""Tables rounded for reading (study.core.tables) and the notebooks' display of them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from study.core.tables import column_kind, readable


def test_columns_are_classified_by_name():
    names = ["change (%)", "change_pct", "ci_low", "CI high (%)", "B/vector (all tiers)", "stored once (B)",
             "tier2_bytes_per_vector", "nDCG@10", "diff_ci_low", "p_value"]
    assert [column_kind(c) for c in names] == ["percent"] * 4 + ["bytes"] * 3 + ["other"] * 3


def test_percentages_get_two_decimals_bytes_integers_and_the_rest_four():
    table = pd.DataFrame({"model": ["a", "b"], "change (%)": [-63.67021, 1.23456], "B/vector": [48.0, 96.0],
                          "overhead_bytes": [0.5, np.nan], "nDCG@10": [0.606612, 0.5], "n": [1, 2]})
    out = readable(table)
    assert out["change (%)"].tolist() == [-63.67, 1.23]
    assert str(out["B/vector"].dtype) == "Int64" and out["B/vector"].tolist() == [48, 96]
    assert out.overhead_bytes.iloc[0] == 0.5  # a fraction of a byte is kept (one decimal), not hidden
    assert out["nDCG@10"].tolist() == [0.6066, 0.5] and out.n.tolist() == [1, 2] and out.model.tolist() == ["a", "b"]
    assert table["change (%)"].iloc[0] == -63.67021  # the table itself keeps full precision
    assert "-63.6702" not in repr(out) and "-63.67" in repr(out)
