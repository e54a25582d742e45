"""Stage 09 (codecs): its plan, its training-set rules, and a papermill run of the notebook on adi (trained on time)."""

import pandas as pd
import papermill as pm
import pytest
from conftest import REPO

from study.analysis.tradeoff import label as config_label
from study.core.errors import ParameterError
from study.experiment.configs import load_eval_data
from study.params import CodecParams
from study.plans.codecs import _plan, plan, pq_bytes, width_allows
from study.stages.codecs import codec_family

TIDY_COLUMNS = {"model", "dataset", "split", "stage", "reducer", "fraction", "dims", "fit_on", "format",
                "calibrate_on", "rescore", "query_format", "metric", "value", "bytes_per_vector",
                "overhead_bytes", "compression_ratio", "n_queries", "n_docs", "config_id"}


def test_plan_trains_where_each_set_applies_and_lists_what_does_not(tiny_embeddings):
    """adi has 82 documents: too few to train 256 centroids (OPQ), enough for 16 (fast-scan); a codec that ignores
    its sample has one row, untrained; widths m does not divide are skipped."""
    data = load_eval_data("minilm-l6", "adi")
    formats = ["float32", "rabitq1", "opq8", "opq48", "opq64", "pq16x4fs", "turboquant2", "binary_rotated"]
    plan, skipped = _plan(data, formats, ["time", "self"], ["rabitq1", "opq8", "turboquant2"])
    seen = [(c.format, c.calibrate_on, c.query_format) for c in plan]
    assert seen == [
        ("float32", "none", "same"),
        ("rabitq1", "time", "same"), ("rabitq1", "time", "float32"),
        ("rabitq1", "self", "same"), ("rabitq1", "self", "float32"),
        ("opq8", "time", "same"), ("opq8", "time", "float32"),         # PQ: float32 queries (ADC) always
        ("opq48", "time", "same"), ("opq48", "time", "float32"),
        ("opq64", "time", "same"), ("opq64", "time", "float32"),
        ("pq16x4fs", "time", "same"), ("pq16x4fs", "time", "float32"),
        ("pq16x4fs", "self", "same"), ("pq16x4fs", "self", "float32"),  # 16 centroids: the corpus is enough
        ("turboquant2", "untrained", "same"), ("turboquant2", "untrained", "float32"),
        ("binary_rotated", "untrained", "same"),
    ]
    assert [(r["format"], r["calibrate_on"]) for r in skipped] == [("opq8", "self"), ("opq48", "self"),
                                                                   ("opq64", "self")]
    assert skipped[0]["reason"] == "the corpus has 82 vectors; opq8 needs at least 384 to train"  # d = 384
    assert not width_allows("opq48", 256) and width_allows("opq48", 384) and not width_allows("pq64x4fs", 96)


def test_the_pool_trains_pq_families_at_sign_binarys_bytes_only(tiny_embeddings):
    data = load_eval_data("minilm-l6", "adi")
    plan, skipped = _plan(data, ["pq48x8", "pq96x4fs", "opq8", "rabitq1", "osq1"], ["pool"], [])
    assert [(c.format, c.calibrate_on) for c in plan if c.query_format == "same"] == [
        ("pq48x8", "pool"), ("pq96x4fs", "pool"), ("rabitq1", "pool"), ("osq1", "pool")]
    assert skipped == [{"model": "minilm-l6", "dataset": "adi", "split": data.split, "format": "opq8",
                        "calibrate_on": "pool", "reason": "PQ families train on the pool only at sign binary's bytes "
                                                          "(48 B)"}]
    assert [pq_bytes(f) for f in ("opq48", "pq48x8", "pq96x4fs", "pq192x4fs", "pq32x8")] == [48, 48, 48, 96, 32]


def test_pq_families_are_searched_as_faiss_searches_them_everywhere(cache_dir):
    """Alone, after a reducer and as a first tier, a PQ codec has a float32-query (ADC) row; other codecs only where
    asked (asymmetric); a PQ first tier searches with float32 queries only."""
    p = CodecParams(datasets=["adi"], formats=["float32", "pq8x4fs", "pq48x8", "rabitq1"], calibrate_on=["time"],
                    asymmetric=[], reducers=["truncation"], fractions=[0.5], reduced_formats=["opq16", "osq1"],
                    fit_on="time", rescore_first=["opq16", "rabitq1"], rescore_tiers=["float32"],
                    oversampling=[4]).checked()
    seen = [(c.format, c.reducer, c.rescore, c.query_format) for c in plan(p).configs]
    assert seen == [
        ("float32", "none", "none", "same"),
        ("pq8x4fs", "none", "none", "same"), ("pq8x4fs", "none", "none", "float32"),
        ("pq48x8", "none", "none", "same"), ("pq48x8", "none", "none", "float32"),
        ("rabitq1", "none", "none", "same"),
        ("opq16", "truncation", "none", "same"), ("opq16", "truncation", "none", "float32"),
        ("osq1", "truncation", "none", "same"),
        ("opq16", "none", "float32x4", "float32"), ("rabitq1", "none", "float32x4", "same"),
    ]


def test_families_and_labels():
    assert [codec_family(f) for f in ("rabitq4_rr", "opq16", "pq32x4fs", "turboquant3", "osq1", "binary_centred")] \
        == ["RaBitQ", "OPQ+PQ", "PQ fast-scan", "TurboQuant", "OSQ", "binary"]
    row = {"format": "opq8", "reducer": "pca", "fraction": 0.25, "rescore": "float32x4", "query_format": "float32",
           "calibrate_on": "mlquestions"}
    assert config_label(row) == "opq8 + pca 25% → float32 ×4 · float32 queries @mlquestions"


def test_a_training_collection_is_never_evaluated(tiny_embeddings):
    with pytest.raises(ParameterError, match="'datasets'"):
        plan(CodecParams(datasets=["time"], formats=["rabitq1"], calibrate_on=["time"], asymmetric=[], reducers=[],
                         fractions=[], reduced_formats=[], fit_on="time", rescore_first=[]))


BARE = {"formats": ["rabitq1"], "calibrate_on": ["time"], "asymmetric": [], "reducers": [], "fractions": [],
        "reduced_formats": [], "fit_on": "time", "rescore_first": []}


def test_a_model_left_only_its_training_set_is_named_in_the_error(cache_dir):
    """The error names the collections of the model that has nothing to evaluate (its own list)."""
    p = CodecParams(models=["minilm-l6", "wordllama-256"], datasets=["adi", "time"],
                    datasets_per_model={"wordllama-256": ["time"]}, **BARE)
    with pytest.raises(ParameterError, match=r"parameter 'datasets': invalid value \['time'\]"):
        plan(p)


def test_a_part_plan_holds_its_own_part_only(cache_dir):
    """A part job's plan: one (model, collection), even where another model has only its training set."""
    p = CodecParams(models=["minilm-l6", "wordllama-256"], datasets=["adi", "time"],
                    datasets_per_model={"wordllama-256": ["time"]}, **BARE)
    part = plan(p, only=("minilm-l6", "adi"))
    assert {(c.model, c.dataset) for c in part.configs} == {("minilm-l6", "adi")}
    both = CodecParams(models=["minilm-l6", "wordllama-256"], datasets=["adi", "med", "time"], **BARE)
    assert {(c.model, c.dataset) for c in plan(both, only=("wordllama-256", "med")).configs} == {("wordllama-256",
                                                                                                   "med")}


def run(tmp_path, **params):
    return pm.execute_notebook(
        str(REPO / "notebooks" / "09-codecs.ipynb"), str(tmp_path / "executed-09.ipynb"), parameters=params,
        cwd=str(REPO), progress_bar=False, kernel_name="python3",
    )


def test_codecs_notebook_runs_on_tiny_collections(tiny_embeddings, output_dir, tmp_path):
    nb = run(tmp_path, datasets=["adi", "time"], formats=["float32", "binary_sign", "int8_clipped", "rabitq1", "opq8",
        "pq16x4fs", "turboquant2", "osq1", "binary_centred"], calibrate_on=["time", "self"],
        asymmetric=["binary_sign", "osq1"], reducers=["pca"], fractions=[0.5], reduced_formats=["rabitq1", "opq8"],
        fit_on="time", rescore_first=["osq1"], rescore_tiers=["float32"], oversampling=[4], n_resamples=500,
        profile="tiny")
    tidy = pd.read_csv(output_dir / "results/tiny/09-codecs.csv")
    assert set(tidy.columns) >= TIDY_COLUMNS
    assert set(tidy.dataset) == {"adi"}  # time trains the codecs and the reducer: never evaluated
    bpv = tidy.groupby("format").bytes_per_vector.first()
    assert bpv["rabitq1"] == 56 and bpv["opq8"] == 8 and bpv["pq16x4fs"] == 8 and bpv["osq1"] == 48 + 16
    assert set(tidy[tidy.format == "opq8"].calibrate_on) == {"time"}
    assert set(tidy[tidy.format == "rabitq1"].calibrate_on) == {"time", "self"}
    assert {"pca"} <= set(tidy.reducer) and (tidy.rescore == "float32x4").any()
    per_query = pd.read_parquet(output_dir / "results/tiny/09-codecs-per-query.parquet")
    assert set(per_query.config_id) == set(tidy.config_id)
    for path in ["figures/tiny/fig-codecs.png", "paper/generated/tiny/table-codecs.tex",
                 "paper/generated/tiny/table-codecs-equal-bytes.tex", "results/tiny/tables/table-codecs.csv",
                 "paper/generated/tiny/table-codecs-best.tex", "paper/generated/tiny/table-codecs-peers.tex",
                 "results/tiny/tables/codecs-peers.csv"]:
        assert (output_dir / path).stat().st_size > 0, path
    # the closing cell quotes the best-by-ratio table the stage wrote (its own bootstrap, the same seed)
    closing = "".join(o.get("text", "") for o in nb.cells[-3].outputs)
    best = pd.read_csv(output_dir / "results/tiny/tables/table-codecs-best.csv")
    assert len(best) and all(f"minilm-l6, ≥ {r['at least (×)']}×: {r['best']} {r['change (%)']:+.2f} % "
                             f"[{r['CI low (%)']:+.2f}, {r['CI high (%)']:+.2f}], trained on {r['training set']}; "
                             f"{r['not worse']} others" in closing for r in best.to_dict("records")), closing
    training = pd.read_csv(output_dir / "results/tiny/tables/table-codecs-training.csv")
    pair = training[training.sets == "self − time"]
    assert len(pair) and f"minilm-l6, self − time: better in {int((pair.diff_ci_low > 0).sum())}, worse in " \
                         f"{int((pair.diff_ci_high < 0).sum())}, not distinguishable in" in closing
    # the paper's table of the peers' claims: labels and numbers, the claims' wording left to main.tex
    peers, table = (pd.read_csv(output_dir / f"results/tiny/tables/{n}.csv") for n in ("codecs-peers",
                                                                                       "table-codecs-peers"))
    assert len(table) == len(peers) > 0 and list(table.claim) == list(peers.comparison)
    assert "claim" not in peers and peers.select_dtypes(["object", "string"]).map(len).max().max() < 60  # no sentence
    assert table["A − B"].tolist() == pytest.approx(peers["diff"].tolist(), abs=1e-6)  # codecs-peers.csv: 6 digits
    assert set(table.reading) <= {"better", "worse", "not distinguishable"}
    from oracles import check_notebook, codec_cases  # RaBitQ, OPQ, PQ fast-scan searched by faiss' own indexes

    check_notebook(output_dir, "09-codecs", codec_cases("adi", train_on="time", fit_on="time"))


def test_codecs_notebook_runs_with_the_pool_as_a_training_set(tiny_embeddings, output_dir, tmp_path):
    """``pool`` names no collection: the notebook's collection table must not look it up (the full run found it)."""
    run(tmp_path, datasets=["adi", "time"], formats=["float32", "rabitq1"], calibrate_on=["self", "pool"],
        asymmetric=[], reduced_formats=[], rescore_first=[], n_resamples=200, profile="tiny")
    tidy = pd.read_csv(output_dir / "results/tiny/09-codecs.csv")
    assert set(tidy[tidy.format == "rabitq1"].calibrate_on) == {"self", "pool"}
    assert set(tidy.dataset) == {"adi", "time"}


def test_codecs_notebook_refuses_an_unknown_codec(tiny_embeddings, output_dir, tmp_path):
    with pytest.raises(pm.PapermillExecutionError, match="formats"):
        run(tmp_path, datasets=["adi"], formats=["float32", "rabitq3"], profile="tiny")
    assert not (output_dir / "results/tiny/09-codecs.csv").exists()


def test_where_a_codec_is_trained_pairs_each_training_set_on_the_same_collections(cache_dir):
    from study.experiment.runner import run
    from study.stages.codecs import summarise_codecs, training_set_tests

    p = CodecParams(models=["wordllama-256"], datasets=["adi", "time", "cisi", "med"],
                    formats=["float32", "rabitq1", "binary_rotated"], calibrate_on=["med", "self", "pool"],
                    asymmetric=[], reduced_formats=[], rescore_first=[], fit_on="med").checked()
    result = run(plan(p), progress=False)
    summary = summarise_codecs(result.tidy, result.per_query, "none", n_resamples=200)
    tests = training_set_tests(summary, result.tidy, result.per_query, "none", n_resamples=200)
    assert list(tests.sets) == ["self − med", "pool − med", "self − pool"]  # binary_rotated: untrained, one row
    assert set(tests.codec) == {"rabitq1"} and set(tests.queries) == {"same"}
    value = summary[summary.format == "rabitq1"].set_index("calibrate_on").value
    for row in tests.itertuples():
        a, b = row.sets.split(" − ")
        assert row.diff == pytest.approx(value[a] - value[b], abs=1e-12)
        assert row.diff_ci_low <= row.diff <= row.diff_ci_high
    assert list(summary[summary.format == "binary_rotated"].label) == ["binary_rotated (untrained)"]


def test_a_codec_too_big_for_a_small_corpus_leaves_the_summary_and_is_compared_on_what_it_has(cache_dir):
    """OPQ (256 centroids, ≥ d vectors) cannot train on adi (82 documents): the summary keeps every held-out
    collection and lists opq4 @self as lacking adi; the training-set test compares it on time and cisi only."""
    from study.experiment.runner import run
    from study.stages.codecs import dropped_table, summarise_codecs, training_set_tests

    p = CodecParams(models=["wordllama-256"], datasets=["adi", "time", "cisi"],
                    formats=["float32", "rabitq1", "opq4"], calibrate_on=["med", "self"],
                    asymmetric=[], reduced_formats=[], rescore_first=[], fit_on="med").checked()
    result = run(plan(p), progress=False)
    summary = summarise_codecs(result.tidy, result.per_query, "none", n_resamples=200)
    assert summary.attrs["sets"]["wordllama-256"].names == ("adi", "cisi", "time")
    assert not ((summary.format == "opq4") & (summary.calibrate_on == "self")).any()
    assert ((summary.format == "opq4") & (summary.calibrate_on == "med")).any()
    dropped = dropped_table(summary, result.tidy)
    assert set(dropped.configuration) == {"opq4 @self", "opq4 · float32 queries @self"}
    assert set(dropped.lacks) == {"adi"}
    tests = training_set_tests(summary, result.tidy, result.per_query, "none", n_resamples=200)
    opq = tests[(tests.codec == "opq4") & (tests.queries == "same")].iloc[0]
    assert opq.sets == "self − med" and opq.collections == 2
    ndcg = result.tidy[(result.tidy.metric == "ndcg_at_10") & (result.tidy.format == "opq4")
                       & (result.tidy.query_format == "same") & result.tidy.dataset.isin(["time", "cisi"])]
    by_set = ndcg.groupby("calibrate_on").value.mean()
    assert opq["diff"] == pytest.approx(by_set["self"] - by_set["med"], abs=1e-12)
    assert tests[tests.codec == "rabitq1"].collections.tolist() == [3]


def test_the_best_codec_at_each_ratio_counts_what_it_cannot_be_told_apart_from(cache_dir):
    from study.analysis import stats
    from study.experiment.runner import run
    from study.stages.codecs import _ids, best_by_ratio, summarise_codecs

    p = CodecParams(models=["minilm-l6"], datasets=["adi", "time"],
                    formats=["float32", "binary_sign", "binary_rotated", "rabitq1", "rabitq2", "pq8x4fs"],
                    calibrate_on=["self"], asymmetric=[], reduced_formats=[], rescore_first=[]).checked()
    result = run(plan(p), progress=False)
    summary = summarise_codecs(result.tidy, result.per_query, "none", n_resamples=300)
    best = best_by_ratio(summary, result.tidy, result.per_query, "none", ratios=(8, 32), n_resamples=300)
    assert best["at least (×)"].tolist() == [8, 32]
    for row in best.itertuples():
        fits = summary[(summary.format != "float32") & (summary.stored_ratio >= row[2] / 1.001)]
        top = fits.loc[fits.change_pct.idxmax()]
        assert row.best == top.label and row[4] == top.calibrate_on
        # the ties recomputed one by one, independently of the single bootstrap pass
        names = list(summary.attrs["sets"]["minilm-l6"].names)
        tied = 0
        for _, other in fits[fits.label != top.label].iterrows():
            test = stats.paired_difference(result.per_query, result.tidy, _ids(result.tidy, "minilm-l6", names, top),
                                           _ids(result.tidy, "minilm-l6", names, other), "none", n_resamples=300)
            tied += test["diff_ci_low"] <= 0
        assert row[10] == tied
    assert best.best.iloc[1] == "binary_sign"  # sign binary is a candidate too: on adi + time it beats the codecs


def test_the_peers_opq_claim_compares_opq_at_sign_binarys_bytes():
    """MPNet (768-d): sign binary is 96 B, so OPQ at 32× is opq96, not opq48 (64×)."""
    from study.stages.codecs import PEER_CLAIMS

    pick = next(a for name, a, _ in PEER_CLAIMS if name.startswith("OPQ at 32×"))
    rows = pd.DataFrame({"format": ["binary_sign", "opq48", "opq96", "opq96", "rabitq1"],
                         "stored_bytes_per_vector": [96.0, 48.0, 96.0, 96.0, 104.0],
                         "reducer": ["none", "none", "none", "pca", "none"], "rescore": ["none"] * 5})
    assert list(pick(rows)) == [False, False, True, False, False]


def test_the_ratio_at_a_stated_n_counts_what_is_stored_once():
    from study.stages.codecs import codecs_table, ratio_at

    summary = pd.DataFrame({"model": ["m", "m"], "label": ["opq48", "binary_sign"], "family": ["OPQ+PQ", "binary"],
                            "stored_bytes_per_vector": [48.0, 48.0], "overhead_bytes": [983_638, 0],
                            "stored_ratio": [32.0, 32.0], "value": [0.5, 0.5], "change_pct": [-1.0, -2.0],
                            "ci_low": [-2.0, -3.0], "ci_high": [0.0, -1.0]})
    # 125,000 × 1,536 B of float32 over 125,000 × 48 B + the codebook and rotation stored once
    assert ratio_at(summary, 125_000).tolist() == pytest.approx([125_000 * 1536 / (125_000 * 48 + 983_638), 32.0])
    assert ratio_at(summary, 10 ** 12).iloc[0] == pytest.approx(32.0, rel=1e-6)  # N → ∞: the per-vector ratio
    assert "CR at N = 125,000" in codecs_table(summary).columns


def test_each_peer_claim_is_a_short_name_whose_sentence_is_main_texs():
    """The stage holds a claim's name and picks only; the claim in full is written by hand in main.tex's item of that
    name (and notebook 09's), so no sentence is built or stored in Python."""
    from study.core.paths import REPO_ROOT
    from study.stages.codecs import PEER_CLAIMS

    main = (REPO_ROOT / "paper" / "main.tex").read_text()
    for name, pick_a, pick_b in PEER_CLAIMS:
        assert len(name) <= 40 and not name.endswith(".") and callable(pick_a) and callable(pick_b)
        latex = name.replace("×", "$\\times$")
        assert f"\\emph{{{latex}}}:" in main, name


def test_bitbudgets_claims_pick_equal_bytes_and_every_tier():
    from study.stages.codecs import PEER_CLAIMS

    claims = {name: (a, b) for name, a, b in PEER_CLAIMS}
    rows = pd.DataFrame({
        "format": ["float32", "float32", "float32", "int8_clipped", "int8_clipped", "binary_sign", "binary_sign"],
        "reducer": ["none", "pca", "pca", "none", "pca", "none", "none"],
        "fraction": [1.0, 0.5, 0.25, 1.0, 0.5, 1.0, 1.0],
        "rescore": ["none", "none", "none", "none", "none", "none", "float32x10"],
        "query_format": ["same"] * 7})
    bits, dims = claims["BitBudget: bits beat dimensions (4×)"]
    assert list(bits(rows)) == [False, False, False, True, False, False, False]   # int8, every dimension: d bytes
    assert list(dims(rows)) == [False, False, True, False, False, False, False]   # float32, d / 4 dimensions: d bytes
    rerank, float32 = claims["BitBudget: binary + rerank vs float32"]
    assert list(rerank(rows)) == [False] * 6 + [True]
    assert list(float32(rows)) == [True] + [False] * 6


def test_opq_needs_as_many_training_vectors_as_dimensions(tiny_embeddings):
    """faiss' OPQ aborts the process below d training vectors: time (423 documents) cannot train OPQ for a 768-d
    model, can for a 384-d one; plain PQ needs only its 256 centroids."""
    from study.compress.formats import get_format
    from study.plans.codecs import min_training_rows, unusable

    assert min_training_rows(get_format("opq8"), 768) == 768 and min_training_rows(get_format("opq8"), 128) == 256
    assert min_training_rows(get_format("pq96x8"), 768) == 256
    assert unusable(get_format("opq8"), "self", 768, 423) == ("the corpus has 423 vectors; opq8 needs at least 768 "
                                                               "to train")
    assert unusable(get_format("opq8"), "self", 384, 423) is None


def test_a_first_tier_that_calibrates_nothing_leaves_the_training_set_to_its_calibrated_tier(cache_dir):
    p = CodecParams(datasets=["adi"], formats=["float32"], calibrate_on=["time", "self"], asymmetric=[],
                    reducers=["truncation"], fractions=[0.5], reduced_formats=[], fit_on="time",
                    rescore_first=["binary_sign"], rescore_tiers=["float32", "int8_clipped"],
                    oversampling=[4]).checked()
    rescored = [(c.rescore, c.calibrate_on) for c in plan(p).configs if c.rescore != "none"]
    assert rescored == [("float32x4", "none"), ("int8_clippedx4", "time")]
