"""Cells of notebooks/03-reduction.ipynb."""

from tools.notebook_specs import SETUP

NAME = "03-reduction.ipynb"

CELLS = [
    ("md", """\
# 03 · Dimensionality reduction: which reducer keeps retrieval quality when dimensions are dropped?

**Question.** Keeping 90 / 75 / 50 / 25 % of the dimensions (`round(D × fraction)`), how much does
nDCG@10 change against float32 for each reduction method of the paper — PCA, kernel PCA (cosine, rbf,
poly), UMAP, Gaussian random projection, an autoencoder — and for Matryoshka-style truncation (keep the
first k dimensions, re-normalise)? The reduced vectors are stored as float32 and as float8 E4M3 (the
paper's Fig. 4 at 50 %, here at every fraction). What does each method cost to fit and to apply?

**How (the paper's protocol).** Each reducer is fit once on `fit_on` (default MLQuestions corpus + dev
queries, as the paper; `"self"` fits on each evaluated corpus) and applied to the queries and documents
of every collection; scores are exact cosine nDCG@10 as in stage 02. Settings: PCA centred, no whitening,
`random_state=42`; kernel PCA with scikit-learn defaults (gamma = 1/D, degree 3); UMAP with 15 neighbours,
`min_dist=0.1`, cosine, seeded; Gaussian random projection seeded; autoencoder D→512→256→k (ReLU, linear
latent), MSE, Adam lr 1e-3, batch 64, 25 epochs, seeded — its 256-wide hidden layer caps the latent's rank
at 256, so at 90 % and 75 % of a 384- or 768-d model it cannot use all its dimensions (kept as in the paper).
No method's output is re-normalised except truncation's. Kernel PCA and UMAP cost O(n²) in the fit set:
they are fit on a seeded subsample of `fit_sample` vectors (recorded as `fit_rows`).

**Profiles.** `full` runs every method at every fraction for MiniLM, MPNet and WordLlama (256-d,
Matryoshka-trained: truncation is its fair comparison). `default` must fit in a couple of minutes on
2 cores, so it runs PCA, the three kernel PCAs (fit on 1,000 vectors), random projection and truncation
at 50 % and 25 % only; UMAP (transforming costs several ms per vector) and the autoencoder (minutes of
training per fraction) run only in `full` — the closing text says when a check could not run."""),
    ("parameters", """\
models = ["minilm-l6"]
datasets = ["scifact"]
datasets_per_model = {}        # optional: {model: [collections]} where a model is run on fewer
methods = ["pca", "kpca_cosine", "kpca_rbf", "kpca_poly", "random_projection", "truncation"]
                               # also: "umap", "autoencoder" (slow on CPU; the full profile runs them)
fractions = [0.5, 0.25]        # kept fractions; the paper: [0.9, 0.75, 0.5, 0.25]
formats = ["float32", "float8_e4m3"]
fit_on = "mlquestions"         # a collection name (the paper: MLQuestions), or "self" (each evaluated corpus)
calibrate_on = "mlquestions"   # for calibrated formats (int8): ranges of the *reduced* calibration set
fit_sample = 1000              # kernel PCA / UMAP: at most this many fit vectors (seeded), or None for all
weighting = "texts"            # "texts" (the paper) or "none"
profile = "default\""""),
    ("code", SETUP + """
from study import config, report
from study.quantize import FORMATS
from study.reduce import METHODS, check_fit_sample, check_fractions
from study.stages_reduction import run_reduction_stage

models = config.check_models(models)
datasets = config.check_datasets(datasets)
datasets_per_model = config.check_datasets_per_model(datasets_per_model, models)
methods = config.check_choices("methods", methods, list(METHODS))
fractions = check_fractions(fractions, models)
formats = config.check_choices("formats", formats, list(FORMATS))
fit_on = config.check_reference_set("fit_on", fit_on)
calibrate_on = config.check_reference_set("calibrate_on", calibrate_on)
fit_sample = check_fit_sample(fit_sample)
weighting = config.check_choice("weighting", weighting, report.WEIGHTINGS)
profile = config.check_profile_name(profile)"""),
    ("code", """\
out = run_reduction_stage(models, datasets, methods, fractions, formats, fit_on, calibrate_on, fit_sample,
                          weighting, profile, datasets_per_model)
out.table"""),
    ("md", "## Figure: nDCG@10 change vs float32 per method and kept fraction (the paper's Fig. 4 and 5)"),
    ("code", "from IPython.display import Image\nImage(str(out.figure['png']))"),
    ("md", "## Cost: fit time and transform time per 1,000 vectors (the paper gives none)"),
    ("code", "out.timings"),
    ("md", "## What the numbers say, and which of the paper's reduction findings hold here"),
    ("code", "print(out.conclusions)"),
]
