"""embedding-storage study: compress text embeddings, measure retrieval quality against storage."""

from __future__ import annotations

import os

# The default path runs offline: never reach for a model hub unless a user opts in.
for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

__version__ = "0.1.0"
