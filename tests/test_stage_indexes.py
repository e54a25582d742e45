"""Stage 07 (real indexes): the notebook runs on adi/time and writes its table, per-query scores, figure and
LaTeX table; its closing text is written from the numbers; bad parameters fail with one clear line."""

from __future__ import annotations

import pandas as pd
import papermill as pm
import pytest
from conftest import REPO

from study.experiment.configs import load_eval_data
from study.experiment.indexes import evaluate_indexes
from study.search import indexes as ix
from study.stages.indexes import indexes_conclusions, largest_collection_rows

NB = "07-indexes.ipynb"


def run(tmp_path, **params):
    return pm.execute_notebook(
        str(REPO / "notebooks" / NB), str(tmp_path / f"executed-{NB}"), parameters=params,
        cwd=str(REPO), progress_bar=False, kernel_name="python3",
    )


def test_notebook_runs_on_tiny_collections(tiny_embeddings, output_dir, tmp_path):
    nb = run(tmp_path, datasets=["adi", "time"], profile="tiny", repeats=1, batch1_queries=5)
    table = pd.read_csv(output_dir / "results/tiny/07-indexes.csv")
    assert len(table) == 2 * len(ix.KINDS)
    assert set(table["index"]) == set(ix.KINDS)
    assert (table.bytes_per_vector >= table.code_bytes).all()
    per_query = pd.read_parquet(output_dir / "results/tiny/07-indexes-per-query.parquet")
    assert set(per_query.config_id) == set(table.config_id)
    for path in ["figures/tiny/fig-indexes.png", "figures/tiny/fig-indexes.pdf",
                 "paper/generated/tiny/table-indexes.tex", "results/tiny/tables/table-indexes.csv"]:
        assert (output_dir / path).stat().st_size > 0, path
    latex_rows = pd.read_csv(output_dir / "results/tiny/tables/table-indexes.csv")
    assert set(latex_rows.collection) == {"time"}  # the largest of the two
    closing = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    time = table[table.dataset == "time"]
    fastest = time.loc[time.qps_b1.idxmax()]
    assert f"time, fastest at batch 1: {fastest['index']} ({fastest.bytes_per_vector:.1f} B/vector" in closing
    gaps = "".join(str(o.get("data", {})) for o in nb.cells[-1].outputs)
    assert "largest_gap" in gaps and "faiss-f32-exact" in gaps  # the exact indexes against their simulation
    from oracles import check_notebook, index_cases  # every kind rebuilt by its own library, scored by trec_eval

    check_notebook(output_dir, "07-indexes", index_cases(["adi", "time"], list(ix.KINDS)))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"indexes": ["faiss-pq-hnsw"]}, "parameter 'index': invalid value 'faiss-pq-hnsw'"),
        ({"hnsw": {"M": 8}}, "parameter 'hnsw': invalid value 'M'"),
    ],
)
def test_bad_parameters_fail_with_one_clear_line_and_write_nothing(params, message, output_dir, tmp_path, cache_dir):
    with pytest.raises(pm.PapermillExecutionError) as err:
        run(tmp_path, **({"datasets": ["adi"], "profile": "tiny"} | params))
    assert message in str(err.value)
    assert not (output_dir / "results").exists()


def test_conclusions_are_written_from_the_numbers(tiny_embeddings):
    names = ["usearch-f16-exact", "usearch-f16-hnsw", "faiss-sq4-exact"]
    tables = [evaluate_indexes(load_eval_data("minilm-l6", d), names, repeats=1, batch1_queries=2)[0]
              for d in ("adi", "time")]
    table = pd.concat(tables, ignore_index=True)
    assert set(largest_collection_rows(table).dataset) == {"time"}
    text = indexes_conclusions(table)
    row = table[(table.dataset == "time") & (table["index"] == "usearch-f16-hnsw")].iloc[0]
    assert f"usearch-f16-hnsw: {row.bytes_per_vector:.1f} B/vector" in text
    assert f"recall@10 {row.recall_at_10:.3f}" in text
    assert "faiss-sq4-exact:" in text and "different arithmetic" in text
    changed = table.copy()
    changed.loc[changed["index"] == "usearch-f16-hnsw", "bytes_per_vector"] += 1000
    assert f"usearch-f16-hnsw: {row.bytes_per_vector + 1000:.1f} B/vector" in indexes_conclusions(changed)


def test_bench_script_replaces_only_its_own_rows(tmp_path):
    from bench import indexes as bench_indexes
    from bench.common import make_rows, read_rows, write_rows

    target = tmp_path / "bench.csv"
    write_rows(make_rows("other", [{"case": "c", "metric": "m", "value": 1.0, "unit": "s"}]), target)
    args = ["--n", "300", "--queries", "12", "--repeats", "1", "--batch1-queries", "3", "--output", str(target),
            "--indexes", "usearch-i8-hnsw", "faiss-b1-exact"]
    assert bench_indexes.main(args) == 0
    assert bench_indexes.main(args) == 0  # a second run replaces the first one's rows
    rows = read_rows(target)
    assert set(rows.benchmark) == {"other", "indexes"}
    mine = rows[rows.benchmark == "indexes"]
    assert len(mine) == 2 * len(bench_indexes.UNITS)
    assert set(mine.metric) == set(bench_indexes.UNITS)
    bpv = mine[mine.metric == "bytes_per_vector"].set_index("case").value
    assert bpv[bpv.index.str.startswith("faiss-b1-exact")].iloc[0] >= 48


def test_partial_rerun_replaces_only_the_cases_it_measured(tmp_path):
    from bench.common import make_rows, read_rows, write_rows

    target = tmp_path / "bench.csv"
    first = [{"case": c, "metric": "t", "value": 1.0, "unit": "s"} for c in ("a", "b")]
    write_rows(make_rows("scaling", first), target)
    write_rows(make_rows("scaling", [{"case": "b", "metric": "t", "value": 2.0, "unit": "s"},
                                     {"case": "c", "metric": "t", "value": 3.0, "unit": "s"}]), target, only_cases=True)
    rows = read_rows(target).set_index("case").value
    assert rows.to_dict() == {"a": 1.0, "b": 2.0, "c": 3.0}
    write_rows(make_rows("scaling", [{"case": "c", "metric": "t", "value": 4.0, "unit": "s"}]), target)
    assert read_rows(target).set_index("case").value.to_dict() == {"c": 4.0}  # a whole rerun replaces all
