"""The whole study, cold and warm, and where its time goes: the Snakemake workflow for one profile, timed per stage.

    python -m bench.study_time                                   # the default profile (what `make study` runs)
    python -m bench.study_time --profile tiny                    # a quick check of the benchmark itself
    python -m bench.study_time --profile full --embeddings ~/.cache/study   # stages only, from warm embeddings
    python -m bench.study_time --profile full --embeddings ~/.cache/study --workdir build/bench-full  # resumable

Cold = an empty embedding cache and an empty output folder (every collection encoded, every stage run);
warm = the same command again at once (nothing to redo: Snakemake finds every output up to date). With
``--embeddings DIR`` the embeddings of ``DIR/embeddings`` are reused (linked, never written) and everything
else starts empty, fits included: the cost of rerunning the stages after a change. Both run in temporary folders
(``STUDY_CACHE_DIR``, ``STUDY_OUTPUT_DIR``), so the repository's own cache and results are untouched;
installation is not timed (run it first). ``--workdir DIR`` keeps those folders in ``DIR`` instead, so a run that
was stopped resumes there: Snakemake redoes only the jobs that had not finished, the per-stage table covers every
job of every attempt, and the first timing is then marked ``resumed`` (it covers the last attempt only).

Per stage and step, from the start and end time Snakemake records for every job (``.snakemake/metadata``): the
number of jobs, their summed job time (what one core would spend) and the stage's wall span (first start to
last end, overlapping other stages' jobs when cores allow). A step is a rule: ``<stage>_fits`` (one shard of the
fits a model's parts share), ``<stage>_part`` (one (model, collection) part), the stage's notebook (which gathers
the parts), ``publish_<stage>``. Targets on a 2-core machine: default profile cold ≤ 13 min, warm a few seconds;
full profile from warm embeddings ≤ 30 min. Rows of benchmark ``study`` go to ``results/bench.csv``;
``python -m bench.summary`` writes their tables into ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from bench.common import make_rows, write_rows
from study.config import CONFIG_DIR, load_profile

BENCHMARK = "study"
REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_RULES = ("quantization", "reduction", "combined", "beyond", "indexes", "codecs", "tradeoff", "scaling",
                  "advise")
STAGE_OF_RULE = {"prepare_model": "embed", "explorer": "paper", "readme": "paper"}


def snakemake_command(profile: str, cores: int) -> list[str]:
    """The command `make study` runs, for ``profile``."""
    return [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--cores", str(cores),
            "--configfile", str(CONFIG_DIR / f"{profile}.yaml"), "--rerun-triggers", "mtime", "params", "--quiet",
            "--rerun-incomplete"]  # a job a stop cut short is redone on resuming (--workdir)


def timed_run(command: list[str], env: dict[str, str], log: Path) -> float:
    """Seconds the command took; its output goes to ``log``; a failure stops the benchmark."""
    start = time.perf_counter()
    with open(log, "ab") as fh:
        code = subprocess.run(command, env=env, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT).returncode
    seconds = time.perf_counter() - start
    if code:
        raise SystemExit(f"the study failed (exit {code}); see {log}")
    return seconds


def stage_and_step(rule: str) -> tuple[str, str]:
    """``reduction_part`` → (reduction, part); ``codecs_fits`` → (codecs, fits); ``publish_codecs`` → (codecs,
    publish); ``beyond`` → (beyond, notebook); ``embed_minilm_l6`` (one model's embedding job) → (embed, embed);
    another rule → (its stage, itself): ``embed`` → (embed, embed)."""
    for step in ("part", "fits"):
        if rule.endswith(f"_{step}"):
            return rule.removesuffix(f"_{step}"), step
    if rule.startswith("publish_"):
        return rule.removeprefix("publish_"), "publish"
    if rule.startswith("embed_"):  # one model's embedding job (a profile that scatters no stage)
        return "embed", "embed"
    return STAGE_OF_RULE.get(rule, rule), "notebook" if rule in NOTEBOOK_RULES else rule


def job_times(workdir: Path) -> pd.DataFrame:
    """One row per job Snakemake ran in ``workdir``: rule, start, end (a job with several outputs counts once)."""
    rows = {}
    for path in (workdir / ".snakemake" / "metadata").glob("*"):
        record = json.loads(path.read_text())
        if record.get("starttime") is None or record.get("endtime") is None:
            continue
        output = base64.urlsafe_b64decode(path.name + "=" * (-len(path.name) % 4)).decode(errors="replace")
        # one job, however many outputs (each has its own end): Snakemake's job hash, else its start time
        key = (record["rule"], record.get("job_hash", record["starttime"]))
        row = rows.setdefault(key, {"rule": record["rule"], "start": record["starttime"], "end": record["endtime"],
                                    "output": output})
        row["end"] = max(row["end"], record["endtime"])
    return pd.DataFrame(list(rows.values()), columns=["rule", "start", "end", "output"])


def stage_table(jobs: pd.DataFrame) -> pd.DataFrame:
    """Per stage and step: jobs, summed job seconds, wall span (first start to last end)."""
    if jobs.empty:
        return pd.DataFrame(columns=["stage", "step", "jobs", "job_seconds", "wall_seconds"])
    jobs = jobs.assign(seconds=jobs.end - jobs.start)
    jobs[["stage", "step"]] = [stage_and_step(r) for r in jobs.rule]
    table = (jobs.groupby(["stage", "step"], sort=False)
             .agg(jobs=("rule", "size"), job_seconds=("seconds", "sum"), first=("start", "min"), last=("end", "max"))
             .reset_index())
    table["wall_seconds"] = table["last"] - table["first"]
    stage = (jobs.groupby("stage", sort=False).agg(jobs=("rule", "size"), job_seconds=("seconds", "sum"),
                                                    first=("start", "min"), last=("end", "max")).reset_index())
    stage["step"], stage["wall_seconds"] = "all", stage["last"] - stage["first"]
    out = pd.concat([table, stage], ignore_index=True).sort_values(["first", "step"], kind="stable")
    return out[["stage", "step", "jobs", "job_seconds", "wall_seconds"]].reset_index(drop=True)


def link_embeddings(source: Path, cache: Path) -> None:
    """``cache/embeddings`` pointing at ``source/embeddings`` (read, never written by a warm run)."""
    embeddings = source / "embeddings"
    if not embeddings.is_dir():
        raise SystemExit(f"--embeddings: no folder {embeddings}")
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "embeddings").symlink_to(embeddings.resolve(), target_is_directory=True)


@contextmanager
def workspace(folder: Path | None) -> Iterator[str]:
    """A temporary folder, removed afterwards; or ``folder``, created if needed and kept."""
    if folder is None:
        with tempfile.TemporaryDirectory(prefix="bench-study-") as tmp:
            yield tmp
        return
    folder.mkdir(parents=True, exist_ok=True)
    yield str(folder.resolve())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--embeddings", type=Path, help="a study cache whose embeddings to reuse (stages only)")
    parser.add_argument("--keep", type=Path, help="copy the per-job table here (CSV)")
    parser.add_argument("--workdir", type=Path, help="keep the cache and outputs here, and resume a stopped run")
    args = parser.parse_args(argv)
    load_profile(args.profile)  # a bad profile name fails here, naming the allowed ones

    resumed = bool(args.workdir and (args.workdir / "out" / ".snakemake" / "metadata").is_dir())
    with workspace(args.workdir) as tmp:
        env = os.environ | {"STUDY_CACHE_DIR": f"{tmp}/cache", "STUDY_OUTPUT_DIR": f"{tmp}/out",
                            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONHASHSEED": "0"}
        os.makedirs(f"{tmp}/out", exist_ok=True)
        if args.embeddings and not (Path(tmp) / "cache" / "embeddings").exists():
            link_embeddings(args.embeddings, Path(tmp) / "cache")
        log = Path(tmp) / "snakemake.log"
        command = snakemake_command(args.profile, args.cores)
        try:
            first = timed_run(command, env, log)
            warm = timed_run(command, env, log)
        except SystemExit:
            print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        jobs = job_times(Path(tmp) / "out")
    table = stage_table(jobs)
    kind = "stages (warm embeddings)" if args.embeddings else "cold"
    print(table.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    print(f"study, profile {args.profile!r}, {args.cores} cores: {kind} {first / 60:.1f} min, warm {warm:.0f} s")
    if args.keep:
        jobs.to_csv(args.keep, index=False)
    case = f"profile={args.profile}" + (",embeddings=warm" if args.embeddings else "") + (",resumed" if resumed else "")
    first_metric = "stages_seconds" if args.embeddings else "cold_seconds"
    rows = [{"case": case, "metric": first_metric, "value": first, "unit": "s"},
            {"case": case, "metric": "warm_seconds", "value": warm, "unit": "s"},
            {"case": case, "metric": "cores", "value": args.cores, "unit": "cores"}]
    rows += [{"case": f"{case},stage={r.stage},step={r.step}", "metric": m, "value": getattr(r, m), "unit": u}
             for r in table.itertuples() for m, u in (("jobs", "jobs"), ("job_seconds", "s"), ("wall_seconds", "s"))]
    write_rows(make_rows(BENCHMARK, rows), only_cases=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
