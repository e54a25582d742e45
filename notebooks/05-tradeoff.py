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
# # 05 · Trade-off: which configuration gives the best retrieval inside a memory budget?
#
# **Question.** Over every configuration the study has run for a model (format × reducer × kept fraction,
# and the corrected variants where stage 06 ran), which ones are Pareto-optimal — no other is both smaller
# and better — and which one should be used for a corpus of N vectors inside a memory budget? Do the
# paper's five claims hold on our results?
#
# **How.** All tidy result files of the profile that exist (`results/<profile>/0*-*.csv`) are read. Per
# model, every configuration is averaged over **the same held-out collections** (the widest set its float32
# baseline was scored on, minus any collection a reducer was fit on or a format calibrated on;
# configurations scored on fewer are named and left out — `study.analysis.comparison`), weighted by texts as the
# paper, and compared with the float32, unreduced baseline. Storage is measured and counts every tier a
# configuration keeps: bytes per vector from the packed arrays (a rescored configuration: its first tier
# plus the copy it rescores with), plus what is stored once (reducer matrix and mean, int8 ranges, scales),
# amortised over N. Differences are judged by their paired, query-level 95 % bootstrap CI: a configuration joins
# the frontier only when it is significantly better than the best cheaper one (a point estimate inside the CI is
# not a step up), configurations whose CI against float32 contains 0 are marked *same as float32*, and inside a
# memory budget the recommendation is the cheapest configuration not significantly worse than the best one that
# fits, flagged when it loses more than `max_loss` %. The frontier is drawn against the compression ratio (the
# paper's Fig. 7) and, for each corpus size N, storage against nDCG@10 with the memory budgets as lines (the
# paper's Fig. 8/9).
# The scorecard checks the paper's claims by the explicit rules of `study/analysis/scorecard.py`, each check on the
# paper-faithful variant with its paired bootstrap CI (holds / fails / undecided) and a leave-one-
# collection-out robustness pass; a claim whose stage has not run is marked *not run*. The notebook also
# writes the paper's numeric macros, provenance and the README material; `make paper` then builds the PDF.

# %% tags=["parameters"]
models = ["minilm-l6"]
n_vectors = [125000, 10000000]   # corpus sizes for the storage figure and the recommendations
budgets = {"edge device": "64MiB", "phone": "512MiB", "laptop": "4GiB", "server": "16GiB"}  # memory for vectors
weighting = "texts"              # "texts" (the paper) or "none"
metric = "ndcg_at_10"
max_loss = 5.0                   # quality floor (% nDCG@10 lost vs float32) below which a recommendation is flagged
profile = "default"

# %%
from IPython.display import Markdown, display

from study.analysis import report, tradeoff
from study.analysis.comparison import sets_sentence
from study.analysis.scorecard import as_table, checks_table, faithful_settings, scorecard
from study.core.notebook import setup
from study.figures import plots
from study.figures.explorer import EXPLORER
from study.figures.tradeoff import plot_storage, plot_tradeoff
from study.params import TradeoffParams
from study.stages.tradeoff import (
    FIG_STORAGE,
    FIG_TRADEOFF,
    frontier_table,
    judged_models,
    selection_table,
    write_configurations,
    write_paper_inputs,
    write_selection,
)

setup()
p = TradeoffParams.of(globals()).checked()
budget_bytes = p.budget_bytes()
{name: tradeoff.format_budget(b) for name, b in budget_bytes.items()}

# %% [markdown]
# ## Load every stage's tidy results and per-query scores

# %%
tidy, used = tradeoff.load_tidy(p.profile)
per_query = tradeoff.load_per_query(used)
judged = judged_models(p.models, tidy)
print("stage files:", ", ".join(f.name for f in used), "| models judged:", ", ".join(judged))
tidy.groupby(["model", "stage"]).dataset.nunique().unstack()

# %% [markdown]
# ## Configurations, like for like, and the frontier that survives its CI

# %%
configs = tradeoff.configurations(tidy, metric=p.metric, weighting=p.weighting)
configs, draws = tradeoff.with_uncertainty(configs, tidy, per_query, p.weighting, p.metric)
write_configurations(configs, p.profile)
print(sets_sentence(tradeoff.comparison_sets(configs)))
frontier_table(configs)

# %% [markdown]
# ## Figure: nDCG@10 loss against compression, Pareto frontier dashed (the paper's Fig. 7)

# %%
plots.show_saved(plots.save_figure(plot_tradeoff(configs), report.output_dirs(p.profile)["figures"] / FIG_TRADEOFF))

# %% [markdown]
# ## The choice inside each budget, every tier counted, and the paper's Fig. 8/9

# %%
selection = tradeoff.selections(configs, p.n_vectors, budget_bytes, draws, p.max_loss)
write_selection(selection, configs, p.profile)
display(plots.show_saved(plots.save_figure(plot_storage(configs, p.n_vectors, budget_bytes, draws),
                                          report.output_dirs(p.profile)["figures"] / FIG_STORAGE)))
selection_table(selection)

# %% [markdown]
# ## The same choice for any N and budget: the interactive explorer
#
# One self-contained page (it loads nothing from the network) with this trade-off, sliders for the model, N, a RAM
# and a disk budget, and the best configuration that fits, collection by collection: `study select`'s answer. The
# workflow's `explorer` rule draws it from the same stage tables after this notebook (`study explorer --profile
# <profile>` does it by hand), so redrawing it reruns no experiment.

# %%
page = report.output_dirs(p.profile)["figures"] / EXPLORER
drawn = "open it in a browser" if page.exists() else f"not drawn yet: `study explorer --profile {p.profile}`"
Markdown(f"Explorer: [{page.parent.name}/{page.name}]({page.as_uri()}) ({drawn})")

# %% [markdown]
# ## Reproduction scorecard: the paper's five claims, with CIs and robustness

# %%
calibrate_on, fit_on = faithful_settings(tidy)
claims = scorecard(tidy, judged, p.weighting, per_query=per_query, calibrate_on=calibrate_on, fit_on=fit_on)
as_table(claims).drop(columns="statement")

# %% [markdown]
# The evidence behind each verdict, check by check:

# %%
checks_table(claims).drop(columns="collections")

# %% [markdown]
# ## The paper's inputs: scorecard tables, macros, provenance, README material

# %%
params = {"models": p.models, "n_vectors": p.n_vectors, "budgets": p.budgets, "profile": p.profile}
written = write_paper_inputs(p.profile, tidy, configs, claims, judged, used, params, p.metric, p.weighting)
sorted(str(f.name) for f in written.values())

# %% [markdown]
# ## What the numbers say

# %%
for c in claims:
    print(f"Claim {c.number}: {c.verdict} (unweighted {c.verdict_unweighted}; {c.robustness}) — {c.checked}")
for model, frame in configs[configs.on_frontier].groupby("model", sort=False):
    print(f"{model} frontier: " + ", ".join(f"{r.label} {r.compression_ratio:.3g}× {r.change_pct:+.2f} %"
                                             for r in frame.sort_values("compression_ratio").itertuples()))
