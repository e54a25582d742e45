"""Cells of notebooks/01-embed.ipynb."""

from tools.notebook_specs import SETUP

NAME = "01-embed.ipynb"

CELLS = [
    ("md", """\
# 01 · Embed the collections once

**Question.** What are the float32 embeddings of every document and query of each collection, for one model?

**How.** Each (model, collection) is encoded once, longest texts first, in chunks written atomically
(an interrupted run resumes), then stored as one memory-mapped `vectors.npy` with a manifest
(model, collection checksum, count, dims, sha256). Later stages only read this cache. Vectors are
L2-normalised float32, with the model's query/document prompts."""),
    ("parameters", """\
model = "minilm-l6"        # a name from study.models.MODELS
datasets = ["scifact"]     # collection names under the data root, BEIR folder paths, or "mteb:<Task>"
profile = "default"        # output folder name under results/"""),
    ("code", SETUP + """
from study import config
from study.stages import embed_collections

model = config.check_model(model)
datasets = config.check_datasets(datasets)
profile = config.check_profile_name(profile)"""),
    ("code", "summary = embed_collections(model, datasets, profile)\nsummary"),
    ("md", "## What the cache holds"),
    ("code", """\
for row in summary.itertuples():
    print(f"{row.dataset}: {row.docs:,} documents and {row.queries:,} queries, {row.dims}-d float32 "
          f"({row.megabytes:.1f} MB), encoded by {model}.")"""),
]
