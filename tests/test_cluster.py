"""Scale-out: the Snakefile runs through an executor other than the local one, and plans the paper's run.

* The tiny profile (adi, time; stages 01 + 02) is run twice into temporary folders: with the local
  executor, and with Snakemake's generic cluster executor submitting every job through
  ``profiles/local-cluster/submit.sh`` (a pretend scheduler: job scripts run in the background, polled
  by ``status.sh``). The result tables must be byte-identical.
* A dry run of ``config/paper.yaml`` on the SLURM profile plans 2 models x 67 MTEB tasks with the
  network blocked (it must not download anything to plan).

Both runs share the session's temporary embedding cache (filled once by ``tiny_embeddings``), so these
tests measure orchestration, not encoding (encoding determinism is tested in test_faults.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO

SNAKEMAKE = [sys.executable, "-m", "snakemake"]
TARGET = "results/tiny/02-quantization.csv"
# Everything the stages write that a reader compares: tidy CSV, per-query parquet, tables, markers.
TABLE_DIRS = ("results", "paper")
_LOCAL_RUNS: dict[str, Path] = {}


def workflow_env(cache: Path, **extra: str) -> dict[str, str]:
    """The environment of a workflow run: temp cache, no output override (``--directory`` decides)."""
    env = {k: v for k, v in os.environ.items() if k != "STUDY_OUTPUT_DIR"}
    return env | {"STUDY_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                  "PYTHONHASHSEED": "0"} | extra


def run_tiny_workflow(workdir: Path, cache: Path, *options: str, relative: bool = False) -> subprocess.CompletedProcess:
    """Snakemake on the tiny profile up to stage 02, with outputs under ``workdir``: given by
    ``--directory``, or (``relative``) by a relative STUDY_OUTPUT_DIR from the parent folder."""
    where = ["--directory", str(workdir)] if not relative else []
    extra = {"STUDY_OUTPUT_DIR": workdir.name} if relative else {}
    cmd = [*SNAKEMAKE, TARGET, "--snakefile", str(REPO / "Snakefile"), *where, *options,
           "--configfile", str(REPO / "config/tiny.yaml")]
    done = subprocess.run(cmd, env=workflow_env(cache, **extra), cwd=workdir.parent, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def local_tiny_run(tmp_path_factory, cache: Path) -> Path:
    """One local-executor run of the tiny profile per test session (shared with test_determinism)."""
    if str(cache) not in _LOCAL_RUNS:
        workdir = tmp_path_factory.mktemp("local-run")
        run_tiny_workflow(workdir, cache, "--cores", "2")
        _LOCAL_RUNS[str(cache)] = workdir
    return _LOCAL_RUNS[str(cache)]


def table_files(root: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every result table under ``root`` (figures and notebooks excluded)."""
    return {str(p.relative_to(root)): p.read_bytes()
            for d in TABLE_DIRS for p in sorted((root / d).rglob("*")) if p.is_file() and p.suffix != ".ipynb"}


def test_cluster_executor_gives_the_same_tables_as_the_local_run(tiny_embeddings, cache_dir, tmp_path_factory):
    local = local_tiny_run(tmp_path_factory, cache_dir)
    cluster = tmp_path_factory.mktemp("cluster-run") / "out"  # a relative STUDY_OUTPUT_DIR, resolved by every job
    done = run_tiny_workflow(cluster, cache_dir, "--profile", str(REPO / "profiles/local-cluster"), relative=True)

    # Every job went through submit.sh (6 = prepare_model, embed adi, embed time, the quantization part of adi and
    # of time, the quantization notebook that gathers them) ...
    log = done.stdout + done.stderr
    assert log.count("Submitted job") == 6 and "localrule" not in log
    assert log.count("rule quantization_part:") == 2
    rcs = sorted((cluster / ".snakemake/local-cluster").glob("job-*.rc"))
    assert len(rcs) == 6 and {p.read_text().strip() for p in rcs} == {"0"}
    # ... and produced exactly the local run's tables, byte for byte.
    ours, theirs = table_files(local), table_files(cluster)
    assert "results/tiny/02-quantization.csv" in ours and "results/tiny/02-quantization-per-query.parquet" in ours
    assert sorted(theirs) == sorted(ours)
    executed = json.loads((local / "results/tiny/notebooks/02-quantization.ipynb").read_text())  # a rule's output
    assert any(cell.get("outputs") for cell in executed["cells"] if cell["cell_type"] == "code")
    assert [k for k in ours if ours[k] != theirs[k]] == []


def test_outputs_follow_study_output_dir_without_directory_flag(tmp_path):
    """STUDY_OUTPUT_DIR alone moves Snakemake's working directory (the notebooks write there too)."""
    out = tmp_path / "out"
    cmd = [*SNAKEMAKE, TARGET, "-n", "-p", "--snakefile", str(REPO / "Snakefile"), "--cores", "1",
           "--configfile", str(REPO / "config/tiny.yaml")]
    done = subprocess.run(cmd, env=workflow_env(tmp_path / "cache", STUDY_OUTPUT_DIR=str(out)), cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    log = done.stdout + done.stderr
    assert f"STUDY_OUTPUT_DIR={out}" in log and (out / ".snakemake").is_dir()
    assert str(REPO / "notebooks/02-quantization.ipynb") in log


BLOCK_NETWORK = '''
import socket

def _refuse(*args, **kwargs):
    raise OSError("network access is blocked in this test")

socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
'''


@pytest.fixture()
def no_network_env(tmp_path) -> dict[str, str]:
    """Environment whose Python processes cannot open a network connection (sitecustomize)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCK_NETWORK)
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    return {"PYTHONPATH": path, "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}


def test_paper_profile_dry_run_plans_every_job_offline(tmp_path, no_network_env):
    paper = yaml.safe_load((REPO / "config/paper.yaml").read_text())
    tasks = [d for d in paper["datasets"] if d.startswith("mteb:")]
    assert len(tasks) == len(paper["datasets"]) == len(set(tasks)) == 67
    assert paper["models"] == ["bge-small", "nomic-v1.5"]

    cmd = [*SNAKEMAKE, "-n", "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path / "run"),
           "--profile", str(REPO / "profiles/slurm"), "--configfile", str(REPO / "config/paper.yaml")]
    done = subprocess.run(cmd, env=workflow_env(tmp_path / "cache", **no_network_env), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    log = done.stdout + done.stderr
    stats = dict(line.split()[:2] for line in log.splitlines()
                 if line.split()[:1] in (["embed"], ["prepare_model"], ["quantization"]))
    # one embed job per (model, task); MLQuestions, the calibration set, is one of the 67 tasks
    assert stats == {"prepare_model": "2", "embed": str(2 * 67), "quantization": "1"}
    for model in paper["models"]:
        assert f"results/paper/embeddings/{model}--Touche2020Retrieval.v3.json" in log
    assert "slurm_partition=gpu" in log and "gpu=1" in log  # embed jobs ask for a GPU
    assert not (tmp_path / "cache").exists()  # planning touched no cache and downloaded nothing


def test_slurm_profile_asks_a_gpu_for_embed_only():
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    assert profile["executor"] == "slurm"
    assert profile["set-resources"]["embed"]["gpu"] == 1
    assert "gpu" not in profile["default-resources"]


def test_executor_plugins_are_installed_and_declared():
    import tomllib

    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    for plugin in ("snakemake-executor-plugin-slurm", "snakemake-executor-plugin-cluster-generic"):
        assert any(d.startswith(plugin) for d in deps)
        module = plugin.replace("-", "_")
        assert subprocess.run([sys.executable, "-c", f"import {module}"]).returncode == 0


def test_the_paper_profile_spreads_each_stage_over_one_job_per_model_and_collection(tmp_path):
    """At paper scale a cluster runs each stage as many jobs (its parts), not one: 2 models × 67 MTEB tasks."""
    cmd = [*SNAKEMAKE, "-n", "--quiet", "rules", "--snakefile", str(REPO / "Snakefile"), "--cores", "2",
           "--configfile", str(REPO / "config/paper.yaml")]
    done = subprocess.run(cmd, env=workflow_env(tmp_path / "cache", STUDY_OUTPUT_DIR=str(tmp_path / "out")),
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", done.stdout + done.stderr, flags=re.M))
    profile = yaml.safe_load((REPO / "config/paper.yaml").read_text())
    pairs = len(profile["models"]) * len(profile["datasets"])
    for stage in ("quantization", "reduction", "combined", "beyond"):
        assert int(counts[f"{stage}_part"]) == pairs and int(counts[stage]) == 1
    assert int(counts["codecs_part"]) == pairs - len(profile["models"])  # stage 09 never evaluates its fit set
    # the fits a model's parts share (on MLQuestions) are made first, by FIT_SHARDS jobs per model and stage
    from study.core.profiles import FIT_SHARDS

    for stage in ("reduction", "combined", "codecs"):
        assert int(counts[f"{stage}_fits"]) == FIT_SHARDS * len(profile["models"])
    assert "quantization_fits" not in counts and "beyond_fits" not in counts  # cheap calibrations: no fit jobs


def test_a_profile_that_scatters_no_stage_encodes_each_model_in_one_job(tmp_path):
    """The default profile (``scatter: false``) starts one embedding job per model, which writes the marker of every
    collection its stages read (a marker no job writes would fail this dry run); the tiny one, one per collection."""
    counts = {}
    for profile in ("default", "tiny"):
        cmd = [*SNAKEMAKE, "-n", "--quiet", "rules", "--snakefile", str(REPO / "Snakefile"), "--cores", "2",
               "--configfile", str(REPO / f"config/{profile}.yaml")]
        env = workflow_env(tmp_path / "cache", STUDY_OUTPUT_DIR=str(tmp_path / f"out-{profile}"))
        done = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        counts[profile] = dict(re.findall(r"^(\w+)\s+(\d+)$", done.stdout + done.stderr, flags=re.M))
    default = yaml.safe_load((REPO / "config/default.yaml").read_text())
    assert default["scatter"] is False and default["models"] == ["minilm-l6"]
    assert counts["default"]["embed_minilm_l6"] == "1" and "embed" not in counts["default"]
    assert counts["tiny"]["embed"] == "2" and "embed_minilm_l6" not in counts["tiny"]
