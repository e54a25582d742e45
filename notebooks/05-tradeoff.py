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
# # 05 · Trade-off: which configuration gives the best retrieval inside a memory budget?
#
# **Question.** Over every configuration the study has run for a model (format × reducer × kept fraction,
# and the corrected variants where stage 06 ran), which ones are Pareto-optimal — no other is both smaller
# and better — and which one should be used for a corpus of N vectors inside a memory budget? Do the
# paper's five claims hold on our results?
#
# **How.** All tidy result files of the profile that exist (`results/<profile>/0*-*.csv`) are read; each
# configuration's nDCG@10 is averaged over the collections it was run on (weighted by texts, as the paper)
# and compared with the float32, unreduced baseline on the same collections. Storage is measured: bytes
# per vector from the packed arrays, plus what is stored once (reducer matrix and mean, int8 ranges,
# scales), amortised over N. The Pareto frontier is drawn against the compression ratio (the paper's
# Fig. 7) and, for each corpus size N, storage against nDCG@10 with the memory budgets as lines (the
# paper's Fig. 8/9). The scorecard checks the paper's claims by the explicit rules of `study/scorecard.py`;
# a claim whose stage has not run is marked *not run*. The notebook also writes the paper's numeric macros,
# provenance and the README material; `make paper` then builds the PDF.

# %% tags=["parameters"]
models = ["minilm-l6"]
n_vectors = [125000, 10000000]   # corpus sizes for the storage figure and the recommendations
budgets = {"edge device": "64MiB", "phone": "512MiB", "laptop": "4GiB", "server": "16GiB"}  # memory for vectors
weighting = "texts"              # "texts" (the paper) or "none"
metric = "ndcg_at_10"
profile = "default"

# %%
from study.notebook import setup

setup()
from study import config, report, tradeoff
from study.metrics import METRICS
from study.stages_tradeoff import run_tradeoff_stage

models = config.check_models(models)
n_vectors = [tradeoff.check_n_vectors(n) for n in config.as_list("n_vectors", n_vectors)]
budget_bytes = tradeoff.parse_budgets(budgets)
weighting = config.check_choice("weighting", weighting, report.WEIGHTINGS)
metric = config.check_choice("metric", metric, METRICS)
profile = config.check_profile_name(profile)
{name: tradeoff.format_budget(b) for name, b in budget_bytes.items()}

# %%
out = run_tradeoff_stage(models, profile, n_vectors, budgets, weighting, metric,
                         params={"models": models, "n_vectors": n_vectors, "budgets": budgets, "profile": profile})
print("stage files used:", ", ".join(p.name for p in out.stage_files))
out.frontier

# %% [markdown]
# ## Figure: nDCG@10 loss against compression, Pareto frontier dashed (the paper's Fig. 7)

# %%
from IPython.display import Image

Image(str(out.figures['tradeoff']['png']))

# %% [markdown]
# ## Figure: storage of N vectors against nDCG@10 with memory budgets (the paper's Fig. 8/9)

# %%
Image(str(out.figures['storage']['png']))

# %% [markdown]
# ## The best configuration inside each budget

# %%
out.selection

# %% [markdown]
# ## Reproduction scorecard: the paper's five claims

# %%
out.scorecard

# %% [markdown]
# The evidence behind each verdict, check by check:

# %%
out.checks

# %% [markdown]
# ## What the numbers say

# %%
print(out.conclusions)
