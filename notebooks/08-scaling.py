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
# # 08 · Scaling: how do exact search and real indexes behave as the corpus grows — on real embeddings first?
#
# **Question.** Users will point the study at collections of millions of documents. How do recall@10,
# speed, build time and bytes per vector of real indexes (usearch/faiss HNSW per format, IVF-PQ, IVF-RaBitQ,
# RaBitQ) change with N on *text embeddings*, and is the study's exact search as fast as the exact search users
# would pick instead (faiss `IndexFlatIP` / `IndexBinaryFlat`)? And does exact search stay linear and bounded
# in memory up to a million vectors?
#
# **Real embeddings** (`python -m bench.pool_scaling`). No shared collection has more than about 11k
# documents, so all of them are pooled into one corpus (45,031 documents, MiniLM and WordLlama embeddings from
# the cache). Every collection's queries are searched against the whole pool and scored with its own qrels:
# documents of other collections count as not relevant (an assumption, stated). Pool rows come in nesting
# order, every judged-relevant document first, so a larger N only adds distractors once N passes their count.
# Beyond the pool, vectors are drawn from a Gaussian mixture fitted to the pooled MiniLM vectors (in their PCA
# space, with the residual spread per component), searched with the real queries, to N = 1M; its curve is
# compared with the real one where both exist. iid random vectors are kept only as the labelled worst case.
#
# **Exact search vs faiss** (`python -m bench.exact_vs_faiss`): the study's prepared exact index
# (`study.search.flat.FlatIndex`: blocked GEMM, faiss' heaps in trec_eval tie order, one sort of the kept
# pairs) against faiss flat indexes and a bare GEMM, at N = 10k, 100k, 1M × batches 1, 100, 1000, d = 384, 768.
#
# **iid random vectors** (`python -m bench.scaling`) measure the streaming exact search (memory-mapped corpora
# scored in blocks within a memory budget, every storage format) and, as the worst case of a graph index,
# HNSW on independent random unit vectors: no neighbourhood structure, so recall@10 falls fast with N.
#
# This notebook reads those rows from `results/bench.csv` (written by `make bench`), tabulates them
# (`bench.analysis`), draws the figures and computes its conclusions from those tables. Timings depend on the
# machine and its load.

# %% tags=["parameters"]
formats = ["float32", "float16", "float8_e4m3", "int8", "binary"]   # formats to show (as measured)
indexes = None                 # HNSW index kinds to show, e.g. ["usearch-f16-hnsw"]; None: every one measured
budget = None                  # check peak memory against this size (e.g. "4GiB"); None: the run's own budget

# %%
import pandas as pd

from study.core.notebook import setup
from study.params import ScalingParams

setup()
p = ScalingParams.of(globals()).checked()


# %% [markdown]
# ## Real embeddings: the pooled collections and vectors fitted to them
#
# One row per data × index × N: build time, bytes per vector (serialized index), queries per second at batch
# 1 and 100, recall@10 against exact float32, nDCG@10 of the pooled queries (real pool only), and how crowded
# the corpus looks from its queries (mean cosine of the 10th neighbour).

# %%
from bench.analysis import pool_report_if_measured

pool = pool_report_if_measured()
pool.table[["data", "index", "n_docs", "build_s", "bytes_per_vector", "qps_b1", "qps_b100", "recall_at_10",
            "ndcg_at_10", "n_relevant", "mean_10th_neighbour_cosine"]] if pool else None

# %% [markdown]
# ## Figure: recall@10, speed, build time and nDCG@10 against N (solid: real pool, dashed: fitted, dotted: iid)

# %%
from IPython.display import display

from study.figures import plots

display(plots.show_saved(pool.figure)) if pool else None

# %% [markdown]
# ## Recall@10 at the pool's size: the real pool against iid random vectors
#
# Per model and index kind at the pool's largest N: recall@10 against exact float32 on the real embeddings, and
# on iid random vectors of the same N (`iid_dims` wide; empty where that kind was not run on them). The gap
# between the two columns is what the worst case overstates.

# %%
pool.recall if pool else None

# %% [markdown]
# ## nDCG@10 of the pooled queries as distractors are added
#
# Exact float32 on the real pool. Until `all_relevant` is true a prefix lacks some judged-relevant documents, so
# nDCG@10 rises with N; from there on a larger N only adds distractors, and the fall of nDCG@10 is what they cost.

# %%
pool.quality if pool else None

# %% [markdown]
# ## Fitted vectors against the real pool, and the fitted vectors at their largest N
#
# Where both were measured: recall@10 of the fitted vectors minus the real pool's (`difference`; negative: the
# fitted vectors are harder to search) and the mean cosine of a query's 10th neighbour in each (lower: a less
# crowded neighbourhood). Then every index kind on the fitted vectors at their largest N.

# %%
pool.fitted_vs_real if pool else None

# %%
pool.fitted_largest if pool else None

# %%
if pool:
    for model, rows in pool.recall.groupby("model"):
        hnsw = rows[rows["index"].str.endswith("-hnsw")]
        iid = hnsw.iid_recall_at_10.dropna()
        print(f"{model} at N={rows.n_docs.iloc[0]:,}: HNSW recall@10 {hnsw.recall_at_10.min():.3f}–"
              f"{hnsw.recall_at_10.max():.3f} on the real pool"
              + (f", {iid.min():.3f}–{iid.max():.3f} on iid vectors" if len(iid) else ""))
    gap = pool.fitted_vs_real.difference
    print(f"fitted minus real recall@10: mean {gap.mean():+.3f}, from {gap.min():+.3f} to {gap.max():+.3f}"
          if len(gap) else "fitted vectors and the real pool: no N measured on both")

# %% [markdown]
# ## Exact search vs faiss flat, shape by shape
#
# Times are the best of repeats with both sides prepared; `ratio_vs_faiss` = faiss time ÷ study time (above 1:
# the study is faster), `gemm_share` = the products alone ÷ the study's search, `tie_pass_s` = the one sort
# of the kept pairs that gives trec_eval's order.

# %%
from bench.analysis import exact_vs_faiss_table
from bench.common import read_rows

exact = exact_vs_faiss_table(read_rows())
exact[["data", "dims", "n_docs", "batch", "study_s", "faiss_s", "ratio_vs_faiss", "gemm_share", "stream_s",
       "tie_pass_s", "binary_ratio_vs_faiss", "same_top100"]] if len(exact) else "no exact_vs_faiss rows yet"

# %% [markdown]
# ## iid random vectors: the streaming exact search, and HNSW's worst case

# %%
from bench.analysis import scaling_report

report = scaling_report(formats=p.formats, budget=p.budget, indexes=p.indexes)
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
plots.show_saved(report.figure)

# %% [markdown]
# ## Each series in one row
#
# Per format (exact search) or index kind (HNSW) and dims: the exponent of query time (and of HNSW build time)
# against N, recall@10 against exact float32 at the smallest and largest N, the lowest recall@10 of the planted
# relevant documents, how many cases stayed within their memory budget, and the measurements at the largest N
# (for exact search, the multiply-add rate as a fraction of the float32 GEMM rate measured in the same process).

# %%
report.series

# %% [markdown]
# ## The machine during the run
#
# A 1-minute load average above the core count means other work shared the CPUs: the times are upper bounds.

# %%
report.conditions

# %% [markdown]
# ## What the measurements show

# %%
series = report.series


def growth(exponents: pd.Series) -> str:
    """The range of fitted exponents as ``N^a to N^b``, or why there is none."""
    fitted = exponents.dropna()
    return f"N^{fitted.min():.2f} to N^{fitted.max():.2f}" if len(fitted) else "not fitted (one corpus size)"


exact_series, hnsw_series = series[series.method == "exact"], series[series.method != "exact"]
print(f"exact search: time ∝ {growth(exact_series.exponent)} (1 = linear); within the budget in "
      f"{exact_series.cases_within_budget.sum()} of {exact_series.cases.sum()} cases")
if len(hnsw_series):
    print(f"HNSW on iid vectors: time ∝ {growth(hnsw_series.exponent)}, build ∝ {growth(hnsw_series.build_exponent)}; "
          f"recall@10 {hnsw_series.recall_at_10_at_n_min.min():.2f}–{hnsw_series.recall_at_10_at_n_min.max():.2f} "
          f"at the smallest N, {hnsw_series.recall_at_10_at_n_max.min():.2f}–"
          f"{hnsw_series.recall_at_10_at_n_max.max():.2f} at the largest")
for r in report.crossovers.itertuples():
    found = ("no exact search of a comparable format at the same N" if pd.isna(r.exact_format)
             else f"does not stay faster than exact {r.exact_format} up to the largest N" if pd.isna(r.faster_from_n)
             else f"stays faster than exact {r.exact_format} from N={r.faster_from_n:,.0f} ({r.speedup:.1f}× there)")
    print(f"{r.index} d={r.dims}: {found}")
