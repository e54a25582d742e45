# Notebook 08: the scaling benchmarks' figures (real pooled embeddings, iid vectors) and conclusions from results/bench.csv (written by `make bench`,
# committed), without rerunning the benchmark. Only where that table exists under the output root.

SCALING_STAGE = os.path.exists("results/bench.csv")

if SCALING_STAGE:

    rule scaling:
        input:
            "results/bench.csv",
            notebook_inputs(STAGE["scaling"].stem),  # bench.* included (FIRST_PARTY)
        output:
            [f"figures/bench/{s}.{ext}" for s in STAGE["scaling"].figures for ext in ("pdf", "png")],
            executed_notebook(STAGE["scaling"].stem),
        params:
            cmd=papermill(STAGE["scaling"].stem, {}),
        shell:
            "{params.cmd}"
