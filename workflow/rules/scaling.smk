# Notebook 08: the scaling benchmarks' figures (real pooled embeddings, iid vectors) and conclusions from results/bench.csv (written by `make bench`,
# committed), without rerunning the benchmark. Only where that table exists under the output root.

SCALING_STAGE = os.path.exists("results/bench.csv")

if SCALING_STAGE:

    rule scaling:
        input:
            "results/bench.csv",
            notebook_files("08-scaling.ipynb"),
            os.path.join(REPO, "bench", "analysis.py"),
            study_code("core", "config", "compress", "search", "analysis", "figures/plots"),
        output:
            "figures/bench/scaling.pdf",
            "figures/bench/scaling.png",
            "figures/bench/scaling-pool.pdf",
            "figures/bench/scaling-pool.png",
        params:
            cmd=papermill("08-scaling.ipynb", "08-scaling.ipynb", {}),
        shell:
            "{params.cmd}"
