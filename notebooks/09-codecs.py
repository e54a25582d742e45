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
# # 09 · The codecs engineers pick today, at equal bytes
#
# **Question.** A RAG engineer choosing a storage format in 2026 would also consider vector codecs the paper
# does not measure: RaBitQ (1, 2, 4 bits per dimension with per-vector factors), OPQ + PQ (4–64 bytes per
# vector), PQ fast-scan (4-bit codes), TurboQuant (faiss' `QT_*_tq`), Elastic/Lucene's OSQ/BBQ (1-bit
# documents with 4-bit queries, int4, int7), and the cheap fixes to sign binary (centred, rotated). Which of
# them is best at each byte budget, how far beyond binary's 32× does useful retrieval go, and does it matter
# where a codec is trained?
#
# **How.** Every codec on every held-out collection, trained where a deployment trains it (`self`: the corpus
# searched), on a generic foreign set (`pool`: the model's other collections, two-fold cross-fitting) and on the
# paper's fit set; PQ families searched as faiss searches them (float32 queries against the codes); after PCA /
# truncation; as the first tier of two-stage rescoring. Each configuration
# against float32 on the same queries (paired bootstrap 95 % CI); each family's best point against sign binary
# and int8 at no more bytes. Bytes per vector are measured from what is stored (codes + per-vector
# corrections, both tiers when rescored); codebooks, rotations and centroids are reported as stored once.

# %% tags=["parameters"]
models = ["minilm-l6"]
datasets = ["scifact"]
datasets_per_model = {}        # optional: {model: [collections]} where a model is run on fewer
formats = ["float32", "binary_sign", "int8_clipped", "rabitq1", "rabitq2", "rabitq4", "rabitq1_rr", "opq8",
           "opq32", "pq32x4fs", "turboquant2", "turboquant4", "osq1", "osq4", "osq7", "binary_centred",
           "binary_rotated"]
calibrate_on = ["mlquestions", "self"]   # training sets: collections, "self" (the corpus), "pool" (the others)
asymmetric = ["binary_sign", "int8_clipped", "opq8", "opq32", "osq1", "osq4", "turboquant2"]  # + float32 queries
reducers = ["pca", "truncation"]         # each codec of reduced_formats after these reducers...
fractions = [0.5, 0.25]                  # ...at these kept fractions, fit on fit_on
reduced_formats = ["rabitq1", "opq8", "osq1", "binary_centred"]
fit_on = "mlquestions"
rescore_first = ["rabitq1", "osq1", "opq8"]
rescore_tiers = ["float32", "int8_clipped"]
oversampling = [4, 10]
weighting = "texts"            # what the figure and the closing text show: "texts" (the paper) or "none"
n_resamples = 10000
seed = 0
profile = "default"
publish = True                 # write figures and tables here (the workflow writes them with `study publish`)

# %%
import pandas as pd

from study.analysis import report
from study.core.notebook import setup
from study.core.profiles import is_named_set
from study.data.datasets import collection_table
from study.experiment.runner import run
from study.figures import plots
from study.figures.codecs import plot_codecs
from study.params import CodecParams
from study.plans.codecs import plan_and_skipped
from study.stages.codecs import (
    REFERENCES,
    STEM,
    best_by_ratio,
    codecs_table,
    dropped_table,
    equal_bytes_tests,
    peer_tests,
    peers_table,
    publish_codecs,
    summarise_codecs,
    training_set_tests,
)

setup()
p = CodecParams.of(globals()).checked()

# %% [markdown]
# ## The collections (and the training sets, never evaluated here)

# %%
collection_table(sorted(set(p.evaluated()) | {c for c in [*p.calibrate_on, p.fit_on] if is_named_set(c)}))

# %% [markdown]
# ## The plan: one row per configuration
# Per collection: each codec on each training set where it applies, with float32 queries where asymmetric (PQ
# families always); the codecs of `reduced_formats` after each reducer × kept fraction; each first tier of
# `rescore_first` × second tier × oversampling. Training collections are never evaluated. A codec that ignores its
# sample (a seeded rotation, a fixed codebook) has one row, *untrained*. The rules that leave a combination out
# (a corpus with fewer vectors than centroids; PQ on the pool only at sign binary's bytes) are listed below it.

# %%
stage_plan, not_applicable = plan_and_skipped(p)
stage_plan.table()

# %%
pd.DataFrame(not_applicable, columns=["model", "dataset", "format", "calibrate_on", "reason"])

# %% [markdown]
# ## Train, encode, search with each codec's own estimator, score

# %%
result = run(stage_plan, p.profile, STEM)
tidy, per_query = result.tidy, result.per_query
report.save_results(tidy, per_query, STEM, p.profile)
tidy[tidy.metric == "ndcg_at_10"][["model", "dataset", "format", "calibrate_on", "query_format", "bytes_per_vector",
                                   "overhead_bytes", "value"]].head(8)

# %% [markdown]
# ## Aggregate over every held-out collection, with CIs against float32
# Every configuration is averaged over all of the model's held-out collections. A codec that could not be trained
# on a small corpus (the rules above) lacks those collections, so it is left out of this summary and listed
# below; the training-set comparison further down still measures it, on the collections it has.

# %%
summary = summarise_codecs(tidy, per_query, p.weighting, p.n_resamples, p.seed)
print(report.caption_sets(summary))
codecs_table(summary)

# %%
dropped_table(summary, tidy)

# %% [markdown]
# ## Figure: every codec's change against what it stores

# %%
plots.show(plot_codecs(summary, p.weighting))

# %% [markdown]
# ## The best codec at each compression ratio, and what it cannot be told apart from
# The best point estimate storing at most 1/8 … 1/256 of float32 (every tier), with its training set and CI;
# `not worse` counts the configurations at that ratio whose paired 95 % CI against it reaches zero.

# %%
best = best_by_ratio(summary, tidy, per_query, p.weighting, n_resamples=p.n_resamples, seed=p.seed)
best

# %% [markdown]
# ## Each family's best point within sign binary's and int8's bytes, against them

# %%
tests = equal_bytes_tests(summary, tidy, per_query, p.weighting, REFERENCES, p.n_resamples, p.seed)
for t in tests.itertuples():
    side = "better" if t.diff_ci_low > 0 else "worse" if t.diff_ci_high < 0 else "not distinguishable"
    print(f"{t.model}: {t.best} ({t.bytes:g} B) − {t.reference} ({t.reference_bytes:g} B) = {t.diff:+.4f} "
          f"[{t.diff_ci_low:+.4f}, {t.diff_ci_high:+.4f}]: {side}")
tests

# %% [markdown]
# ## Does it matter where a codec is trained?
# The same codec trained on the corpus itself (`self`), on the pool and on the fit set, each pair against each
# other on the same queries (paired bootstrap 95 % CI) over the held-out collections both were scored on
# (`collections`: fewer than above where the codec cannot train on a small corpus).

# %%
training = training_set_tests(summary, tidy, per_query, p.weighting, p.n_resamples, p.seed)
training

# %% [markdown]
# ## The peers' published claims, read on our data
# Their numbers come from other models, corpora and metrics (often the recall of an HNSW search). Each row reads
# one claim as a paired nDCG@10 difference, with its 95 % CI, between the best configuration matching the claim (A)
# and what the claim compares it with (B); `reading` says whether the CI excludes zero. The claims, by name:
#
# * *RaBitQ vs sign binary*: RaBitQ's authors (Gao & Long, SIGMOD 2024) report that 1-bit RaBitQ, with its
#   per-vector factors and unbiased estimator, is more accurate than sign binary and PQ at a similar code length.
# * *OPQ at 32× vs sign binary*: a properly trained OPQ is reported to beat sign binary at 32× (and CoRECT's PQ, one
#   codebook trained per batch, to understate PQ); here OPQ stores exactly sign binary's bytes.
# * *BBQ vs sign binary*: Elastic presents BBQ (1-bit OSQ documents, 4-bit queries) as far better than plain binary
#   quantization.
# * *BBQ rescored vs BBQ alone*: Elastic advises oversampling BBQ's candidates and rescoring them with the float
#   vectors.
# * *TurboQuant 4-bit vs int8*: TurboQuant (Zandieh et al., ICLR 2026, and Qdrant's integration) is presented as
#   near-lossless at 4 bits, i.e. as good as int8 at half its bytes.
# * *BitBudget: bits beat dimensions (4×)*: BitBudget (arXiv 2510.04127) reports that at equal bytes, coarser codes
#   on every coordinate beat fewer full-precision coordinates; here int8 on every dimension against float32 on the
#   first quarter of PCA's.
# * *BitBudget: binary + rerank vs float32*: BitBudget calls binary codes re-ranked with the float vectors lossless
#   at 32×, counting the 1-bit codes only; here every tier is counted, the float32 vectors the re-ranking reads
#   included.

# %%
peers_table(peer_tests(summary, tidy, per_query, p.weighting, p.n_resamples, p.seed))

# %% [markdown]
# ## What the numbers say
# From the two tables above: per model, the best configuration at each ratio, where it was trained, and how many
# others its paired CI cannot tell apart from it; then, per pair of training sets, in how many codecs the first
# set is better or worse (95 % CI of the difference excluding 0).

# %%
for r in best.to_dict("records"):
    print(f"{r['model']}, ≥ {r['at least (×)']}×: {r['best']} {r['change (%)']:+.2f} % [{r['CI low (%)']:+.2f}, "
          f"{r['CI high (%)']:+.2f}], trained on {r['training set']}; {r['not worse']} others not significantly worse")
for (model, sets), rows in training.groupby(["model", "sets"], sort=False):
    better, worse = int((rows.diff_ci_low > 0).sum()), int((rows.diff_ci_high < 0).sum())
    print(f"{model}, {sets}: better in {better}, worse in {worse}, not distinguishable in "
          f"{len(rows) - better - worse} of {len(rows)} codecs; median difference {rows['diff'].median():+.4f}")

# %% [markdown]
# ## Write the figure and tables
# From the saved results, as the workflow's `publish` rule does (`study publish`); skipped with `publish=False`.

# %%
if p.publish:
    publish_codecs(*report.saved(STEM, p.profile), p.weighting, p.profile, p.n_resamples, p.seed)
