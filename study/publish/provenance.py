"""Provenance of a profile's results: which code, data, machine and packages produced them.

Written as ``results/<profile>/provenance.json`` by the last stage (notebook 05), so the committed
full-profile files say where they come from.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from study.analysis.report import output_dirs
from study.config import load_profile
from study.core.errors import StudyError
from study.core.io import sha256_file, write_json_atomic
from study.core.paths import REPO_ROOT

# Packages whose versions can change a number in the results.
PACKAGES = ("study", "numpy", "pandas", "scipy", "scikit-learn", "umap-learn", "ml_dtypes", "torch",
            "sentence-transformers", "transformers", "mteb", "pytrec_eval-terrier", "usearch", "faiss-cpu",
            "matplotlib", "seaborn", "papermill", "snakemake")


def git_state(repo: Path = REPO_ROOT) -> dict[str, Any]:
    """Commit, branch and whether tracked files differ from it (``None`` fields outside a git clone)."""

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "HEAD"), "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
            "dirty": None if status is None else bool(status)}


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def machine() -> dict[str, Any]:
    """The platform, CPU, memory and accelerator (no host name or user)."""
    info: dict[str, Any] = {"platform": platform.platform(), "python": platform.python_version(),
                            "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count()}
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines() if ln.startswith("model name")]
        info["cpu_model"] = names[0] if names else None
    try:
        info["memory_gib"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        info["memory_gib"] = None
    try:
        import torch

        info["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:  # noqa: BLE001 - a broken torch install must not stop the provenance record
        info["gpu"] = None
    return info


def dataset_checksums(profile: str) -> dict[str, dict[str, Any]]:
    """Per (model, collection): the collection checksum and the embedding sha256s stage 01 recorded."""
    out = {}
    for marker in sorted((output_dirs(profile)["results"] / "embeddings").glob("*.json")):
        record = json.loads(marker.read_text())
        keys = ("model", "dataset", "collection_checksum", "docs_sha256", "queries_sha256", "docs", "queries")
        out[marker.stem] = {k: record.get(k) for k in keys}
    return out


def result_checksums(profile: str) -> dict[str, str]:
    """sha256 of every result file of the profile (tidy CSVs, per-query parquet, tables)."""
    folder = output_dirs(profile)["results"]
    files = [p for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix in (".csv", ".parquet")]
    return {str(p.relative_to(folder)): sha256_file(p) for p in files}


def collect(profile: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the provenance file holds (``config`` defaults to the profile's YAML, when there is one)."""
    if config is None:

        try:
            config = load_profile(profile)
        except StudyError:
            config = {}
    return {
        "profile": profile,
        "created_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "git": git_state(),
        "machine": machine(),
        "packages": package_versions(),
        "datasets": dataset_checksums(profile),
        "results": result_checksums(profile),
        "config": config,
    }


def write_provenance(profile: str, config: dict[str, Any] | None = None) -> Path:
    """Write ``results/<profile>/provenance.json`` atomically and return its path."""
    return write_json_atomic(output_dirs(profile)["results"] / "provenance.json", collect(profile, config))
