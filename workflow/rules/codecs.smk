# Stage 09: the codecs engineers use today (RaBitQ, OPQ+PQ, PQ fast-scan, TurboQuant, OSQ, binary fixes), trained
# on the fit set and on each corpus, alone, after PCA / truncation, and as rescoring's first tier.


CODECS_STAGE = profiles.runs_stage("codecs", config)  # a profile without a `codecs:` section has no stage 09

if CODECS_STAGE:

    rule codecs:
        input:
            stage_markers("codecs"),
            part_outputs("codecs"),
            notebook_inputs(STAGE["codecs"].stem),
        output:
            f"{RESULTS}/{STAGE['codecs'].stem}.csv",
            f"{RESULTS}/{STAGE['codecs'].stem}-per-query.parquet",
            executed_notebook(STAGE["codecs"].stem),
        params:
            cmd=papermill(STAGE["codecs"].stem, stage_parameters("codecs")),
        shell:
            "{params.cmd}"
