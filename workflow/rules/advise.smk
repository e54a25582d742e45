# Stage 10: `study advise` on one of the profile's collections exported as a user holds it (a demo), and whether
# advise's label-free measure (recall@10 against the exact float32 top-10) ranks and chooses configurations as
# nDCG@10 does, on every model x collection of the `advise:` section (a profile turns it off with `advise: null`).
# Each (model, collection) run keeps its results under the study cache's advise/ folder, so a rerun takes seconds.
# Its figure and tables are written by the notebook itself (as stage 05's), not by a publish rule.


ADVISE_STAGE = profiles.runs_stage("advise", config)

if ADVISE_STAGE:

    rule advise:
        input:
            stage_markers("advise"),
            notebook_inputs(STAGE["advise"].stem),
        output:
            stage_outputs(artifacts.published("advise")),
            executed_notebook(STAGE["advise"].stem),
        params:
            cmd=papermill(STAGE["advise"].stem, stage_parameters("advise")),
        shell:
            "{params.cmd}"


ADVISE_OUTPUTS = rules.advise.output if ADVISE_STAGE else []
