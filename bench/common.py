"""Helpers every benchmark shares: a description of the machine, and the merge into ``results/bench.csv``.

``results/bench.csv`` is one tidy table (benchmark, case, metric, value, unit, machine, date) that
several benchmark scripts write. Each script owns the rows of its ``benchmark`` name: ``write_rows``
reads the file, drops that benchmark's old rows, appends the new ones and renames a temporary file
onto the target, under an exclusive ``flock`` on its folder so two scripts finishing at once cannot
lose rows.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import os
import platform
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from study.core.errors import ParameterError
from study.core.io import atomic_write
from study.core.paths import output_root

COLUMNS = ["benchmark", "case", "metric", "value", "unit", "machine", "date"]


def bench_csv() -> Path:
    """``results/bench.csv`` under the output root (``STUDY_OUTPUT_DIR``, default the repository)."""
    return output_root() / "results" / "bench.csv"


def figures_dir() -> Path:
    """``figures/bench`` under the output root."""
    return output_root() / "figures" / "bench"


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else ``platform.processor()``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.processor() or platform.machine()


def total_memory_gib() -> float:
    """Physical memory in GiB (0 if unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return 0.0


def blas_name() -> str:
    """The BLAS numpy is linked against (e.g. ``scipy-openblas 0.3.31``), or ``unknown``."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name', 'unknown')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 - the config layout is numpy-internal; a description is best-effort
        return "unknown"


def machine_description() -> str:
    """One line naming CPU, cores, memory, numpy and BLAS: the ``machine`` column of every row."""
    return (
        f"{cpu_model()}; {os.cpu_count()} cores; {total_memory_gib():.0f} GiB; "
        f"numpy {np.__version__}; {blas_name()}; {platform.system()} {platform.release()}"
    )


def today() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_rows(benchmark: str, measurements: Iterable[Mapping], machine: str | None = None) -> pd.DataFrame:
    """Tidy rows from ``{"case", "metric", "value", "unit"}`` mappings, stamped with machine and date."""
    df = pd.DataFrame(list(measurements), columns=["case", "metric", "value", "unit"])
    df.insert(0, "benchmark", benchmark)
    df["machine"] = machine or machine_description()
    df["date"] = today()
    return df[COLUMNS]


@contextmanager
def _locked(target: Path) -> Iterator[None]:
    """An exclusive ``flock`` on the target's folder (no lock file left behind)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def read_rows(target: Path | str | None = None) -> pd.DataFrame:
    """The bench table (empty with the right columns when absent)."""
    target = Path(target or bench_csv())
    if not target.exists():
        return pd.DataFrame(columns=COLUMNS)
    return pd.read_csv(target, dtype={"benchmark": str, "case": str, "metric": str, "unit": str})


def write_rows(rows: pd.DataFrame, target: Path | str | None = None, only_cases: bool = False) -> Path:
    """Replace the rows of the benchmark(s) in ``rows`` in ``target`` (default ``bench_csv()``), keeping
    every other benchmark's rows. With ``only_cases`` (a partial rerun), only the (benchmark, case) pairs in
    ``rows`` are replaced and the benchmark's other cases are kept."""
    target = Path(target or bench_csv())
    missing = [c for c in COLUMNS if c not in rows.columns]
    if missing:
        raise ParameterError("rows", f"missing columns {missing}", COLUMNS)
    with _locked(target):
        old = read_rows(target)
        if only_cases:
            replaced = pd.MultiIndex.from_frame(rows[["benchmark", "case"]])
            kept = old[~pd.MultiIndex.from_frame(old[["benchmark", "case"]]).isin(replaced)]
        else:
            kept = old[~old["benchmark"].isin(set(rows["benchmark"]))]
        merged = pd.concat([kept, rows[COLUMNS]], ignore_index=True) if len(kept) else rows[COLUMNS].copy()
        merged = merged.sort_values(["benchmark", "case", "metric"], kind="stable")
        atomic_write(target, lambda p: merged.to_csv(p, index=False))
    return target
