# Stage 01: prepare a model once, then encode one (model, collection) per job; a profile that scatters no stage
# encodes each model in one job (EMBED_PER_MODEL).

rule prepare_model:  # `study models prepare <model>`
    input:
        code_of("study.encoders.registry"),
    output:
        f"build/models/{{model}}.ready",
    params:
        cmd=lambda wc: study_call("study.encoders.registry", "prepare_model", wc.model),
    shell:
        "{params.cmd} && touch {output}"


if EMBED_PER_MODEL:

    for _model, _datasets in embedded_datasets().items():

        rule:  # one job per model: every collection the profile reads for it
            name:
                f"embed_{_model.replace('-', '_').replace('.', '_')}"
            input:
                f"build/models/{_model}.ready",
                notebook_inputs(STAGE["embed"].stem),
            output:
                [marker(_model, d) for d in _datasets],
            threads: workflow.cores
            params:
                cmd=papermill(STAGE["embed"].stem, {"model": _model, "datasets": _datasets, "profile": PROFILE},
                              f"{STAGE['embed'].stem}--{_model}.ipynb"),
            shell:
                "{params.cmd}"

else:

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
