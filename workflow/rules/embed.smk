# Stage 01: prepare a model once, then encode one (model, collection) per job.

rule prepare_model:
    input:
        study_code("core", "encoders"),
    output:
        f"build/models/{{model}}.ready",
    shell:
        "{PY} -m study.cli models prepare {wildcards.model} && touch {output}"


rule embed:
    input:
        "build/models/{model}.ready",
        notebook_files("01-embed.ipynb"),
        study_code("core", "data", "encoders", "config", "analysis/report", "stages/embed"),
    output:
        f"{RESULTS}/embeddings/{{model}}--{{dataset}}.json",
    threads: workflow.cores
    params:
        cmd=lambda wc: papermill(
            "01-embed.ipynb", f"01-embed--{wc.model}--{wc.dataset}.ipynb",
            {"model": wc.model, "datasets": [dataset_arg(wc.dataset)], "profile": PROFILE},
        ),
    shell:
        "{params.cmd}"
