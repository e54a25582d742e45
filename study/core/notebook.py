"""Small conveniences for the stage notebooks."""

from __future__ import annotations

import logging
import warnings

from study.core.offline import offline_by_default
from study.core.tables import readable


def setup() -> None:
    """Readable logging and pandas display; quiet library noise that says nothing about results; offline by
    default (``study.core.offline``)."""
    offline_by_default()
    import pandas as pd

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", force=True)
    for noisy in ("sentence_transformers", "httpx", "urllib3", "transformers", "numba", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=FutureWarning)
    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.precision", 4)
    _show_tables_rounded()


def _show_tables_rounded() -> None:
    """Every DataFrame a cell shows is drawn rounded for reading (``study.core.tables.readable``): percentages at two
    decimals, bytes as integers; the frame itself keeps full precision. Outside IPython nothing changes."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the notebooks
        return
    shell = get_ipython()
    if shell is None:
        return
    import pandas as pd

    formatters = shell.display_formatter.formatters
    formatters["text/html"].for_type(pd.DataFrame, lambda df: readable(df)._repr_html_())
    formatters["text/plain"].for_type(pd.DataFrame, lambda df, p, cycle: p.text(repr(readable(df))))
