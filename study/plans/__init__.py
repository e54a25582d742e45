"""Each planned stage's grid as data: ``plan(params)`` gives the ``study.experiment.runner.Plan`` (a table of
``Config``s) that ``run(plan)`` evaluates; ``parts`` computes one (model, collection) part of a plan alone, what a
workflow part job runs. Nothing here draws or publishes, so a part job imports no figure code."""
