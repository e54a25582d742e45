"""The paper's generated inputs and its build: numeric macros, the scorecard table, README material.

Every number the paper's text quotes is a macro in ``paper/generated/<profile>/macros.tex``,
written here from the results (never typed). The same set of macro names is written for every
profile — a value whose stage has not run reads *not run* — so ``paper/main.tex`` compiles for
any profile. ``build_paper`` runs latexmk with the profile passed as ``\\studyprofile``.

    python -m study.publish.paper_macros --profile default      (what ``make paper`` runs)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from study.analysis.paper_reference import paper_table1
from study.analysis.report import latex_escape, output_dirs
from study.analysis.scorecard import CLAIMS, COMMON_RULE, RULES, TOLERANCE_POINTS, VERDICTS
from study.analysis.tradeoff import LABEL_FREE_MARGIN
from study.compress.formats import PAPER_FORMATS
from study.config import check_profile_name
from study.core import artifacts
from study.core.errors import ParameterError, StudyError
from study.core.io import atomic_write, splice_between, write_text_atomic
from study.core.paths import REPO_ROOT, output_root
from study.encoders.registry import MODELS
from study.figures.explorer import EXPLORER

NOT_RUN = r"\textit{not run}"
FRACTIONS = (1.0, 0.9, 0.75, 0.5, 0.25)
COMMITTED_PROFILE = "full"  # the profile whose outputs are committed (README material goes to paper/ too)
LATEX_INSTALL_HINT = ("latexmk not found: install LaTeX to build the paper, e.g. `sudo apt-get install -y "
                      "--no-install-recommends latexmk texlive-latex-recommended` on Debian/Ubuntu (or run "
                      ".ci/install-latex.sh), then `make paper`")

_ONES = ["Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve",
         "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"]
_TENS = ["", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety"]


def number_word(n: int) -> str:
    """0–999 in CamelCase words (``32`` → ``ThirtyTwo``): LaTeX macro names cannot hold digits."""
    if not 0 <= n < 1000:
        raise ValueError(f"number_word handles 0..999, got {n}")
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + (_ONES[n % 10] if n % 10 else "")
    return _ONES[n // 100] + "Hundred" + (number_word(n % 100) if n % 100 else "")


def macro_name(*parts: object) -> str:
    """A LaTeX macro name from parts: ``("change", "float8_e4m3", "minilm-l6")`` →
    ``changeFloatEightEFourMThreeMinilmLSix`` (letters only, numbers spelled out)."""
    words = []
    for part in parts:
        if isinstance(part, float):
            part = f"{round(part * 100)}" if part < 1 else ""
        for token in re.findall(r"[A-Za-z]+|[0-9]+", str(part)):
            words.append(number_word(int(token)) if token.isdigit() else token[0].upper() + token[1:].lower())
    name = "".join(words)
    name = name[0].lower() + name[1:]
    if not re.fullmatch(r"[A-Za-z]+", name):
        raise ValueError(f"not a valid macro name: {name!r}")
    return name


def num(value: float | None, digits: int = 2, signed: bool = False) -> str:
    """A number for the text (``\\ensuremath{-0.69}``), or *not run* when missing."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return NOT_RUN
    return rf"\ensuremath{{{value:+.{digits}f}}}" if signed else rf"\ensuremath{{{value:.{digits}f}}}"


def _lookup(configs: pd.DataFrame | None, model: str, fmt: str, fraction: float, column: str) -> float | None:
    """One number of the paper-faithful configuration (``scorecard.paper_configurations``: exactly one per
    model × format × kept fraction, so no variant can be picked by its result)."""
    if configs is None or configs.empty:
        return None
    reducer = "none" if fraction == 1.0 else "pca"
    hit = configs[(configs.model == model) & (configs.format == fmt) & (configs.reducer == reducer)
                  & np.isclose(configs.fraction, fraction)]
    if len(hit) > 1:
        raise StudyError(f"{len(hit)} variants of {model} {fmt} at {fraction:.0%} for one macro: pass the "
                         "paper-faithful configurations (scorecard.paper_configurations)")
    return None if hit.empty else float(hit[column].iloc[0])


def result_macros(configs: pd.DataFrame | None) -> dict[str, str]:
    """Per registered model, from the paper-faithful configurations: baseline nDCG@10, the % change and
    bytes/vector of every paper format at every kept fraction (PCA below 100 %), and the held-out
    collections they are averaged over (count and names)."""
    macros = {}
    for model in MODELS:
        base = _lookup(configs, model, "float32", 1.0, "value")
        macros[macro_name("baseline", model)] = num(base, 3)
        mine = None if configs is None or configs.empty else configs[configs.model == model]
        have = mine is not None and not mine.empty
        macros[macro_name("collections", model)] = str(int(mine.n_datasets.max())) if have else NOT_RUN
        macros[macro_name("collection", "names", model)] = latex_escape(mine.collections.iloc[0]) if have else NOT_RUN
        for fmt in PAPER_FORMATS:
            for fraction in FRACTIONS:
                macros[macro_name("change", fmt, fraction, model)] = num(
                    _lookup(configs, model, fmt, fraction, "change_pct"), 2, signed=True)
            bpv = _lookup(configs, model, fmt, 1.0, "bytes_per_vector")
            macros[macro_name("bytes", fmt, model)] = NOT_RUN if bpv is None else f"{bpv:g}"
    return macros


def paper_number_macros() -> dict[str, str]:
    """The paper's own Table 1 numbers quoted in our text (computed from ``paper_reference``)."""
    table = paper_table1()
    macros = {}
    for row in table.itertuples():
        macros[macro_name("paper", "change", row.format, row.fraction, row.model)] = num(row.change_pct, 2, True)
    for model, frame in table.groupby("model"):
        macros[macro_name("paper", "baseline", model)] = num(
            float(frame[(frame.format == "float32") & (frame.fraction == 1.0)].ndcg_at_10.iloc[0]), 3)
    return macros


def claim_macros(claims: list | None) -> dict[str, str]:
    """Verdict and checks of each claim, and how many claims got each verdict."""

    macros = {}
    by_number = {c.number: c for c in claims or []}
    for number in CLAIMS:
        c = by_number.get(number)
        macros[macro_name("claim", number, "verdict")] = c.verdict if c else "not run"
        macros[macro_name("claim", number, "robustness")] = latex_escape(c.robustness) if c else "n/a"
        macros[macro_name("claim", number, "checks")] = latex_escape(c.checked) if c else "no check ran"
    for v in VERDICTS:
        macros[macro_name("claims", v.replace(" ", "-"))] = str(sum(c.verdict == v for c in claims or []))
    return macros


def all_macros(
    profile: str,
    configs: pd.DataFrame | None = None,
    claims: list | None = None,
    models: list[str] | None = None,
    provenance: dict | None = None,
    stage_files: list[Path] | None = None,
    datasets: list[str] | None = None,
    paper_configs: pd.DataFrame | None = None,
) -> dict[str, str]:
    """Every macro the paper uses, for one profile (missing stages read *not run*). The numbers quoted for
    the paper's configurations come from ``paper_configs`` (the paper-faithful variants, like for like); the
    configuration count and the collection sets from ``configs`` (every configuration, every tier counted)."""
    models = models or []
    primary = models[0] if models else "minilm-l6"
    have = configs is not None and not configs.empty
    datasets = sorted(set(datasets or []))
    git = (provenance or {}).get("git", {})
    macros = {
        "studyProfile": latex_escape(profile),
        "primaryModel": latex_escape(primary),
        "modelList": latex_escape(", ".join(models)) or NOT_RUN,
        "nModels": str(len(models)),
        "nCollections": str(len(datasets)) if datasets else NOT_RUN,
        "collectionList": latex_escape(", ".join(datasets)) or NOT_RUN,
        "nConfigurations": str(len(configs)) if have else NOT_RUN,
        "stageList": latex_escape(", ".join(p.name for p in stage_files or [])) or NOT_RUN,
        "provCommit": latex_escape((git.get("commit") or "unknown")[:10]),
        "provDirty": "with uncommitted changes" if git.get("dirty") else "clean",
        "provDate": latex_escape((provenance or {}).get("created_utc", "unknown")[:10]),
        "provMachine": latex_escape((provenance or {}).get("machine", {}).get("cpu_model") or "unknown CPU"),
    }
    macros |= result_macros(paper_configs) | paper_number_macros() | claim_macros(claims)
    return macros


def write_macros(macros: dict[str, str], profile: str) -> Path:
    """``paper/generated/<profile>/macros.tex``: one ``\\newcommand`` per macro, sorted."""
    lines = [f"% Generated by study.publish.paper_macros for profile {profile}; do not edit (rerun notebook 05)."]
    for name in sorted(macros):
        if not re.fullmatch(r"[A-Za-z]+", name):
            raise ValueError(f"invalid macro name {name!r}")
        lines.append(rf"\newcommand{{\{name}}}{{{macros[name]}}}")
    return write_text_atomic(output_dirs(profile)["tables"] / f"{artifacts.MACROS}.tex", "\n".join(lines) + "\n")


# --- the scorecard and rules as LaTeX ------------------------------------------------------------------


def scorecard_latex(table: pd.DataFrame) -> str:
    """The scorecard as a ``longtable`` at the text width (it runs over pages rather than off one): the claim, the
    paper's and our numbers, the verdict."""
    ours = [c for c in table.columns if c.startswith("ours: ")]
    width = 0.5 / max(1, len(ours))
    spec = "r" + "".join(f">{{\\raggedright\\arraybackslash}}p{{{w:.3f}\\linewidth}}"
                         for w in [0.13, 0.13, *[width] * len(ours), 0.13])
    head = " & ".join(f"\\textbf{{{h}}}" for h in ["\\#", "claim", "paper (bge-small/nomic)",
                                                    *[f"ours: {latex_escape(c[6:])}" for c in ours],
                                                    "verdict (unweighted; robustness)"]) + " \\\\"
    lines = [
        "\\begingroup\\scriptsize\\setlength{\\tabcolsep}{3pt}",
        f"\\begin{{longtable}}{{{spec}}}",
        "\\caption{Reproduction scorecard: the paper's five claims, its numbers, ours (nDCG@10 change vs float32, "
        "\\%, with 95\\,\\% paired bootstrap CIs, texts-weighted; per claim and model on the same held-out "
        "collections, listed in Table~\\ref{tab:scorecard-collections}), the verdict from the rules of "
        "Section~\\ref{sec:scorecard-rules} (texts-weighted; unweighted in brackets) and its robustness to "
        "leaving one collection out.}\\label{tab:scorecard}\\\\",
        "\\toprule", head, "\\midrule", "\\endfirsthead",
        "\\toprule", head, "\\midrule", "\\endhead",
        "\\bottomrule", "\\endlastfoot",
    ]
    for row in table.to_dict("records"):
        cells = [str(row["claim"]), latex_escape(row["statement"]), latex_escape(row["paper"]),
                 *[latex_escape(row[c]) for c in ours],
                 f"\\textbf{{{latex_escape(row['verdict'])}}} ({latex_escape(row.get('unweighted', ''))})"
                 f"\\newline {{\\tiny {latex_escape(row['checks'])}; {latex_escape(row.get('robustness', ''))}}}"]
        lines.append(" & ".join(cells) + " \\\\")
    lines += ["\\end{longtable}", "\\endgroup"]
    return "\n".join(lines) + "\n"


def verdicts_latex(table: pd.DataFrame) -> str:
    """The scorecard in one line per claim (the results section's verdict table): the paper's claim, our verdict
    and whether it survives leaving one collection out; the numbers are in the appendix's full scorecard."""
    lines = ["\\begin{table}[htbp]", "\\centering", "\\small",
             "\\caption{The paper's five claims and our verdicts (rules: Appendix~\\ref{sec:scorecard-rules}; "
             "numbers and collection sets: Table~\\ref{tab:scorecard}); leave one out: whether leaving any one "
             "collection out changes the verdict.}", "\\label{tab:verdicts}",
             "\\begin{tabularx}{\\linewidth}{r>{\\raggedright\\arraybackslash}Xll}", "\\toprule",
             "\\textbf{\\#} & \\textbf{the paper says} & \\textbf{verdict} & \\textbf{leave one out} \\\\",
             "\\midrule"]
    for row in table.to_dict("records"):
        robust = str(row.get("robustness", "")).split(":")[0]
        lines.append(" & ".join([str(row["claim"]), latex_escape(row["statement"]),
                                 f"\\textbf{{{latex_escape(row['verdict'])}}}", latex_escape(robust)]) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabularx}", "\\end{table}"]
    return "\n".join(lines) + "\n"


def rules_latex() -> str:

    items = "\n".join(f"\\item[Claim {n}.] {latex_escape(text)}" for n, text in RULES.items())
    return (f"% Generated from study.analysis.scorecard.RULES; do not edit.\n{latex_escape(COMMON_RULE)}\n"
            f"\\begin{{description}}\n{items}\n"
            f"\\end{{description}}\n% tolerance on stated ranges: {TOLERANCE_POINTS:g} point\n")


def collections_latex(sets: pd.DataFrame) -> str:
    """Which collection set each claim's checks average over, per model (the members: the table of collection
    sets)."""
    lines = ["\\begin{table*}[htbp]", "\\centering", "\\scriptsize",
             "\\caption{The collections behind each scorecard claim, per model: the named set of held-out collections "
             "all of the claim's configurations were scored on (its members: Table~\\ref{tab:collection-sets}; a "
             "collection a reducer was fit on or int8 calibrated on is left out).}",
             "\\label{tab:scorecard-collections}",
             "\\begin{tabularx}{\\textwidth}{r>{\\raggedright}Xr>{\\raggedright\\arraybackslash}X}", "\\toprule",
             "\\textbf{claim} & \\textbf{set (model/size-tag)} & \\textbf{n} & \\textbf{left out} \\\\",
             "\\midrule"]
    for r in sets.to_dict("records"):
        lines.append(" & ".join([str(r["claim"]), latex_escape(r["set"]), str(r["collections"]),
                                 latex_escape(r["left out"])]) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabularx}", "\\end{table*}"]
    return "\n".join(lines) + "\n"


def sets_latex(table: pd.DataFrame) -> str:
    """The table of collection sets (``comparison.sets_table``): every set a caption, table or macro names, the
    sets with the same members on one row (their names share the members' tag)."""
    lines = ["\\begin{table*}[htbp]", "\\centering", "\\scriptsize",
             "\\caption{The collection sets the captions, tables and macros name, and their members. A set is "
             "named by its model (or the models it compares), its size and a tag of its members; sets with the "
             "same tag have the same members.}", "\\label{tab:collection-sets}",
             "\\begin{tabularx}{\\textwidth}{>{\\raggedright}p{0.36\\textwidth}r>{\\raggedright\\arraybackslash}X}",
             "\\toprule", "\\textbf{sets} & \\textbf{n} & \\textbf{collections} \\\\", "\\midrule"]
    for members, rows in table.groupby("members", sort=False):
        names = "\\newline ".join(latex_escape(name) for name in rows["set"])
        lines.append(" & ".join([names, str(rows["collections"].iloc[0]), latex_escape(members)]) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabularx}", "\\end{table*}"]
    return "\n".join(lines) + "\n"


def write_collection_sets(table: pd.DataFrame, profile: str) -> dict[str, Path]:
    """The profile's table of collection sets, CSV and LaTeX."""
    dirs = output_dirs(profile)
    return {"sets_csv": atomic_write(dirs["results"] / "tables" / f"{artifacts.COLLECTION_SETS}.csv",
                                     lambda p: table.to_csv(p, index=False)),
            "sets_tex": write_text_atomic(dirs["tables"] / f"{artifacts.COLLECTION_SETS}.tex", sets_latex(table))}


def write_scorecard(table: pd.DataFrame, checks: pd.DataFrame, profile: str,
                    sets: pd.DataFrame | None = None) -> dict[str, Path]:
    dirs = output_dirs(profile)

    sets = sets if sets is not None else pd.DataFrame(columns=["claim", "model", "collections", "names", "left out"])
    return {
        "collections_csv": atomic_write(dirs["results"] / "tables" / f"{artifacts.TRADEOFF_SCORECARD_COLLECTIONS}.csv",
                                        lambda p: sets.to_csv(p, index=False)),
        "collections_tex": write_text_atomic(dirs["tables"] / f"{artifacts.SCORECARD_COLLECTIONS}.tex",
                                             collections_latex(sets)),
        "csv": atomic_write(dirs["results"] / "tables" / f"{artifacts.TRADEOFF_SCORECARD}.csv",
                            lambda p: table.to_csv(p, index=False)),
        "checks_csv": atomic_write(dirs["results"] / "tables" / f"{artifacts.TRADEOFF_SCORECARD_CHECKS}.csv",
                                   lambda p: checks.to_csv(p, index=False)),
        "tex": write_text_atomic(dirs["tables"] / f"{artifacts.TRADEOFF_SCORECARD}.tex", scorecard_latex(table)),
        "rules_tex": write_text_atomic(dirs["tables"] / f"{artifacts.SCORECARD_RULES}.tex", rules_latex()),
        "verdicts_tex": write_text_atomic(dirs["tables"] / f"{artifacts.TRADEOFF_VERDICTS}.tex",
                                          verdicts_latex(table)),
    }


# --- figures and tables of other stages ------------------------------------------------------------------

def _notebook(stage: str) -> str:
    return f"{artifacts.STAGES[stage].stem}.ipynb"


# Every figure and table the stages write for the paper, with the notebook that writes each. main.tex includes each
# by name, in the main text or the appendix, inside \\IfFileExists where the stage is optional for a profile;
# tests/test_paper.py checks that none is missing, so a new stage's output cannot silently stay out of the paper.
PAPER_STAGES = ("quantization", "reduction", "combined", "tradeoff", "beyond", "indexes", "codecs", "advise")
PAPER_FIGURES = {name: _notebook(stage) for stage in PAPER_STAGES for name in artifacts.STAGES[stage].figures}
PAPER_TABLES = {name: _notebook(stage) for stage in PAPER_STAGES
                for name in (*artifacts.published(stage).tables, *artifacts.STAGES[stage].experiment_tables,
                             *artifacts.published(stage).latex)
                if name != artifacts.MACROS}


def notebook_outputs(profile: str) -> pd.DataFrame:
    """Which notebook wrote which figure / table / result file of a profile.

    A figure or table belongs to the notebook the paper's registry names (``PAPER_FIGURES``, ``PAPER_TABLES``);
    any other file to ``NN-topic.ipynb`` when its name contains ``topic`` or starts with ``NN-`` (the study's
    naming rule); files matching no notebook are listed as ``?``.
    """
    root = output_root()
    dirs = output_dirs(profile)
    notebooks = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    topics = {nb.name: (nb.stem[:2], nb.stem[3:]) for nb in notebooks}
    results = sorted(p for p in dirs["results"].glob("0*-*.csv*")  # a large one is committed gzipped (.csv.gz)
                     if p.suffix == ".csv" or (p.suffix == ".gz" and not p.with_suffix("").exists()))
    files = [*sorted(dirs["figures"].glob("*.png")), *sorted(dirs["tables"].glob("*.tex")), *results]
    rows = []
    for path in files:
        owner = PAPER_FIGURES.get(path.stem) or PAPER_TABLES.get(path.stem) or next(
            (nb for nb, (number, topic) in topics.items() if topic in path.stem or path.stem.startswith(number + "-")),
            "?")
        if path.name == f"{artifacts.MACROS}.tex":
            owner = _notebook("tradeoff")
        kind = {".png": "figure", ".tex": "LaTeX table", ".csv": "results", ".gz": "results"}[path.suffix]
        rows.append({"notebook": owner, "kind": kind, "file": str(path.relative_to(root))})
    return pd.DataFrame(rows, columns=["notebook", "kind", "file"])


def notebook_titles() -> pd.DataFrame:
    """Each stage notebook and the question its first heading asks."""
    import nbformat

    rows = []
    for path in sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        first = next((c.source for c in cells if c.cell_type == "markdown"), "")
        title = first.splitlines()[0].lstrip("# ").strip() if first else ""
        rows.append({"notebook": f"notebooks/{path.name}", "question": title})
    return pd.DataFrame(rows, columns=["notebook", "question"])


NOT_RUN_MD = "_(not run yet)_"  # a generated Markdown block's placeholder for a missing result


def _markdown_table(df: pd.DataFrame) -> str:
    if df.empty:
        return NOT_RUN_MD + "\n"
    return df.to_markdown(index=False) + "\n"


def _scorecard_markdown(scorecard_table: pd.DataFrame) -> str:
    """The scorecard as a Markdown table, without the claims' long statements."""
    return _markdown_table(scorecard_table.drop(columns=["statement"], errors="ignore"))


def readme_results(profile: str, scorecard_table: pd.DataFrame | None, params: dict | None = None) -> str:
    """``paper/README-results.md`` of a profile: headings, its main figure, links, the scorecard, the notebooks, which
    notebook writes which file, and the commands that rerun notebook 05 (links relative to ``paper/``); what they
    mean is the hand-written text of ``docs/results.md`` and ``docs/rerun.md``."""
    dirs = output_dirs(profile)
    root = output_root()

    def link(path: Path) -> str:
        return (Path("..") / path.relative_to(root)).as_posix()

    fig, page, pdf = (dirs["figures"] / f"{artifacts.FIG_TRADEOFF}.png", dirs["figures"] / EXPLORER,
                      dirs["results"] / "paper.pdf")
    parts = [f"<!-- Generated by study.publish.paper_macros.readme_results for profile '{profile}'; do not edit. -->",
             f"## Results (profile `{profile}`)", "", f"![Trade-off]({link(fig)})" if fig.exists() else NOT_RUN_MD, ""]
    parts += [f"[{page.name}]({link(page)})", ""] if page.exists() else []
    parts += ["### Reproduction scorecard", "",
              _scorecard_markdown(scorecard_table).rstrip() if scorecard_table is not None and not scorecard_table.empty
              else NOT_RUN_MD, ""]
    parts += [f"[{pdf.relative_to(root)}]({link(pdf)})", ""] if pdf.exists() else []
    example = params or {"profile": profile}
    notebook = _notebook("tradeoff")
    parts += ["### The notebooks", "", _markdown_table(notebook_titles()),
              "### Which notebook makes which figure and table", "", _markdown_table(notebook_outputs(profile)),
              "### Rerun one notebook", "", "[docs/rerun.md](../docs/rerun.md)", "", "```bash",
              f".venv/bin/snakemake --cores 2 --configfile config/{profile}.yaml --forcerun tradeoff",
              f".venv/bin/papermill notebooks/{notebook} results/{profile}/notebooks/{notebook} \\",
              f"    -y '{json.dumps(example)}'", f"make paper PROFILE={profile}", "```", ""]
    return "\n".join(parts)


RESULTS_PAGE = Path("docs") / "results.md"  # where the committed profile's results block is spliced (README links it)
README_START = "<!-- results:start (written by notebook 05 for the full profile; do not edit) -->"
README_END = "<!-- results:end -->"
VERDICTS_START = "<!-- verdicts:start (written by the workflow's readme rule for the full profile; do not edit) -->"
VERDICTS_END = "<!-- verdicts:end -->"
PROXY_START = "<!-- proxy:start (written by the workflow's readme rule for the full profile; do not edit) -->"
PROXY_END = "<!-- proxy:end -->"
PROXY_MEASURE = "recall@10"  # the label-free measure study advise compares (the README shows it; the paper both)
PROXY_COLUMNS = {"model": "model", "ρ on the set": "Spearman ρ (means)", "ρ median": "ρ per collection (median)",
                 "agreement (%)": "select agrees (%)", "choices": "choices",
                 "storage ratio": "storage vs nDCG@10 pick (×)"}


def verdicts_markdown(scorecard_table: pd.DataFrame) -> str:
    """The README's verdict table: one line per claim, the paper's claim, our verdict, and whether it survives
    leaving one collection out (``robust``/``fragile``)."""
    rows = pd.DataFrame({"claim": scorecard_table.claim, "the paper says": scorecard_table.statement,
                         "verdict": scorecard_table.verdict,
                         "leave one collection out": scorecard_table.robustness.astype(str).str.split(":").str[0]})
    return _markdown_table(rows)


def proxy_markdown(table: pd.DataFrame) -> str:
    """The README's table of notebook 10's validation of recall@10 with advise's margin: per model, the rank
    correlation of the configurations' changes with nDCG@10's and how often ``select`` by it agrees (same pick, or
    one not significantly worse in nDCG@10)."""
    rows = table[(table.measure == PROXY_MEASURE) & (table.margin == LABEL_FREE_MARGIN)]
    return _markdown_table(rows[list(PROXY_COLUMNS)].rename(columns=PROXY_COLUMNS).round(2))


def _link(path: Path) -> str:
    """``path`` as a link from the results page (``RESULTS_PAGE``)."""
    return Path(os.path.relpath(path, (output_root() / RESULTS_PAGE).parent)).as_posix()


def codecs_summary(profile: str) -> list[str]:
    """The results page's stage 09 part: its figure, and the peers' claims read on our data as a table (the claims
    in full: main.tex's codec section)."""
    dirs = output_dirs(profile)
    fig = dirs["figures"] / f"{artifacts.FIG_CODECS}.png"
    peers = dirs["results"] / "tables" / f"{artifacts.CODECS_PEERS}.csv"
    if not fig.exists() or not peers.exists():
        return []
    table = pd.read_csv(peers)
    table["ours: A − B, nDCG@10 [95 % CI]"] = [f"{d:+.4f} [{lo:+.4f}, {hi:+.4f}]" for d, lo, hi in
                                               zip(table["diff"], table.diff_ci_low, table.diff_ci_high, strict=True)]
    table["A"] = [f"{b} ({n:g} B)" for b, n in zip(table.best, table.bytes, strict=True)]
    table["B"] = [f"{b} ({n:g} B)" for b, n in zip(table.reference, table.reference_bytes, strict=True)]
    shown = table[["model", "comparison", "A", "B", "ours: A − B, nDCG@10 [95 % CI]"]]
    return ["### Codecs at equal bytes", "", f"![Codecs]({_link(fig)})", "",
            "### The peers' published claims on our data", "", shown.to_markdown(index=False), ""]


def readme_summary(profile: str, scorecard_table: pd.DataFrame | None) -> str:
    """The results page's block (``docs/results.md``, linked from the README): the main figure, the explorer, the
    scorecard, stage 09's figure and peers' table, and links, relative to the page; the page's hand-written text
    says what they show."""
    dirs = output_dirs(profile)
    fig = dirs["figures"] / f"{artifacts.FIG_TRADEOFF}.png"
    if not fig.exists() or scorecard_table is None or scorecard_table.empty:
        return NOT_RUN_MD
    parts = ["### Trade-off", "", f"![Trade-off]({_link(fig)})", ""]
    page = dirs["figures"] / EXPLORER
    if page.exists():
        parts += [f"[{page.name}]({_link(page)})", ""]
    parts += ["### Reproduction scorecard", "", _scorecard_markdown(scorecard_table).rstrip(), ""]
    parts += codecs_summary(profile)
    pdf = dirs["results"] / "paper.pdf"
    index = output_root() / "paper" / "README-results.md"
    parts += ["### Links", "", *([f"* [{pdf.relative_to(output_root())}]({_link(pdf)})"] if pdf.exists() else []),
              f"* [{index.relative_to(output_root())}]({_link(index)})"]
    return "\n".join(parts)


def splice_readme(readme: Path, block: str) -> bool:
    """Replace the text between ``README_START`` and ``README_END`` in ``readme``; False if either is missing."""
    return splice_between(readme, README_START, README_END, block)


def write_readme_results(profile: str, scorecard_table: pd.DataFrame | None, params: dict | None = None) -> list[Path]:
    """``paper/generated/<profile>/README-results.md`` (what notebook 05 writes; ``publish_readme`` takes it to
    the README)."""
    text = readme_results(profile, scorecard_table, params)
    return [write_text_atomic(output_dirs(profile)["tables"] / "README-results.md", text)]


def publish_readme(profile: str) -> list[Path]:
    """For the committed profile: ``paper/README-results.md`` and the results block of the top-level
    ``README.md`` (between its markers), from what notebook 05 wrote (the workflow's ``readme`` rule)."""
    if profile != COMMITTED_PROFILE:
        return []
    dirs = output_dirs(profile)
    source = dirs["tables"] / "README-results.md"
    card_path = dirs["results"] / "tables" / f"{artifacts.TRADEOFF_SCORECARD}.csv"
    if not source.exists() or not card_path.exists():
        raise StudyError(f"no {source} or {card_path}: run notebook 05 for profile {profile!r} first")
    paths = [write_text_atomic(output_root() / "paper" / "README-results.md", source.read_text())]
    card = pd.read_csv(card_path)
    readme = output_root() / RESULTS_PAGE
    if splice_readme(readme, readme_summary(profile, card)):
        paths.append(readme)
    top = output_root() / "README.md"
    if splice_between(top, VERDICTS_START, VERDICTS_END, verdicts_markdown(card)):
        paths.append(top)
    proxy = dirs["results"] / "tables" / f"{artifacts.TABLE_PROXY}.csv"
    if proxy.exists() and splice_between(top, PROXY_START, PROXY_END, proxy_markdown(pd.read_csv(proxy))):
        paths.append(top)
    return paths


# --- the build ------------------------------------------------------------------------------------------------


@dataclass
class PaperBuild:
    pdf: Path
    log: Path
    problems: list[str]
    main_pages: int | None = None  # the pages before the appendix (main.tex's page:appendix label), references included


_PROBLEMS = re.compile(r"(undefined|Undefined control sequence|Missing character|multiply defined|! )")


_OVERFULL = re.compile(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\)")
OVERFULL_TOLERANCE_PT = 1.0  # a box wider than the text by more than this is a defect (a table off the page)


def latex_problems(log_text: str) -> list[str]:
    """Lines of a LaTeX log that report undefined references/citations/macros, errors, or a box wider than the
    text by more than ``OVERFULL_TOLERANCE_PT``."""
    lines = log_text.splitlines()
    wide = [ln.strip() for ln in lines if (m := _OVERFULL.search(ln)) and float(m.group(1)) > OVERFULL_TOLERANCE_PT]
    return [ln.strip() for ln in lines if _PROBLEMS.search(ln)] + wide


def main_text_pages(aux_text: str) -> int | None:
    """The pages before the appendix, from main.aux's ``page:appendix`` label (``None`` without one)."""
    found = re.search(r"\\newlabel\{page:appendix\}\{\{[^}]*\}\{(\d+)\}", aux_text)
    return int(found.group(1)) - 1 if found else None


def build_paper(profile: str, latexmk: str = "latexmk", timeout: int = 600) -> PaperBuild:
    """Build ``paper/build/main.pdf`` (under the output root) from a profile's generated files with latexmk,
    and copy it to ``results/<profile>/paper.pdf``. Raises ``StudyError`` when latexmk is missing, the
    profile has no generated macros, or LaTeX fails."""

    profile = check_profile_name(profile)
    exe = shutil.which(latexmk)
    if exe is None:
        raise StudyError(LATEX_INSTALL_HINT)
    root = output_root()
    macros = output_dirs(profile)["tables"] / f"{artifacts.MACROS}.tex"
    if not macros.exists():
        raise StudyError(f"no {macros}: run notebook 05 for profile {profile!r} first (make study PROFILE={profile})")
    if re.search(r"[\s%#{}\\]", str(root)):
        raise ParameterError("STUDY_OUTPUT_DIR", str(root), "a path without spaces or LaTeX special characters")
    outdir = root / "paper" / "build"
    outdir.mkdir(parents=True, exist_ok=True)
    pretex = rf"\def\studyprofile{{{profile}}}\def\studyroot{{{root.as_posix()}/}}"
    cmd = [exe, "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", f"-outdir={outdir}",
           f"-usepretex={pretex}", "-g", "main.tex"]
    proc = subprocess.run(cmd, cwd=REPO_ROOT / "paper", capture_output=True, text=True, timeout=timeout)
    log = outdir / "main.log"
    log_text = log.read_text(errors="replace") if log.exists() else ""
    if proc.returncode != 0:
        errors = [ln for ln in log_text.splitlines() if ln.startswith(("!", "./", "/"))][:10]
        detail = " | ".join(errors) or proc.stderr[-500:]
        raise StudyError(f"latexmk failed ({proc.returncode}) for profile {profile!r}: {detail}; see {log}")
    pdf = outdir / "main.pdf"
    copy = output_dirs(profile)["results"] / "paper.pdf"
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(pdf, copy)
    return PaperBuild(pdf, log, latex_problems(log_text), main_text_pages((outdir / "main.aux").read_text()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m study.publish.paper_macros",
                                     description="Build the paper of a profile.")
    parser.add_argument("--profile", default="default")
    parser.add_argument("--if-available", action="store_true",
                        help="without latexmk, print how to install it and succeed (the Snakemake rule)")
    parser.add_argument("--readme", action="store_true",
                        help="splice the committed profile's results into README.md instead of building the paper")
    args = parser.parse_args(argv)
    if args.readme:
        try:
            for path in publish_readme(args.profile):
                print(f"wrote {path}")
        except StudyError as exc:
            print(f"study: error: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.if_available and shutil.which("latexmk") is None:
        print(LATEX_INSTALL_HINT)
        return 0
    try:
        build = build_paper(args.profile)
    except StudyError as exc:
        print(f"study: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {build.pdf} (copy: {output_dirs(args.profile)['results'] / 'paper.pdf'})")
    for line in build.problems:
        print(f"warning: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
