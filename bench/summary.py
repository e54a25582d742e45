"""The README's benchmark section, written from ``results/bench.csv`` (so its numbers stay true after a rerun).

    python -m bench.summary          # rewrite the block between the bench markers of docs/benchmarks.md

``bench.run_all`` (``make bench``) calls it after the benchmarks. Each paragraph is skipped when its
benchmark has no rows yet; every number is read from the table, with the machine and date it came from.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from bench.common import read_rows
from bench.mutants import load_spec
from study.core.io import splice_between
from study.core.paths import REPO_ROOT

START = "<!-- bench:start (written by `python -m bench.summary` from results/bench.csv; do not edit) -->"
END = "<!-- bench:end -->"


def _of(rows: pd.DataFrame, benchmark: str) -> pd.DataFrame:
    return rows[rows.benchmark == benchmark]


def _stamp(rows: pd.DataFrame) -> str:
    return f"{rows.machine.iloc[0]}; {rows.date.min()[:10]}"


def _wide(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.pivot_table(index="case", columns="metric", values="value", aggfunc="first")


def evaluator_lines(rows: pd.DataFrame) -> list[str]:
    mine = _of(rows, "evaluator_vs_mteb")
    wide = _wide(mine[mine.case != "mteb"])
    if wide.empty:
        return []
    per_format = ", ".join(f"{case.split('/')[-1]} {ratio:.0f}×" for case, ratio in wide.speedup.items())
    imp = mine[mine.metric == "import_seconds"].value
    first = mine[mine.metric == "first_evaluate_seconds"].value
    imp_text = f", plus {imp.iloc[0]:.1f} s to import mteb" if len(imp) else ""
    first_text = (f"a process's first `mteb.evaluate`, {first.iloc[0]:.1f} s of one-time set-up, is run untimed"
                  if len(first) else "a process's first `mteb.evaluate` is run untimed")
    return [f"* **Evaluator vs mteb** (`bench/evaluator.py`, {_stamp(mine)}): on "
            f"{', '.join(c.split('/')[1] for c in wide.index[:1])}, our evaluator takes "
            f"{wide.ours_seconds.min():.2f}–{wide.ours_seconds.max():.2f} s per configuration and `mteb.evaluate` "
            f"{wide.mteb_seconds.min():.1f}–{wide.mteb_seconds.max():.1f} s{imp_text}: "
            f"{wide.speedup.min():.0f}–{wide.speedup.max():.0f}× faster ("
            f"{per_format}; medians of warm runs, {first_text}); largest |Δ nDCG@10| "
            f"{wide.abs_delta_ndcg_at_10.max():.0e} (mteb rounds to 5 decimals)."]


def encode_lines(rows: pd.DataFrame) -> list[str]:
    mine = _of(rows, "encode")
    wide = _wide(mine)
    if wide.empty:
        return []
    return [f"* **Encoding** (`bench/encode.py`, {_stamp(mine)}): {case} — plain sentence-transformers "
            f"{r.raw_docs_per_second:.1f} docs/s, the study's cached chunked path {r.study_docs_per_second:.1f} "
            f"docs/s: overhead {r.overhead:+.1%} (target within 10 %); largest |Δ| between the two "
            f"{r.max_abs_difference:.0e}." for case, r in wide.iterrows()]


def opq_iterations_lines(rows: pd.DataFrame) -> list[str]:
    """The study's OPQ rounds against faiss' defaults: per collection and pooled, the paired difference."""
    mine = _of(rows, "opq_iterations")
    wide = _wide(mine)
    if wide.empty:
        return []

    def diff(case: str) -> str:
        r = wide.loc[case]
        return f"{r['diff']:+.4f} [{r.diff_ci_low:+.4f}, {r.diff_ci_high:+.4f}]"

    single = [c for c in wide.index if "/pooled:" not in c]
    pooled = [c for c in wide.index if "/pooled:" in c]
    per = "; ".join(f"{c.split('/')[1]} {diff(c)} (training {wide.loc[c, 'train_seconds study']:.0f} s vs "
                    f"{wide.loc[c, 'train_seconds faiss default']:.0f} s)" for c in single)
    within = "within" if all(wide.loc[c, "diff_ci_low"] <= 0 <= wide.loc[c, "diff_ci_high"] for c in pooled) \
        else "outside"
    return [f"* **OPQ rounds** (`bench/opq_iterations.py`, {_stamp(mine)}): {single[0].split('/')[-1]} trained on "
            f"each corpus, float32 queries; nDCG@10 of faiss' defaults (50 rounds) minus the study's (10), paired "
            f"95 % CI: {per}; pooled {diff(pooled[0])}, {within} noise." if pooled else ""]


def study_lines(rows: pd.DataFrame) -> list[str]:
    """The whole study per profile (cold, or the stages from warm embeddings), then where the time went."""
    mine = _of(rows, "study")
    if mine.empty:
        return []
    whole = mine[~mine.case.str.contains(",stage=", regex=False)]
    lines = []
    for case, r in _wide(whole).iterrows():
        cores = f", {r.cores:.0f} cores" if "cores" in r and pd.notna(r.cores) else ""
        first = (f"stages from warm embeddings {r.stages_seconds / 60:.1f} min (target: 30 min for the full profile)"
                 if "stages_seconds" in r and pd.notna(r.stages_seconds)
                 else f"cold {r.cold_seconds / 60:.1f} min (target: 13 min)")
        lines.append(f"* **Whole study** (`bench/study_time.py`, {_stamp(whole[whole.case == case])}{cores}): "
                     f"{case}: {first}, warm {r.warm_seconds:.0f} s.")
        steps = mine[mine.case.str.startswith(f"{case},stage=")]
        if len(steps):
            wide = _wide(steps).reset_index()
            parts = wide.case.str.removeprefix(f"{case},").str.extract(r"stage=(?P<stage>[^,]+),step=(?P<step>.+)")
            table = pd.concat([parts, wide[["jobs", "job_seconds", "wall_seconds"]]], axis=1)
            table = table[table.step == "all"].drop(columns="step").sort_values("wall_seconds", ascending=False)
            lines += ["", table.rename(columns={"job_seconds": "job time (s)", "wall_seconds": "wall (s)"})
                      .to_markdown(index=False, floatfmt=("", ".0f", ".0f", ".0f")), ""]
    return lines


def index_lines(rows: pd.DataFrame) -> list[str]:
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
    return [f"* **Real indexes** (`bench/indexes.py`, {_stamp(mine)}), {shown.data.iloc[0]}:", "",
            table.to_markdown(index=False, floatfmt=("", ".0f", ".3g", ".0f", ".0f", ".3f")), ""]


def _report_lines(heading: str, make_report) -> list[str]:
    """``heading`` and one bullet per line of a report's conclusions; nothing when its benchmark has no rows."""
    from study.core.errors import StudyError

    try:
        report = make_report()
    except StudyError:
        return []
    return [heading, *[f"  * {line}" for line in report.conclusions.splitlines() if line.strip()]]


def pool_lines() -> list[str]:
    """Index scaling on real pooled embeddings first (the real-embedding curves), then the fitted vectors."""
    from bench.analysis import pool_report

    return _report_lines("* **Index scaling on real embeddings** (`bench/pool_scaling.py`, figure "
                         "`figures/bench/scaling-pool.png`, notebook `08-scaling.ipynb`; the pool = all shared "
                         "collections in one corpus, each collection's queries scored with its own qrels, other "
                         "collections' documents counted as not relevant):", pool_report)


def exact_vs_faiss_lines(rows: pd.DataFrame) -> list[str]:
    """The study's exact top-100 vs faiss flat at every shape: ratio, GEMM share, binary ratio."""
    from bench.analysis import exact_vs_faiss_table

    mine = _of(rows, "exact_vs_faiss")
    table = exact_vs_faiss_table(mine)
    if table.empty:
        return []
    shown = pd.DataFrame({
        "data": table.data, "d": table.dims, "N": table.n_docs.map("{:,}".format), "batch": table.batch,
        "study (s)": table.study_s, "faiss (s)": table.faiss_s, "× faiss": table.ratio_vs_faiss,
        "GEMM share": table.gemm_share, "stream (s)": table.stream_s, "binary × faiss": table.binary_ratio_vs_faiss,
        "tie pass (s)": table.tie_pass_s,
    })
    behind = table[table.ratio_vs_faiss < 1.0]
    verdict = ("at or above 1.0× faiss at every shape" if behind.empty else
               f"below 1.0× faiss at {len(behind)} of {len(table)} shapes (lowest "
               f"{behind.ratio_vs_faiss.min():.2f}× at {behind.loc[behind.ratio_vs_faiss.idxmin(), 'case']})")
    heavy = table[(table.n_docs >= 100_000) & (table.batch >= 100)]  # where the products dominate
    gemm = (f" Where the products dominate (N ≥ 100k, batch ≥ 100) the GEMM share is "
            f"{heavy.gemm_share.min():.0%}–{heavy.gemm_share.max():.0%}." if len(heavy) else "")
    binary = (f" Sign bits: `BinaryFlatIndex` is faiss' own `IndexBinaryFlat` search plus the tie pass, "
              f"{table.binary_ratio_vs_faiss.min():.2f}–{table.binary_ratio_vs_faiss.max():.2f}× faiss.")
    return [f"* **Exact search vs faiss** (`bench/exact_vs_faiss.py`, {_stamp(mine)}; both prepared before timing, "
            "top-100, best of repeats; × faiss = faiss time ÷ study time; GEMM share = the products alone ÷ the "
            f"study's search; stream = the one-shot `stream_search`): the study's `FlatIndex` is {verdict}; its "
            f"tie-ordering pass costs at most {table.tie_pass_s.max() * 1e3:.2f} ms per search.{gemm}{binary}", "",
            shown.to_markdown(index=False, floatfmt=("", "", "", "", ".4f", ".4f", ".2f", ".0%", ".4f", ".2f", ".1e")),
            ""]


def scaling_lines() -> list[str]:
    from bench.analysis import scaling_report

    return _report_lines("* **Scaling on iid random vectors** (`bench/scaling.py`, the worst case of a graph index; "
                         "figure `figures/bench/scaling.png`, notebook `08-scaling.ipynb`):", scaling_report)


def mutation_lines(rows: pd.DataFrame) -> list[str]:
    """Per module: mutants, killed, survivors, reviewed equivalents and the score; then the rule breaks caught."""
    mine, breaks = _of(rows, "mutants"), _of(rows, "rule_breaks")
    lines = []
    if len(mine):
        wide = _wide(mine).reset_index()
        counts = {name: wide[col].astype(int) for name, col in (("mutants", "mutants"), ("killed", "killed"),
                  ("survived", "survived"), ("no tests", "no_tests"), ("equivalent", "equivalent"),
                  ("of the killed: timeouts", "timeout")) if col in wide}
        table = pd.DataFrame({"module": wide.case, **counts, "score": wide.score_pct.map("{:.1f} %".format)})
        below = table[wide.score_pct < 90.0].module.tolist()
        goal = "every module measured is at or above the 90 % goal" if not below else \
            f"below the 90 % goal: {', '.join(below)}"
        unmeasured = sorted(set(load_spec()[0]) - set(table.module))
        goal += f"; not measured yet: {', '.join(unmeasured)}" if unmeasured else ""
        lines += [f"* **Mutation score** (`bench/mutants.py`, `make mutants`, {_stamp(mine)}; score = killed ÷ "
                  f"(mutants − reviewed equivalents), survivors include mutants no selected test reaches): {goal}.",
                  "", table.to_markdown(index=False), ""]
    if len(breaks):
        missed = breaks[breaks.value < 1].case.tolist()
        lines.append(f"* **The reviewer's rule breaks** (`bench/rule_breaks.py`, {_stamp(breaks)}): "
                     f"{int(breaks.value.sum())} of {len(breaks)} caught by their module's targeted tests"
                     + (f"; not caught: {', '.join(missed)}." if missed else "."))
    return lines


def summary(rows: pd.DataFrame) -> str:
    lines = [*evaluator_lines(rows), *encode_lines(rows), *study_lines(rows), *opq_iterations_lines(rows),
             *pool_lines(),
             *exact_vs_faiss_lines(rows), *scaling_lines(), *index_lines(rows), *mutation_lines(rows)]
    return "\n".join(lines) if lines else "_No benchmark has run yet: `make bench`._"


def write_readme(readme: Path = REPO_ROOT / "docs" / "benchmarks.md") -> bool:
    return splice_between(readme, START, END, summary(read_rows()))


if __name__ == "__main__":
    sys.exit(0 if write_readme() else 1)
