# Stage 06: beyond the paper. Corrected int8/int4/float8/float4/binary formats beside the paper's, asymmetric
# search (float32 queries), two-stage rescoring, each against float32 with paired bootstrap CIs and Holm-corrected
# tests. Runs after stage 02 (it does not read its results; ordering keeps the two CPU-bound stages apart).


def beyond_markers():
    """Embedding markers of every evaluated (model, collection) and of stage 06's calibration sets."""
    section = config.get("beyond", {})
    refs = set(section.get("calibrate_on", ["self"])) | {section.get("paper_calibrate_on", "self")}
    refs -= {"self", "none"}
    extra = {f"{RESULTS}/embeddings/{m}--{r}.json" for m in MODELS for r in refs}
    return sorted(set(embed_markers()) | extra)


BEYOND_STAGE = "beyond" in config  # a profile without a `beyond:` section has no stage 06

if BEYOND_STAGE:

    rule beyond:
        input:
            beyond_markers(),
            f"{RESULTS}/02-quantization.csv",
        output:
            f"{RESULTS}/06-beyond.csv",
            f"{FIGURES}/fig-beyond-formats.png",
        params:
            cmd=papermill(
                "06-beyond.ipynb", "06-beyond.ipynb",
                {"models": MODELS, "datasets": config["datasets"],
                 "datasets_per_model": config.get("datasets_per_model", {}),
                 "profile": PROFILE, **config["beyond"]},
            ),
        shell:
            "{params.cmd}"
