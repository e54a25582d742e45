"""The scorecard rules, the paper's generated macros, notebook 05 on a tiny profile, and the PDF build."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pandas as pd
import pytest

from study.analysis import scorecard
from study.core.paths import REPO_ROOT
from study.publish import paper_macros

MAIN_TEX = (REPO_ROOT / "paper" / "main.tex").read_text()
PER_DIM = {"float32": 4, "float16": 2, "bfloat16": 2, "float8_e4m3": 1, "float8_e5m2": 1, "int8": 1,
           "float4_e2m1": 0.5, "binary": 0.125}


def tidy(rows: list[tuple], model: str = "minilm-l6", dims: int = 384) -> pd.DataFrame:
    """Tidy nDCG@10 rows on one collection from (format, reducer, fraction, value)."""
    out = []
    for fmt, reducer, fraction, value in rows:
        kept = round(dims * fraction)
        bpv = kept * PER_DIM[fmt]
        out.append({"model": model, "dataset": "d1", "split": "test", "stage": "02" if reducer == "none" else "04",
                    "reducer": reducer, "fraction": fraction, "dims": kept, "fit_on": "none", "format": fmt,
                    "calibrate_on": "none", "rescore": "none", "query_format": "same", "metric": "ndcg_at_10",
                    "value": value, "bytes_per_vector": bpv, "overhead_bytes": 0, "compression_ratio": 4 * dims / bpv,
                    "n_queries": 10, "n_docs": 90, "n_texts": 100, "config_id": f"{model}{fmt}{reducer}{fraction}"})
    return pd.DataFrame(out)


QUANT = [("float32", "none", 1.0, 0.600), ("float16", "none", 1.0, 0.600), ("bfloat16", "none", 1.0, 0.600),
         ("float8_e4m3", "none", 1.0, 0.599), ("float8_e5m2", "none", 1.0, 0.5985), ("int8", "none", 1.0, 0.590),
         ("binary", "none", 1.0, 0.550), ("float4_e2m1", "none", 1.0, 0.100)]
REDUCE = [("float32", "pca", 0.5, 0.570), ("float32", "pca", 0.25, 0.500), ("float32", "random_projection", 0.5, 0.50),
          ("float8_e4m3", "pca", 0.5, 0.569), ("float8_e5m2", "pca", 0.5, 0.568)]


def verdicts(frame: pd.DataFrame) -> dict[int, str]:
    return {c.number: c.verdict for c in scorecard.scorecard(frame)}


def test_verdict_rule():
    assert scorecard.verdict(["holds", "holds", None]) == "holds"
    assert scorecard.verdict(["fails", None]) == "does not hold"
    assert scorecard.verdict(["holds", "fails"]) == "partly"
    assert scorecard.verdict(["holds", "undecided"]) == "undecided"
    assert scorecard.verdict(["undecided", "fails"]) == "partly"
    assert scorecard.verdict([None, None]) == "not run"
    assert scorecard.verdict([]) == "not run"


def test_claims_without_reduction_results_are_not_run():
    claims = {c.number: c for c in scorecard.scorecard(tidy(QUANT))}
    assert claims[1].verdict == "holds"
    assert claims[2].verdict == claims[3].verdict == claims[5].verdict == "not run"
    four = {k.what: k.result() for k in claims[4].checks}
    assert four == {"frontier up to 4×": "holds", "frontier 4–32×": None, "frontier 32×": "holds",
                    "frontier beyond 32×": None}


def test_claims_on_hand_built_results():
    claims = {c.number: c for c in scorecard.scorecard(tidy(QUANT + REDUCE))}
    assert claims[1].verdict == "holds"
    assert claims[2].verdict == "holds"  # PCA beats random projection; loses more than f16 at 2x, float8 at 4x
    assert claims[3].verdict == "does not hold"  # PCA 50 % + float8 (-5.2 %) loses more than int8 (-1.7 %)
    assert claims[4].verdict == "holds"  # 16-bit/float8, then float8 + PCA at 8x, then binary at 32x
    assert claims[4].checked == "3 hold, 0 fail, 0 undecided (of 3), 1 not run"
    assert "float8_e4m3 + pca 50%" in claims[4].ours["minilm-l6"]


def test_each_claim_can_fail():
    worse = [(f, r, k, {"float8_e4m3": 0.58, "binary": 0.45, "float4_e2m1": 0.5}.get(f, v) if r == "none" else v)
             for f, r, k, v in QUANT]
    claims = {c.number: c for c in scorecard.scorecard(tidy(worse))}
    one = {k.what: k.result() for k in claims[1].checks}
    assert one["float8 loses < 0.3 %"] == "fails" and one["float8 loses less than int8"] == "fails"
    assert one["binary loses 6–12 %"] == "fails" and one["float4 loses > 50 %"] == "fails"
    assert claims[1].verdict == "partly"  # float16/bfloat16 are still lossless
    better_rp = [(f, r, k, 0.59 if r == "random_projection" else v) for f, r, k, v in QUANT + REDUCE]
    two = {k.what: k.result() for k in scorecard.scorecard(tidy(better_rp))[1].checks}
    assert two["PCA best reducer at 50%"] == "fails"
    # float8 + PCA 90 % (4.4x) better than float32: every configuration up to 4x is dominated by it
    dominating = tidy(QUANT + REDUCE + [("float8_e4m3", "pca", 0.9, 0.601)])
    four = {k.what: k for k in scorecard.scorecard(dominating)[3].checks}
    assert four["frontier up to 4×"].result() == "fails"
    assert "float8_e4m3 + pca 90%" in four["frontier up to 4×"].detail  # the rival that compresses more and wins
    assert scorecard.scorecard(dominating)[3].verdict == "partly"


def test_claim5_compares_models_of_different_width():
    narrow = tidy(QUANT + REDUCE)
    halved = [(f, r, k, 0.6 - (0.6 - v) / 2) for f, r, k, v in QUANT + REDUCE]
    wide = tidy(halved, model="mpnet-base", dims=768)
    claim = scorecard.scorecard(pd.concat([narrow, wide]))[4]
    assert claim.verdict == "holds"
    doubled = tidy([(f, r, k, 0.6 - (0.6 - v) * 1.5) for f, r, k, v in QUANT + REDUCE], model="mpnet-base", dims=768)
    assert scorecard.scorecard(pd.concat([narrow, doubled]))[4].verdict == "does not hold"


def test_scorecard_table_and_latex():
    claims = scorecard.scorecard(tidy(QUANT + REDUCE))
    table = scorecard.as_table(claims)
    assert list(table.claim) == [1, 2, 3, 4, 5]
    assert list(table.verdict) == ["holds", "holds", "does not hold", "holds", "not run"]  # claim 5: one model
    assert "ours: minilm-l6" in table.columns
    latex = paper_macros.scorecard_latex(table)
    assert latex.count("\\\\") == 8 and "longtable" in latex and "\\_" in latex  # caption + 2 heads + 5 claims
    checks = scorecard.checks_table(claims)
    assert checks.groupby("claim").result.agg(list).to_dict() == {
        1: ["holds"] * 5, 2: ["holds", "not run", "holds", "holds"], 3: ["fails", "fails"],  # no PCA 25 % rival
        4: ["holds", "holds", "holds", "not run"], 5: ["not run"]}
    assert list(table.robustness) == ["robust"] * 4 + ["n/a"]  # one collection: no check flips without it


# --- macros -------------------------------------------------------------------------------------------------


def test_macro_names_are_letters_and_unique():
    name = paper_macros.macro_name("change", "float8_e4m3", 0.5, "minilm-l6")
    assert name == "changeFloatEightEFourMThreeFiftyMinilmLSix"
    assert paper_macros.number_word(32) == "ThirtyTwo" and paper_macros.number_word(105) == "OneHundredFive"
    macros = paper_macros.all_macros("tiny")
    assert all(re.fullmatch(r"[A-Za-z]+", name) for name in macros)
    assert macros["changeIntEightMinilmLSix"] == paper_macros.NOT_RUN


def test_every_macro_main_tex_uses_is_generated():
    generated = set(paper_macros.all_macros("tiny"))
    used = set(re.findall(r"\\([A-Za-z]+)", MAIN_TEX))
    prefixes = ("change", "paper", "claim", "claims", "frontier", "baseline", "bytes", "collections", "prov",
                "study", "primary", "model", "stage", "selection", "nC", "nM")
    ours = {u for u in used if u.startswith(prefixes) and u not in ("studyprofile", "studyroot", "providecommand")}
    assert ours, "main.tex quotes no generated number"
    assert ours <= generated, f"main.tex uses macros nobody generates: {sorted(ours - generated)}"


def test_main_tex_includes_every_figure_and_table_of_the_stages_and_names_its_notebook():
    """Each figure (``\\profilefigure``) and table (``\\gentable``/``\\input``) of every stage is in the paper, main
    text or appendix, with the notebook that writes it; nothing else is included."""
    figures = re.findall(r"\\profilefigure\{([\w-]+)\}\{[\w-]+\}\{% written by notebooks/([\w.-]+)\n", MAIN_TEX)
    assert dict(figures) == paper_macros.PAPER_FIGURES
    assert len(figures) == len(set(figures)) == MAIN_TEX.count("\\profilefigure{") - 1  # -1: the definition
    assert MAIN_TEX.count("\\includegraphics") == 1  # only inside \profilefigure
    tables = re.findall(r"\\(?:gentable\{|input\{\\gendir )([\w-]+)\.tex\}\s*% written by notebooks/([\w.-]+)",
                        MAIN_TEX)
    assert dict(tables) == paper_macros.PAPER_TABLES and len(tables) == len(paper_macros.PAPER_TABLES)
    for notebook in set(paper_macros.PAPER_FIGURES.values()) | set(paper_macros.PAPER_TABLES.values()):
        assert (REPO_ROOT / "notebooks" / notebook).exists()


def test_the_paper_registry_follows_the_stage_registry():
    """A new figure or table of a stage joins the registry the paper test reads (so the test above fails until
    main.tex shows it)."""
    from study.core import artifacts

    assert set(paper_macros.PAPER_FIGURES) == {f for s in paper_macros.PAPER_STAGES
                                               for f in artifacts.STAGES[s].figures}
    assert artifacts.FIG_CODECS in paper_macros.PAPER_FIGURES
    assert artifacts.TRADEOFF_VERDICTS in paper_macros.PAPER_TABLES
    assert artifacts.MACROS not in paper_macros.PAPER_TABLES
    assert paper_macros.PAPER_FIGURES[artifacts.FIG_INDEXES] == "07-indexes.ipynb"


def test_the_results_section_shows_a_figure_per_question_and_the_appendix_the_full_tables():
    """Main text: formats, reducers, combinations, codecs, the frontier and the budgets (figures), the verdict table;
    the full tables after \\appendix."""
    main, appendix = MAIN_TEX.split("\\appendix", 1)
    results = main[main.index("\\section{Results}"):]
    shown = re.findall(r"\\profilefigure\{([\w-]+)\}", results)
    assert shown == ["fig3-quantization", "fig4-reduction", "fig6-combined", "fig-codecs", "fig7-tradeoff",
                     "fig8-tradeoff-storage", "fig-proxy"]
    assert "table-verdicts.tex" in results and "table-tradeoff-selection.tex" in results
    assert "table-proxy.tex" in results
    for full in ("table-quantization", "table-reduction", "table-codecs", "table-codecs-training",
                 "table-tradeoff-frontier", "table-tradeoff-scorecard"):
        assert f"{full}.tex}}" in appendix and f"{full}.tex}}" not in main


def test_captions_are_short_and_name_sets_not_members():
    """At most about 80 words per caption of main.tex; a caption names a collection set, not a list of
    collections."""
    for caption in captions(MAIN_TEX):
        words = re.sub(r"\\[A-Za-z]+|[{}$~%]", " ", caption).split()
        assert len(words) <= 80, caption[:80]
        assert "adi, " not in caption and "cisi" not in caption


def captions(text: str) -> list[str]:
    """The text of every ``\\caption{...}`` (balanced braces)."""
    found, start = [], text.find("\\caption{")
    while start >= 0:
        depth, end = 1, start + len("\\caption{")
        while depth:
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        found.append(text[start + len("\\caption{"):end - 1])
        start = text.find("\\caption{", end)
    return found


def test_the_committed_full_profile_captions_are_short():
    for path in sorted((REPO_ROOT / "paper/generated/full").glob("*.tex")):
        for caption in captions(path.read_text()):
            words = re.sub(r"\\[A-Za-z]+|[{}$~%]", " ", caption).split()
            assert len(words) <= 80, (path.name, caption[:80])


def test_the_codecs_section_is_written_by_hand_and_shown_only_where_stage_09_ran():
    """Stage 09's main-text figure and table sit in main.tex's subsection, left out by a profile without the stage
    (no table-codecs-best.tex); its full tables are in the appendix."""
    start = MAIN_TEX.index("\\IfFileExists{\\gendir table-codecs-best.tex}{%\n")
    section = MAIN_TEX[start:MAIN_TEX.index("\n}{}\n", start)]
    assert "\\subsection{Codecs at equal bytes}\\label{sec:codecs}" in section
    shown = set(re.findall(r"(?:gendir |gentable\{|profilefigure\{)([\w-]+)", section))
    assert shown == {"table-codecs-best", "fig-codecs"}


# --- notebook 05 on the tiny profile, then the PDF -------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run(tiny_embeddings, tmp_path_factory):
    """Stage 01 markers and stage 02 on adi/time into a temporary output root, then notebook 05 by papermill."""
    import papermill

    from study.compress.formats import PAPER_FORMATS
    from study.params import QuantizationParams
    from study.stages.embed import embed_collections
    from study.stages.quantization import run_quantization_stage

    root = tmp_path_factory.mktemp("out")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STUDY_OUTPUT_DIR", str(root))
        embed_collections("minilm-l6", ["adi", "time"], "tiny")
        run_quantization_stage(QuantizationParams(datasets=["adi", "time"], formats=list(PAPER_FORMATS),
                                                  calibrate_on="self", profile="tiny"))
        executed = root / "05-tradeoff.ipynb"
        papermill.execute_notebook(
            str(REPO_ROOT / "notebooks" / "05-tradeoff.ipynb"), str(executed), progress_bar=False,
            parameters={"models": ["minilm-l6"], "profile": "tiny", "n_vectors": [1000, 10000000],
                        "budgets": {"small": "100kB", "laptop": "4GiB"}},
        )
        yield root, executed, mp


def test_notebook05_writes_figures_tables_macros_and_provenance(tiny_run):
    root, executed, _ = tiny_run
    for path in ("figures/tiny/fig7-tradeoff.png", "figures/tiny/fig8-tradeoff-storage.pdf",
                 "paper/generated/tiny/table-tradeoff-scorecard.tex",
                 "paper/generated/tiny/table-tradeoff-frontier.tex",
                 "paper/generated/tiny/scorecard-rules.tex", "paper/generated/tiny/table-verdicts.tex",
                 "paper/generated/tiny/README-results.md", "results/tiny/tables/tradeoff-configurations.csv"):
        assert (root / path).is_file(), path
    macros = (root / "paper/generated/tiny/macros.tex").read_text()
    assert re.search(r"\\newcommand\{\\changeBinaryMinilmLSix\}\{\\ensuremath\{-\d+\.\d\d\}\}", macros)
    assert "\\newcommand{\\claimTwoVerdict}{not run}" in macros  # no reduction stage in this run
    provenance = json.loads((root / "results/tiny/provenance.json").read_text())
    assert provenance["profile"] == "tiny" and provenance["git"]["commit"]
    assert set(provenance["datasets"]) == {"minilm-l6--adi", "minilm-l6--time"}
    assert "02-quantization.csv" in provenance["results"]
    readme = (root / "paper/generated/tiny/README-results.md").read_text()
    assert "fig7-tradeoff.png" in readme and "papermill" in readme and "| 05-tradeoff.ipynb" in readme
    text = json.dumps(json.loads(executed.read_text())["cells"][-1]["outputs"])
    assert "frontier" in text and "Claim 1" in text
    card = pd.read_csv(root / "results/tiny/tables/table-tradeoff-scorecard.csv")
    assert card.set_index("claim").verdict[2] == "not run"


@pytest.mark.skipif(shutil.which("latexmk") is None,
                    reason="latexmk is not installed (run .ci/install-latex.sh; `make test` does); under CI this "
                           "skip fails (tests/ci_rule.py)")
def test_paper_compiles_from_a_tiny_run_without_undefined_references(tiny_run):
    root, _, _ = tiny_run
    build = paper_macros.build_paper("tiny")
    assert build.pdf.is_file() and build.pdf.stat().st_size > 10_000
    assert (root / "results/tiny/paper.pdf").is_file()
    log = build.log.read_text(errors="replace")
    assert "undefined" not in log.lower(), [ln for ln in log.splitlines() if "undefined" in ln.lower()]
    assert build.problems == []  # overfull boxes wider than 1 pt included
    assert pages(build.pdf) >= 3 and 1 <= build.main_pages <= 12
    render_pages(build.pdf, "paper-tiny", 3)


def pages(pdf) -> int:
    """The page count of a PDF (pdfinfo, poppler-utils: installed with LaTeX by .ci/install-latex.sh)."""
    done = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", done.stdout, re.M).group(1))


def render_pages(pdf, stem: str, n: int) -> list:
    """Pages 1..n of ``pdf`` as PNG (100 dpi) in build/test-artifacts, for a reader to look at."""
    out = REPO_ROOT / "build" / "test-artifacts"
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "100", "-f", "1", "-l", str(n), str(pdf), str(out / stem)], check=True)
    made = sorted(out.glob(f"{stem}-*.png"))
    assert len(made) >= n
    return made


def test_overfull_boxes_wider_than_a_point_are_problems():
    log = ("Overfull \\hbox (0.5pt too wide) in paragraph at lines 1--2\n"
           "Overfull \\hbox (35.2pt too wide) in alignment at lines 10--20\n")
    assert paper_macros.latex_problems(log) == ["Overfull \\hbox (35.2pt too wide) in alignment at lines 10--20"]


@pytest.mark.skipif(shutil.which("pdftoppm") is None,
                    reason="pdftoppm is not installed (run .ci/install-latex.sh; `make test` does); under CI this "
                           "skip fails (tests/ci_rule.py)")
def test_the_committed_full_paper_renders_its_first_pages_and_its_main_text_fits_12_pages():
    pdf = REPO_ROOT / "results/full/paper.pdf"
    assert pages(pdf) >= 3
    render_pages(pdf, "paper-full", 3)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    appendix_page = next(i for i, page in enumerate(text.split("\f"), 1) if re.match(r"\s*A\s+The scorecard", page))
    assert appendix_page - 1 <= 12  # the main text, references included


def test_build_paper_explains_what_is_missing(output_dir, monkeypatch):
    from study.core.errors import StudyError

    if shutil.which("latexmk"):
        with pytest.raises(StudyError, match="run notebook 05"):
            paper_macros.build_paper("tiny")
    monkeypatch.setenv("PATH", "")
    with pytest.raises(StudyError, match="apt-get install"):
        paper_macros.build_paper("tiny")
    assert paper_macros.main(["--profile", "tiny", "--if-available"]) == 0


def test_splice_readme_replaces_only_the_marked_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\nbefore\n{paper_macros.README_START}\nold results\n{paper_macros.README_END}\nafter\n")
    assert paper_macros.splice_readme(readme, "new results\n| a |\n")
    text = readme.read_text()
    assert "old results" not in text and "new results\n| a |" in text
    assert text.startswith("# title\nbefore\n") and text.endswith(f"{paper_macros.README_END}\nafter\n")
    assert paper_macros.splice_readme(readme, "again")  # markers survive a splice
    assert "again" in readme.read_text() and "new results" not in readme.read_text()


def test_splice_readme_without_markers_changes_nothing(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    assert not paper_macros.splice_readme(readme, "x")
    assert readme.read_text() == "# no markers\n"
    assert not paper_macros.splice_readme(tmp_path / "missing.md", "x")


def test_the_results_page_has_the_results_markers():
    text = (REPO_ROOT / paper_macros.RESULTS_PAGE).read_text()
    assert text.count(paper_macros.README_START) == 1 and text.count(paper_macros.README_END) == 1


def test_the_readme_has_one_verdict_block_and_a_short_table_for_it():
    text = (REPO_ROOT / "README.md").read_text()
    assert text.count(paper_macros.VERDICTS_START) == 1 and text.count(paper_macros.VERDICTS_END) == 1
    card = pd.DataFrame({"claim": [1, 2], "statement": ["float8 is lossless", "PCA is best"],
                         "verdict": ["holds", "partly"], "robustness": ["robust", "fragile: without adi"],
                         "checks": ["long", "long"]})
    table = paper_macros.verdicts_markdown(card)
    lines = table.strip().splitlines()
    assert len(lines) == 4 and re.search(r"\|\s+2 \| PCA is best\s+\| partly\s+\| fragile\s+\|", table)
    assert "long" not in table and "without adi" not in table  # a few words per cell


# A generated Markdown line: a table row, a short heading, an image, a link (alone or as a list item), a comment or
# the not-run placeholder; anything else (a sentence) belongs to the hand-written text around the block.
MARKDOWN_LINE = re.compile(r"^(\|.*\||#{2,4} [^.!?]{1,60}|!\[[^\]]*\]\([^)\s]+\)|(\* )?\[[^\]]+\]\([^)\s]+\)"
                           r"|<!-- .* -->|" + re.escape(paper_macros.NOT_RUN_MD) + r"|)$")


def prose_lines(block: str) -> list[str]:
    """The lines of a generated Markdown block that are none of ``MARKDOWN_LINE`` (code blocks' lines are code)."""
    found, code = [], False
    for line in block.splitlines():
        if line.startswith("```"):
            code = not code
        elif not code and not MARKDOWN_LINE.match(line.strip()):
            found.append(line)
    return found


def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start) + len(start):text.index(end)]


def test_the_readme_and_results_blocks_hold_tables_headings_and_links_only():
    results = (REPO_ROOT / paper_macros.RESULTS_PAGE).read_text()
    readme = (REPO_ROOT / "README.md").read_text()
    for block in (_between(results, paper_macros.README_START, paper_macros.README_END),
                  _between(readme, paper_macros.VERDICTS_START, paper_macros.VERDICTS_END),
                  (REPO_ROOT / "paper" / "README-results.md").read_text()):
        assert prose_lines(block) == []
    assert prose_lines("Profile `full`: nDCG@10 loss against compression (notebook `05-tradeoff.ipynb`):") != []
    assert prose_lines("### The explorer moves the sliders. It is one page") != []
    assert prose_lines("```bash\nmake paper PROFILE=full\n```\n[docs/rerun.md](../docs/rerun.md)") == []


def test_the_results_page_and_readme_verdicts_are_up_to_date(monkeypatch):
    """docs/results.md's block and the README's verdict table are what the committed full profile's results give."""
    monkeypatch.setenv("STUDY_OUTPUT_DIR", str(REPO_ROOT))  # read only: nothing is written
    card = pd.read_csv(REPO_ROOT / "results" / "full" / "tables" / "table-tradeoff-scorecard.csv")
    results = (REPO_ROOT / paper_macros.RESULTS_PAGE).read_text()
    readme = (REPO_ROOT / "README.md").read_text()
    block = _between(results, paper_macros.README_START, paper_macros.README_END)
    assert block.strip() == paper_macros.readme_summary("full", card).strip()
    assert "### The peers' published claims on our data" in block and "| RaBitQ vs sign binary" in block
    assert _between(readme, paper_macros.VERDICTS_START, paper_macros.VERDICTS_END).strip() == \
        paper_macros.verdicts_markdown(card).strip()
    assert len(readme.encode()) <= 10_240  # the README stays short: detail lives in docs/


def test_readme_results_of_a_profile_not_run_yet_holds_placeholders_only(output_dir):
    page = paper_macros.readme_results("tiny", None, {"profile": "tiny"})
    assert prose_lines(page) == [] and paper_macros.NOT_RUN_MD in page and "papermill" in page
    assert paper_macros.readme_summary("tiny", None) == paper_macros.NOT_RUN_MD
    assert paper_macros.codecs_summary("tiny") == []


def test_the_readme_carries_notebook_10s_validation_as_a_table():
    """The README's proxy block sits between its markers once, and is spliced from ``table-proxy`` as a table with
    the correlation and the agreement per model and measure (no sentence)."""
    readme = (REPO_ROOT / "README.md").read_text()
    assert readme.count(paper_macros.PROXY_START) == 1 and readme.count(paper_macros.PROXY_END) == 1
    table = pd.DataFrame({"model": ["m", "m", "m"], "measure": ["recall@10", "overlap@100", "recall@10"],
                          "margin": [0.05, 0.05, 0.0], "collections": [3, 3, 3],
                          "ρ median": [0.812, 0.5, 0.812], "ρ least": [0.1, 0.1, 0.1], "ρ most": [0.9, 0.9, 0.9],
                          "ρ on the set": [0.876, 0.7, 0.876], "choices": [9, 9, 9], "same": [1, 1, 1],
                          "agreement (%)": [88.888, 77.0, 99.0], "storage ratio": [1.5, 6.0, 4.0]})
    block = paper_macros.proxy_markdown(table)
    lines = block.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("|") for line in lines)  # recall@10 at advise's margin only
    assert "0.88" in lines[2] and "88.89" in lines[2] and "0.81" in lines[2]
