# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · Embed the collections once
#
# **Question.** What are the float32 embeddings of every document and query of each collection, for one model?
#
# **How.** Each (model, collection) is encoded once, longest texts first, in chunks written atomically
# (an interrupted run resumes), then stored as one memory-mapped `vectors.npy` with a manifest
# (model, collection checksum, count, dims, sha256). Later stages only read this cache. Vectors are
# L2-normalised float32, with the model's query/document prompts.

# %% tags=["parameters"]
model = "minilm-l6"        # a name from study.encoders.registry.MODELS
datasets = ["scifact"]     # collection names under the data root, BEIR folder paths, or "mteb:<Task>"
profile = "default"        # output folder name under results/

# %%
from study.core.notebook import setup

setup()
from study import config
from study.stages.embed import embed_collections

model = config.check_model(model)
datasets = config.check_datasets(datasets)
profile = config.check_profile_name(profile)

# %%
summary = embed_collections(model, datasets, profile)
summary

# %% [markdown]
# ## What the cache holds

# %%
for row in summary.itertuples():
    print(f"{row.dataset}: {row.docs:,} documents and {row.queries:,} queries, {row.dims}-d float32 "
          f"({row.megabytes:.1f} MB), encoded by {model}.")
