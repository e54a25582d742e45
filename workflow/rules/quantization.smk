# Stage 02: every format of the paper on every collection (the paper's Fig. 3 and Table 1 rows at 100 %).
# The notebook runs with publish=False: its figures and tables are publish_quantization's (publish.smk).

rule quantization:
    input:
        stage_markers("quantization"),
        part_outputs("quantization"),  # computed by the quantization_part jobs; the notebook gathers them
        notebook_inputs(STAGE["quantization"].stem),
    output:
        f"{RESULTS}/{STAGE['quantization'].stem}.csv",
        f"{RESULTS}/{STAGE['quantization'].stem}-per-query.parquet",
        executed_notebook(STAGE["quantization"].stem),
    params:
        cmd=papermill(STAGE["quantization"].stem, stage_parameters("quantization")),
    shell:
        "{params.cmd}"
