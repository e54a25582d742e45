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
# # 04 · Reduce, then quantize: the paper's Table 1 on our models and collections
#
# **Question.** Combining dimensionality reduction with a storage format multiplies their compression
# (CR = 32 / bits / fraction). For every format of the paper and every kept fraction, how much nDCG@10 is
# lost against float32, and does the paper's advice hold — PCA keeping 50 % + float8 (8×) loses less than
# int8 alone (4×); PCA alone loses more than float8 at equal compression; float8 + PCA between 4× and 32×?
#
# **How (the paper's protocol).** Reduce first, then quantize: the reducer is fit on `fit_on` (default
# MLQuestions, as the paper), the reduced queries and documents are cast to the format, decoded, and
# scored by exact cosine; int8's per-dimension ranges are taken on the *reduced* calibration set
# (`calibrate_on`), as the paper's code does. Each format is also run unreduced (the 100 % rows). The
# paper's Table 1 is PCA; Matryoshka-style truncation (first k dimensions, re-normalised) is run beside it
# for every model — for WordLlama (Matryoshka-trained) it is the fair comparison. Our relative changes
# are printed beside the paper's (bge-small and nomic, 67 MTEB tasks), which are reference data, not ours.
#
# **Profiles.** `default` runs PCA × the eight paper formats × 90/75/50/25 % on every collection of the
# profile (about a minute on 2 cores; stage 03 compares truncation with PCA there); `full` adds truncation ×
# every format and the models MPNet and WordLlama.

# %% tags=["parameters"]
models = ["minilm-l6"]
datasets = ["scifact"]
datasets_per_model = {}        # optional: {model: [collections]} where a model is run on fewer
reducers = ["pca", "truncation"]
fractions = [0.9, 0.75, 0.5, 0.25]
formats = ["float32", "float16", "bfloat16", "float8_e4m3", "float8_e5m2", "float4_e2m1", "int8", "binary"]
fit_on = "mlquestions"         # a collection name (the paper: MLQuestions), or "self" (each evaluated corpus)
calibrate_on = "mlquestions"   # int8 ranges: from this set after reduction (the paper: MLQuestions)
fit_sample = 2000              # kernel PCA / UMAP, if listed in reducers: at most this many fit vectors, or None
weighting = "texts"            # "texts" (the paper) or "none"
profile = "default"
publish = True                 # write figures and tables here (the workflow writes them with `study publish`)

# %%

from study.analysis import report
from study.core.notebook import setup
from study.data.datasets import collection_table
from study.experiment.runner import run
from study.figures import plots
from study.figures.reduction import combined_figure
from study.params import CombinedParams
from study.plans.reduction import plan
from study.stages.reduction import COMBINED_STEM, publish_combined, table1, table1_vs_paper

setup()
p = CombinedParams.of(globals()).checked()

# %% [markdown]
# ## The collections (and the fit and calibration sets)

# %%
collection_table(sorted(set(p.evaluated()) | ({p.fit_on, p.calibrate_on} - {"self", "none"})))

# %% [markdown]
# ## The plan: one row per configuration

# %%
stage_plan = plan(p)
stage_plan.table()

# %% [markdown]
# ## Reduce, then quantize, search, score
# Each reducer is fit once per model and fraction on `fit_on`; int8 takes its ranges on the *reduced*
# `calibrate_on` set, as the paper's code does; every format is also run unreduced (the 100 % rows).

# %%
result = run(stage_plan, p.profile, COMBINED_STEM)
tidy, per_query = result.tidy, result.per_query
report.save_results(tidy, per_query, COMBINED_STEM, p.profile)
tidy[tidy.metric == "ndcg_at_10"].head(8)

# %% [markdown]
# ## Aggregate: our Table 1, on the same held-out collections for every configuration

# %%
summary = report.summarise(tidy, ["reducer", "fraction", "format"], weighting=p.weighting)
sets = report.caption_sets(summary)
print(sets)
table1(summary, p.reducers[0], p.formats)

# %% [markdown]
# ## Our relative changes beside the paper's Table 1 (PCA, then the format)

# %%
table1_vs_paper(summary, "pca", p.formats) if "pca" in p.reducers else None

# %% [markdown]
# ## Figure: nDCG@10 change vs kept fraction per format (the paper's Fig. 6)

# %%
plots.show(combined_figure(summary, p.weighting, p.fit_on))

# %% [markdown]
# ## What the numbers say: the best configuration at each compression ratio, and the paper's claim 3
# (PCA 50 % + float8, 8×, against int8 alone, 4×; notebook 05 judges it with CIs.)

# %%
for model, rows in summary.groupby("model", sort=False):
    for ratio in (2, 4, 8, 16, 32):
        best = rows[rows.compression_ratio >= ratio * 0.999].sort_values("value", ascending=False).head(1)
        for r in best.itertuples():
            print(f"{model}, ≥ {ratio}×: {r.format} + {r.reducer} {r.fraction:.0%} ({r.compression_ratio:.3g}×, "
                  f"{r.change_pct:+.2f} %)")
    int8 = rows[(rows.format == "int8") & (rows.reducer == "none")].change_pct
    combo = rows[rows.format.str.startswith("float8") & (rows.reducer == "pca") & (rows.fraction == 0.5)]
    for r in combo.itertuples():
        print(f"{model}: PCA 50 % + {r.format} {r.change_pct:+.2f} % vs int8 {int8.iloc[0]:+.2f} %" if len(int8)
              else f"{model}: int8 not run")

# %% [markdown]
# ## Write the figures and tables
# From the saved results, as the workflow's `publish` rule does (`study publish`); skipped with `publish=False`.

# %%
if p.publish:
    publish_combined(report.load_results(COMBINED_STEM, p.profile), p.reducers, p.formats, p.weighting, p.fit_on,
                     p.profile)
