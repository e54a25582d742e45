"""The study's one orchestrator: stage notebooks run by papermill, for one profile.

    snakemake --cores 2 --configfile config/default.yaml      (what `make study` runs)

Encoding one (model, collection) is its own job (the expensive unit); the stages fan in. Every rule takes what
it reads (its notebook and jupytext source, the study sources its outputs depend on, its input tables) and
declares what it writes, so Snakemake's default rerun triggers rerun exactly what a change affects: an
experiment rule writes tidy results; a `publish_<stage>` rule redraws that stage's figures and tables from them
(`study publish`), so editing a figure function redraws that figure without rerunning an experiment. Stage
rules live in workflow/rules/*.smk, one file per stage; `snakemake --rulegraph | dot -Tpng` draws the flow.

Outputs go under the working directory: the repo by default, else ``STUDY_OUTPUT_DIR`` if set, or
``--directory DIR`` (which wins); every job is told the same root, so notebooks write where Snakemake
looks. Notebooks and rules are always read from this Snakefile's folder. On a cluster:
    snakemake --workflow-profile profiles/slurm --configfile config/paper.yaml
"""

import json
import os
import shlex
import sys
from glob import glob

configfile: os.path.join(workflow.basedir, "config/default.yaml")

if os.environ.get("STUDY_OUTPUT_DIR"):
    workdir: os.path.abspath(os.environ["STUDY_OUTPUT_DIR"])

OUTPUT_ROOT = os.getcwd()  # Snakemake's working directory, set by now
os.environ["STUDY_OUTPUT_DIR"] = OUTPUT_ROOT  # absolute for every job (cluster jobs start in the working dir)
REPO = workflow.basedir

PROFILE = config["profile"]
MODELS = config["models"]
PY = sys.executable
RESULTS = f"results/{PROFILE}"
FIGURES = f"figures/{PROFILE}"
NB_OUT = f"build/notebooks/{PROFILE}"
TABLES = f"paper/generated/{PROFILE}"


def datasets_for(model):
    """Collections a model is evaluated on (a profile may give a model fewer)."""
    return config.get("datasets_per_model", {}).get(model, config["datasets"])


def reference_sets():
    """Collections used only to calibrate or fit (e.g. mlquestions), which must be embedded too."""
    refs = {config.get("quantization", {}).get("calibrate_on", "self")}
    refs |= {config.get("reduction", {}).get("fit_on", "self")}
    return sorted(r for r in refs if r not in ("self", "none"))


def collection_name(dataset):
    """The name the study gives a collection (and its marker): 'mteb:SciFact' -> 'SciFact', a path -> its folder."""
    if dataset.startswith("mteb:"):
        return dataset[len("mteb:"):]
    return os.path.basename(os.path.normpath(dataset))


def dataset_arg(name):
    """The dataset argument (name, 'mteb:<Task>' or path) behind a marker's collection name."""
    every = [d for m in MODELS for d in datasets_for(m)] + reference_sets()
    return {collection_name(d): d for d in every}.get(name, name)


def embed_markers(models=None):
    models = models or MODELS
    return sorted({
        f"{RESULTS}/embeddings/{m}--{collection_name(d)}.json"
        for m in models
        for d in list(datasets_for(m)) + reference_sets()
    })


def study_code(*parts):
    """The study sources a rule's outputs depend on (a package: every module in it; else one module), so that
    editing code reruns exactly the rules it affects (Snakemake's default rerun triggers: code, input, mtime,
    params, software-env)."""
    files = [os.path.join(REPO, "study", "__init__.py")]
    for part in parts:
        path = os.path.join(REPO, "study", part)
        files += sorted(glob(os.path.join(path, "*.py"))) if os.path.isdir(path) else [path + ".py"]
    return files


def notebook_files(name):
    """A stage notebook and its jupytext source: both are what the rule runs."""
    return [os.path.join(REPO, "notebooks", name), os.path.join(REPO, "notebooks", name[: -len(".ipynb")] + ".py")]


# What an experiment's tidy results depend on (no figure or publishing code), and what redraws its figures and
# tables from those results (`study publish`), without rerunning the experiment.
EXPERIMENT_CODE = ("core", "data", "encoders", "config", "compress", "search", "experiment", "analysis/report",
                   "analysis/comparison", "analysis/stats", "analysis/paper_reference")
PUBLISH_CODE = ("core", "data", "encoders", "config", "compress", "search", "experiment", "analysis/report",
                "analysis/comparison", "analysis/stats", "analysis/paper_reference", "figures/plots",
                "stages/republish")


def tables(*stems):
    """LaTeX (paper/generated) and CSV (results/<profile>/tables) of each table."""
    return [f"{TABLES}/{s}.tex" for s in stems] + [f"{RESULTS}/tables/{s}.csv" for s in stems]


def figures(*stems):
    return [f"{FIGURES}/{s}.{ext}" for s in stems for ext in ("pdf", "png")]


def papermill(notebook, executed, params):
    """Shell command running one notebook with parameters given as YAML (JSON is YAML)."""
    return (f"mkdir -p {NB_OUT} && "
            f"STUDY_OUTPUT_DIR={shlex.quote(OUTPUT_ROOT)} {shlex.quote(PY)} -m papermill --log-output "
            f"--no-progress-bar {shlex.quote(os.path.join(REPO, 'notebooks', notebook))} "
            f"{NB_OUT}/{executed} -y {shlex.quote(json.dumps(params))}")


include: "workflow/rules/embed.smk"
include: "workflow/rules/quantization.smk"
include: "workflow/rules/reduction.smk"
include: "workflow/rules/combined.smk"
include: "workflow/rules/beyond.smk"
include: "workflow/rules/indexes.smk"
include: "workflow/rules/codecs.smk"
include: "workflow/rules/publish.smk"  # each stage's figures and tables, from its saved results
include: "workflow/rules/paper.smk"  # last: stage 05 reads every stage table defined above
include: "workflow/rules/scaling.smk"


rule all:
    default_target: True
    input:
        f"{RESULTS}/02-quantization.csv",
        f"{RESULTS}/03-reduction.csv",
        f"{RESULTS}/04-combined.csv",
        *([f"{RESULTS}/06-beyond.csv"] if BEYOND_STAGE else []),
        *([f"{RESULTS}/07-indexes.csv"] if INDEX_STAGE else []),
        *([f"{RESULTS}/09-codecs.csv"] if CODECS_STAGE else []),
        PUBLISHED,  # every stage's figures and tables
        rules.paper.output,  # stage 05 (trade-off, scorecard, macros) and the PDF when latexmk is installed
        rules.explorer.output,  # the interactive trade-off page (figures/<profile>/explorer.html)
        *(rules.readme.output if PROFILE == COMMITTED_PROFILE else []),
        *(rules.scaling.output if SCALING_STAGE else []),
