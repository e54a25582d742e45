# Stage 02: every format of the paper on every collection (the paper's Fig. 3 and Table 1 rows at 100 %).
# The notebook runs with publish=False: its figures and tables are publish_quantization's (publish.smk).

rule quantization:
    input:
        embed_markers(),
        notebook_inputs(STAGE["quantization"].stem),
    output:
        f"{RESULTS}/{STAGE['quantization'].stem}.csv",
        f"{RESULTS}/{STAGE['quantization'].stem}-per-query.parquet",
    params:
        cmd=papermill(
            STAGE["quantization"].stem,
            {"models": MODELS, "datasets": config["datasets"],
             "datasets_per_model": config.get("datasets_per_model", {}),
             "profile": PROFILE, "publish": False, **config["quantization"]},
        ),
    shell:
        "{params.cmd}"
