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
# # 10 · Your vectors, and choosing without labels
#
# **Questions.** (1) You hold document vectors, perhaps no queries and no relevance judgments: which storage
# configuration should you keep for N of them inside a memory budget? (2) Without judgments the quality compared is
# label-free — recall@10 against the exact float32 top-10 of the same index (and the overlap of the top-100) — so
# how far can a choice made that way be trusted, where judgments would have measured nDCG@10?
#
# **How.** Part 1 runs `study advise` on `path` (`None`: a demo, one of the profile's collections exported as a
# `.npy` of document vectors, queries drawn from the documents and held out of the index): every configuration of
# its grid, each change against float32 with a paired query-level 95 % bootstrap CI, the frontier and `select`'s
# answer for `n_vectors` in `ram` (and `disk`). Part 2 advises every model × collection of the profile as a BEIR
# folder with its model, so that each configuration is scored per query by nDCG@10 *and* by the label-free
# measures on the same queries, and measures how closely the label-free changes rank the configurations as nDCG@10
# does, and how often `select` by recall@10 lands on `select` by nDCG@10's choice or on one not significantly worse
# (the plan, as a table, opens Part 2).
#
# Each run's folder, result cache included, lives in the study's cache (`<cache>/advise/<model>/<collection>`):
# a rerun computes nothing and a stopped run resumes.

# %% tags=["parameters"]
path = None                # your document vectors: .npy, .parquet, .h5 (ann-benchmarks) or a BEIR folder; None: demo
format = None              # npy, parquet, hdf5 or beir (None: from the suffix; a folder is beir)
queries = None             # your query vectors (.npy or .parquet); None: documents drawn and held out as queries
qrels = None               # judgments of your queries (BEIR qrels TSV): nDCG@10 is then compared
model = None               # with a BEIR folder: the study's model that encodes it
matryoshka = False         # a Matryoshka-trained model: truncation joins PCA
n_vectors = None           # your corpus size (None: the vectors read)
ram = "512MiB"             # the memory budget of select's answer
disk = None                # a disk budget for a rescoring tier (None: everything in RAM)
models = ["minilm-l6"]     # Part 2: every model × collection below (the workflow passes the profile's)
datasets = ["scifact"]
datasets_per_model = {}    # optional: {model: [collections]} where a model has others
budgets = {"edge device": "64MiB", "phone": "512MiB", "laptop": "4GiB", "server": "16GiB"}  # select's RAM budgets
budget_n_vectors = 10000000  # the corpus size the budgets hold (the profile's largest)
max_loss = 5.0             # select's quality floor (% lost vs float32)
margin = None              # select's tolerance below the best that fits (None: 0.05 label-free, 0 with qrels)
margins = [0.0, 0.05]      # Part 2: the label-free tolerances compared (0: the study's rule; 0.05: advise's default)
profile = "default"

# %%
import pandas as pd

from study.advise import your_vectors as yv
from study.advise.report import frontier, rows_table
from study.advise.run import advise
from study.analysis.comparison import sets_sentence
from study.analysis.tradeoff import format_budget
from study.core import artifacts
from study.core.notebook import setup
from study.encoders.registry import get_spec
from study.figures import plots
from study.params import YourVectorsParams

setup()
p = YourVectorsParams.of(globals()).checked()

# %% [markdown]
# ## Part 1 · Your vectors
# Read, checked row by row, split into the index, the queries and the training sample of codecs and reducers,
# then every configuration of the grid (resuming from the output folder's cache).

# %%
options = yv.your_options(p)
outcome = advise(options)
print(f"{options.path} → {outcome.out}: {outcome.results.computed} configurations computed, "
      f"{outcome.results.cached} from the cache")
pd.Series(outcome.data.rows, name="rows").to_frame()

# %% [markdown]
# Which rows served as what (advise's notes; `rows.csv` in the output folder lists every one):

# %%
for note in outcome.data.notes:
    print(note)
rows_table(outcome.data).groupby("role").row.agg(["count", "min", "max"])

# %% [markdown]
# ### The plan: one row per configuration, and what does not apply (with the reason)

# %%
outcome.grid.table()[["format", "query_format", "reducer", "fraction", "calibrate_on", "rescore"]]

# %%
outcome.grid.not_applicable

# %% [markdown]
# ### The frontier: the cheapest configuration, then each one significantly better than every cheaper one

# %%
frontier(outcome.analysis)

# %% [markdown]
# ### Figure: the loss against float32 of every configuration against its compression

# %%
plots.show_saved({"png": outcome.files["tradeoff.png"]})

# %% [markdown]
# ### `select`'s answer for your corpus size and budget

# %%
print(outcome.analysis.selection_text)

# %% [markdown]
# ## Part 2 · Can you choose without labels?
# The plan: what is measured, and in which table.

# %%
pd.DataFrame({
    "measured": ["rank agreement, per collection", "rank agreement, on the means", "the choice"],
    "how": ["Spearman's ρ between the configurations' nDCG@10 and recall@10 (overlap@100) changes, float32 left out",
            "the same on each configuration's mean over the collections all of the model's were scored on (named)",
            "select inside each budget for the corpus size, by recall@10 (each of `margins`) and by nDCG@10 (the "
            "study's rule; the same function, each measure's own CIs): the recall@10 pick is the same, not "
            "significantly worse in nDCG@10 (paired 95 % CI of per-query differences) or significantly worse"],
    "table": [artifacts.PROXY_CORRELATIONS, artifacts.PROXY_MEANS, artifacts.PROXY_SELECTIONS],
})

# %% [markdown]
# Every model × collection, advised with its judged queries and qrels (truncation joins PCA for a Matryoshka-trained
# model); `select` inside each budget below for the corpus size.

# %%
plan = pd.DataFrame([{"model": m, "dataset": d, "matryoshka": get_spec(m).matryoshka,
                      "folder": str(yv.validation_folder(m, d))} for m, d in p.pairs()])
print(f"budgets for {p.budget_n_vectors:,} vectors: " + ", ".join(
    f"{name} {format_budget(b)}" for name, b in p.budget_bytes().items()))
plan

# %% [markdown]
# ### Advise each one
# A document whose vector cosine cannot score (all zeros: a text a static model knows no word of) is left out and
# counted (`dropped`); a collection advise refuses (too few documents) is listed with its reason.

# %%
advised = yv.advise_all(p.pairs(), p.budget_n_vectors, p.ram)
collections = yv.collections_table(advised)
collections

# %% [markdown]
# ### Every configuration under each measure, collection by collection
# The study's analysis of each collection (advise's), once per measure: values, changes vs float32 and, for
# nDCG@10 and recall@10, the paired bootstrap CIs and draws `select` uses.

# %%
judged = [yv.judge(a) for a in advised if a.tidy is not None]
table = pd.concat([yv.changes(j) for j in judged], ignore_index=True)
table[["model", "dataset", "label", "bytes_per_vector", "ndcg_at_10_change_pct", "recall_at_10_change_pct",
       "overlap_at_100_change_pct"]]

# %% [markdown]
# ### Rank agreement per collection: Spearman's ρ of the changes (float32 left out)

# %%
per_collection = yv.correlations(table, ["model", "dataset"])
per_collection

# %% [markdown]
# ### On each configuration's mean over the collections all of the model's configurations were scored on

# %%
means = yv.mean_changes(advised)
print(sets_sentence(means.attrs["sets"], with_names=True))
on_means = yv.correlations(means, ["model"])
on_means

# %% [markdown]
# ### `select` by each label-free measure and by nDCG@10, inside each budget
# `select` keeps the cheapest configuration not significantly worse than the best that fits. Against recall@10,
# float32 scores 1 on every query with no spread, so a configuration that misses part of the exact top-10 on more
# than a few queries is significantly worse, and that rule (margin 0) keeps float32, or one as exact, wherever it
# fits. With a margin $m$ a configuration counts as good as the best unless its
# paired 95 % CI lies wholly more than $m$ below it; `study advise` uses $m = 0.05$ without judgments (fixed before
# this validation measured it). nDCG@10's pick always uses the study's rule (margin 0). Where the picks differ, the
# label-free pick's per-query nDCG@10 minus the nDCG@10 pick's, with its paired 95 % CI.

# %%
picks = yv.all_choices(judged, p.budget_bytes(), p.budget_n_vectors, p.max_loss, p.margins)
picks[["model", "dataset", "measure", "margin", "budget", "by_label_free", "by_ndcg", "diff", "diff_ci_low",
       "diff_ci_high", "outcome"]]

# %% [markdown]
# ### Per model and label-free measure: the table and the figure of the paper

# %%
summary = yv.proxy_table(collections, per_collection, on_means, picks)
files = yv.write_proxy(summary, collections, table, means, per_collection, picks, p.profile)
summary

# %%
plots.show_saved({"png": files["figure_png"]})

# %% [markdown]
# ## What the numbers say
# From the table above (`table-proxy`): per model, how closely each label-free measure ranks the configurations as
# nDCG@10 does, and how often `select` by it lands on the nDCG@10 choice or on one not significantly worse
# (recall@10 is what `study advise` compares without judgments); then, over every model, the collections left out.

# %%
sets = {m: s.name for m, s in means.attrs["sets"].items()}
for r in summary.to_dict("records"):
    print(f"{r['model']}, {r['measure']}, margin {r['margin']:g}: Spearman's ρ with the nDCG@10 changes median "
          f"{r['ρ median']:.2f} over {r['collections']} collections (least {r['ρ least']:.2f}, most "
          f"{r['ρ most']:.2f}), {r['ρ on the set']:.2f} on the means over set {sets[r['model']]}; select by it in "
          f"{r['choices']} budgets where something fits: {r[yv.SAME]} the same as by nDCG@10, {r[yv.NOT_WORSE]} not "
          f"significantly worse, {r[yv.WORSE]} significantly worse in nDCG@10 ({r[yv.WORSE_THAN_PICK]} of them not "
          f"than float32; agreement {r['agreement (%)']:.1f} %), storing {r['storage ratio']:.3g}× the nDCG@10 "
          "pick's bytes (median).")
refused = collections[collections.reason != ""]
print(f"Not advised: {len(refused)} of {len(collections)} (model, collection) pairs"
      + "".join(f"; {r.model} {r.dataset}: {r.reason}" for r in refused.itertuples()) + ".")
