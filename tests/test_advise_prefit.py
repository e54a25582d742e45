"""``study.advise.prefit``: the PQ codecs trained ahead in a second process land in the fit cache as the very fits
the run would make itself, and a run with them gives the same results as one that trains everything itself."""

from __future__ import annotations

import numpy as np
import pytest
from test_advise import clustered

from study.advise import evaluate, grid, inputs, prefit
from study.compress import fitcache
from study.compress.formats import FORMATS, calibrate


@pytest.fixture()
def data(tmp_path) -> inputs.Prepared:
    path = tmp_path / "v.npy"
    np.save(path, clustered(1500, 48, seed=7, unit=True))
    return inputs.prepare(inputs.read_source(path), sample_queries=40)


def test_the_second_process_writes_the_fits_the_run_would_make(data, monkeypatch, tmp_path):
    monkeypatch.setenv("STUDY_CACHE_DIR", str(tmp_path / "cache"))  # an empty fit cache, the second process's too
    plan = grid.grid("m", data.name, data.split, data.dims, len(data.training))
    wanted = prefit.pq_formats([c.format for c in plan.configs])
    assert len(wanted) >= 3 and all(f.startswith(("opq", "pq")) for f in wanted)
    digest = fitcache.array_digest(np.ascontiguousarray(data.training))
    entries = {f: fitcache.entry_dir("codec", f, fitcache.fit_key("codec", f, {"format": f}, digest,
                                                                  fitcache.source_digest(FORMATS[f].calibrate))[0])
               for f in wanted}
    assert not any((e / fitcache.MANIFEST).exists() for e in entries.values())
    with prefit.training_ahead([c.format for c in plan.configs], data.training, 1) as process:
        process.join()
    assert process.exitcode == 0 and all((e / fitcache.MANIFEST).exists() for e in entries.values())
    monkeypatch.setenv("STUDY_FIT_CACHE", "off")  # a fresh fit, in this process
    fresh = {f: FORMATS[f].calibrate(np.ascontiguousarray(data.training)) for f in wanted}
    monkeypatch.setenv("STUDY_FIT_CACHE", "on")
    for fmt in wanted:
        cached = calibrate(fmt, data.training)  # read from the fit cache the second process wrote
        assert cached.keys() == fresh[fmt].keys()
        assert all(np.array_equal(cached[k], fresh[fmt][k]) for k in cached), fmt


def test_nothing_is_started_without_a_fit_cache_or_a_pq_codec(data, monkeypatch):
    with prefit.training_ahead(["int8_clipped", "rabitq1"], data.training, 1) as process:
        assert process is None
    monkeypatch.setattr(prefit, "MAX_TRAINING_BYTES", data.training.nbytes - 1)
    with prefit.training_ahead(["opq12"], data.training, 1) as process:
        assert process is None
    monkeypatch.undo()
    monkeypatch.setenv("STUDY_FIT_CACHE", "off")
    with prefit.training_ahead(["opq12"], data.training, 1) as process:
        assert process is None


def test_a_run_training_ahead_gives_the_results_of_one_that_does_not(data, monkeypatch):
    plan = grid.grid("m", data.name, data.split, data.dims, len(data.training))
    configs = [c for c in plan.configs if c.reducer == "none" and c.format.startswith(("opq", "pq", "int4"))]
    ahead = evaluate.run_grid(grid.Grid(configs, plan.not_applicable), data, progress=False)
    monkeypatch.setenv("STUDY_FIT_CACHE", "off")
    alone = evaluate.run_grid(grid.Grid(configs, plan.not_applicable), data, progress=False)
    assert ahead.per_query.equals(alone.per_query) and ahead.tidy.equals(alone.tidy)
