"""Determinism: two runs of the tiny profile (stages 01 + 02) give byte-identical result tables.

The second run starts from an empty embedding cache (so it encodes adi and time again in new
processes) and uses another PYTHONHASHSEED (so nothing may depend on set or dict-of-str ordering).
Compared: every file under results/ and paper/ (tidy CSV, per-query parquet, table CSV/TeX and the
embedding markers, which hold the sha256 of the encoded vectors). Figures and executed notebooks are
not compared: the notebooks record run times.
"""

from __future__ import annotations

import subprocess

from conftest import REPO
from test_cluster import SNAKEMAKE, TARGET, local_tiny_run, table_files, workflow_env


def test_two_runs_of_the_tiny_profile_give_identical_tables(tiny_embeddings, cache_dir, tmp_path_factory):
    first = local_tiny_run(tmp_path_factory, cache_dir)
    second = tmp_path_factory.mktemp("second-run")
    env = workflow_env(second / "fresh-cache", PYTHONHASHSEED="123")
    cmd = [*SNAKEMAKE, TARGET, "--snakefile", str(REPO / "Snakefile"), "--directory", str(second),
           "--cores", "2", "--configfile", str(REPO / "config/tiny.yaml")]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert any((second / "fresh-cache/embeddings/minilm-l6").iterdir())  # it really encoded again

    a, b = table_files(first), table_files(second)
    assert "results/tiny/02-quantization.csv" in a and "results/tiny/embeddings/minilm-l6--time.json" in a
    assert sorted(a) == sorted(b)
    assert [k for k in a if a[k] != b[k]] == []

