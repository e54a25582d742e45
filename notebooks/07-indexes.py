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
# # 07 · Real indexes: what do the formats cost in bytes, speed and quality inside usearch and faiss?
#
# **Question.** The paper only simulates storage formats (cast, cast back, exact cosine). Stored in real
# vector indexes, how many bytes does a vector really take (codes, headers, keys, HNSW graph), how fast
# are queries, how close is the ranking to exact float32 search, and does a real index score what the
# simulation assumes?
#
# **How.** For every collection, each format is stored in **usearch** (f32, f16, bf16, e4m3, e5m2, i8, b1)
# and **faiss** (flat f32, scalar quantizers fp16/bf16/8-bit/4-bit, PQ with dims/8 bytes, binary), each
# searched exactly (brute force) and with HNSW (same graph parameters for both libraries). We measure the
# serialized index size per vector, build time, queries per second at batch 1 and 100 with pinned threads
# (median of repeats), recall@10 against exact float32 search, and nDCG@10 of the index's own top 10.
# Each index is compared with its *simulated counterpart*, our evaluator on the same codes: where the
# arithmetic is the same (usearch floats, faiss fp16/bf16, binary Hamming) they must agree; where it is not
# (usearch's i8 is `trunc(127·x/‖x‖)`, not the paper's calibrated uint8; faiss SQ trains per-dimension
# ranges and scores inner products; PQ learns codebooks), the table shows by how much they differ. The
# `reference` column says how each counterpart is computed. Timings depend on the machine and on its load.

# %% tags=["parameters"]
models = ["minilm-l6"]
datasets = ["scifact", "nfcorpus"]
datasets_per_model = {}        # optional: {model: [collections]} where a model is run on fewer
indexes = "all"                # "all" or a list of kinds such as ["usearch-f16-exact", "faiss-sq8-hnsw"]
threads = 1                    # threads for building and searching (pinned in both libraries)
repeats = 3                    # timed repeats; QPS is their median
batch1_queries = 100           # queries timed one by one for the batch-1 QPS
hnsw = {"connectivity": 16, "expansion_add": 128, "expansion_search": 64}
train_on = "self"              # what trains faiss SQ ranges and PQ codebooks: "self" (the corpus) or a collection
profile = "default"
publish = True                 # write figures and tables here (the workflow writes them with `study publish`)

# %%
from IPython.display import display

from study.analysis import report
from study.core.notebook import setup
from study.data.datasets import collection_table
from study.experiment.runner import run
from study.figures import plots
from study.figures.indexes import plot_indexes
from study.params import IndexParams
from study.plans.indexes import STEM, plan
from study.stages.indexes import largest_collection_rows, publish_indexes

setup()
p = IndexParams.of(globals()).checked()

# %% [markdown]
# ## The collections

# %%
collection_table(p.evaluated())

# %% [markdown]
# ## The plan
# One configuration per (model, collection, index kind); `calibrate_on` is the set a kind that trains (faiss SQ
# ranges, PQ codebooks, IVF lists, RaBitQ's centre) is trained on, `none` for kinds that learn nothing.

# %%
stage_plan = plan(p)
stage_plan.table()[["model", "dataset", "format", "calibrate_on"]].rename(columns={"format": "index"})

# %% [markdown]
# ## Build every index, time it, score its ranking, compare it with its simulated counterpart

# %%
result = run(stage_plan, p.profile, STEM)
table, per_query = result.tidy, result.per_query
report.save_results(table, per_query, STEM, p.profile)
table[["model", "dataset", "index", "bytes_per_vector", "build_s", "qps_b1", "qps_b100", "recall_at_10",
       "ndcg_at_10", "simulated_ndcg_at_10", "agree_top10", "agree_max_score_diff", "same_arithmetic"]]

# %% [markdown]
# ## The largest collection per model: table and figure (speed and quality against measured bytes per vector)

# %%
largest = largest_collection_rows(table)
if p.publish:
    display(plots.show_saved(publish_indexes(*report.saved(STEM, p.profile), p.repeats, p.profile).figure))
else:
    display(plots.show(plot_indexes(largest)))
largest[["model", "dataset", "index", "bytes_per_vector", "qps_b1", "recall_at_10", "ndcg_at_10"]]

# %% [markdown]
# ## How each index's simulated counterpart is computed

# %%
table.drop_duplicates("index")[["index", "same_arithmetic", "reference", "params"]]

# %% [markdown]
# ## What the measurements show
# Per model, on its largest collection: the smallest index that keeps recall@10 ≥ 0.95, the fastest at batch 1,
# and how far each exact index's nDCG@10 is from its simulated counterpart (0 where the arithmetic is the same).

# %%
for (model, dataset), rows in largest.groupby(["model", "dataset"], sort=False):
    good = rows[rows.recall_at_10 >= 0.95].nsmallest(1, "bytes_per_vector")
    fast = rows.nlargest(1, "qps_b1")
    for what, r in (("smallest with recall@10 ≥ 0.95", good), ("fastest at batch 1", fast)):
        for x in r.itertuples():
            print(f"{model} · {dataset}, {what}: {x.index} ({x.bytes_per_vector:.1f} B/vector, {x.qps_b1:.0f} q/s, "
                  f"recall@10 {x.recall_at_10:.3f})")
exact = table[table.search == "exact"].assign(gap=lambda t: t.ndcg_at_10 - t.simulated_ndcg_at_10)
exact.groupby("index").agg(same_arithmetic=("same_arithmetic", "first"), largest_gap=("gap", lambda g: g.abs().max()))
