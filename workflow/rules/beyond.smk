# Stage 06: beyond the paper. Corrected int8/int4/float8/float4/binary formats beside the paper's, asymmetric
# search (float32 queries), two-stage rescoring, each against float32 with paired bootstrap CIs and Holm-corrected
# tests.
# The paper's int8 is calibrated as in stage 02 (`quantization.calibrate_on`) unless `beyond.paper_calibrate_on`
# says otherwise; the corrected formats on each of `beyond.calibrate_on`.


BEYOND_STAGE = profiles.runs_stage("beyond", config)  # a profile without a `beyond:` section has no stage 06
BEYOND = stage_parameters("beyond")

if BEYOND_STAGE:

    rule beyond:
        input:
            stage_markers("beyond"),
            part_outputs("beyond"),
            notebook_inputs(STAGE["beyond"].stem),
        output:
            f"{RESULTS}/{STAGE['beyond'].stem}.csv",
            f"{RESULTS}/{STAGE['beyond'].stem}-per-query.parquet",
            executed_notebook(STAGE["beyond"].stem),
        params:
            cmd=papermill(STAGE["beyond"].stem, BEYOND),
        shell:
            "{params.cmd}"
