"""The scaling benchmark's HNSW cases: case parsing, the crossover against exact search, the per-series summary
table, the figure, and the block-wise index build the benchmark relies on."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.analysis import (
    case_table,
    comparable_format,
    crossovers,
    exponent_table,
    is_index,
    plot_scaling,
    run_conditions,
    series_table,
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


def _report(exact_times: list[float], hnsw_times: list[float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    table = case_table(_rows(exact_times, hnsw_times))
    return crossovers(table), series_table(table).set_index("format")


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
    cross, series = _report([0.1, 1, 10], [0.5, 2, 0.5])
    row = cross.iloc[0]
    assert row.exact_format == "float16" and row.faster_from_n == 1_000_000 and row.n_docs == 1_000_000
    assert row.speedup == pytest.approx(20) and row.recall_at_10 == pytest.approx(0.7)
    assert row.index_time_s == pytest.approx(0.5) and row.exact_time_s == pytest.approx(10)
    assert row.exact_recall_at_10 == pytest.approx(0.99) and row.n_max == 1_000_000


def test_faster_only_in_the_middle_does_not_count_as_a_crossover():
    cross, series = _report([0.1, 1, 10], [0.5, 0.5, 20])
    assert np.isnan(cross.faster_from_n.iloc[0]) and cross.n_docs.iloc[0] == 1_000_000
    assert cross.faster_at_n.iloc[0] == (100_000,)
    assert cross.index_time_s.iloc[0] == pytest.approx(20) and cross.exact_time_s.iloc[0] == pytest.approx(10)
    hnsw = series.loc["usearch-f16-hnsw"]  # the recall trend: 0.9 at the smallest N, 0.7 at the largest
    assert (hnsw.recall_at_10_at_n_min, hnsw.recall_at_10_at_n_max) == pytest.approx((0.9, 0.7))


def test_never_faster_has_no_crossover():
    cross, _ = _report([0.1, 1, 10], [0.5, 2, 20])
    assert cross.faster_at_n.iloc[0] == () and np.isnan(cross.faster_from_n.iloc[0])
    assert cross.n_docs.iloc[0] == 1_000_000 and cross.index_time_s.iloc[0] == pytest.approx(20)


def test_faster_everywhere_names_the_smallest_n():
    cross, series = _report([0.1, 1, 10], [0.05, 0.1, 0.2])
    assert cross.faster_from_n.iloc[0] == 10_000 == cross.n_min.iloc[0]
    assert series.loc["usearch-f16-hnsw", "exponent"] == pytest.approx(np.log(4) / np.log(100))


def test_series_table_summarises_each_series_from_its_cases():
    cross, series = _report([0.1, 1, 10], [0.5, 2, 0.5])
    exact, hnsw = series.loc["float16"], series.loc["usearch-f16-hnsw"]
    assert (exact.method, exact.points, exact.n_min, exact.n_max) == ("exact", 3, 10_000, 1_000_000)
    assert exact.exponent == pytest.approx(1.0) and np.isnan(exact.build_exponent)
    assert hnsw.build_exponent == pytest.approx(1.0)  # build_s ∝ N here
    assert (exact.cases_within_budget, exact.cases) == (3, 3)
    assert exact.wall_time_s_at_n_max == pytest.approx(10) and exact.stored_bytes_at_n_max == 2.0 * 384 * 1_000_000
    assert exact.fraction_of_gemm_peak_at_n_max == pytest.approx(0.5) and np.isnan(hnsw.fraction_of_gemm_peak_at_n_max)
    assert hnsw.min_recall_at_10_planted == pytest.approx(0.8) and hnsw.bytes_per_vector_at_n_max == 900


def test_run_conditions_read_cores_load_and_queries():
    rows = pd.concat([_rows([0.1, 1, 10], [0.5, 2, 0.5]), pd.DataFrame([
        {"benchmark": "scaling", "case": "run", "metric": m, "value": v, "unit": ""}
        for m, v in (("cpu_count", 2), ("load_avg_start", 3.5), ("load_avg_end", 1.25))])])
    assert run_conditions(rows).iloc[0].tolist() == [2.0, 1.25, 3.5, 1000.0]
    assert run_conditions(rows[rows.metric == "n_queries"]).iloc[0].isna().tolist() == [True, True, True, False]


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


def test_index_without_a_comparable_exact_case_has_an_empty_crossover():
    rows = _rows([0.1, 1, 10], [0.5, 2, 0.5])
    table = case_table(rows[~rows.case.str.startswith("float16/")])
    cross = crossovers(table)
    assert cross["index"].tolist() == ["usearch-f16-hnsw"]
    assert cross.exact_format.isna().all() and cross.n_docs.isna().all() and cross.faster_from_n.isna().all()
    assert series_table(table).method.tolist() == ["hnsw"]


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


def test_one_measured_size_has_no_exponent():
    rows = _rows([0.1, 1, 10], [0.05, 2, 20])
    table = case_table(rows[rows.case.str.endswith("/N10000") | ~rows.case.str.contains("/N")])
    cross, series = crossovers(table), series_table(table)
    assert cross.faster_from_n.iloc[0] == 10_000 == cross.n_max.iloc[0]
    assert exponent_table(table).empty and series.exponent.isna().all() and (series.points == 1).all()
