"""Where the study reads data and writes caches and outputs (all overridable by environment)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _env_path(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value).expanduser().resolve() if value else default


def data_root() -> Path:
    """Folder holding BEIR collections by name (``STUDY_DATA_DIR``, default ``../shared/datasets``)."""
    return _env_path("STUDY_DATA_DIR", REPO_ROOT.parent / "shared" / "datasets")


def cache_root() -> Path:
    """Folder for embedding caches and prepared models (``STUDY_CACHE_DIR``, default ``.cache``)."""
    return _env_path("STUDY_CACHE_DIR", REPO_ROOT / ".cache")


def output_root() -> Path:
    """Root under which results, figures and tables are written (``STUDY_OUTPUT_DIR``, default repo)."""
    return _env_path("STUDY_OUTPUT_DIR", REPO_ROOT)
