"""The default path runs offline: no model hub or dataset hub is reached unless a user opts in."""

from __future__ import annotations

import os

OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")


def offline_by_default() -> None:
    """Set the Hugging Face offline switches (and quiet tokenizer threads) unless the user set them: called
    where a model or an MTEB task is loaded and by the CLI and notebooks, never at import time."""
    for var in OFFLINE_VARIABLES:
        os.environ.setdefault(var, "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
