"""``study advise``: a user's vectors through the study's method, end to end.

* a small synthetic set (clustered, not unit length) through the CLI: every output written, the notes, float32's
  label-free recall exactly 1, recall@10 equal to a brute-force numpy computation, the frontier and ``select``'s
  answer from the study's own analysis, the explorer page in a headless browser choosing what ``select`` chose;
* resuming: a rerun computes nothing and writes the same results; a removed cache entry is computed again, alone;
* every input format read to the same vectors (``.npy`` float32/float16, Parquet list and fixed-size list, HDF5);
* a BEIR collection with a study model: the same nDCG@10 per query as the study's own runner, configuration by
  configuration;
* any width: a PQ ``m`` that divides it, or not applicable with the reason; too few training vectors for a codec;
* every bad input: one line naming what is wrong, exit status 2, nothing in ``--out``.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import ml_dtypes
import numpy as np
import pandas as pd
import pytest
import test_explorer
from test_explorer import open_page, shown

from study.advise import evaluate, grid, inputs, report
from study.advise.run import AdviseOptions, advise
from study.analysis.tradeoff import configurations, select, with_uncertainty
from study.cli import main
from study.core.errors import ParameterError
from study.core.paths import data_root
from study.experiment.runner import Plan, RunOptions, run
from study.figures.explorer import EXPLORER

N_DOCS, DIMS, N_QUERIES = 2000, 96, 100


def clustered(n: int, dims: int, seed: int = 0, unit: bool = False) -> np.ndarray:
    """Vectors around 20 centres with a few strong directions (so PQ, OPQ and PCA have structure to learn), at
    random norms unless ``unit``."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, dims)) * np.linspace(3, 0.3, dims)
    x = centres[rng.integers(20, size=n)] + rng.standard_normal((n, dims)) * np.linspace(1.5, 0.2, dims)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    scale = 1.0 if unit else rng.uniform(0.5, 3.0, size=(n, 1))
    return (x * scale).astype(np.float32)


def run_cli(*args: str) -> int:
    return main(["advise", *map(str, args)])


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> dict:
    """The synthetic set advised once through the CLI."""
    folder = tmp_path_factory.mktemp("advise")
    path = folder / "mine.npy"
    np.save(path, clustered(N_DOCS, DIMS))
    out = folder / "out"
    code = run_cli(path, "--out", out, "--sample-queries", N_QUERIES, "--n", "1e6", "--ram", "64MiB")
    assert code == 0
    return {"path": path, "out": out, "tidy": pd.read_csv(out / "results.csv"),
            "per_query": pd.read_parquet(out / "per-query.parquet"),
            "configs": pd.read_csv(out / "configurations.csv"),
            "manifest": json.loads((out / report.MANIFEST).read_text())}


# --- end to end ---------------------------------------------------------------------------------------------------


def test_every_output_is_written_and_nothing_else(synthetic):
    out = synthetic["out"]
    assert sorted(p.name for p in out.iterdir()) == sorted([*report.OUTPUTS, "cache"])
    manifest = synthetic["manifest"]
    assert manifest["metric"] == "recall_at_10" and manifest["computed"] == manifest["configurations"]
    rows = manifest["rows"]
    assert (rows["index"], rows["queries"], rows["training"]) == (N_DOCS - N_QUERIES, N_QUERIES, N_DOCS - N_QUERIES)
    assert rows["held_out_queries"] and rows["normalised"]
    notes = " ".join(manifest["notes"])
    assert "held out of the index" in notes and "normalised to unit length" in notes and "never a query" in notes
    assert "Recommended:" in (out / "selection.txt").read_text()
    used = pd.read_csv(out / "rows.csv")
    queries, training = (set(used.row[used.role == r]) for r in ("query", "training"))
    assert len(queries) == N_QUERIES and len(training) == N_DOCS - N_QUERIES and not queries & training
    assert queries == set(synthetic["per_query"].query_id.astype(int))


def test_float32_is_its_own_reference(synthetic):
    pq = synthetic["per_query"]
    base = pq[pq.config_id.str.contains(r"reducer=none\|.*format=float32\|.*rescore=none\|query_format=same")]
    assert base.config_id.nunique() == 1 and len(base) == N_QUERIES
    assert (base.recall_at_10 == 1.0).all() and (base.overlap_at_100 == 1.0).all()


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Top-k by score, ties to the larger row (trec_eval's order on zero-padded row ids), in plain numpy."""
    cols = np.arange(scores.shape[1])
    return np.array([np.lexsort((-cols, -row))[:k] for row in scores])


def test_recall_equals_a_brute_force_numpy_computation(synthetic):
    x = np.load(synthetic["path"])
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    pq = synthetic["per_query"]
    cid = next(c for c in pq.config_id.unique() if "format=float8_e4m3|" in c and "reducer=none" in c)
    mine = pq[pq.config_id == cid]
    queries = mine.query_id.astype(int).to_numpy()
    index = np.setdiff1d(np.arange(N_DOCS), queries)
    q, d = x[queries], x[index]
    exact = _top(q @ d.T, 10)
    def unit_float8(v: np.ndarray) -> np.ndarray:  # queries are stored like the documents (query_format same)
        cast = v.astype(ml_dtypes.float8_e4m3fn).astype(np.float32)
        return cast / np.linalg.norm(cast, axis=1, keepdims=True)

    found = _top(unit_float8(q) @ unit_float8(d).T, 10)
    recall = np.array([len(set(a) & set(b)) / 10 for a, b in zip(found, exact)])
    assert np.array_equal(mine.recall_at_10.to_numpy(), recall)
    assert recall.mean() < 1  # a real test: float8 swaps some neighbours


def test_the_analysis_is_the_studys_on_these_numbers(synthetic):
    configs, tidy = synthetic["configs"], synthetic["tidy"]
    assert set(tidy.metric) == {"recall_at_10", "overlap_at_100"}
    assert len(configs) == tidy.config_id.nunique() == synthetic["manifest"]["configurations"]
    assert configs.ci_low.notna().all() and (configs.ci_low <= configs.change_pct + 1e-9).all()
    pq = configs[configs.label.str.startswith("pq") | configs.label.str.startswith("opq")]
    assert len(pq) and (pq.label.str.contains("float32 queries")).all()
    front = pd.read_csv(synthetic["out"] / "frontier.csv")
    assert "recall@10" in front.columns and front.configuration.iloc[0] in set(configs.label)
    two = configs[configs.tier2_bytes_per_vector > 0]
    assert len(two) and np.allclose(two.bytes_per_vector, two.tier1_bytes_per_vector + two.tier2_bytes_per_vector)


def test_the_label_free_measure_is_chosen_with_a_margin_and_ndcg_by_the_studys_rule():
    assert report.margin_for("recall_at_10", None) == report.LABEL_FREE_MARGIN == 0.05
    assert report.margin_for("ndcg_at_10", None) == 0.0
    assert report.margin_for("recall_at_10", 0.0) == 0.0 and report.margin_for("ndcg_at_10", 0.02) == 0.02


def test_select_answer_is_saved(synthetic):
    text = (synthetic["out"] / "selection.txt").read_text()
    assert "1,000,000 vectors" in text and "expected  recall@10" in text and "95 % CI" in text


# --- resuming -------------------------------------------------------------------------------------------------------


def test_a_rerun_resumes_without_redoing_finished_configurations(synthetic, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(synthetic["out"], out)
    options = AdviseOptions(str(synthetic["path"]), out=str(out), sample_queries=N_QUERIES, n_vectors="1e6",
                            ram="64MiB", progress=False)
    again = advise(options)
    assert (again.results.computed, again.results.cached) == (0, len(again.grid.configs))
    assert (out / "results.csv").read_bytes() == (synthetic["out"] / "results.csv").read_bytes()
    victim = next(c for c in again.grid.configs if c.format == "int4" and c.query_format == "same")
    cache = evaluate.cache_for(out / "cache", again.data, 1)
    (out / "cache" / f"{cache.entry_key(victim.id)}.json").unlink()
    third = advise(options)
    assert (third.results.computed, third.results.cached) == (1, len(third.grid.configs) - 1)
    assert (out / "results.csv").read_bytes() == (synthetic["out"] / "results.csv").read_bytes()


# --- input formats ------------------------------------------------------------------------------------------------


def _prepared(path: Path, **kw) -> inputs.Prepared:
    return inputs.prepare(inputs.read_source(path, **kw), sample_queries=20)


def test_every_input_format_reads_the_same_vectors(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    x = clustered(300, 16, unit=True)
    np.save(tmp_path / "a.npy", x)
    reference = _prepared(tmp_path / "a.npy")
    lists = pa.array(x.tolist(), type=pa.list_(pa.float32()))
    fixed = pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), 16)
    pq.write_table(pa.table({"id": np.arange(300), "emb": lists}), tmp_path / "l.parquet")
    pq.write_table(pa.table({"text": ["t"] * 300, "vec": fixed, "other": lists}), tmp_path / "f.parquet")
    for found in (_prepared(tmp_path / "l.parquet"), _prepared(tmp_path / "f.parquet", column="vec")):
        assert np.array_equal(found.docs, reference.docs) and found.query_ids == reference.query_ids
    np.save(tmp_path / "h.npy", x.astype(np.float16))
    half = _prepared(tmp_path / "h.npy")
    assert half.docs.dtype == np.float32 and np.allclose(half.docs, reference.docs, atol=2e-3)


def test_an_ann_benchmarks_hdf5_file_gives_documents_and_queries(tmp_path):
    h5py = pytest.importorskip("h5py", reason="h5py is needed to read ann-benchmarks HDF5 files")
    notes = {}
    x = clustered(400, 16, unit=True)
    truth = _top(x[350:] @ x[:350].T, 100)  # what ann-benchmarks stores for an angular data set
    for distance, neighbours in (("angular", truth), ("euclidean", truth), ("angular", truth[:, ::-1])):
        with h5py.File(tmp_path / "glove.hdf5", "w") as f:
            f.create_dataset("train", data=x[:350])
            f.create_dataset("test", data=x[350:])
            f.create_dataset("neighbors", data=neighbours.astype(np.int32))
            f.attrs["distance"] = distance
        source = inputs.read_source(tmp_path / "glove.hdf5")
        found = inputs.prepare(source, sample_queries=20)
        source.close()
        assert np.array_equal(found.docs, x[:350]) and len(found.queries) == 20
        assert not found.rows["held_out_queries"]
        assert all(np.array_equal(found.queries[i], x[350 + int(q)]) for i, q in enumerate(found.query_ids))
        notes[distance + str(neighbours[0, 0])] = inputs.neighbours_note(source, found,
                                                                         evaluate.exact_reference(found))
    assert list(notes.values()) == [
        "queries: the file's neighbors (distance angular) hold 100.0 % of the exact cosine top-10 computed here",
        "queries: the file's neighbors are for distance 'euclidean', not used: the study's scores are cosine",
        "queries: the file's neighbors (distance angular) hold 0.0 % of the exact cosine top-10 computed here"]


def test_qrels_of_arrays_name_rows_and_add_ndcg(tmp_path):
    docs, queries = clustered(500, 16, unit=True), clustered(30, 16, seed=1, unit=True)
    nearest = _top(queries @ docs.T, 1)[:, 0]
    np.save(tmp_path / "d.npy", docs)
    np.save(tmp_path / "q.npy", queries)
    lines = ["query-id\tcorpus-id\tscore", *(f"{q}\t{d}\t1" for q, d in enumerate(nearest) if q != 7)]
    (tmp_path / "qrels.tsv").write_text("\n".join(lines) + "\n")
    data = inputs.prepare(inputs.read_source(tmp_path / "d.npy", queries=tmp_path / "q.npy",
                                             qrels=tmp_path / "qrels.tsv"))
    assert len(data.query_ids) == 29 and "07" not in data.query_ids
    assert any("1 without judgments left out" in n for n in data.notes)
    plan = grid.grid("m", data.name, data.split, 16, len(data.training))
    results = evaluate.run_grid(grid.Grid(plan.configs[:2], plan.not_applicable), data, progress=False)
    base = results.per_query[results.per_query.config_id == plan.configs[0].id]
    assert plan.configs[0].format == "float32" and (base.ndcg_at_10 == 1.0).all() and (base.mrr_at_10 == 1.0).all()
    assert set(results.tidy.metric) == {"recall_at_10", "overlap_at_100", "ndcg_at_10", "recall_at_100", "mrr_at_10"}
    (tmp_path / "qrels.tsv").write_text("0\t500\t1\n")
    with pytest.raises(ParameterError, match=r"'qrels': invalid value '\(0, 500\)'; allowed: row numbers"):
        inputs.prepare(inputs.read_source(tmp_path / "d.npy", queries=tmp_path / "q.npy",
                                          qrels=tmp_path / "qrels.tsv"))


# --- a real collection: the study's numbers ------------------------------------------------------------------------


def test_a_beir_collection_scores_as_the_studys_runner(tiny_embeddings, tmp_path):
    """``time`` encoded by MiniLM (the test cache): advise's nDCG@10 per query equals the runner's for the same
    configurations (codecs trained on the corpus itself, ``self``)."""
    source = inputs.read_source(data_root() / "time", "beir", model="minilm-l6")
    data = inputs.prepare(source)
    assert data.qrels is not None and len(data.training) == len(data.docs)
    wanted = {"float16", "int8_clipped", "binary_sign", "rabitq1", "osq1", "opq48"}
    plan = grid.grid("minilm-l6", data.name, data.split, data.dims, len(data.training))
    configs = [c for c in plan.configs if c.format in wanted and c.reducer == "none"][:9]
    configs += [c for c in plan.configs if c.rescore == "float32x4" and c.format == "binary_sign"]
    mine = evaluate.run_grid(grid.Grid(configs, plan.not_applicable), data, progress=False)
    theirs = run(Plan(configs, RunOptions("09"), {data.name: str(data_root() / "time")}), progress=False)
    a = mine.per_query.set_index(["config_id", "query_id"]).ndcg_at_10
    b = theirs.per_query.set_index(["config_id", "query_id"]).ndcg_at_10
    assert len(a) == len(b) == len(configs) * len(data.query_ids)
    assert a.sort_index().equals(b.sort_index())


# --- any width -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dims", [100, 250])
def test_a_pq_codec_picks_an_m_that_divides_the_width(dims):
    plan = grid.grid("m", "d", "s", dims, 5000)
    for choice in plan.pq_choices:
        assert choice.m is not None and dims % choice.m == 0
        assert abs(np.log(choice.m / choice.target)) <= np.log(grid.MAX_M_FACTOR)
    assert {c.format for c in plan.configs} >= {c.format for c in plan.pq_choices}


def test_an_odd_width_runs_its_pq_codecs(tmp_path):
    np.save(tmp_path / "odd.npy", clustered(700, 100, unit=True))
    data = _prepared(tmp_path / "odd.npy")
    plan = grid.grid("m", data.name, data.split, 100, len(data.training))
    pq_configs = [c for c in plan.configs if c.format in {"opq10", "pq10x8", "pq20x4fs"} and c.rescore == "none"]
    assert len(pq_configs) == 3
    results = evaluate.run_grid(grid.Grid(pq_configs, plan.not_applicable), data, progress=False)
    rows = results.tidy[results.tidy.metric == "recall_at_10"]
    assert rows.bytes_per_vector.tolist() == [10.0, 10.0, 10.0] and (rows.value > 0).all()


def test_a_prime_width_has_no_pq_and_says_why():
    plan = grid.grid("m", "d", "s", 97, 5000)
    assert not any(c.format.startswith(("opq", "pq")) for c in plan.configs)
    reasons = plan.not_applicable[plan.not_applicable.format.str.contains("at ")].reason
    assert len(reasons) == len(grid.PQ_TARGETS) and reasons.str.contains("no divisor of the width 97").all()


def test_too_few_training_vectors_skip_a_codec_with_the_reason():
    plan = grid.grid("m", "d", "s", 96, 200)
    skipped = plan.not_applicable.set_index("format").reason
    assert "needs at least 256" in skipped["opq24"] and "needs at least 256" in skipped["pq12x8"]
    assert not any(c.format in {"opq24", "pq12x8"} for c in plan.configs)
    assert any(c.format == "rabitq1" for c in plan.configs)


def test_truncation_only_for_a_matryoshka_model():
    assert not any(c.reducer == "truncation" for c in grid.grid("m", "d", "s", 96, 5000).configs)
    assert any(c.reducer == "truncation" for c in grid.grid("m", "d", "s", 96, 5000, matryoshka=True).configs)


# --- bad input -----------------------------------------------------------------------------------------------------


def _refused(capsys, out: Path, *args: object) -> str:
    """The CLI's one-line error, having exited with 2 and written nothing."""
    assert run_cli(*args, "--out", out) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("study: error: ")
    assert not out.exists()
    return err


def _bad_parquet(path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"text": ["a"] * 200, "n": np.arange(200)}), path)
    return path


def _bad_hdf5(path: Path) -> Path:
    h5py = pytest.importorskip("h5py", reason="h5py is needed to read ann-benchmarks HDF5 files")
    with h5py.File(path, "w") as f:
        f.create_dataset("vectors", data=clustered(200, 8))
    return path


def _npy(folder: Path, x: np.ndarray, name: str = "x.npy") -> Path:
    np.save(folder / name, x)
    return folder / name


def _with_queries(folder: Path, queries: np.ndarray) -> Path:
    _npy(folder, queries, "q.npy")
    return _npy(folder, clustered(200, 8))


NAN, ZERO = np.full((3, 8), np.nan, np.float32), np.zeros((2, 8), np.float32)
OK = ("--ram", "1GiB")  # a budget that parses, so each case fails on its own parameter
BAD = {
    "wrong dtype": (lambda p: _npy(p, np.ones((200, 8), np.int64)), OK,
                    r"'documents': invalid value 'dtype int64'; allowed: float32 or float16"),
    "wrong shape": (lambda p: _npy(p, np.ones(200, np.float32)), OK,
                    r"'documents': invalid value 'shape \(200,\)'; allowed: a 2-D array"),
    "not an npy": (lambda p: (p / "x.npy").write_text("hello") and p / "x.npy", OK, r"not a readable \.npy array"),
    "missing file": (lambda p: p / "none.npy", OK, r"none\.npy: no such file"),
    "nan rows": (lambda p: _npy(p, np.vstack([clustered(200, 8), NAN])), OK,
                 r"documents: 3 rows with NaN or inf, 0 all-zero rows .*--bad-rows drop .*allowed: refuse, drop"),
    "zero rows": (lambda p: _npy(p, np.vstack([clustered(200, 8), ZERO])), OK,
                  r"documents: 0 rows with NaN or inf, 2 all-zero rows"),
    "query width": (lambda p: _with_queries(p, clustered(10, 9)), ("--queries", "{dir}/q.npy"),
                    r"'queries': invalid value 'width 9'; allowed: the documents' width, 8"),
    "bad query rows": (lambda p: _with_queries(p, np.vstack([clustered(10, 8), NAN[:1]])), ("--queries", "{dir}/q.npy"),
                       r"queries: 1 rows with NaN or inf"),
    "too few": (lambda p: _npy(p, clustered(50, 8)), OK, r"at least 101 are needed"),
    "no hdf5 train": (lambda p: _bad_hdf5(p / "x.hdf5"), OK, r"no dataset 'train' .*found: vectors"),
    "no vector column": (lambda p: _bad_parquet(p / "x.parquet"), OK,
                         r"'column': invalid value None; allowed: .*found: text \(string\), n \(int64\)"),
    "unreadable column": (lambda p: _bad_parquet(p / "x.parquet"), ("--column", "text"),
                          r"'column': invalid value 'text'; allowed: a list<float> or fixed_size_list<float> column"),
    "budget": (lambda p: _npy(p, clustered(200, 8)), ("--ram", "2Gb"), r"'ram': invalid value '2Gb'"),
    "disk budget": (lambda p: _npy(p, clustered(200, 8)), ("--disk", "lots"), r"'disk': invalid value 'lots'"),
    "corpus size": (lambda p: _npy(p, clustered(200, 8)), ("--n", "ten"), r"'n': invalid value 'ten'"),
    "bad-rows value": (lambda p: _npy(p, clustered(200, 8)), ("--bad-rows", "skip"),
                       r"'bad_rows': invalid value 'skip'; allowed: refuse, drop"),
    "margin": (lambda p: _npy(p, clustered(200, 8)), ("--margin", "1.5"),
               r"'margin': invalid value 1.5; allowed: a tolerance in the measure's units, 0 ≤ margin < 1"),
    "format": (lambda p: _npy(p, clustered(200, 8)), ("--format", "csv"),
               r"'format': invalid value 'csv'; allowed: npy, parquet, hdf5, beir"),
    "qrels without queries": (lambda p: _npy(p, clustered(200, 8)), ("--qrels", "{dir}/x.npy"),
                              r"'qrels'.*pass --queries too"),
    "a model for vectors": (lambda p: _npy(p, clustered(200, 8)), ("--model", "minilm-l6"),
                            r"'model': invalid value 'minilm-l6'"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_and_writes_nothing(case, tmp_path, capsys):
    make, extra, expected = BAD[case]
    path = make(tmp_path)
    err = _refused(capsys, tmp_path / "out", path, *(str(e).format(dir=tmp_path) for e in extra))
    assert re.search(expected, err), err


def test_bad_rows_can_be_dropped_and_are_counted(tmp_path):
    x = np.vstack([clustered(300, 8), np.full((3, 8), np.nan), np.zeros((2, 8))]).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    found = inputs.prepare(inputs.read_source(tmp_path / "x.npy"), bad_rows="drop", sample_queries=20)
    assert found.rows["dropped_documents"] == 5 and found.rows["index"] + found.rows["queries"] == 300
    assert any("3 rows with NaN or inf, 2 all-zero rows dropped" in n for n in found.notes)
    assert np.isfinite(found.docs).all() and np.allclose(np.linalg.norm(found.docs, axis=1), 1, atol=1e-5)


# --- the explorer page, in a browser -------------------------------------------------------------------------------


browser = test_explorer.browser  # the headless Chromium fixture


def test_the_advised_page_in_a_browser(synthetic, browser):
    configs = synthetic["configs"]
    open_page(browser, synthetic["out"] / EXPLORER)
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    assert shown(browser)["choice"] == synthetic["manifest"]["recommended"]
    command = browser.find_element("id", "command").text
    assert command.startswith("same as: study advise ") and "--ram 64MiB" in command and "--n 1000000" in command
    title = browser.execute_script("return document.getElementById('tradeoff').layout.yaxis.title.text")
    assert title.startswith("recall@10 change")
    assert browser.execute_script("return window.explorer.data.models[window.explorer.state.model].configs.length") \
        == len(configs)


def test_the_saved_answer_is_select_on_the_saved_results(synthetic):
    tidy, per_query = synthetic["tidy"], synthetic["per_query"]
    configs, draws = with_uncertainty(configurations(tidy, metric="recall_at_10"), tidy, per_query,
                                      metric="recall_at_10")
    chosen = select("64MiB", 10**6, configs, draws=draws, metric_label="recall@10", margin=report.LABEL_FREE_MARGIN)
    assert synthetic["manifest"]["options"]["margin"] == report.LABEL_FREE_MARGIN == chosen.margin
    assert chosen.recommended.label == synthetic["manifest"]["recommended"]
    assert chosen.describe() + "\n" == (synthetic["out"] / "selection.txt").read_text()
