# Stage 04: reduce, then quantize — reducers (PCA, truncation) × every paper format × kept fraction (the paper's
# Table 1 and Fig. 6). The reducers are fit on the `reduction:` section's fit set unless the
# `combined:` section names its own (study.core.profiles).

COMBINED = stage_parameters("combined")


rule combined:
    input:
        stage_markers("combined"),
        part_outputs("combined"),
        notebook_inputs(STAGE["combined"].stem),
    output:
        f"{RESULTS}/{STAGE['combined'].stem}.csv",
        f"{RESULTS}/{STAGE['combined'].stem}-per-query.parquet",
        executed_notebook(STAGE["combined"].stem),
    params:
        cmd=papermill(STAGE["combined"].stem, COMBINED),
    shell:
        "{params.cmd}"
