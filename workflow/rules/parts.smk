# The parts of the stages the experiment runner evaluates (02, 03, 04, 06, 07, 09): one job per (model, collection),
# on one thread (a stage-07 part reserves every core: it times its indexes) (BLAS and faiss pinned to one thread: study.experiment.runner), writing its rows to the result cache
# (build/parts/<profile>/<stem>/<model>/<collection>/). The stage's notebook rule needs every part and gathers them.
# Jobs of different stages and collections run side by side (`--cores 2` here, a cluster's nodes at paper scale).
# Before a model's parts, FIT_SHARDS fit jobs make the fits they all share (reducers fit, codecs trained on a named
# set) into the fit cache, one shard each: those fits then spread over cores instead of parts waiting on one lock.

wildcard_constraints:
    model="[^/]+",
    collection="[^/]+",


def has_fit_jobs(stage):
    """A scattered stage that fits reducers or trains codecs on a named set gets fit jobs."""
    return stage in profiles.FITTING and bool(profiles.reference_sets(stage_parameters(stage)))


def fit_markers(stage):
    """Input function: the markers of the fit jobs of the part's model (none where the stage has no fit jobs)."""
    shards = range(profiles.FIT_SHARDS) if has_fit_jobs(stage) else []
    stem = STAGE[stage].stem
    return lambda wildcards: [f"build/parts/{PROFILE}/{stem}/{wildcards.model}/fits-{i}-of-{profiles.FIT_SHARDS}.json"
                              for i in shards]


def reference_markers(stage):
    """Input function: the embedding markers of the stage's training sets for the job's model, and of the
    collections its pools are drawn from (stage 09 with ``calibrate_on: [.., pool]``)."""
    parameters = stage_parameters(stage)
    references = profiles.reference_sets(parameters)
    return lambda wildcards: [marker(wildcards.model, r) for r in references] + [
        marker(wildcards.model, c) for c in profiles.pool_collections(stage, parameters, wildcards.model)]


def part_markers(stage):
    """Input function: the part's own embedding marker and those of the stage's training sets for its model."""
    references = reference_markers(stage)
    return lambda wildcards: [marker(wildcards.model, wildcards.collection)] + references(wildcards)


def fit_command(stage):
    """Params function: the fit job's command for the wildcards' (model, shard)."""
    parameters = json.dumps(stage_parameters(stage))
    return lambda wildcards: study_command("study.plans.parts", "--fits", stage, shlex.quote(parameters),
                                           shlex.quote(wildcards.model), wildcards.shard)


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
            fit_markers(_stage),
            code_of("study.plans.parts"),
        output:
            f"build/parts/{PROFILE}/{STAGE[_stage].stem}/{{model}}/{{collection}}/manifest.json",
        threads: workflow.cores if _stage in profiles.TIMED else 1
        params:
            cmd=part_command(_stage),
        shell:
            "{params.cmd}"

    if has_fit_jobs(_stage):

        rule:
            name:
                f"{_stage}_fits"
            input:
                reference_markers(_stage),
                code_of("study.plans.parts"),
            output:
                f"build/parts/{PROFILE}/{STAGE[_stage].stem}/{{model}}/fits-{{shard}}-of-{profiles.FIT_SHARDS}.json",
            wildcard_constraints:
                shard="[0-9]+",
            threads: 1
            params:
                cmd=fit_command(_stage),
            shell:
                "{params.cmd}"
