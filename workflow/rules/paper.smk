# Stage 05 and the paper: the trade-off over every stage table the profile has (notebook 05), then the
# PDF with latexmk when it is installed (else the rule prints how to install it and the study still ends),
# and, for the committed profile, the README's results block.

import shutil

from snakemake.exceptions import WorkflowError

STAGE_RULES = artifacts.PUBLISHED_STAGES  # the experiment rules, named after their stages
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


TRADEOFF = STAGE["tradeoff"]
TRADEOFF_OUTPUTS = [*stage_outputs(TRADEOFF), f"{TABLES}/README-results.md", f"{RESULTS}/provenance.json",
                    executed_notebook(TRADEOFF.stem)]
CONFIGURATIONS = f"{RESULTS}/tables/{artifacts.TRADEOFF_CONFIGURATIONS}.csv"


rule tradeoff:
    input:
        stage_tables,
        # other-results.tex lists every stage's figures and tables by name. Not ancient(): a job behind an ancient
        # input is not checked at all while the job before it reruns (Snakemake issue #4166), so an edit to stage
        # 05's own code would go unnoticed whenever it also reruns a publish rule.
        PUBLISHED,
        # notebook 10's collection sets join the paper's table of them (study.stages.tradeoff.profile_sets)
        [f"{RESULTS}/tables/{artifacts.stage_sets(STAGE['advise'].stem)}.csv"] if ADVISE_STAGE else [],
        notebook_inputs(TRADEOFF.stem),
    output:
        TRADEOFF_OUTPUTS,
    params:
        cmd=papermill(
            TRADEOFF.stem,
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
        CONFIGURATIONS,
        code_of("study.stages.tradeoff"),  # with the explorer's page and scripts (package data)
    output:
        EXPLORER_PAGE,
    params:
        cmd=study_call("study.stages.tradeoff", "write_explorer_page", PROFILE),  # `study explorer`
    shell:
        "{params.cmd}"


rule paper:
    input:
        os.path.join(REPO, "paper", "main.tex"),
        os.path.join(REPO, "paper", "references.bib"),
        [f for f in TRADEOFF_OUTPUTS if f.endswith((".tex", ".pdf"))],
        [f for f in PUBLISHED if f.endswith((".tex", ".pdf"))],
        [f for f in ADVISE_OUTPUTS if f.endswith((".tex", ".pdf"))],
        code_of("study.publish.paper_macros"),
    output:
        f"{RESULTS}/paper.pdf" if LATEXMK else temp(f"build/paper-{PROFILE}.skipped"),
    params:
        cmd=study_command("study.publish.paper_macros", f"--profile {PROFILE} --if-available"),
        marker="" if LATEXMK else f" && touch build/paper-{PROFILE}.skipped",
    shell:
        "{params.cmd}{params.marker}"


rule readme:
    input:
        f"{TABLES}/README-results.md",
        f"{RESULTS}/tables/{artifacts.TRADEOFF_SCORECARD}.csv",
        f"{FIGURES}/{artifacts.FIG_TRADEOFF}.png",
        EXPLORER_PAGE,
        rules.paper.output,
        code_of("study.publish.paper_macros"),
    output:
        touch(f"build/readme-{PROFILE}.spliced"),
    params:
        cmd=study_command("study.publish.paper_macros", f"--profile {PROFILE} --readme"),
    shell:
        "{params.cmd}"
