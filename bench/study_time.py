"""The whole study, cold and warm: wall time of the Snakemake workflow for one profile.

    python -m bench.study_time                       # the default profile (what `make study` runs)
    python -m bench.study_time --profile tiny        # a quick check of the benchmark itself

Cold = an empty embedding cache and an empty output folder (every collection encoded, every stage run);
warm = the same command again at once (nothing to redo: Snakemake finds every output up to date). Both run
in temporary folders (``STUDY_CACHE_DIR``, ``STUDY_OUTPUT_DIR``), so the repository's own cache and results
are untouched; installation is not timed (run it first). Targets on a 2-core machine: cold ≤ 15 min,
warm ≤ 2 min. Rows of benchmark ``study`` go to ``results/bench.csv``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import make_rows, write_rows
from study.config import CONFIG_DIR, load_profile

BENCHMARK = "study"
REPO = Path(__file__).resolve().parents[1]


def snakemake_command(profile: str, cores: int) -> list[str]:
    """The command `make study` runs, for ``profile``."""
    return [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--cores", str(cores),
            "--configfile", str(CONFIG_DIR / f"{profile}.yaml"), "--rerun-triggers", "mtime", "params", "--quiet"]


def timed_run(command: list[str], env: dict[str, str], log: Path) -> float:
    """Seconds the command took; its output goes to ``log``; a failure stops the benchmark."""
    start = time.perf_counter()
    with open(log, "ab") as fh:
        code = subprocess.run(command, env=env, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT).returncode
    seconds = time.perf_counter() - start
    if code:
        raise SystemExit(f"the study failed (exit {code}); see {log}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    load_profile(args.profile)  # a bad profile name fails here, naming the allowed ones

    with tempfile.TemporaryDirectory(prefix="bench-study-") as tmp:
        env = os.environ | {"STUDY_CACHE_DIR": f"{tmp}/cache", "STUDY_OUTPUT_DIR": f"{tmp}/out",
                            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONHASHSEED": "0"}
        os.makedirs(f"{tmp}/out")
        log = Path(tmp) / "snakemake.log"
        command = snakemake_command(args.profile, args.cores)
        try:
            cold = timed_run(command, env, log)
            warm = timed_run(command, env, log)
        except SystemExit:
            print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
    print(f"study, profile {args.profile!r}, {args.cores} cores: cold {cold / 60:.1f} min, warm {warm:.0f} s")
    rows = [
        {"case": f"profile={args.profile}", "metric": "cold_seconds", "value": cold, "unit": "s"},
        {"case": f"profile={args.profile}", "metric": "warm_seconds", "value": warm, "unit": "s"},
    ]
    write_rows(make_rows(BENCHMARK, rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
