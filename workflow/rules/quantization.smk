# Stage 02: every format of the paper on every collection (the paper's Fig. 3 and Table 1 rows at 100 %).
# The notebook runs with publish=False: its figures and tables are publish_quantization's (publish.smk).

rule quantization:
    input:
        embed_markers(),
        notebook_files("02-quantization.ipynb"),
        study_code(*EXPERIMENT_CODE, "stages/quantization"),
    output:
        f"{RESULTS}/02-quantization.csv",
        f"{RESULTS}/02-quantization-per-query.parquet",
    params:
        cmd=papermill(
            "02-quantization.ipynb", "02-quantization.ipynb",
            {"models": MODELS, "datasets": config["datasets"],
             "datasets_per_model": config.get("datasets_per_model", {}),
             "profile": PROFILE, "publish": False, **config["quantization"]},
        ),
    shell:
        "{params.cmd}"
