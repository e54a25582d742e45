"""The study's one orchestrator: stage notebooks run by papermill, for one profile.

    snakemake --cores 2 --configfile config/default.yaml      (what `make study` runs)

Encoding one (model, collection) is its own job (the expensive unit); the stages fan in.
Stage rules live in workflow/rules/*.smk, one file per stage.
"""

import json
import shlex
import sys

configfile: "config/default.yaml"

PROFILE = config["profile"]
MODELS = config["models"]
PY = sys.executable
RESULTS = f"results/{PROFILE}"
FIGURES = f"figures/{PROFILE}"
NB_OUT = f"build/notebooks/{PROFILE}"


def datasets_for(model):
    """Collections a model is evaluated on (a profile may give a model fewer)."""
    return config.get("datasets_per_model", {}).get(model, config["datasets"])


def reference_sets():
    """Collections used only to calibrate or fit (e.g. mlquestions), which must be embedded too."""
    refs = {config.get("quantization", {}).get("calibrate_on", "self")}
    refs |= {config.get("reduction", {}).get("fit_on", "self")}
    return sorted(r for r in refs if r not in ("self", "none"))


def embed_markers(models=None):
    models = models or MODELS
    return sorted({
        f"{RESULTS}/embeddings/{m}--{d}.json"
        for m in models
        for d in list(datasets_for(m)) + reference_sets()
    })


def papermill(notebook, executed, params):
    """Shell command running one notebook with parameters given as YAML (JSON is YAML)."""
    return (f"{shlex.quote(PY)} -m papermill --log-output --no-progress-bar notebooks/{notebook} "
            f"{NB_OUT}/{executed} -y {shlex.quote(json.dumps(params))}")


include: "workflow/rules/embed.smk"
include: "workflow/rules/quantization.smk"


rule all:
    default_target: True
    input:
        f"{RESULTS}/02-quantization.csv",
