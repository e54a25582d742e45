"""bench/study_time.py: jobs read from Snakemake's metadata, grouped per stage and step; a kept work folder."""

from __future__ import annotations

import base64
import json

import pytest

from bench import study_time


def _job(folder, output: str, rule: str, start: float, end: float) -> None:
    name = base64.urlsafe_b64encode(output.encode()).decode().rstrip("=")
    job_hash = hash((rule, start, output.rsplit("/", 1)[0] if rule.endswith("_part") else ""))
    (folder / name).write_text(json.dumps({"rule": rule, "starttime": start, "endtime": end, "job_hash": job_hash}))


@pytest.fixture()
def workdir(tmp_path):
    meta = tmp_path / ".snakemake" / "metadata"
    meta.mkdir(parents=True)
    _job(meta, "build/parts/p/03-reduction/m/adi/manifest.json", "reduction_part", 0.0, 10.0)
    _job(meta, "build/parts/p/03-reduction/m/time/manifest.json", "reduction_part", 0.0, 30.0)  # same start
    _job(meta, "results/p/03-reduction.csv", "reduction", 30.0, 38.0)
    _job(meta, "results/p/03-reduction-per-query.parquet", "reduction", 30.0, 39.0)  # the same job, 2nd output
    _job(meta, "figures/p/fig4-reduction.pdf", "publish_reduction", 40.0, 42.0)
    _job(meta, "results/p/embeddings/m--adi.json", "embed", 0.0, 5.0)
    (meta / "unfinished").write_text(json.dumps({"rule": "codecs_part", "starttime": 1.0, "endtime": None}))
    return tmp_path


@pytest.mark.parametrize(("rule", "expected"), [
    ("codecs_part", ("codecs", "part")), ("codecs_fits", ("codecs", "fits")), ("publish_codecs", ("codecs", "publish")),
    ("codecs", ("codecs", "notebook")), ("embed", ("embed", "embed")), ("prepare_model", ("embed", "prepare_model")),
    ("advise", ("advise", "notebook")), ("embed_minilm_l6", ("embed", "embed"))])
def test_rules_map_to_stage_and_step(rule, expected):
    assert study_time.stage_and_step(rule) == expected


def test_jobs_are_counted_once_and_unfinished_ones_left_out(workdir):
    jobs = study_time.job_times(workdir)
    assert sorted(jobs.rule) == ["embed", "publish_reduction", "reduction", "reduction_part", "reduction_part"]
    assert jobs.set_index("rule").loc["reduction", "end"] == 39.0  # a job ends with its last output


def test_per_stage_and_step_job_seconds_and_wall_span(workdir):
    table = study_time.stage_table(study_time.job_times(workdir)).set_index(["stage", "step"])
    assert table.loc[("reduction", "part"), ["jobs", "job_seconds", "wall_seconds"]].tolist() == [2, 40.0, 30.0]
    assert table.loc[("reduction", "notebook"), "job_seconds"] == 9.0
    assert table.loc[("reduction", "publish"), "jobs"] == 1
    assert table.loc[("reduction", "all"), ["jobs", "job_seconds", "wall_seconds"]].tolist() == [4, 51.0, 42.0]
    assert table.loc[("embed", "embed"), "job_seconds"] == 5.0


def test_a_kept_work_folder_survives_the_run(tmp_path):
    with study_time.workspace(tmp_path / "kept") as folder:
        (tmp_path / "kept" / "x").write_text("1")
    assert (tmp_path / "kept" / "x").exists() and folder == str((tmp_path / "kept").resolve())
    with study_time.workspace(None) as temporary:
        pass
    assert not (tmp_path / temporary).exists()
