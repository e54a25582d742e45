"""The scaling benchmark's HNSW cases: case parsing, the crossover against exact search, the conclusions
text, the figure, and the block-wise index build the benchmark relies on."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.analysis import (
    case_table,
    comparable_format,
    conclusions,
    crossovers,
    exponent_table,
    is_index,
    plot_scaling,
)
from study.core.errors import ParameterError
from study.core.vectors import normalise

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the bench package

SIZES = [10_000, 100_000, 1_000_000]


def _exact(time: float, n: int, recall: float = 1.0) -> dict[str, float]:
    return {"wall_time_s": time, "peak_rss_bytes": 3e8, "budget_bytes": 4e9, "peak_rss_within_budget": 1,
            "stored_bytes": 2.0 * 384 * n, "fraction_of_gemm_peak": 0.5, "gemm_peak_macs_per_s": 3e10,
            "recall_at_10_planted": 1.0, "recall_at_10": recall}


def _hnsw(time: float, n: int, recall: float) -> dict[str, float]:
    return {"wall_time_s": time, "build_s": 1e-3 * n, "peak_rss_bytes": 1e3 * n, "budget_bytes": 4e9,
            "peak_rss_within_budget": 1, "stored_bytes": 900.0 * n, "bytes_per_vector": 900.0,
            "code_bytes": 768.0, "recall_at_10": recall, "recall_at_10_planted": 0.8}


def _rows(exact_times: list[float], hnsw_times: list[float], index: str = "usearch-f16-hnsw") -> pd.DataFrame:
    """Tidy bench rows: exact float16 and one HNSW kind at d=384 for N = 10k, 100k, 1M."""
    cases = {}
    for n, te, th, r in zip(SIZES, exact_times, hnsw_times, [0.9, 0.8, 0.7], strict=True):
        cases[f"float16/d384/N{n}"] = _exact(te, n, recall=0.99)
        cases[f"{index}/d384/N{n}"] = _hnsw(th, n, r)
    rows = [{"benchmark": "scaling", "case": c, "metric": m, "value": v, "unit": ""}
            for c, metrics in cases.items() for m, v in metrics.items()]
    rows += [{"benchmark": "scaling", "case": "run", "metric": "n_queries", "value": 1000, "unit": "count"},
             {"benchmark": "scaling", "case": "float16/d384", "metric": "time_exponent", "value": 1.0, "unit": ""}]
    return pd.DataFrame(rows)


def _report(exact_times: list[float], hnsw_times: list[float]) -> tuple[pd.DataFrame, str]:
    rows = _rows(exact_times, hnsw_times)
    table = case_table(rows)
    return crossovers(table), conclusions(table, exponent_table(table), rows)


def test_index_cases_parse_beside_exact_ones():
    table = case_table(_rows([0.1, 1, 10], [0.5, 2, 0.5]))
    assert set(zip(table.format, table.method, strict=True)) == {("float16", "exact"), ("usearch-f16-hnsw", "hnsw")}
    hnsw = table[table.method == "hnsw"]
    assert hnsw.fraction_of_gemm_peak.isna().all() and hnsw.build_s.gt(0).all()
    assert table[table.method == "exact"].build_s.isna().all()
    exponents = exponent_table(table).set_index("format")
    assert exponents.loc["usearch-f16-hnsw", "build_exponent"] == pytest.approx(1.0)  # build_s ∝ N here
    assert np.isnan(exponents.loc["float16", "build_exponent"])
    assert is_index("faiss-sq8-hnsw") and not is_index("float8_e4m3") and not is_index("int8")


def test_hnsw_faster_at_1m_but_not_at_10k_names_1m():
    cross, text = _report([0.1, 1, 10], [0.5, 2, 0.5])
    row = cross.iloc[0]
    assert row.exact_format == "float16" and row.faster_from_n == 1_000_000
    assert row.speedup == pytest.approx(20) and row.recall_at_10 == pytest.approx(0.7)
    assert ("usearch-f16-hnsw d=384: queries faster than exact float16 from N=1,000,000 on (measured up to "
            "1,000,000) (at N=1,000,000: 0.5 s vs 10 s for 1,000 queries, 20.0× faster), recall@10 0.70 against "
            "exact float32 (exact float16: 0.99)") in text


def test_faster_only_in_the_middle_does_not_count_as_a_crossover():
    cross, text = _report([0.1, 1, 10], [0.5, 0.5, 20])
    assert np.isnan(cross.faster_from_n.iloc[0]) and cross.n_docs.iloc[0] == 1_000_000
    assert cross.faster_at_n.iloc[0] == (100_000,)
    assert ("faster than exact float16 only at N=100,000, slower at the largest measured N, 1,000,000 "
            "(there: 20 s vs 10 s") in text
    assert "usearch-f16-hnsw d=384 0.90 (N=10,000) → 0.70 (N=1,000,000)" in text  # recall trend


def test_never_faster_is_said_so():
    cross, text = _report([0.1, 1, 10], [0.5, 2, 20])
    assert cross.faster_at_n.iloc[0] == ()
    assert "slower than exact float16 at every measured N up to 1,000,000 (at N=1,000,000: 20 s vs 10 s" in text


def test_faster_everywhere_names_the_smallest_n():
    cross, text = _report([0.1, 1, 10], [0.05, 0.1, 0.2])
    assert cross.faster_from_n.iloc[0] == 10_000
    assert "already at the smallest measured N, 10,000, and at every larger one up to 1,000,000" in text
    assert "N^0.30" in text  # the HNSW time exponent: log(4)/log(100)


def test_comparable_exact_format():
    measured = ["float32", "float16", "float8_e4m3", "int8", "binary"]
    assert comparable_format("usearch-f16-hnsw", measured) == "float16"
    assert comparable_format("usearch-i8-hnsw", measured) == "int8"
    assert comparable_format("faiss-sq8-hnsw", measured) == "int8"
    assert comparable_format("faiss-sq4-hnsw", measured) == "int8"  # nearest with no fewer bits
    assert comparable_format("usearch-e5m2-hnsw", measured) == "float8_e4m3"
    assert comparable_format("usearch-bf16-hnsw", measured) == "float16"
    assert comparable_format("usearch-b1-hnsw", measured) == "binary"
    assert comparable_format("usearch-i8-hnsw", ["float32"]) == "float32"
    assert comparable_format("usearch-i8-hnsw", []) is None


def test_index_without_a_comparable_exact_case_is_said_so():
    rows = _rows([0.1, 1, 10], [0.5, 2, 0.5])
    rows = rows[~rows.case.str.startswith("float16/")]
    table = case_table(rows)
    text = conclusions(table, exponent_table(table), rows)
    assert "No exact search was measured." in text
    assert "usearch-f16-hnsw d=384: no exact search of a comparable format was measured" in text


def test_figure_has_a_build_panel_only_with_indexes():
    import matplotlib.pyplot as plt

    table = case_table(_rows([0.1, 1, 10], [0.5, 2, 0.5]))
    with_indexes = plot_scaling(table, 4e9)
    exact_only = plot_scaling(table[table.method == "exact"], 4e9)
    assert len(with_indexes.axes) == 4 and len(exact_only.axes) == 3
    assert {line.get_linestyle() for line in with_indexes.axes[0].lines} == {"-", "--"}
    assert len(with_indexes.axes[2].lines) == 1  # the GEMM fraction: exact search only
    plt.close("all")


def test_bench_options_and_cases():
    from bench.scaling import _cases, parse_args
    from study.search.metrics import neighbour_recall

    args = parse_args(["--quick", "--dims", "384"])
    names = [name for name, _ in _cases(args, Path("d384"), 384)]
    assert names[0] == "float32/d384/N10000"  # float32 first: its top-10 is the others' reference
    assert "usearch-f16-hnsw/d384/N10000" in names and "faiss-sq8-hnsw/d384/N10000" in names
    args = parse_args(["--sizes", "10000", "20000", "--index-max-n", "10000", "--indexes", "usearch-i8-hnsw"])
    assert [n for n, _ in _cases(args, Path("d8"), 8) if is_index(n.split("/")[0])] == ["usearch-i8-hnsw/d8/N10000"]
    assert not [n for n, _ in _cases(parse_args(["--quick", "--indexes"]), Path("d8"), 8) if "hnsw" in n]
    with pytest.raises(ParameterError, match="indexes"):
        parse_args(["--indexes", "usearch-f16-exact"])
    truth = np.array([[1, 2, 3], [4, 5, 6]])
    assert neighbour_recall(np.array([[3, 9, 1], [-1, -1, -1]]), truth).mean() == pytest.approx(2 / 6)


def test_block_wise_build_from_a_memory_map(tmp_path):
    from study.search import indexes as ix

    docs = normalise(np.random.default_rng(0).standard_normal((600, 32), dtype=np.float32))
    np.save(tmp_path / "docs.npy", docs)
    mapped = np.load(tmp_path / "docs.npy", mmap_mode="r")
    whole = ix.build_index("usearch-f16-hnsw", docs, threads=1)
    blocks = ix.build_index("usearch-f16-hnsw", mapped, threads=1, block_rows=128)
    assert blocks.serialize() == whole.serialize()  # usearch inserts in order either way
    assert blocks.serialized_bytes() == len(blocks.serialize())
    faiss_blocks = ix.build_index("faiss-sq8-hnsw", mapped, train=docs[:300], threads=1, block_rows=128)
    assert faiss_blocks.n == 600 and faiss_blocks.serialized_bytes() == len(faiss_blocks.serialize())
    found, _ = faiss_blocks.search(docs[:20], 1)
    assert (found[:, 0] == np.arange(20)).mean() >= 0.9  # each document finds itself


def test_one_measured_size_is_said_to_be_the_only_one():
    rows = _rows([0.1, 1, 10], [0.05, 2, 20])
    rows = rows[rows.case.str.endswith("/N10000") | ~rows.case.str.contains("/N")]
    table = case_table(rows)
    text = conclusions(table, exponent_table(table), rows)
    assert "queries faster than exact float16 at N=10,000, the only N measured (at N=10,000: 0.05 s vs 0.1 s" in text
    assert "Only one corpus size was measured" in text
