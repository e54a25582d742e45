# Stage 06: beyond the paper. Corrected int8/int4/float8/float4/binary formats beside the paper's, asymmetric
# search (float32 queries), two-stage rescoring, each against float32 with paired bootstrap CIs and Holm-corrected
# tests.
# The paper's int8 is calibrated as in stage 02 (`quantization.calibrate_on`) unless `beyond.paper_calibrate_on`
# says otherwise; the corrected formats on each of `beyond.calibrate_on`.


def beyond_params():
    """The notebook's stage parameters: the profile's `beyond:` section, the paper's calibration set by default."""
    paper_set = config.get("quantization", {}).get("calibrate_on", "self")
    return {"paper_calibrate_on": paper_set, **config.get("beyond", {})}


BEYOND = beyond_params()


def beyond_markers():
    """Embedding markers of every evaluated (model, collection) and of stage 06's calibration sets."""
    section = beyond_params()
    refs = set(section.get("calibrate_on", ["self"])) | {section["paper_calibrate_on"]}
    refs -= {"self", "none"}
    extra = {f"{RESULTS}/embeddings/{m}--{collection_name(r)}.json" for m in MODELS for r in refs}
    return sorted(set(embed_markers()) | extra)


BEYOND_STAGE = "beyond" in config  # a profile without a `beyond:` section has no stage 06

if BEYOND_STAGE:

    rule beyond:
        input:
            beyond_markers(),
            notebook_inputs(STAGE["beyond"].stem),
        output:
            f"{RESULTS}/{STAGE['beyond'].stem}.csv",
            f"{RESULTS}/{STAGE['beyond'].stem}-per-query.parquet",
        params:
            cmd=papermill(
                STAGE["beyond"].stem,
                {"models": MODELS, "datasets": config["datasets"],
                 "datasets_per_model": config.get("datasets_per_model", {}),
                 "profile": PROFILE, "publish": False, **BEYOND},
            ),
        shell:
            "{params.cmd}"
