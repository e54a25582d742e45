# Stage 07: real indexes (usearch, faiss) on a few collections: measured bytes, build time, QPS, recall, nDCG.
# It runs the profile's models on the collections of `indexes.datasets` that the profile gives each model
# (none -> no stage 07; study.core.profiles). It reserves every core so that no other job runs beside it while it
# times queries (so does each of its part jobs when the stage is scattered); the indexes themselves use
# `indexes.threads` threads (pinned).


def index_markers():
    """Embedding markers of the (model, collection) pairs stage 07 reads, and of its training set."""
    parameters = stage_parameters("indexes")
    extra = profiles.reference_sets(parameters)
    return sorted({marker(m, d) for m, ds in parameters["datasets_per_model"].items() for d in ds + extra})


INDEX_STAGE = profiles.runs_stage("indexes", config)

if INDEX_STAGE:

    rule indexes:
        input:
            index_markers(),
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
