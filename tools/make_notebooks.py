"""Write the stage notebooks (committed without outputs) from the cell sources below.

Edit the cells here (or in JupyterLab, then keep this file in step) and run
``python tools/make_notebooks.py``; tests check every notebook has a tagged parameters cell.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parents[1] / "notebooks"
SETUP = """\
from study.notebook import setup
setup()"""


def notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, source in cells:
        if kind == "md":
            nb.cells.append(new_markdown_cell(source))
        else:
            cell = new_code_cell(source)
            if kind == "parameters":
                cell.metadata["tags"] = ["parameters"]
            nb.cells.append(cell)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"
    return nb


NOTEBOOKS: dict[str, list[tuple[str, str]]] = {}

NOTEBOOKS["01-embed.ipynb"] = [
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

NOTEBOOKS["02-quantization.ipynb"] = [
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
formats = config.check_choices("formats", formats, list(FORMATS))
calibrate_on = config.check_reference_set("calibrate_on", calibrate_on)
weighting = config.check_choice("weighting", weighting, report.WEIGHTINGS)
profile = config.check_profile_name(profile)"""),
    ("code", "out = run_quantization_stage(models, datasets, formats, calibrate_on, weighting, profile)\nout.summary"),
    ("md", "## Figure: nDCG@10 change per format (the paper's Fig. 3)"),
    ("code", "from IPython.display import Image\nImage(str(out.figure['png']))"),
    ("md", "## Our relative changes beside the paper's Table 1 (100 % of dimensions)"),
    ("code", "out.paper_comparison"),
    ("md", "## What the figure shows"),
    ("code", "print(out.conclusions)"),
]


def main() -> int:
    for name, cells in NOTEBOOKS.items():
        nbformat.write(notebook(cells), HERE / name)
        print("wrote", HERE / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
