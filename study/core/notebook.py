"""Small conveniences for the stage notebooks."""

from __future__ import annotations

import logging
import warnings

from study.core.offline import offline_by_default


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
