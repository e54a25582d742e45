# Stage 09: the codecs engineers use today (RaBitQ, OPQ+PQ, PQ fast-scan, TurboQuant, OSQ, binary fixes), trained
# on the fit set and on each corpus, alone, after PCA / truncation, and as rescoring's first tier.


def codecs_params():
    """The notebook's stage parameters: the profile's `codecs:` section, the reduction's fit set by default."""
    return {"fit_on": config.get("reduction", {}).get("fit_on", "mlquestions"), **config.get("codecs", {})}


CODECS_STAGE = "codecs" in config  # a profile without a `codecs:` section has no stage 09

if CODECS_STAGE:
    CODECS = codecs_params()

    def codecs_markers():
        refs = (set(CODECS.get("calibrate_on", ["self"])) | {CODECS["fit_on"]}) - {"self", "none"}
        models = CODECS.get("models", MODELS)
        extra = {f"{RESULTS}/embeddings/{m}--{collection_name(r)}.json" for m in models for r in refs}
        return sorted(set(embed_markers(models)) | extra)

    rule codecs:
        input:
            codecs_markers(),
            notebook_inputs(STAGE["codecs"].stem),
        output:
            f"{RESULTS}/{STAGE['codecs'].stem}.csv",
            f"{RESULTS}/{STAGE['codecs'].stem}-per-query.parquet",
        params:
            cmd=papermill(
                STAGE["codecs"].stem,
                {"models": CODECS.get("models", MODELS), "datasets": config["datasets"],
                 "datasets_per_model": config.get("datasets_per_model", {}),
                 "profile": PROFILE, "publish": False, **{k: v for k, v in CODECS.items() if k != "models"}},
            ),
        shell:
            "{params.cmd}"
