# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 06 · Beyond the paper: corrected baselines, asymmetric search and rescoring, with confidence intervals
#
# **Questions.** The paper's int8, float4 and binary baselines have known weaknesses (int8 wraps around
# outside its calibration range and is scored on uncentred uint8 codes; float4 casts unit-vector
# components straight to E2M1, rounding almost all of them to 0; binary is scored by cosine on {0, 1},
# never rescored). Do corrected versions change the paper's ranking of formats? Does scaled float4 (8×)
# become usable? How much of float32's nDCG@10 does binary (32×) keep once a few candidates are
# re-ranked with float32 or int8 vectors? And does leaving the queries in float32 (asymmetric search) help?
#
# **How.** Every format, paper-faithful and corrected, on every collection; the corrected ones:
# `int8_clipped`/`int8_quantile`/`int4`/`int4_quantile` (clipped, centred signed codes, range from the
# calibration set: min/max or 0.1–99.9 % percentiles), `float8_e4m3_scaled`/`float4_e2m1_scaled` (a
# per-vector absmax scale stored as float16 *inside* each vector's bytes), `*_dimscaled` (per-dimension
# scales from the calibration set), `binary_sign`/`binary_median` (sign or median-threshold bits scored
# by Hamming distance). Asymmetric runs keep float32 queries against the compressed documents.
# Two-stage runs take the first stage's top `k·m` (k = 10, oversampling m) and re-rank them with a second
# tier (float32 or int8). Each configuration is compared with float32 of the same model and collection
# on the same queries: paired bootstrap 95 % CI (10 000 resamples, seeded, stratified by collection),
# sign-flip randomization test, Holm's correction across the stage's configurations. Aggregates over
# collections are computed both weighted by number of texts and unweighted; the figures show `weighting`.

# %% tags=["parameters"]
models = ["minilm-l6"]
datasets = ["scifact"]
datasets_per_model = {}        # optional: {model: [collections]} where a model is run on fewer
formats = ["float32", "float16", "bfloat16", "float8_e4m3", "float8_e5m2", "float4_e2m1", "int8", "binary",
           "int8_clipped", "int8_quantile", "int4", "int4_quantile", "float8_e4m3_scaled", "float4_e2m1_scaled",
           "float8_e4m3_dimscaled", "float4_e2m1_dimscaled", "binary_sign", "binary_median"]
# corrected formats' calibration set(s), "self" = the evaluated corpus; the first also serves asymmetric/rescoring
calibrate_on = ["self"]
paper_calibrate_on = "mlquestions"   # the paper's int8 keeps the paper's calibration set
asymmetric = "all"             # formats also run with float32 queries: "all", a list, or "none"
rescore_first = ["binary_sign", "binary_median", "binary", "int4", "float4_e2m1_scaled"]
rescore_tiers = ["float32", "int8_clipped"]
oversampling = [1, 2, 4, 10]
weighting = "texts"            # what the figures and the closing text show: "texts" (the paper) or "none"
n_resamples = 10000
seed = 0
profile = "default"
publish = True                 # write figures and tables here (the workflow writes them with `study publish`)

# %%

from study.analysis import report, stats
from study.core.notebook import setup
from study.data.datasets import collection_table
from study.experiment.runner import run
from study.figures import plots
from study.figures.beyond import plot_beyond_formats, plot_beyond_rescoring
from study.params import BeyondParams
from study.plans.beyond import plan
from study.stages.beyond import (
    KEYS,
    STEM,
    beyond_table,
    paired_tests,
    publish_beyond,
    summarise_beyond,
)

setup()
p = BeyondParams.of(globals()).checked()

# %% [markdown]
# ## The collections (and the calibration sets)

# %%
collection_table(sorted(set(p.evaluated()) | ({*p.calibrate_on, p.paper_calibrate_on} - {"self", "none"})))

# %% [markdown]
# ## The plan: one row per configuration
# Each format (the paper's on the paper's calibration set, the corrected ones on each of `calibrate_on`), the
# asymmetric runs (float32 queries), then each two-tier search: first tier × second tier × oversampling.

# %%
stage_plan = plan(p)
stage_plan.table()

# %% [markdown]
# ## Compress, search (symmetric, asymmetric, two-stage), score; each configuration against float32
# Per collection: paired bootstrap CI of the difference, sign-flip p-value, Holm across the stage.

# %%
result = run(stage_plan, p.profile, STEM)
tidy, per_query = result.tidy, result.per_query
tidy = stats.annotate_tidy(tidy, per_query, n_resamples=p.n_resamples, seed=p.seed)
report.save_results(tidy, per_query, STEM, p.profile)
tidy[tidy.metric == "ndcg_at_10"].head(8)

# %% [markdown]
# ## Aggregate over the same held-out collections, both weightings, with CIs

# %%
sets = report.caption_sets(report.summarise(tidy, KEYS, weighting=p.weighting, baseline=stats.BASELINE))
summary = summarise_beyond(tidy, per_query, p.n_resamples, p.seed)
print(sets)
beyond_table(summary, p.weighting)

# %% [markdown]
# ## Figure: paper vs corrected formats, symmetric and asymmetric (95 % CI; open = not significant)

# %%
main = summary[summary.weighting == p.weighting]
plots.show(plot_beyond_formats(main, p.formats, p.weighting))

# %% [markdown]
# ## Figure: two-stage search, nDCG@10 change against the oversampling m

# %%
plots.show(plot_beyond_rescoring(main, p.weighting))

# %% [markdown]
# ## What the numbers say
# The best configuration at 8× and 32× of what it stores (every tier), in one tier and with rescoring, then the
# paired tests between configurations (the paper: float8 beats int8; asymmetric search against symmetric).

# %%
for model, rows in main[main.format != "float32"].groupby("model", sort=False):
    for ratio in (8, 32):
        fit = rows[rows.stored_ratio >= 0.95 * ratio]
        for tiers, part in (("one tier", fit[fit.rescore == "none"]), ("rescored", fit[fit.rescore != "none"])):
            for r in part.nlargest(1, "change_pct").itertuples():
                print(f"{model}, best at ≥ {ratio}× ({tiers}): {r.label} {r.change_pct:+.2f} % "
                      f"[{r.ci_low:+.2f}, {r.ci_high:+.2f}], {r.stored_ratio:.3g}× in all")
tests = paired_tests(summary, tidy, per_query, p.weighting, p.calibrate_on[0], p.n_resamples, p.seed)
tests[tests.comparison.str.contains("float8") | (tests.p_value < 0.05)]

# %% [markdown]
# ## Write the figures and tables
# From the saved results, as the workflow's `publish` rule does (`study publish`); skipped with `publish=False`.

# %%
if p.publish:
    publish_beyond(*report.saved(STEM, p.profile), p.formats, p.weighting, p.profile, p.n_resamples, p.seed)
