# Each stage's figures and tables, redrawn from its saved tidy results without rerunning the experiment
# (what `study publish --stages <stage>` runs: study.stages.republish.publish_stage). A rule per stage: it reads
# the stage's results and the code that module imports (code_of; every stage's publish function).
# What each writes is named in study.core.artifacts (`published`: what the profile's stage section makes of it).

SECTIONS = {"combined": COMBINED, "beyond": BEYOND}
RUN = {"quantization": True, "reduction": True, "combined": True, "beyond": BEYOND_STAGE, "indexes": INDEX_STAGE,
       "codecs": CODECS_STAGE}
EXTRA_INPUTS = {"reduction": [f"{RESULTS}/tables/{s}.csv" for s in STAGE["reduction"].experiment_tables]}
EXTRA_OUTPUTS = {"beyond": [f"{RESULTS}/{STAGE['beyond'].stem}-summary.csv"]}
PUBLISH = {
    stage: (STAGE[stage].stem, EXTRA_INPUTS.get(stage, []),
            stage_outputs(artifacts.published(stage, SECTIONS.get(stage))) + EXTRA_OUTPUTS.get(stage, []))
    for stage in artifacts.PUBLISHED_STAGES
    if RUN[stage]
}

for _stage, (_stem, _extra, _outputs) in PUBLISH.items():

    rule:
        name:
            f"publish_{_stage}"
        input:
            f"{RESULTS}/{_stem}.csv",
            f"{RESULTS}/{_stem}-per-query.parquet",
            _extra,
            code_of("study.stages.republish"),
        output:
            _outputs,
        params:
            cmd=study_call("study.stages.republish", "publish_stage", _stage, PROFILE),
        shell:
            "{params.cmd}"


PUBLISHED = [f for _, _, outputs in PUBLISH.values() for f in outputs]
