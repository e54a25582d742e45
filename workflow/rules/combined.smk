# Stage 04: reduce, then quantize — reducers (PCA, truncation) × every paper format × kept fraction (the paper's
# Table 1 and Fig. 6). The reducers are fit on the `reduction:` section's fit set unless the
# `combined:` section names its own. Needs workflow/rules/reduction.smk (stage_params, REDUCTION).

COMBINED = {"fit_on": REDUCTION.get("fit_on", "mlquestions"), **config.get("combined", {})}
COMBINED_MODELS = COMBINED.get("models", MODELS)


rule combined:
    input:
        embed_markers(COMBINED_MODELS),
        notebook_files("04-combined.ipynb"),
        study_code(*EXPERIMENT_CODE, "stages/reduction"),
    output:
        f"{RESULTS}/04-combined.csv",
        f"{RESULTS}/04-combined-per-query.parquet",
    params:
        cmd=papermill("04-combined.ipynb", "04-combined.ipynb", stage_params(COMBINED, COMBINED_MODELS)),
    shell:
        "{params.cmd}"
