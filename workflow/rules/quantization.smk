# Stage 02: every format of the paper on every collection (the paper's Fig. 3 and Table 1 rows at 100 %).

rule quantization:
    input:
        embed_markers(),
    output:
        f"{RESULTS}/02-quantization.csv",
        f"{FIGURES}/fig3-quantization.png",
    params:
        cmd=papermill(
            "02-quantization.ipynb", "02-quantization.ipynb",
            {"models": MODELS, "datasets": config["datasets"],
             "datasets_per_model": config.get("datasets_per_model", {}),
             "profile": PROFILE, **config["quantization"]},
        ),
    shell:
        "{params.cmd}"
