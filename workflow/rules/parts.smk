# The parts of the stages the experiment runner evaluates (02, 03, 04, 06, 07, 09): one job per (model, collection),
# on one thread (a stage-07 part reserves every core: it times its indexes) (BLAS and faiss pinned to one thread: study.experiment.runner), writing its rows to the result cache
# (build/parts/<profile>/<stem>/<model>/<collection>/). The stage's notebook rule needs every part and gathers them.
# Jobs of different stages and collections run side by side (`--cores 2` here, a cluster's nodes at paper scale).

wildcard_constraints:
    model="[^/]+",
    collection="[^/]+",


def part_markers(stage):
    """Input function: the part's own embedding marker and those of the stage's training sets for its model."""
    references = profiles.reference_sets(stage_parameters(stage))
    return lambda wildcards: [marker(wildcards.model, wildcards.collection)] + [
        marker(wildcards.model, r) for r in references]


def part_command(stage):
    """Params function: the part job's command for the wildcards' (model, collection)."""
    parameters = json.dumps(stage_parameters(stage))
    return lambda wildcards: study_command("study.plans.parts", stage, shlex.quote(parameters),
                                           shlex.quote(wildcards.model), shlex.quote(wildcards.collection))


for _stage in [s for s in profiles.PLANNED if s in SCATTERED and profiles.runs_stage(s, config)]:

    rule:
        name:
            f"{_stage}_part"
        input:
            part_markers(_stage),
            code_of("study.plans.parts"),
        output:
            f"build/parts/{PROFILE}/{STAGE[_stage].stem}/{{model}}/{{collection}}/manifest.json",
        threads: workflow.cores if _stage in profiles.TIMED else 1
        params:
            cmd=part_command(_stage),
        shell:
            "{params.cmd}"
