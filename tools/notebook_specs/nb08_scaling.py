"""Cells of notebooks/08-scaling.ipynb."""

from tools.notebook_specs import SETUP

NAME = "08-scaling.ipynb"

CELLS = [
    ("md", """\
# 08 · Scaling: does exact search stay linear in time and bounded in memory up to a million vectors?

**Question.** Users will point the study at collections of millions of documents. An evaluator that
holds the full query × document score matrix does not survive that (10k queries × 523k documents in
float32 is about 21 GB). Does our exact search (`study.streaming`, which `study.retrieval.search`
uses) grow linearly with the corpus, stay within a fixed memory budget, and how close does it run to
the machine's own matrix-multiply speed — for every storage format?

**How.** `python -m bench.scaling` (or `make bench`) writes synthetic corpora of unit vectors
(N = 10k, 100k, 1M; d = 384 and 768; 1,000 queries, each with planted relevant documents) to disk,
compresses them block by block (float16, float8 E4M3, the paper's int8, binary), and searches each
case in its own process with a memory budget (default 4 GiB): documents are memory-mapped and scored
in blocks against all queries with a running top-k (binary by Hamming distance on the packed bits).
It records the search's wall time, the process's peak resident memory (`VmHWM`), and its
multiply-adds per second divided by the rate of a float32 GEMM of the same block shape timed in the
same process — the physical limit. This notebook reads those rows from `results/bench.csv`, fits
the exponent of time against N (least squares on log-log axes) and draws the figure. Timings depend
on the machine and on its load, which the run records."""),
    ("parameters", """\
formats = ["float32", "float16", "float8_e4m3", "int8", "binary"]   # formats to show (as measured)
budget = None                  # check peak memory against this size (e.g. "4GiB"); None: the run's own budget"""),
    ("code", SETUP + """
from study import config
from study.quantize import FORMATS
from study.tradeoff import parse_budget

formats = config.check_choices("formats", formats, list(FORMATS))
budget = None if budget is None else parse_budget(budget, "budget")"""),
    ("code", """\
from study.scaling import scaling_report

report = scaling_report(formats=formats, budget=budget)
report.table[["format", "dims", "n_docs", "wall_time_s", "peak_rss_bytes", "budget_bytes", "n_blocks",
              "fraction_of_gemm_peak", "recall_at_10_planted"]]"""),
    ("md", "## Exponent of time against corpus size (1 = linear)"),
    ("code", "report.exponents"),
    ("md", "## Figure: time, peak memory and fraction of the GEMM peak against N"),
    ("code", "from IPython.display import Image\nImage(str(report.figure['png']))"),
    ("md", "## What the measurements show"),
    ("code", "print(report.conclusions)"),
]
