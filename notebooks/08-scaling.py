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
# # 08 · Scaling: does exact search stay linear and bounded up to a million vectors, and when does HNSW pay off?
#
# **Question.** Users will point the study at collections of millions of documents. An evaluator that
# holds the full query × document score matrix does not survive that (10k queries × 523k documents in
# float32 is about 21 GB). Does our exact search (`study.search.streaming`, which `study.search.exact.search`
# uses) grow linearly with the corpus, stay within a fixed memory budget, and how close does it run to
# the machine's own matrix-multiply speed — for every storage format? And from which N does a real
# approximate index (usearch or faiss HNSW) answer the same queries faster than exact search on
# compressed vectors of a comparable format, at what recall@10 and for how many bytes per vector?
#
# **How.** `python -m bench.scaling` (or `make bench`) writes synthetic corpora of unit vectors
# (N = 10k, 100k, 1M; d = 384 and 768; 1,000 queries, each with planted relevant documents) to disk,
# compresses them block by block (float16, float8 E4M3, the paper's int8, binary), and searches each
# case in its own process with a memory budget (default 4 GiB): documents are memory-mapped and scored
# in blocks against all queries with a running top-k (binary by Hamming distance on the packed bits).
# It records the search's wall time, the process's peak resident memory (`VmHWM`), and its
# multiply-adds per second divided by the rate of a float32 GEMM of the same block shape timed in the
# same process — the physical limit.
#
# On the same corpora it builds HNSW indexes (`--indexes`, default `usearch-f16-hnsw`,
# `usearch-i8-hnsw`, `faiss-sq8-hnsw`; up to `--index-max-n`, by default 100k) with `study.search.indexes` and
# the study's graph parameters (connectivity 16, expansion_add 128, expansion_search 64, all cores),
# each in its own process, feeding the memory-mapped float32 corpus in blocks. Per index it records the build time,
# the time of one search call with all queries (top-10), the peak resident memory (the whole graph
# lives in memory; the budget binds only the streaming search), the serialized bytes per vector, and
# recall@10 against the exact float32 top-10. The GEMM fraction does not apply to a graph search.
# Each index is compared with exact search of its own format where the study has it (`usearch-f16` ↔
# `float16`), else the nearest in bits per dimension (`i8`, `sq8` ↔ the paper's `int8`).
#
# This notebook reads those rows from `results/bench.csv`, fits the exponent of time (and of HNSW
# build time) against N by least squares on log-log axes, finds from which N each index stays faster
# than its exact counterpart, and draws the figure. Timings depend on the machine and on its load,
# which the run records.
#
# A caveat on the indexes: the corpora are independent random unit vectors, with no neighbourhood
# structure (their intrinsic dimension is the full d). That is the worst case for a graph index: expect
# HNSW's recall@10 to fall and its build time to grow faster than N as N grows, more than on real
# embeddings (notebook 07 measures the same indexes on real collections); the conclusions print the
# measured trend. Building them at N = 1M takes hours on 2 cores, so the default run stops the
# indexes at 100k (`--index-max-n 1000000` includes 1M).

# %% tags=["parameters"]
formats = ["float32", "float16", "float8_e4m3", "int8", "binary"]   # formats to show (as measured)
indexes = None                 # HNSW index kinds to show, e.g. ["usearch-f16-hnsw"]; None: every one measured
budget = None                  # check peak memory against this size (e.g. "4GiB"); None: the run's own budget

# %%
from study.core.notebook import setup

setup()
from study import config
from study.analysis.tradeoff import parse_budget
from study.compress.formats import FORMATS
from study.search.indexes import index_kinds

formats = config.check_choices("formats", formats, list(FORMATS))
indexes = None if indexes is None else config.check_choices("indexes", indexes, index_kinds(searches=["hnsw"]))
budget = None if budget is None else parse_budget(budget, "budget")

# %%
from bench.analysis import scaling_report

report = scaling_report(formats=formats, budget=budget, indexes=indexes)
report.table[["format", "method", "dims", "n_docs", "wall_time_s", "build_s", "peak_rss_bytes", "budget_bytes",
              "bytes_per_vector", "fraction_of_gemm_peak", "recall_at_10", "recall_at_10_planted"]]

# %% [markdown]
# ## Exponent of time (and of HNSW build time) against corpus size (1 = linear)

# %%
report.exponents

# %% [markdown]
# ## Where HNSW starts to pay off
#
# Per index and dims: the exact format it is compared with, the smallest N from which its queries stay
# faster (`faster_from_n`, empty if never), and the times, recalls and bytes per vector at that N (else
# at the largest N both were measured).

# %%
report.crossovers

# %% [markdown]
# ## Figure: query time (exact solid, HNSW dashed), peak memory, GEMM fraction, HNSW build time

# %%
from IPython.display import Image

Image(str(report.figure['png']))

# %% [markdown]
# ## What the measurements show

# %%
print(report.conclusions)
