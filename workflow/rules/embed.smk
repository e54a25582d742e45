# Stage 01: prepare a model once, then encode one (model, collection) per job.

rule prepare_model:  # `study models prepare <model>`
    input:
        code_of("study.encoders.registry"),
    output:
        f"build/models/{{model}}.ready",
    params:
        cmd=lambda wc: study_call("study.encoders.registry", "prepare_model", wc.model),
    shell:
        "{params.cmd} && touch {output}"


rule embed:
    input:
        "build/models/{model}.ready",
        notebook_inputs(STAGE["embed"].stem),
    output:
        f"{RESULTS}/embeddings/{{model}}--{{dataset}}.json",
    threads: workflow.cores
    params:
        cmd=lambda wc: papermill(
            STAGE["embed"].stem, {"model": wc.model, "datasets": [dataset_arg(wc.dataset)], "profile": PROFILE},
            f"{STAGE['embed'].stem}--{wc.model}--{wc.dataset}.ipynb",
        ),
    shell:
        "{params.cmd}"
