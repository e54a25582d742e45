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
# # 03 · Dimensionality reduction: which reducer keeps retrieval quality when dimensions are dropped?
#
# **Question.** Keeping 90 / 75 / 50 / 25 % of the dimensions (`round(D × fraction)`), how much does
# nDCG@10 change against float32 for each reduction method of the paper — PCA, kernel PCA (cosine, rbf,
# poly), UMAP, Gaussian random projection, an autoencoder — and for Matryoshka-style truncation (keep the
# first k dimensions, re-normalise)? The reduced vectors are stored as float32 and as float8 E4M3 (the
# paper's Fig. 4 at 50 %, here at every fraction). What does each method cost to fit and to apply?
#
# **How (the paper's protocol).** Each reducer is fit once on `fit_on` (default MLQuestions corpus + dev
# queries, as the paper; `"self"` fits on each evaluated corpus) and applied to the queries and documents
# of every collection; scores are exact cosine nDCG@10 as in stage 02. Settings: PCA centred, no whitening,
# `random_state=42`; kernel PCA with scikit-learn defaults (gamma = 1/D, degree 3); UMAP with 15 neighbours,
# `min_dist=0.1`, cosine, seeded; Gaussian random projection seeded; autoencoder D→512→256→k (ReLU, linear
# latent), MSE, Adam lr 1e-3, batch 64, 25 epochs, seeded — its 256-wide hidden layer caps the latent's rank
# at 256, so at 90 % and 75 % of a 384- or 768-d model it cannot use all its dimensions (kept as in the paper).
# No method's output is re-normalised except truncation's. Kernel PCA and UMAP cost O(n²) in the fit set:
# they are fit on a seeded subsample of `fit_sample` vectors (recorded as `fit_rows`).
#
# **Profiles.** `full` runs every method at every fraction for MiniLM, MPNet and WordLlama (256-d,
# Matryoshka-trained: truncation is its fair comparison). `default` must fit in a couple of minutes on
# 2 cores, so it runs PCA, the three kernel PCAs (fit on 1,000 vectors), random projection and truncation
# at 50 % and 25 % only; UMAP (transforming costs several ms per vector) and the autoencoder (minutes of
# training per fraction) run only in `full` — the scorecard (notebook 05) says when a check could not run.

# %% tags=["parameters"]
models = ["minilm-l6"]
datasets = ["scifact"]
datasets_per_model = {}        # optional: {model: [collections]} where a model is run on fewer
methods = ["pca", "kpca_cosine", "kpca_rbf", "kpca_poly", "random_projection", "truncation"]
                               # also: "umap", "autoencoder" (slow on CPU; the full profile runs them)
fractions = [0.5, 0.25]        # kept fractions; the paper: [0.9, 0.75, 0.5, 0.25]
formats = ["float32", "float8_e4m3"]
fit_on = "mlquestions"         # a collection name (the paper: MLQuestions), or "self" (each evaluated corpus)
calibrate_on = "mlquestions"   # for calibrated formats (int8): ranges of the *reduced* calibration set
fit_sample = 1000              # kernel PCA / UMAP: at most this many fit vectors (seeded), or None for all
weighting = "texts"            # "texts" (the paper) or "none"
profile = "default"
publish = True                 # write figures and tables here (the workflow writes them with `study publish`)

# %%

from study.analysis import report
from study.core.notebook import setup
from study.data.datasets import collection_table
from study.experiment.runner import run
from study.figures import plots
from study.figures.reduction import reduction_figure
from study.params import ReductionParams
from study.plans.reduction import plan
from study.stages.reduction import STEM, TIMINGS, change_table, publish_reduction, timing_table, timings

setup()
p = ReductionParams.of(globals()).checked()

# %% [markdown]
# ## The collections (and the fit set)
# The reducers are fit on `fit_on`; a collection they are fit on is never averaged in as if held out.

# %%
collection_table(sorted(set(p.evaluated()) | ({p.fit_on} - {"self", "none"})))

# %% [markdown]
# ## The plan: one row per configuration
# Each format unreduced (the baselines), then every method × kept fraction × collection × format; a reducer
# names the set it is fit on (truncation fits nothing), a calibrated format the set of its ranges.

# %%
stage_plan = plan(p)
stage_plan.table()

# %% [markdown]
# ## Fit each reducer, reduce, store in each format, search, score
# One fit per model × method × fraction on `fit_on` (made once and reused from the fit cache), applied to
# every collection's queries and documents (`study.experiment.runner`).

# %%
result = run(stage_plan, p.profile, STEM)
tidy, per_query = result.tidy, result.per_query
report.save_results(tidy, per_query, STEM, p.profile)
tidy[tidy.metric == "ndcg_at_10"].head(8)

# %% [markdown]
# ## Cost: fit time and transform time per 1,000 vectors (the paper gives none)

# %%
times = timing_table(timings(result.fits))
report.write_table(times, TIMINGS, p.profile,
                   "Fit time (s) and transform time (ms per 1,000 vectors) of each reducer; fit_rows = vectors fit on.")
times

# %% [markdown]
# ## Aggregate: nDCG@10 change vs float32 per method and kept fraction, on the same held-out collections

# %%
summary = report.summarise(tidy, ["reducer", "fraction", "format"], weighting=p.weighting)
sets = report.caption_sets(summary)
table = change_table(summary, "reducer")
print(sets)
table

# %% [markdown]
# ## Figure: the paper's Fig. 4 and 5

# %%
plots.show(reduction_figure(summary, p.weighting, p.fit_on))

# %% [markdown]
# ## What the numbers say: the ranking of the reducers at each kept fraction (float32)
# The paper: PCA ≈ kernel PCA ≫ random projection ≫ autoencoder, UMAP. The scorecard (notebook 05) judges the
# claim with CIs; here is the point ranking.

# %%
float32 = summary[(summary.format == "float32") & (summary.reducer != "none")]
for (model, fraction), rows in float32.groupby(["model", "fraction"], sort=False):
    ranked = rows.sort_values("change_pct", ascending=False)
    print(f"{model}, {fraction:.0%} kept: " + " > ".join(f"{r.reducer} ({r.change_pct:+.2f} %)"
                                                         for r in ranked.itertuples()))

# %% [markdown]
# ## Write the figures and tables
# From the saved results, as the workflow's `publish` rule does (`study publish`); skipped with `publish=False`.

# %%
if p.publish:
    publish_reduction(report.load_results(STEM, p.profile), p.weighting, p.fit_on, p.profile, times)
