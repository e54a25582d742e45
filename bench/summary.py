"""The tables of ``docs/benchmarks.md``, written from ``results/bench.csv`` (so its numbers stay true after a rerun).

    python -m bench.summary          # rewrite every generated block of docs/benchmarks.md

``bench.run_all`` (``make bench``) calls it after the benchmarks. The page is hand-written text with one generated
block per benchmark, between ``<!-- bench:<name>:start ... -->`` and ``<!-- bench:<name>:end -->``; a block holds
Markdown tables (and short headings) only, every number read from the rows, and is empty while its benchmark has
no rows. What a table shows, and how to read it, is the page's hand-written text around the block.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from bench import analysis
from bench.common import read_rows
from bench.mutants import load_spec
from study.core.io import write_text_atomic
from study.core.paths import REPO_ROOT

PAGE = REPO_ROOT / "docs" / "benchmarks.md"
SCRIPTS = {"evaluator_vs_mteb": "evaluator", "encode": "encode", "study": "study_time",
           "opq_iterations": "opq_iterations", analysis.POOL_BENCHMARK: "pool_scaling",
           analysis.EXACT_VS_FAISS: "exact_vs_faiss", analysis.BENCHMARK: "scaling", "indexes": "indexes",
           "mutants": "mutants", "rule_breaks": "rule_breaks",
           "advise_scale": "advise_scale"}  # benchmark name → bench/<script>.py
MiB = 2**20


def start_marker(section: str) -> str:
    return f"<!-- bench:{section}:start (written by `python -m bench.summary` from results/bench.csv; do not edit) -->"


def end_marker(section: str) -> str:
    return f"<!-- bench:{section}:end -->"


def _of(rows: pd.DataFrame, benchmark: str) -> pd.DataFrame:
    return rows[rows.benchmark == benchmark]


def _wide(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.pivot_table(index="case", columns="metric", values="value", aggfunc="first")


def _column(wide: pd.DataFrame, metric: str, scale: float = 1.0) -> pd.Series:
    """One metric of ``_wide``'s table divided by ``scale`` (NaN where not measured)."""
    return (wide[metric] if metric in wide else pd.Series(float("nan"), index=wide.index)) / scale


def markdown(df: pd.DataFrame, formats: dict[str, str] | None = None) -> str:
    """``df`` as a Markdown table; each of its columns named in ``formats`` written with that format spec (blank
    where missing) and right-aligned, as are numeric columns."""
    formats = {c: spec for c, spec in (formats or {}).items() if c in df}
    shown = df.reset_index(drop=True).copy()
    for column, spec in formats.items():
        shown[column] = ["" if pd.isna(v) else format(v, spec) for v in shown[column]]
    align = ["right" if c in formats or pd.api.types.is_numeric_dtype(df[c]) else "left" for c in df.columns]
    return shown.to_markdown(index=False, disable_numparse=True, colalign=align)


def runs_section(rows: pd.DataFrame) -> list[str]:
    """Which script wrote each benchmark's rows, on which machine, and when."""
    out = []
    for benchmark, script in SCRIPTS.items():
        mine = _of(rows, benchmark)
        if len(mine):
            dates = sorted({d[:10] for d in mine.date})
            out.append({"benchmark": benchmark, "script": f"`bench/{script}.py`", "machine": mine.machine.iloc[0],
                        "date": dates[0] if len(dates) == 1 else f"{dates[0]} – {dates[-1]}"})
    return [markdown(pd.DataFrame(out))] if out else []


def evaluator_section(rows: pd.DataFrame) -> list[str]:
    """Per format: the study's evaluator and ``mteb.evaluate`` on the same embeddings, then mteb's one-time set-up."""
    mine = _of(rows, "evaluator_vs_mteb")
    wide = _wide(mine[mine.case != "mteb"])
    if wide.empty:
        return []
    parts = wide.index.str.split("/")
    table = pd.DataFrame({"model": parts.str[0], "collection": parts.str[1], "format": parts.str[-1],
                          "ours (s)": wide.ours_seconds.to_numpy(), "mteb (s)": wide.mteb_seconds.to_numpy(),
                          "× faster": wide.speedup.to_numpy(),
                          "largest abs. Δ nDCG@10": wide.abs_delta_ndcg_at_10.to_numpy()})
    out = [markdown(table, {"ours (s)": ".3f", "mteb (s)": ".2f", "× faster": ".0f", "largest abs. Δ nDCG@10": ".0e"})]
    setup = _wide(mine[mine.case == "mteb"])
    if len(setup):
        columns = {"import_seconds": "import mteb (s)", "first_evaluate_seconds": "first mteb.evaluate, untimed (s)"}
        shown = setup[[c for c in columns if c in setup]].rename(columns=columns)
        out += ["", "#### mteb's one-time set-up", "", markdown(shown, dict.fromkeys(shown.columns, ".1f"))]
    return out


def encode_section(rows: pd.DataFrame) -> list[str]:
    wide = _wide(_of(rows, "encode"))
    if wide.empty:
        return []
    table = pd.DataFrame({"case": wide.index, "sentence-transformers (docs/s)": wide.raw_docs_per_second.to_numpy(),
                          "study (docs/s)": wide.study_docs_per_second.to_numpy(), "overhead": wide.overhead.to_numpy(),
                          "largest abs. Δ": wide.max_abs_difference.to_numpy()})
    return [markdown(table, {"sentence-transformers (docs/s)": ".1f", "study (docs/s)": ".1f", "overhead": "+.1%",
                             "largest abs. Δ": ".0e"})]


def study_section(rows: pd.DataFrame) -> list[str]:
    """The whole study per profile (cold, or the stages from warm embeddings, and warm), then per stage."""
    mine = _of(rows, "study")
    if mine.empty:
        return []
    whole = _wide(mine[~mine.case.str.contains(",stage=", regex=False)])
    table = pd.DataFrame({"cores": _column(whole, "cores"), "cold (min)": _column(whole, "cold_seconds", 60),
                          "stages from warm embeddings (min)": _column(whole, "stages_seconds", 60),
                          "warm (s)": _column(whole, "warm_seconds")}).rename_axis("case").reset_index()
    out = [markdown(table, {"cores": ".0f", "cold (min)": ".1f", "stages from warm embeddings (min)": ".1f",
                            "warm (s)": ".0f"})]
    for case in whole.index:
        steps = mine[mine.case.str.startswith(f"{case},stage=")]
        if steps.empty:
            continue
        wide = _wide(steps).reset_index()
        parts = wide.case.str.removeprefix(f"{case},").str.extract(r"stage=(?P<stage>[^,]+),step=(?P<step>.+)")
        stages = pd.concat([parts, wide[["jobs", "job_seconds", "wall_seconds"]]], axis=1)
        stages = stages[stages.step == "all"].drop(columns="step").sort_values("wall_seconds", ascending=False)
        stages = stages.rename(columns={"job_seconds": "job time (s)", "wall_seconds": "wall (s)"})
        out += ["", f"#### {case}, per stage", "",
                markdown(stages, {"jobs": ".0f", "job time (s)": ".0f", "wall (s)": ".0f"})]
    return out


def opq_section(rows: pd.DataFrame) -> list[str]:
    """Per collection, then pooled: nDCG@10 of faiss' default OPQ rounds minus the study's, paired 95 % CI."""
    wide = _wide(_of(rows, "opq_iterations"))
    if wide.empty:
        return []
    parts = wide.index.str.split("/")
    table = pd.DataFrame({"model": parts.str[0], "collection": parts.str[1], "codec": parts.str[-1],
                          "faiss default − study": wide["diff"].to_numpy(), "CI low": wide.diff_ci_low.to_numpy(),
                          "CI high": wide.diff_ci_high.to_numpy(),
                          "training, study (s)": _column(wide, "train_seconds study").to_numpy(),
                          "training, faiss default (s)": _column(wide, "train_seconds faiss default").to_numpy()})
    table = table.sort_values("collection", key=lambda c: c.str.startswith("pooled:"), kind="stable")
    return [markdown(table, {"faiss default − study": "+.4f", "CI low": "+.4f", "CI high": "+.4f",
                             "training, study (s)": ".0f", "training, faiss default (s)": ".0f"})]


POOL_NAMES = {"n_docs": "N", "n_queries": "queries", "ndcg_at_10": "nDCG@10", "recall_at_10": "recall@10",
              "recall_at_10_real": "recall@10, real", "recall_at_10_fitted": "recall@10, fitted",
              "difference": "fitted − real", "tenth_neighbour_cosine_real": "10th neighbour's cosine, real",
              "tenth_neighbour_cosine_fitted": "10th neighbour's cosine, fitted", "qps_b1": "QPS b=1",
              "build_s": "build (s)", "bytes_per_vector": "bytes/vector"}


def _pool_recall(recall: pd.DataFrame) -> pd.DataFrame:
    """``analysis.pool_recall`` with one column per model (and one for iid vectors), one row per index kind."""
    wide = recall.pivot_table(index="index", columns="model", values="recall_at_10", sort=True)
    dims = recall.groupby("model").dims.first()
    wide.columns = [f"{m}, d={dims[m]}" for m in wide.columns]
    iid = recall.dropna(subset=["iid_recall_at_10"]).groupby("index")[["iid_dims", "iid_recall_at_10"]].first()
    if len(iid):
        wide[f"iid, d={int(iid.iid_dims.iloc[0])}"] = iid.iid_recall_at_10.reindex(wide.index)
    wide.insert(0, "N", int(recall.n_docs.max()))
    return wide.reset_index()


def pool_section(rows: pd.DataFrame) -> list[str]:
    """Index scaling on the real pool and on vectors fitted to it (``bench.analysis``'s pool tables)."""
    mine = _of(rows, analysis.POOL_BENCHMARK)
    if mine.empty:
        return []
    table = analysis.pool_table(mine)
    recall = analysis.pool_recall(table)
    quality = analysis.pool_quality(table)
    quality["all_relevant"] = quality.all_relevant.map({True: "yes", False: "no"})
    fitted, largest = analysis.fitted_vs_real(table), analysis.fitted_at_largest_n(table)
    out = []
    if len(recall):
        shown = _pool_recall(recall)
        formats = {"N": ","} | dict.fromkeys(shown.columns[2:], ".3f")
        out += ["#### Recall@10 at the pool's size", "", markdown(shown, formats), ""]
    quality = quality.rename(columns=POOL_NAMES | {"n_relevant": "judged-relevant documents in the corpus",
                                                   "all_relevant": "all of them"})
    out += ["#### nDCG@10 of the pooled queries, exact float32", "",
            markdown(quality, {"N": ",", "queries": ",.0f", "judged-relevant documents in the corpus": ",.0f",
                               "nDCG@10": ".4f"}), ""]
    if len(fitted):
        fitted = fitted.rename(columns=POOL_NAMES)
        out += ["#### Fitted vectors against the real pool", "",
                markdown(fitted, {"N": ","} | dict.fromkeys(fitted.columns[3:], ".3f") | {"fitted − real": "+.3f"}), ""]
    if len(largest):
        out += ["#### Fitted vectors at their largest N", "", markdown(largest.rename(columns=POOL_NAMES), {
            "N": ",", "recall@10": ".3f", "QPS b=1": ",.0f", "build (s)": ".0f", "bytes/vector": ".0f"})]
    return out


def exact_vs_faiss_section(rows: pd.DataFrame) -> list[str]:
    """The study's exact top-100 against faiss flat at every shape."""
    table = analysis.exact_vs_faiss_table(_of(rows, analysis.EXACT_VS_FAISS))
    if table.empty:
        return []
    shown = pd.DataFrame({
        "data": table.data, "d": table.dims, "N": table.n_docs, "batch": table.batch, "study (s)": table.study_s,
        "faiss (s)": table.faiss_s, "× faiss": table.ratio_vs_faiss, "GEMM share": table.gemm_share,
        "stream (s)": table.stream_s, "binary × faiss": table.binary_ratio_vs_faiss, "tie pass (s)": table.tie_pass_s,
    })
    return [markdown(shown, {"N": ",", "study (s)": ".4f", "faiss (s)": ".4f", "× faiss": ".2f", "GEMM share": ".0%",
                             "stream (s)": ".4f", "binary × faiss": ".2f", "tie pass (s)": ".1e"})]


def _n_range(series: pd.DataFrame) -> pd.Series:
    return series.n_min.map("{:,}".format) + " – " + series.n_max.map("{:,}".format)


def _within(series: pd.DataFrame) -> pd.Series:
    return series.cases_within_budget.astype(str) + " of " + series.cases.astype(str)


def _exact_series(exact: pd.DataFrame) -> str:
    """``analysis.series_table``'s streaming exact-search rows."""
    shown = pd.DataFrame({
        "format": exact.format, "d": exact.dims, "N": _n_range(exact), "time exponent": exact.exponent,
        "time at largest N (s)": exact.wall_time_s_at_n_max, "peak memory (MiB)": exact.peak_rss_bytes_at_n_max / MiB,
        "budget (MiB)": exact.budget_bytes_at_n_max / MiB, "stored (MiB)": exact.stored_bytes_at_n_max / MiB,
        "cases within budget": _within(exact), "GEMM fraction": exact.fraction_of_gemm_peak_at_n_max,
        "GEMM peak (G mult-adds/s)": exact.gemm_peak_macs_per_s_at_n_max / 1e9,
        "lowest planted recall@10": exact.min_recall_at_10_planted})
    return markdown(shown, {"time exponent": ".2f", "time at largest N (s)": ".3g", "peak memory (MiB)": ",.0f",
                            "budget (MiB)": ",.0f", "stored (MiB)": ",.0f", "GEMM fraction": ".0%",
                            "GEMM peak (G mult-adds/s)": ".1f", "lowest planted recall@10": ".2f"})


def _hnsw_series(hnsw: pd.DataFrame) -> str:
    """``analysis.series_table``'s HNSW rows."""
    shown = pd.DataFrame({
        "index": hnsw.format, "d": hnsw.dims, "N": _n_range(hnsw), "time exponent": hnsw.exponent,
        "build exponent": hnsw.build_exponent, "recall@10 at smallest N": hnsw.recall_at_10_at_n_min,
        "recall@10 at largest N": hnsw.recall_at_10_at_n_max, "lowest planted recall@10": hnsw.min_recall_at_10_planted,
        "bytes/vector at largest N": hnsw.bytes_per_vector_at_n_max, "build at largest N (s)": hnsw.build_s_at_n_max,
        "peak memory (MiB)": hnsw.peak_rss_bytes_at_n_max / MiB, "cases within budget": _within(hnsw)})
    return markdown(shown, {"time exponent": ".2f", "build exponent": ".2f", "recall@10 at smallest N": ".2f",
                            "recall@10 at largest N": ".2f", "lowest planted recall@10": ".2f",
                            "bytes/vector at largest N": ".0f", "build at largest N (s)": ".3g",
                            "peak memory (MiB)": ",.0f"})


def _crossovers(cross: pd.DataFrame) -> str:
    """``analysis.crossovers``: where each HNSW kind's queries start to stay faster than exact search."""
    shown = pd.DataFrame({
        "index": cross["index"], "d": cross.dims, "exact format": cross.exact_format,
        "faster from N": cross.faster_from_n, "faster at N": cross.faster_at_n.map(
            lambda ns: ", ".join(f"{n:,}" for n in ns) if isinstance(ns, tuple) else ""),
        "at N": cross.n_docs, "HNSW (s)": cross.index_time_s, "exact (s)": cross.exact_time_s,
        "speed-up": cross.speedup, "recall@10": cross.recall_at_10, "bytes/vector": cross.bytes_per_vector,
        "build (s)": cross.build_s})
    return markdown(shown, {"faster from N": ",.0f", "at N": ",.0f", "HNSW (s)": ".3g", "exact (s)": ".3g",
                            "speed-up": ".1f", "recall@10": ".2f", "bytes/vector": ".0f", "build (s)": ".3g"})


def scaling_section(rows: pd.DataFrame) -> list[str]:
    """The streaming exact search and HNSW on iid vectors: one row per series, the crossovers, the machine's load."""
    mine = _of(rows, analysis.BENCHMARK)
    table = analysis.case_table(mine)
    if table.empty:
        return []
    series = analysis.series_table(table)
    exact, hnsw = series[series.method == analysis.EXACT], series[series.method != analysis.EXACT]
    out = ["#### Streaming exact search", "", _exact_series(exact), ""] if len(exact) else []
    if len(hnsw):
        out += ["#### HNSW on iid vectors", "", _hnsw_series(hnsw), "",
                "#### Where HNSW becomes faster than exact search", "", _crossovers(analysis.crossovers(table)), ""]
    conditions = analysis.run_conditions(mine).rename(columns={
        "load_avg_min": "load average, lowest", "load_avg_max": "load average, highest", "n_queries": "queries"})
    return [*out, "#### The machine during the run", "", markdown(conditions, {
        "cores": ".0f", "load average, lowest": ".1f", "load average, highest": ".1f", "queries": ",.0f"})]


def indexes_section(rows: pd.DataFrame) -> list[str]:
    """Real usearch/faiss indexes on one real collection (random vectors only when no real one was measured)."""
    mine = _of(rows, "indexes")
    if mine.empty:
        return []
    wide = _wide(mine).reset_index()
    wide["index"] = wide.case.str.split(" | ", regex=False).str[0]
    wide["data"] = wide.case.str.split(" | ", regex=False).str[1]
    real = wide[~wide.data.str.startswith("random")]
    shown = real if len(real) else wide
    table = shown[["index", "bytes_per_vector", "build_s", "qps_b1", "qps_b100", "recall_at_10"]].sort_values(
        "bytes_per_vector", ascending=False)
    table = table.rename(columns={"bytes_per_vector": "bytes/vector", "build_s": "build (s)", "qps_b1": "QPS b=1",
                                  "qps_b100": "QPS b=100", "recall_at_10": "recall@10"})
    return [f"#### {shown.data.iloc[0]}", "", markdown(table, {
        "bytes/vector": ".0f", "build (s)": ".3g", "QPS b=1": ".0f", "QPS b=100": ".0f", "recall@10": ".3f"})]


def mutants_section(rows: pd.DataFrame) -> list[str]:
    """Per module: mutants, killed, survivors, reviewed equivalents and the score; a module of ``bench/mutation``
    not measured yet has a row with no counts."""
    mine = _of(rows, "mutants")
    if mine.empty:
        return []
    wide = _wide(mine).reset_index()
    columns = {"mutants": "mutants", "killed": "killed", "survived": "survived", "no_tests": "no tests",
               "equivalent": "equivalent", "timeout": "of the killed: timeouts", "score_pct": "score (%)"}
    table = wide[["case", *[c for c in columns if c in wide]]].rename(columns={"case": "module", **columns})
    unmeasured = sorted(set(load_spec()[0]) - set(table.module))
    table = pd.concat([table, pd.DataFrame({"module": unmeasured})], ignore_index=True)
    return [markdown(table, dict.fromkeys(table.columns[1:-1], ".0f") | {"score (%)": ".1f"})]


def rule_breaks_section(rows: pd.DataFrame) -> list[str]:
    """Each rule break of ``bench/rule_breaks.py`` and whether its module's targeted tests caught it."""
    mine = _of(rows, "rule_breaks")
    if mine.empty:
        return []
    table = pd.DataFrame({"rule break": mine.case, "caught": mine.value.map(lambda v: "yes" if v >= 1 else "no")})
    return [markdown(table.sort_values("rule break"))]


def _advise_n(case: pd.Series) -> pd.Series:
    return case.str.extract(r"^n=(\d+)", expand=False).astype(int)


def advise_scale_section(rows: pd.DataFrame) -> list[str]:
    """Per N: wall time, peak memory, what was computed, the load; then the seconds of each grid step per N."""
    mine = _of(rows, "advise_scale")
    if mine.empty:
        return []
    runs = _wide(mine[~mine.case.str.contains(",step=", regex=False)])
    case = runs.index.to_series()
    table = pd.DataFrame({
        "N": _advise_n(case), "threads": case.str.extract(r"threads=(\d+)", expand=False).astype(int),
        "resumed": case.str.endswith(",resumed").map({True: "yes", False: "no"}),
        "wall (min)": _column(runs, "wall_seconds", 60), "peak memory (GiB)": _column(runs, "peak_rss_bytes", 2**30),
        "configurations": _column(runs, "configurations"), "computed": _column(runs, "computed"),
        "load before": _column(runs, "load_avg_before"), "load after": _column(runs, "load_avg_after"),
    }).sort_values("N", kind="stable")
    out = [markdown(table, {"N": ",", "threads": ".0f", "wall (min)": ".1f", "peak memory (GiB)": ".2f",
                            "configurations": ".0f", "computed": ".0f", "load before": ".1f", "load after": ".1f"})]
    steps = mine[mine.case.str.contains(",step=", regex=False)]
    if len(steps):
        parts = steps.case.str.extract(r"^(?P<run>.+),step=(?P<step>.+)$")
        wide = steps.assign(N=_advise_n(parts.run), step=parts.step).pivot_table(
            index="step", columns="N", values="value", aggfunc="first")
        wide = wide.sort_values(wide.columns.max(), ascending=False)
        wide = pd.concat([wide.drop(index="other", errors="ignore"), wide.loc[wide.index == "other"]])
        wide.columns = [f"N={n:,} (s)" for n in wide.columns]
        shown = wide.rename_axis("step").reset_index()
        out += ["", "#### Seconds per grid step", "", markdown(shown, dict.fromkeys(shown.columns[1:], ",.0f"))]
    return out


SECTIONS: dict[str, Callable[[pd.DataFrame], list[str]]] = {
    "runs": runs_section, "evaluator": evaluator_section, "encode": encode_section, "study": study_section,
    "opq": opq_section, "pool": pool_section, "exact-vs-faiss": exact_vs_faiss_section, "scaling": scaling_section,
    "indexes": indexes_section, "mutants": mutants_section, "rule-breaks": rule_breaks_section,
    "advise-scale": advise_scale_section,
}


def blocks(rows: pd.DataFrame) -> dict[str, str]:
    """Each section's generated Markdown (empty while its benchmark has no rows)."""
    return {name: "\n".join(make(rows)).strip() for name, make in SECTIONS.items()}


def splice(text: str, generated: dict[str, str]) -> tuple[str, list[str]]:
    """``text`` with each section's block replaced between its markers, and the sections whose markers are missing."""
    missing = []
    for name, block in generated.items():
        start, end = start_marker(name), end_marker(name)
        i, j = text.find(start), text.find(end)
        if i < 0 or j < i:
            missing.append(name)
            continue
        text = text[: i + len(start)] + "\n" + (f"\n{block}\n\n" if block else "") + text[j:]
    return text, missing


def write_page(page: Path = PAGE, rows: pd.DataFrame | None = None) -> list[str]:
    """Rewrite every generated block of ``page`` (atomically); the sections whose markers the page lacks."""
    text, missing = splice(page.read_text(encoding="utf-8"), blocks(read_rows() if rows is None else rows))
    write_text_atomic(page, text)
    return missing


def main() -> int:
    missing = write_page()
    if missing:
        print(f"{PAGE}: no markers for the sections {', '.join(missing)}; add "
              f"{start_marker(missing[0])} … {end_marker(missing[0])} where each belongs", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
