# Stage 05 and the paper: the trade-off over every stage table the profile has (notebook 05), then the
# PDF with latexmk when it is installed (else the rule prints how to install it and the study still ends),
# and, for the committed profile, the README's results block.

import shutil

from snakemake.exceptions import WorkflowError

STAGE_RULES = ("quantization", "reduction", "combined", "beyond", "indexes", "codecs")
LATEXMK = shutil.which("latexmk")

COMMITTED_PROFILE = "full"  # its README block is spliced into README.md (study.publish.paper_macros)


def stage_tables(wildcards):
    """The tidy CSVs and per-query scores of the stage rules this workflow defines."""
    tables = []
    for name in STAGE_RULES:
        try:
            outputs = getattr(rules, name).output
        except (AttributeError, WorkflowError):  # that stage is not part of this workflow (yet)
            continue
        tables += [str(f) for f in outputs if str(f).endswith((".csv", ".parquet")) and "/tables/" not in str(f)]
    return tables


TRADEOFF_TABLES = tables("table-tradeoff-frontier", "table-tradeoff-selection", "table-tradeoff-scorecard")
TRADEOFF_OUTPUTS = [
    f"{TABLES}/macros.tex", f"{TABLES}/scorecard-rules.tex", f"{TABLES}/scorecard-collections.tex",
    f"{TABLES}/other-results.tex", f"{TABLES}/README-results.md", f"{RESULTS}/provenance.json",
    f"{RESULTS}/tables/tradeoff-configurations.csv", f"{RESULTS}/tables/tradeoff-scorecard-checks.csv",
    f"{RESULTS}/tables/tradeoff-scorecard-collections.csv",
    *TRADEOFF_TABLES, *figures("fig7-tradeoff", "fig8-tradeoff-storage"),
]


rule tradeoff:
    input:
        stage_tables,
        ancient(PUBLISHED),  # other-results.tex lists every stage's figures and tables (by name: a redrawn
        # figure does not rerun stage 05; the paper rule below takes their contents)
        notebook_files("05-tradeoff.ipynb"),
        study_code("core", "data", "encoders", "config", "compress", "search", "experiment", "analysis",
                   "figures/plots", "figures/tradeoff", "publish", "stages/tradeoff"),
    output:
        TRADEOFF_OUTPUTS,
    params:
        cmd=papermill(
            "05-tradeoff.ipynb", "05-tradeoff.ipynb",
            {"models": MODELS, "profile": PROFILE, **config.get("tradeoff", {})},
        ),
    shell:
        "{params.cmd}"


# The interactive trade-off page (study.figures.explorer), redrawn from the saved stage tables without rerunning an
# experiment or notebook 05: after notebook 05 (it takes the weighting from its configurations table), and again
# whenever the page's code changes. For the committed profile the README links it (rule readme).
EXPLORER_PAGE = f"{FIGURES}/explorer.html"


rule explorer:
    input:
        stage_tables,
        f"{RESULTS}/tables/tradeoff-configurations.csv",
        study_code("core", "config", "analysis", "figures/explorer", "stages/tradeoff"),
    output:
        EXPLORER_PAGE,
    params:
        cmd=f"STUDY_OUTPUT_DIR={shlex.quote(OUTPUT_ROOT)} {shlex.quote(PY)} -m study.cli explorer --profile {PROFILE}",
    shell:
        "{params.cmd}"


rule paper:
    input:
        os.path.join(REPO, "paper", "main.tex"),
        os.path.join(REPO, "paper", "references.bib"),
        [f for f in TRADEOFF_OUTPUTS if f.endswith((".tex", ".pdf"))],
        [f for f in PUBLISHED if f.endswith((".tex", ".pdf"))],
        study_code("core", "config", "publish"),
    output:
        f"{RESULTS}/paper.pdf" if LATEXMK else temp(f"build/paper-{PROFILE}.skipped"),
    params:
        cmd=(f"STUDY_OUTPUT_DIR={shlex.quote(OUTPUT_ROOT)} {shlex.quote(PY)} -m study.publish.paper_macros "
             f"--profile {PROFILE} --if-available"),
        marker="" if LATEXMK else f" && touch build/paper-{PROFILE}.skipped",
    shell:
        "{params.cmd}{params.marker}"


rule readme:
    input:
        f"{TABLES}/README-results.md",
        f"{RESULTS}/tables/table-tradeoff-scorecard.csv",
        f"{FIGURES}/fig7-tradeoff.png",
        EXPLORER_PAGE,
        rules.paper.output,
    output:
        touch(f"build/readme-{PROFILE}.spliced"),
    params:
        cmd=(f"STUDY_OUTPUT_DIR={shlex.quote(OUTPUT_ROOT)} {shlex.quote(PY)} -m study.publish.paper_macros "
             f"--profile {PROFILE} --readme"),
    shell:
        "{params.cmd}"
