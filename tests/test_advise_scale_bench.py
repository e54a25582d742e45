"""bench/advise_scale.py: every configuration of advise's grid at 768 dimensions falls in one grid step, and a run's
timings add up per step."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from bench import advise_scale
from study.advise import grid


def test_every_configuration_of_the_768_grid_has_its_step():
    plan = grid.grid("mpnet-base", "mix", "held-out", 768, 12_500)
    steps = Counter(advise_scale.step_of(c.id) for c in plan.configs)
    assert sum(steps.values()) == len(plan.configs) == 62
    assert steps == {"number formats": 13, "RaBitQ": 4, "TurboQuant": 3, "OSQ": 5, "binary fixes": 2, "OPQ": 3,
                     "PQ / fast-scan": 2, "PCA": 14, "two-tier": 16}


def test_step_seconds_sum_each_steps_units():
    plan = grid.grid("mpnet-base", "mix", "held-out", 768, 12_500)
    ids = {c.format: c.id for c in plan.configs if c.reducer == "none" and c.rescore == "none"}
    timings = pd.DataFrame({"configuration": [ids["opq192"], ids["opq48"], ids["int4"], ids["rabitq4"]],
                            "seconds": [100.0, 20.0, 3.0, 7.0]})
    assert advise_scale.step_seconds(timings).to_dict() == {"OPQ": 120.0, "number formats": 3.0, "RaBitQ": 7.0}
