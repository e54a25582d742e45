# Stage 03: every reducer × kept fraction, stored as float32 and float8 E4M3 (the paper's Fig. 4/5).
# A profile's `reduction:` section may name its own `models` (the full profile adds wordllama-256); keys it
# omits keep the notebook's defaults (study.core.profiles). Every part runs on one thread: BLAS kernels round a
# dot product differently with another thread count, which can reorder near-tied documents and move an nDCG@10
# in its fifth decimal; one thread keeps results reproducible run to run.


rule reduction:
    input:
        stage_markers("reduction"),
        part_outputs("reduction"),
        notebook_inputs(STAGE["reduction"].stem),
    output:
        f"{RESULTS}/{STAGE['reduction'].stem}.csv",
        f"{RESULTS}/{STAGE['reduction'].stem}-per-query.parquet",
        executed_notebook(STAGE["reduction"].stem),
        tables(*STAGE["reduction"].experiment_tables),  # measured while the reducers run: the experiment's own
    params:
        cmd=papermill(STAGE["reduction"].stem, stage_parameters("reduction")),
    shell:
        "{params.cmd}"
