# Stage 07: real indexes (usearch, faiss) on a few collections: measured bytes, build time, QPS, recall, nDCG.
# It runs the profile's models on the collections of `indexes.datasets` that the profile gives each model
# (none -> no stage 07). It reserves every core so that no other job runs beside it while it times
# queries; the indexes themselves use `indexes.threads` threads (pinned).


def index_datasets():
    """{model: collections of stage 07} = the `indexes.datasets` that the profile evaluates the model on."""
    wanted = config.get("indexes", {}).get("datasets", [])
    return {m: [d for d in wanted if d in datasets_for(m)] for m in MODELS}


def index_markers():
    """Embedding markers of the (model, collection) pairs stage 07 reads, and of its training set."""
    train_on = config["indexes"].get("train_on", "self")
    extra = [train_on] if train_on != "self" else []
    return sorted({f"{RESULTS}/embeddings/{m}--{collection_name(d)}.json"
                   for m, ds in index_datasets().items() for d in ds + extra})


INDEX_STAGE = any(index_datasets().values())

if INDEX_STAGE:

    rule indexes:
        input:
            index_markers(),
            notebook_inputs(STAGE["indexes"].stem),
        output:
            f"{RESULTS}/{STAGE['indexes'].stem}.csv",
            f"{RESULTS}/{STAGE['indexes'].stem}-per-query.parquet",
        threads: workflow.cores
        params:
            cmd=papermill(
                STAGE["indexes"].stem,
                {**config["indexes"], "models": [m for m, ds in index_datasets().items() if ds],
                 "datasets_per_model": {m: ds for m, ds in index_datasets().items() if ds}, "profile": PROFILE,
                 "publish": False},
            ),
        shell:
            "{params.cmd}"
