# Stage 03: every reducer × kept fraction, stored as float32 and float8 E4M3 (the paper's Fig. 4/5).
# A profile's `reduction:` section may name its own `models` (the full profile adds wordllama-256); keys it
# omits keep the notebook's defaults. Stage rules run single-threaded (Snakemake's default), as they always
# have: BLAS kernels round a dot product differently with another thread count, which can reorder near-tied
# documents and move an nDCG@10 in its fifth decimal; one thread keeps results reproducible run to run.

REDUCTION = config.get("reduction", {})
REDUCTION_MODELS = REDUCTION.get("models", MODELS)


def stage_params(section, models):
    """Notebook parameters of a reduction stage: the profile's models, collections and the section's keys."""
    return {"models": models, "datasets": config["datasets"],
            "datasets_per_model": {m: d for m, d in config.get("datasets_per_model", {}).items() if m in models},
            "profile": PROFILE, "publish": False,
            "calibrate_on": config.get("quantization", {}).get("calibrate_on", "self"),  # unless the section says
            **{k: v for k, v in section.items() if k != "models"}}


rule reduction:
    input:
        embed_markers(REDUCTION_MODELS),
        notebook_inputs(STAGE["reduction"].stem),
    output:
        f"{RESULTS}/{STAGE['reduction'].stem}.csv",
        f"{RESULTS}/{STAGE['reduction'].stem}-per-query.parquet",
        tables(*STAGE["reduction"].experiment_tables),  # measured while the reducers run: the experiment's own
    params:
        cmd=papermill(STAGE["reduction"].stem, stage_params(REDUCTION, REDUCTION_MODELS)),
    shell:
        "{params.cmd}"
