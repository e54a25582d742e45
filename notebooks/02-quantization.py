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
# # 02 · Quantization: how much retrieval quality does each storage format cost?
#
# **Question.** For each format of the paper (float32, float16, bfloat16, float8 E4M3/E5M2, float4 E2M1,
# int8, binary), how much does nDCG@10 change against float32, and how many bytes does a vector take?
#
# **How (the paper's protocol).** Queries and documents are quantized the same way, decoded, and scored
# by exact cosine search; nDCG@10, recall@100 and MRR@10 per query as trec_eval defines them. Casts are
# direct (no scaling); int8 uses per-dimension min/max from the calibration set (default MLQuestions
# corpus + dev queries) with no clipping and cosine on the uint8 codes; binary is `x > 0` scored with
# cosine on {0, 1}. Bytes per vector are measured on the packed arrays. Averages over collections are
# weighted by number of texts (the paper's choice) unless `weighting="none"`.

# %% tags=["parameters"]
models = ["minilm-l6"]
datasets = ["scifact"]
datasets_per_model = {}        # optional: {model: [collections]} where a model is run on fewer
formats = ["float32", "float16", "bfloat16", "float8_e4m3", "float8_e5m2", "float4_e2m1", "int8", "binary"]
calibrate_on = "mlquestions"   # a collection name, or "self" (the evaluated corpus)
weighting = "texts"            # "texts" (the paper) or "none"
profile = "default"
publish = True                 # write figures and tables here (the workflow writes them with `study publish`)

# %%
import pandas as pd

from study.analysis import report
from study.core.notebook import setup
from study.data.datasets import collection_table
from study.experiment.runner import run
from study.figures import plots
from study.figures.quantization import quantization_figure
from study.params import QuantizationParams
from study.plans.quantization import STEM, plan
from study.stages.quantization import publish_quantization, quantization_summary

setup()
p = QuantizationParams.of(globals()).checked()

# %% [markdown]
# ## The collections
# Each collection's documents and judged queries; `texts` is the weight of a collection in the averages.

# %%
collection_table(p.evaluated())

# %% [markdown]
# ## The plan: one row per configuration
# Every format on every collection; a calibrated format (int8) names its calibration set.

# %%
stage_plan = plan(p)
stage_plan.table()

# %% [markdown]
# ## Compress, search, score
# Encode the cached float32 vectors to each format's packed bytes, decode, search exactly, score each query
# (`study.experiment.runner`, one (model, collection) at a time; a part the workflow already computed is read
# back). One tidy row per configuration × metric, and per-query scores.

# %%
result = run(stage_plan, p.profile, STEM)
tidy, per_query = result.tidy, result.per_query
files = report.save_results(tidy, per_query, STEM, p.profile)
tidy[tidy.metric == "ndcg_at_10"].head(8)

# %% [markdown]
# ## Aggregate: the change of every format against float32, on the same held-out collections
# Per model, each format is averaged over the collections every format was scored on, leaving out any
# collection a format was calibrated on (`study.analysis.comparison`); 95 % paired bootstrap CIs, Holm-corrected tests.

# %%
summary = quantization_summary(tidy, per_query, p.weighting)
print(report.caption_sets(summary))
summary[["model", "format", "bytes_per_vector", "compression_ratio", "value", "change_pct", "ci_low", "ci_high",
         "p_holm"]]

# %% [markdown]
# ## Figure: nDCG@10 change per format (the paper's Fig. 3)

# %%
plots.show(quantization_figure(summary, report.per_dataset_change(tidy), p.formats, p.weighting))

# %% [markdown]
# ## Ours beside the paper's Table 1 (100 % of dimensions)

# %%
comparison = report.compare_with_paper(summary)
comparison

# %% [markdown]
# ## What the numbers say
# How far each format's change lies from the paper's two models (bge-small, nomic): 0 inside their range, else
# the distance to its nearer end, in points. The verdicts on the paper's claims are the scorecard's (notebook 05),
# which reads them from paired confidence intervals, not from these point estimates.

# %%
ours = [c for c in comparison.columns if c.startswith("ours")]
paper = [c for c in comparison.columns if c.startswith("paper")]
rows = comparison[comparison.format != "float32"].dropna(subset=paper).set_index("format")
low, high = rows[paper].min(axis=1), rows[paper].max(axis=1)
outside = pd.DataFrame({c: (rows[c] - high).clip(lower=0) + (rows[c] - low).clip(upper=0) for c in ours})
outside

# %%
print(f"Largest distance from the paper's range: {outside.abs().max().max():.2f} points "
      f"({outside.abs().max(axis=1).idxmax()}); formats inside it for every model: "
      f"{', '.join(outside.index[(outside == 0).all(axis=1)]) or 'none'}.")

# %% [markdown]
# ## Write the figures and tables
# From the saved results, as the workflow's `publish` rule does (`study publish`); skipped with `publish=False`.

# %%
if p.publish:
    publish_quantization(*report.saved(STEM, p.profile), p.formats, p.weighting, p.profile)
