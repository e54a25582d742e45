# Stage 03: every reducer × kept fraction, stored as float32 and float8 E4M3 (the paper's Fig. 4/5).
# After stage 02 (it does not read its results; the ordering keeps CPU-bound stages apart). A profile's
# `reduction:` section may name its own `models` (the full profile adds wordllama-256); keys it omits
# keep the notebook's defaults.

REDUCTION = config.get("reduction", {})
REDUCTION_MODELS = REDUCTION.get("models", MODELS)


def stage_params(section, models):
    """Notebook parameters of a reduction stage: the profile's models, collections and the section's keys."""
    return {"models": models, "datasets": config["datasets"],
            "datasets_per_model": {m: d for m, d in config.get("datasets_per_model", {}).items() if m in models},
            "profile": PROFILE,
            "calibrate_on": config.get("quantization", {}).get("calibrate_on", "self"),  # unless the section says
            **{k: v for k, v in section.items() if k != "models"}}


rule reduction:
    input:
        embed_markers(REDUCTION_MODELS),
        f"{RESULTS}/02-quantization.csv",
    output:
        f"{RESULTS}/03-reduction.csv",
        f"{FIGURES}/fig4-reduction.png",
    params:
        cmd=papermill("03-reduction.ipynb", "03-reduction.ipynb", stage_params(REDUCTION, REDUCTION_MODELS)),
    shell:
        "{params.cmd}"
