# Stage 07: real indexes (usearch, faiss) on a few collections: measured bytes, build time, QPS, recall, nDCG.
# It runs the profile's models on the collections of `indexes.datasets` that the profile gives each model
# (none -> no stage 07; study.core.profiles). It reserves every core so that no other job runs beside it while it
# times queries (so does each of its part jobs when the stage is scattered); the indexes themselves use
# `indexes.threads` threads (pinned).


INDEX_STAGE = profiles.runs_stage("indexes", config)

if INDEX_STAGE:

    rule indexes:
        input:
            stage_markers("indexes"),
            part_outputs("indexes"),
            notebook_inputs(STAGE["indexes"].stem),
        output:
            f"{RESULTS}/{STAGE['indexes'].stem}.csv",
            f"{RESULTS}/{STAGE['indexes'].stem}-per-query.parquet",
            executed_notebook(STAGE["indexes"].stem),
        threads: workflow.cores
        params:
            cmd=papermill(STAGE["indexes"].stem, stage_parameters("indexes")),
        shell:
            "{params.cmd}"
