# Stage 04: reduce, then quantize — reducers (PCA, truncation) × every paper format × kept fraction (the paper's
# Table 1 and Fig. 6). The reducers are fit on the `reduction:` section's fit set unless the
# `combined:` section names its own. Needs workflow/rules/reduction.smk (stage_params, REDUCTION).

COMBINED = {"fit_on": REDUCTION.get("fit_on", "mlquestions"), **config.get("combined", {})}
COMBINED_MODELS = COMBINED.get("models", MODELS)


rule combined:
    input:
        embed_markers(COMBINED_MODELS),
        notebook_inputs(STAGE["combined"].stem),
    output:
        f"{RESULTS}/{STAGE['combined'].stem}.csv",
        f"{RESULTS}/{STAGE['combined'].stem}-per-query.parquet",
    params:
        cmd=papermill(STAGE["combined"].stem, stage_params(COMBINED, COMBINED_MODELS)),
    shell:
        "{params.cmd}"
