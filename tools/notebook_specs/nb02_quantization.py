"""Cells of notebooks/02-quantization.ipynb."""

from tools.notebook_specs import SETUP

NAME = "02-quantization.ipynb"

CELLS = [
    ("md", """\
# 02 · Quantization: how much retrieval quality does each storage format cost?

**Question.** For each format of the paper (float32, float16, bfloat16, float8 E4M3/E5M2, float4 E2M1,
int8, binary), how much does nDCG@10 change against float32, and how many bytes does a vector take?

**How (the paper's protocol).** Queries and documents are quantized the same way, decoded, and scored
by exact cosine search; nDCG@10, recall@100 and MRR@10 per query as trec_eval defines them. Casts are
direct (no scaling); int8 uses per-dimension min/max from the calibration set (default MLQuestions
corpus + dev queries) with no clipping and cosine on the uint8 codes; binary is `x > 0` scored with
cosine on {0, 1}. Bytes per vector are measured on the packed arrays. Averages over collections are
weighted by number of texts (the paper's choice) unless `weighting="none"`."""),
    ("parameters", """\
models = ["minilm-l6"]
datasets = ["scifact"]
datasets_per_model = {}        # optional: {model: [collections]} where a model is run on fewer
formats = ["float32", "float16", "bfloat16", "float8_e4m3", "float8_e5m2", "float4_e2m1", "int8", "binary"]
calibrate_on = "mlquestions"   # a collection name, or "self" (the evaluated corpus)
weighting = "texts"            # "texts" (the paper) or "none"
profile = "default\""""),
    ("code", SETUP + """
from study import config, report
from study.quantize import FORMATS
from study.stages import run_quantization_stage

models = config.check_models(models)
datasets = config.check_datasets(datasets)
datasets_per_model = config.check_datasets_per_model(datasets_per_model, models)
formats = config.check_choices("formats", formats, list(FORMATS))
calibrate_on = config.check_reference_set("calibrate_on", calibrate_on)
weighting = config.check_choice("weighting", weighting, report.WEIGHTINGS)
profile = config.check_profile_name(profile)"""),
    ("code", """\
out = run_quantization_stage(models, datasets, formats, calibrate_on, weighting, profile, datasets_per_model)
out.summary"""),
    ("md", "## Figure: nDCG@10 change per format (the paper's Fig. 3)"),
    ("code", "from IPython.display import Image\nImage(str(out.figure['png']))"),
    ("md", "## Our relative changes beside the paper's Table 1 (100 % of dimensions)"),
    ("code", "out.paper_comparison"),
    ("md", "## What the figure shows"),
    ("code", "print(out.conclusions)"),
]
