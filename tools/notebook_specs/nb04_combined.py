"""Cells of notebooks/04-combined.ipynb."""

from tools.notebook_specs import SETUP

NAME = "04-combined.ipynb"

CELLS = [
    ("md", """\
# 04 · Reduce, then quantize: the paper's Table 1 on our models and collections

**Question.** Combining dimensionality reduction with a storage format multiplies their compression
(CR = 32 / bits / fraction). For every format of the paper and every kept fraction, how much nDCG@10 is
lost against float32, and does the paper's advice hold — PCA keeping 50 % + float8 (8×) loses less than
int8 alone (4×); PCA alone loses more than float8 at equal compression; float8 + PCA between 4× and 32×?

**How (the paper's protocol).** Reduce first, then quantize: the reducer is fit on `fit_on` (default
MLQuestions, as the paper), the reduced queries and documents are cast to the format, decoded, and
scored by exact cosine; int8's per-dimension ranges are taken on the *reduced* calibration set
(`calibrate_on`), as the paper's code does. Each format is also run unreduced (the 100 % rows). The
paper's Table 1 is PCA; Matryoshka-style truncation (first k dimensions, re-normalised) is run beside it
for every model — for WordLlama (Matryoshka-trained) it is the fair comparison. Our relative changes
are printed beside the paper's (bge-small and nomic, 67 MTEB tasks), which are reference data, not ours.

**Profiles.** `default` runs PCA × the eight paper formats × 90/75/50/25 % on every collection of the
profile (about a minute on 2 cores; stage 03 compares truncation with PCA there); `full` adds truncation ×
every format and the models MPNet and WordLlama."""),
    ("parameters", """\
models = ["minilm-l6"]
datasets = ["scifact"]
datasets_per_model = {}        # optional: {model: [collections]} where a model is run on fewer
reducers = ["pca", "truncation"]
fractions = [0.9, 0.75, 0.5, 0.25]
formats = ["float32", "float16", "bfloat16", "float8_e4m3", "float8_e5m2", "float4_e2m1", "int8", "binary"]
fit_on = "mlquestions"         # a collection name (the paper: MLQuestions), or "self" (each evaluated corpus)
calibrate_on = "mlquestions"   # int8 ranges: from this set after reduction (the paper: MLQuestions)
fit_sample = 2000              # kernel PCA / UMAP, if listed in reducers: at most this many fit vectors, or None
weighting = "texts"            # "texts" (the paper) or "none"
profile = "default\""""),
    ("code", SETUP + """
from study import config, report
from study.quantize import FORMATS
from study.reduce import METHODS, check_fit_sample, check_fractions
from study.stages_reduction import run_combined_stage

models = config.check_models(models)
datasets = config.check_datasets(datasets)
datasets_per_model = config.check_datasets_per_model(datasets_per_model, models)
reducers = config.check_choices("reducers", reducers, list(METHODS))
fractions = check_fractions(fractions, models)
formats = config.check_choices("formats", formats, list(FORMATS))
fit_on = config.check_reference_set("fit_on", fit_on)
calibrate_on = config.check_reference_set("calibrate_on", calibrate_on)
fit_sample = check_fit_sample(fit_sample)
weighting = config.check_choice("weighting", weighting, report.WEIGHTINGS)
profile = config.check_profile_name(profile)"""),
    ("code", """\
out = run_combined_stage(models, datasets, reducers, fractions, formats, fit_on, calibrate_on, fit_sample,
                         weighting, profile, datasets_per_model)
out.table"""),
    ("md", "## Our relative changes beside the paper's Table 1 (PCA, then the format)"),
    ("code", "out.paper_comparison"),
    ("md", "## Figure: nDCG@10 change vs kept fraction per format (the paper's Fig. 6)"),
    ("code", "from IPython.display import Image\nImage(str(out.figure['png']))"),
    ("md", "## What the numbers say about the paper's claims"),
    ("code", "print(out.conclusions)"),
]
