"""The study's one orchestrator: stage notebooks run by papermill, for one profile.

    snakemake --cores 2 --configfile config/default.yaml      (what `make study` runs)

Encoding one (model, collection) is its own job (the expensive unit); the stages fan in. Every rule takes what
it reads (its notebook and jupytext source, every study module it imports: `code_of`, its input tables) and
declares what it writes, so Snakemake's default rerun triggers rerun what a change may affect: an experiment
rule writes tidy results; a `publish_<stage>` rule redraws that stage's figures and tables from them (`study
publish`), without rerunning the experiment unless its notebook imports the edited module too (code inputs are
whole modules: study.core.codegraph). Stage rules live in workflow/rules/*.smk, one file per stage; `snakemake
--rulegraph | dot -Tpng` draws the flow. Figure and table names come from study.core.artifacts.

Outputs go under the working directory: the repo by default, else ``STUDY_OUTPUT_DIR`` if set, or
``--directory DIR`` (which wins); every job is told the same root, so notebooks write where Snakemake
looks. Notebooks and rules are always read from this Snakefile's folder. On a cluster:
    snakemake --workflow-profile profiles/slurm --configfile config/paper.yaml
"""

import json
import os
import shlex
import sys
from pathlib import Path

configfile: os.path.join(workflow.basedir, "config/default.yaml")

if os.environ.get("STUDY_OUTPUT_DIR"):
    workdir: os.path.abspath(os.environ["STUDY_OUTPUT_DIR"])

OUTPUT_ROOT = os.getcwd()  # Snakemake's working directory, set by now
os.environ["STUDY_OUTPUT_DIR"] = OUTPUT_ROOT  # absolute for every job (cluster jobs start in the working dir)
REPO = workflow.basedir
sys.path.insert(0, REPO)  # this checkout's study package, whichever one is installed

from study.core import artifacts, codegraph, profiles  # stdlib only: planning loads nothing heavy

FIRST_PARTY = ("study", "bench")  # the packages whose modules are code inputs

PROFILE = config["profile"]
MODELS = config["models"]
PY = sys.executable
RESULTS = f"results/{PROFILE}"
FIGURES = f"figures/{PROFILE}"
NB_OUT = f"build/notebooks/{PROFILE}"
EXECUTED = f"{RESULTS}/notebooks"  # the stage notebooks, executed: committed for the full profile
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


def code_of(*entries):
    """A rule's code inputs: the first-party sources (study, bench) its entry points import transitively
    (study.core.codegraph, module granularity), so that editing a module reruns exactly the rules that import it
    (Snakemake's default rerun triggers: code, input, mtime, params, software-env), and the data files of every
    package among them (the explorer's page and scripts), which the import graph cannot see. An entry: a module the
    rule runs (``study.cli`` for ``python -m study.cli ...``) or a notebook's jupytext source (``notebooks/NN-x.py``)."""
    files = codegraph.closure(entries, root=Path(REPO), packages=FIRST_PARTY)
    data = [f for init in files if init.endswith("/__init__.py") for f in package_data(os.path.dirname(init))]
    return [os.path.join(REPO, f) for f in files + data]


def package_data(folder):
    """The files of a first-party package folder (relative to the repository) that are not Python."""
    return sorted(f"{folder}/{f}" for f in os.listdir(os.path.join(REPO, folder))
                  if os.path.isfile(os.path.join(REPO, folder, f)) and not f.endswith((".py", ".pyc")))


def notebook_files(stem):
    """A stage notebook and its jupytext source: both are what the rule runs."""
    return [os.path.join(REPO, "notebooks", f"{stem}.ipynb"), os.path.join(REPO, "notebooks", f"{stem}.py")]


def notebook_inputs(stem):
    """What a notebook rule runs: the notebook, its jupytext source and the code that source imports."""
    return notebook_files(stem) + code_of(f"notebooks/{stem}.py")


def tables(*stems):
    """LaTeX (paper/generated) and CSV (results/<profile>/tables) of each table."""
    return [f"{TABLES}/{s}.tex" for s in stems] + [f"{RESULTS}/tables/{s}.csv" for s in stems]


def figures(*stems):
    return [f"{FIGURES}/{s}.{ext}" for s in stems for ext in ("pdf", "png")]


def stage_outputs(names):
    """Every file an artifacts.Stage names: figures, tables, LaTeX-only and CSV-only tables."""
    return (figures(*names.figures) + tables(*names.tables) + [f"{TABLES}/{s}.tex" for s in names.latex]
            + [f"{RESULTS}/tables/{s}.csv" for s in names.csv])


def executed_notebook(stem):
    """Where a stage notebook lands executed, with its outputs (tables, figures): a rule's declared output, so a
    run that fails leaves no half-written copy (papermill saves after every cell)."""
    return f"{EXECUTED}/{stem}.ipynb"


def papermill(stem, params, executed=None):
    """Shell command running notebook ``stem`` with parameters given as YAML (JSON is YAML): a stage notebook to
    ``executed_notebook(stem)``; ``executed`` names a scratch copy under build/ instead (one per embedding job)."""
    target = f"{NB_OUT}/{executed}" if executed else executed_notebook(stem)
    return (f"mkdir -p {os.path.dirname(target)} && "
            f"STUDY_OUTPUT_DIR={shlex.quote(OUTPUT_ROOT)} {shlex.quote(PY)} -m papermill --log-output "
            f"--no-progress-bar {shlex.quote(os.path.join(REPO, 'notebooks', stem + '.ipynb'))} "
            f"{target} -y {shlex.quote(json.dumps(params))}")


def study_command(*args):
    """Shell command running ``python -m <module> <args>`` with every job's output root; its code: code_of(module)."""
    return f"STUDY_OUTPUT_DIR={shlex.quote(OUTPUT_ROOT)} {shlex.quote(PY)} -m {' '.join(args)}"


def study_call(module, function, *args):
    """Shell command printing ``module.function(*args)`` with every job's output root; its code: code_of(module).
    What a `study` subcommand runs, without `study.cli`, which imports every subcommand's modules (its closure would
    make each such rule stale whenever any of them changes)."""
    code = f"from {module} import {function}; print({function}({', '.join(json.dumps(a) for a in args)}))"
    return f"STUDY_OUTPUT_DIR={shlex.quote(OUTPUT_ROOT)} {shlex.quote(PY)} -c {shlex.quote(code)}"


STAGE = artifacts.STAGES  # each stage's notebook stem, figures and tables (study.core.artifacts)


def stage_parameters(stage):
    """What the workflow passes stage ``stage``: its notebook's parameters, the same for its part jobs
    (study.core.profiles, which `study publish` reads too)."""
    return profiles.stage_parameters(stage, config)


def marker(model, dataset):
    """The embedding marker of (model, collection): the collection is encoded."""
    return f"{RESULTS}/embeddings/{model}--{collection_name(dataset)}.json"


def scattered_stages():
    """The planned stages run as part jobs: the profile's `scatter` (true: every one; false: none; or a list). A part
    job costs ~2 s to start and a stage's gathering notebook ~8 s: worth it where a part takes minutes (stage 03's
    UMAP and autoencoder, stage 09's codecs; every stage at paper scale), not where a whole stage takes seconds
    (the default profile: each notebook computes its parts itself, and stages still run side by side)."""
    value = config.get("scatter", True)
    return set(profiles.PLANNED) if value is True else set() if value is False else set(value)


SCATTERED = scattered_stages()


def part_outputs(stage):
    """The result-cache manifest of every (model, collection) part of a planned stage (scatter), which its notebook
    then gathers. Each part is a job of its own on one thread, so `--cores N` runs N parts at once and a cluster
    spreads them over its nodes. None for a stage that is not scattered."""
    if stage not in SCATTERED:
        return []
    stem = STAGE[stage].stem
    return [f"build/parts/{PROFILE}/{stem}/{m}/{c}/manifest.json"
            for m, c in profiles.part_names(stage, stage_parameters(stage))]


def stage_pairs(stage):
    """(model, dataset) of every collection a stage evaluates and of its training sets; stage 07: those of
    `indexes.datasets` that the profile gives each model."""
    parameters = stage_parameters(stage)
    per_model = parameters.get("datasets_per_model") or {}
    models = list(per_model) if stage == "indexes" else parameters["models"]
    return ({(m, d) for m in models for d in per_model.get(m, parameters.get("datasets", []))}
            | {(m, r) for m in models for r in profiles.reference_sets(parameters)})


def stage_markers(stage):
    """Embedding markers of every (model, collection) a stage evaluates and of its training sets, per model."""
    return sorted({marker(m, d) for m, d in stage_pairs(stage)})


def embedded_datasets():
    """{model: the datasets it is encoded on}: every (model, collection) some rule of this profile reads."""
    pairs = {(m, d) for m in MODELS for d in list(datasets_for(m)) + reference_sets()}
    for stage in profiles.STAGES:
        if profiles.runs_stage(stage, config):
            pairs |= stage_pairs(stage)
    by_model = {}
    for model, dataset in sorted(pairs):
        by_model.setdefault(model, {}).setdefault(collection_name(dataset), dataset)
    return {model: list(datasets.values()) for model, datasets in by_model.items()}


EMBED_PER_MODEL = not SCATTERED
"""A profile that scatters no stage (jobs of seconds) encodes each model's collections in one job: every embedding
job starts a kernel, imports torch and loads the model (~9 s on 2 cores), six times over in the default profile."""


include: "workflow/rules/embed.smk"
include: "workflow/rules/quantization.smk"
include: "workflow/rules/reduction.smk"
include: "workflow/rules/combined.smk"
include: "workflow/rules/beyond.smk"
include: "workflow/rules/indexes.smk"
include: "workflow/rules/codecs.smk"
include: "workflow/rules/advise.smk"  # notebook 10: study advise, and its label-free measure validated
include: "workflow/rules/parts.smk"  # one job per (model, collection) of each planned stage
include: "workflow/rules/publish.smk"  # each stage's figures and tables, from its saved results
include: "workflow/rules/paper.smk"  # last: stage 05 reads every stage table defined above
include: "workflow/rules/scaling.smk"


rule all:
    default_target: True
    input:
        rules.quantization.output,
        rules.reduction.output,
        rules.combined.output,
        *(rules.beyond.output if BEYOND_STAGE else []),
        *(rules.indexes.output if INDEX_STAGE else []),
        *(rules.codecs.output if CODECS_STAGE else []),
        ADVISE_OUTPUTS,
        PUBLISHED,  # every stage's figures and tables
        rules.paper.output,  # stage 05 (trade-off, scorecard, macros) and the PDF when latexmk is installed
        rules.explorer.output,  # the interactive trade-off page (figures/<profile>/explorer.html)
        *(rules.readme.output if PROFILE == COMMITTED_PROFILE else []),
        *(rules.scaling.output if SCALING_STAGE else []),
