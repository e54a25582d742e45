# Stage 05 and the paper: the trade-off over every stage table the profile has (notebook 05), then the
# PDF with latexmk when it is installed (else the rule prints how to install it and the study still ends).

import shutil

from snakemake.exceptions import WorkflowError

STAGE_RULES = ("quantization", "reduction", "combined", "beyond", "indexes")
LATEXMK = shutil.which("latexmk")
TABLES = f"paper/generated/{PROFILE}"


def stage_tables(wildcards):
    """The tidy CSVs of the stage rules this workflow defines (evaluated once every rule is parsed)."""
    tables = []
    for name in STAGE_RULES:
        try:
            outputs = getattr(rules, name).output
        except (AttributeError, WorkflowError):  # that stage is not part of this workflow (yet)
            continue
        tables += [str(f) for f in outputs if str(f).endswith(".csv")]
    return tables


rule tradeoff:
    input:
        stage_tables,
    output:
        f"{TABLES}/macros.tex",
        f"{FIGURES}/fig7-tradeoff.png",
        f"{FIGURES}/fig8-tradeoff-storage.png",
        f"{RESULTS}/provenance.json",
    params:
        cmd=papermill(
            "05-tradeoff.ipynb", "05-tradeoff.ipynb",
            {"models": MODELS, "profile": PROFILE, **config.get("tradeoff", {})},
        ),
    shell:
        "{params.cmd}"


rule paper:
    input:
        f"{TABLES}/macros.tex",
        f"{FIGURES}/fig7-tradeoff.png",
    output:
        f"{RESULTS}/paper.pdf" if LATEXMK else temp(f"build/paper-{PROFILE}.skipped"),
    params:
        cmd=(f"STUDY_OUTPUT_DIR={shlex.quote(OUTPUT_ROOT)} {shlex.quote(PY)} -m study.publish.paper_macros "
             f"--profile {PROFILE} --if-available"),
        marker="" if LATEXMK else f" && touch build/paper-{PROFILE}.skipped",
    shell:
        "{params.cmd}{params.marker}"
