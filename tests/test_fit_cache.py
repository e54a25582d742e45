"""The fit cache (study.compress.fitcache): a reducer or codec fitted once is reused bit for bit, by key; a damaged,
half-written or locked entry never poisons it; two processes asking for one fit fit it once."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, wait_until

from study.compress import fitcache, formats, reducers
from study.compress.formats import calibrate, quantize
from study.compress.reducers import QUADRATIC, fit_reducer
from study.core.errors import ParameterError
from study.core.io import folder_lock
from study.core.vectors import normalise


def unit_rows(n: int, dims: int, seed: int) -> np.ndarray:
    """Unit vectors with a few strong directions (like embeddings)."""
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((8, dims))
    x = rng.standard_normal((n, 8)) @ basis + 0.3 * rng.standard_normal((n, dims))
    return normalise(x.astype(np.float32))


FIT = unit_rows(300, 32, seed=1)
OTHER = unit_rows(57, 32, seed=2)


@pytest.fixture(autouse=True)
def fits(tmp_path, monkeypatch) -> Path:
    """A fresh cache folder per test, the cache on, and no in-memory codec memo hiding the disk."""
    monkeypatch.setenv("STUDY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(fitcache.ENV, raising=False)
    monkeypatch.setattr(formats, "_TRAINED", OrderedDict())
    return tmp_path / "cache" / "fits"


@pytest.fixture()
def fitted(monkeypatch) -> list[str]:
    """The name of every fit really made (the function the cache is given to fit with), in order."""
    made: list[str] = []
    real = fitcache.load_or_fit

    def spy(kind, name, *args, fit, **kwargs):
        def counted():
            made.append(name)
            return fit()

        return real(kind, name, *args, fit=counted, **kwargs)

    monkeypatch.setattr(fitcache, "load_or_fit", spy)
    return made


@pytest.fixture()
def reducer_fits(monkeypatch) -> list[str]:
    """The name of every ``Reducer.fit`` call (the estimator's own fit runs only inside it)."""
    made: list[str] = []
    real = reducers.Reducer.fit

    def spy(self, vectors):
        made.append(self.name)
        return real(self, vectors)

    monkeypatch.setattr(reducers.Reducer, "fit", spy)
    return made


def entries(fits: Path, kind: str, name: str) -> list[Path]:
    return sorted((fits / kind / name).glob("*/manifest.json"))


def only_entry(fits: Path, kind: str, name: str) -> Path:
    found = entries(fits, kind, name)
    assert len(found) == 1, found
    return found[0].parent


def same_reducer(a, b) -> None:
    np.testing.assert_array_equal(a.transform(OTHER), b.transform(OTHER))
    np.testing.assert_array_equal(a.transform(FIT), b.transform(FIT))
    for attr in ("name", "n_components", "dims", "seed", "fit_rows", "fit_seconds", "overhead_bytes", "fitted"):
        assert getattr(a, attr) == getattr(b, attr), attr


# --- reuse: bit-identical, without fitting again -------------------------------------------------------------


@pytest.mark.parametrize("method", ["pca", "kpca_rbf", "autoencoder", "umap"])
def test_a_reused_reducer_transforms_bit_for_bit_as_a_fresh_fit_and_is_not_fitted_again(
    method, fits, reducer_fits, caplog
):
    with caplog.at_level(logging.INFO, logger="study.compress.fitcache"):
        first = fit_reducer(method, FIT, 0.25, fit_sample=100)  # fitted (the fresh fit itself) and stored
        assert reducer_fits == [method]
        second = fit_reducer(method, FIT, 0.25, fit_sample=100)  # loaded
    assert reducer_fits == [method]
    same_reducer(first, second)
    assert second is not first and first.fit_seconds > 0  # the time of the real fit, kept in the manifest
    assert second.fit_rows == (100 if method in QUADRATIC else len(FIT))
    key12 = only_entry(fits, "reducer", method).name[:12]
    lines = [r.getMessage() for r in caplog.records if r.name == "study.compress.fitcache"]
    assert lines == [f"fit cache miss {key12} {method}", f"fit cache hit {key12} {method}"]
    stored = fitcache.read_entry(only_entry(fits, "reducer", method), only_entry(fits, "reducer", method).name)
    assert stored.meta["fit_seconds"] == first.fit_seconds


def test_a_reused_pca_keeps_the_memory_layout_blas_reads():
    """At a real width scikit-learn's ``components_`` is a strided view (rows of a Fortran-ordered matrix); a
    C-ordered copy sends BLAS down another kernel and changes transforms in their last bits (384 dims: it did)."""
    x, y = unit_rows(1000, 384, seed=3), unit_rows(300, 384, seed=4)
    first = fit_reducer("pca", x, 0.5)
    second = fit_reducer("pca", x, 0.5)
    assert second.estimator.components_.strides == first.estimator.components_.strides
    np.testing.assert_array_equal(first.transform(y), second.transform(y))


def test_what_is_stored_is_arrays_except_the_objects_that_are_not(fits):
    """PCA and the autoencoder are stored as plain arrays; kernel PCA (a centerer object) is pickled."""
    for method in ("pca", "autoencoder", "kpca_rbf"):
        fit_reducer(method, FIT, 0.25)
        folder = only_entry(fits, "reducer", method)
        with np.load(folder / fitcache.PAYLOAD, allow_pickle=False) as npz:
            names = set(npz.files)
        assert (names == {fitcache.PICKLE}) == (method == "kpca_rbf"), names
        manifest = json.loads((folder / fitcache.MANIFEST).read_text())
        assert manifest["pickled"] == (method == "kpca_rbf") and manifest["key"] == folder.name
    with np.load(only_entry(fits, "reducer", "pca") / fitcache.PAYLOAD) as npz:
        assert {"attr.components_", "attr.mean_"} <= set(npz.files)


def test_restoring_the_autoencoder_leaves_the_callers_torch_rng_alone():
    import torch

    fit_reducer("autoencoder", FIT, 0.25)
    before = torch.get_rng_state()
    fit_reducer("autoencoder", FIT, 0.25)
    assert torch.equal(before, torch.get_rng_state())


@pytest.mark.parametrize("name", ["opq4", "rabitq2_rr"])
def test_a_reused_codec_encodes_and_scores_bit_for_bit_as_a_fresh_training(name, fits, fitted, monkeypatch):
    monkeypatch.setenv(fitcache.ENV, "off")
    fresh = calibrate(name, FIT)
    monkeypatch.delenv(fitcache.ENV)
    formats._TRAINED.clear()
    first = calibrate(name, FIT)
    formats._TRAINED.clear()  # a new process: nothing in memory
    second = calibrate(name, FIT)
    assert fitted == [name, name]  # the cache-off training and the first; the second was loaded
    assert sorted(fresh) == sorted(first) == sorted(second)
    for key in fresh:
        assert fresh[key].dtype == second[key].dtype
        np.testing.assert_array_equal(fresh[key], first[key])
        np.testing.assert_array_equal(fresh[key], second[key])
    a, b = quantize(OTHER, name, fresh), quantize(OTHER, name, second)
    np.testing.assert_array_equal(a.packed, b.packed)
    assert a.overhead_bytes == b.overhead_bytes
    fmt = formats.get_format(name)
    np.testing.assert_array_equal(fmt.score(FIT[:5], a, "float32"), fmt.score(FIT[:5], b, "float32"))
    assert len(entries(fits, "codec", name)) == 1


def test_within_a_process_a_codec_comes_from_memory_as_before(fitted):
    a = calibrate("opq4", FIT)
    assert calibrate("opq4", FIT.copy()) is a and fitted == ["opq4"]


def test_cheap_fits_are_not_cached(fits, reducer_fits):
    """Truncation, random projection and the cheap calibrations cost less than the look-up: fitted each time."""
    for method in ("truncation", "random_projection"):
        a, b = fit_reducer(method, FIT, 0.25), fit_reducer(method, FIT, 0.25)
        np.testing.assert_array_equal(a.transform(OTHER), b.transform(OTHER))
    assert reducer_fits == ["truncation"] * 2 + ["random_projection"] * 2
    for name in ("osq1", "int8", "binary_centred"):
        np.testing.assert_array_equal(
            quantize(OTHER, name, calibrate(name, FIT)).packed, quantize(OTHER, name, calibrate(name, FIT)).packed
        )
    assert not fits.exists()


def test_the_switch_turns_the_cache_off(fits, reducer_fits, fitted, monkeypatch):
    monkeypatch.setenv(fitcache.ENV, "off")
    fit_reducer("pca", FIT, 0.25)
    fit_reducer("pca", FIT, 0.25)
    calibrate("rabitq1", FIT)
    formats._TRAINED.clear()
    calibrate("rabitq1", FIT)
    assert reducer_fits == ["pca", "pca"] and fitted == ["rabitq1", "rabitq1"] and not fits.exists()
    monkeypatch.setenv(fitcache.ENV, "sometimes")
    with pytest.raises(ParameterError, match="STUDY_FIT_CACHE"):
        fit_reducer("pca", FIT, 0.25)


# --- the key ---------------------------------------------------------------------------------------------------


def test_other_parameters_or_other_data_are_other_entries(fits, reducer_fits, fitted):
    changed = FIT.copy()
    changed[7, 3] = np.nextafter(changed[7, 3], np.float32(1))  # one value, one ulp
    fit_reducer("pca", FIT, 0.25)
    fit_reducer("pca", FIT, 0.5)  # other n_components
    fit_reducer("pca", changed, 0.25)  # other data
    fit_reducer("autoencoder", FIT, 0.25, seed=1)
    fit_reducer("autoencoder", FIT, 0.25, seed=2)  # other seed
    fit_reducer("kpca_rbf", FIT, 0.25, fit_sample=100)
    fit_reducer("kpca_rbf", FIT, 0.25, fit_sample=150)  # another subsample
    fit_reducer("kpca_poly", FIT, 0.25, fit_sample=100)  # another method, same rows
    assert len(reducer_fits) == 8
    assert [len(entries(fits, "reducer", m)) for m in ("pca", "autoencoder", "kpca_rbf", "kpca_poly")] == [3, 2, 2, 1]
    calibrate("opq4", FIT)
    calibrate("opq4", changed)
    calibrate("pq8x4fs", FIT)
    assert fitted[-3:] == ["opq4", "opq4", "pq8x4fs"]


def test_what_only_acts_through_the_rows_fitted_does_not_split_the_cache(reducer_fits):
    """``fit_sample`` larger than the fit set, or a fraction giving the same width, fits the same thing."""
    a = fit_reducer("kpca_rbf", FIT, 0.25, fit_sample=None)
    b = fit_reducer("kpca_rbf", FIT, 0.25, fit_sample=5000)
    c = fit_reducer("kpca_rbf", FIT, 0.2501, fit_sample=None)
    assert reducer_fits == ["kpca_rbf"]
    np.testing.assert_array_equal(a.transform(OTHER), b.transform(OTHER))
    np.testing.assert_array_equal(a.transform(OTHER), c.transform(OTHER))


@pytest.mark.parametrize("method", [m for m in reducers.METHODS if m not in ("truncation", "random_projection")])
def test_the_key_is_plain_json_so_it_is_the_same_in_every_process(method):
    """No parameter falls back to its ``repr`` (an object's address would change the key in each process)."""
    reducer = reducers.make_reducer(method, 32, 0.25)
    assert reducer.cacheable
    spec = reducer.fit_spec()
    assert json.loads(json.dumps(spec)) == json.loads(json.dumps(spec, default=repr))
    digest = fitcache.array_digest(FIT)
    key = fitcache.fit_key("reducer", method, spec, digest, fitcache.source_digest(type(reducer)))[0]
    assert (
        key
        == fitcache.fit_key(
            "reducer",
            method,
            reducers.make_reducer(method, 32, 0.25).fit_spec(),
            digest,
            fitcache.source_digest(type(reducer)),
        )[0]
    )


# --- damage, interruption, locks -------------------------------------------------------------------------------


def flip_a_byte(folder: Path) -> None:
    path = folder / fitcache.PAYLOAD
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(folder: Path) -> None:
    path = folder / fitcache.PAYLOAD
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def rewritten_payload(folder: Path) -> None:
    """A valid payload of the same size holding other values (a copy mix-up): only the checksum tells."""
    path = folder / fitcache.PAYLOAD
    with np.load(path) as npz:
        arrays = {k: npz[k].copy() for k in npz.files}
    name = min(k for k, v in arrays.items() if v.dtype.kind == "f" and v.size)
    arrays[name].flat[0] += 1
    size = path.stat().st_size
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    assert path.stat().st_size == size


def delete_manifest(folder: Path) -> None:
    (folder / fitcache.MANIFEST).unlink()


def garble_manifest(folder: Path) -> None:
    (folder / fitcache.MANIFEST).write_text('{"key": ')


def unrestorable(folder: Path) -> None:
    """A payload whose checksum matches its manifest but that does not hold the fit (a foreign or old writer)."""
    manifest = fitcache.read_entry(folder, folder.name)
    fitcache._write(folder, folder.name, {}, fitcache.Stored({"nonsense": np.zeros(3)}, manifest.meta), 0.0)


@pytest.mark.parametrize(
    "damage", [flip_a_byte, truncate, rewritten_payload, delete_manifest, garble_manifest, unrestorable]
)
@pytest.mark.parametrize("method", ["pca", "autoencoder"])
def test_a_damaged_entry_is_detected_logged_and_rebuilt_the_same(method, damage, fits, reducer_fits, caplog):
    first = fit_reducer(method, FIT, 0.25)
    folder = only_entry(fits, "reducer", method)
    damage(folder)
    with caplog.at_level(logging.INFO, logger="study.compress.fitcache"):
        rebuilt = fit_reducer(method, FIT, 0.25)
    assert reducer_fits == [method, method]
    assert any("rebuilding" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    np.testing.assert_array_equal(first.transform(OTHER), rebuilt.transform(OTHER))
    again = fit_reducer(method, FIT, 0.25)  # repaired: loaded
    assert reducer_fits == [method, method]
    same_reducer(rebuilt, again)


@pytest.mark.parametrize("damage", [flip_a_byte, truncate])
def test_a_damaged_codec_entry_is_rebuilt_the_same(damage, fits, fitted):
    first = calibrate("opq4", FIT)
    damage(only_entry(fits, "codec", "opq4"))
    formats._TRAINED.clear()
    rebuilt = calibrate("opq4", FIT)
    assert fitted == ["opq4", "opq4"]
    for key in first:
        np.testing.assert_array_equal(first[key], rebuilt[key])


def test_a_killed_write_leaves_nothing_that_is_used(fits, reducer_fits):
    """A run killed mid-write leaves a temporary file and perhaps a payload without its manifest: never read."""
    first = fit_reducer("pca", FIT, 0.25)
    folder = only_entry(fits, "reducer", "pca")
    delete_manifest(folder)  # the manifest is written last: killed before it
    truncate(folder)
    (folder / ".fit.npz.abc123.tmp").write_bytes(b"half a zip")
    (folder / f".{fitcache.MANIFEST}.def456.tmp").write_text('{"key": "')
    again = fit_reducer("pca", FIT, 0.25)
    assert reducer_fits == ["pca", "pca"]
    np.testing.assert_array_equal(first.transform(OTHER), again.transform(OTHER))
    assert zipfile.is_zipfile(folder / fitcache.PAYLOAD)
    fit_reducer("pca", FIT, 0.25)
    assert reducer_fits == ["pca", "pca"]


HOLD_LOCK = """
import sys, time
from study.core.io import folder_lock
with folder_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_lock(folder: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(folder), str(seconds)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_holder_killed_with_the_lock_blocks_nothing(fits, reducer_fits):
    first = fit_reducer("pca", FIT, 0.25)
    folder = only_entry(fits, "reducer", "pca")
    delete_manifest(folder)
    holder = hold_lock(folder, 600)
    os.kill(holder.pid, signal.SIGKILL)  # killed while fitting: the kernel drops its lock
    holder.wait()
    again = fit_reducer("pca", FIT, 0.25)
    assert reducer_fits == ["pca", "pca"]
    np.testing.assert_array_equal(first.transform(OTHER), again.transform(OTHER))


def test_a_live_holder_is_waited_for(fits, reducer_fits, caplog):
    fit_reducer("pca", FIT, 0.25)
    folder = only_entry(fits, "reducer", "pca")
    delete_manifest(folder)
    holder = hold_lock(folder, 1.0)
    with caplog.at_level(logging.INFO):
        fit_reducer("pca", FIT, 0.25)
    assert holder.wait() == 0  # it let go before we fitted
    assert any("another process holds the lock" in r.getMessage() for r in caplog.records)
    assert reducer_fits == ["pca", "pca"]
    with folder_lock(folder):  # and we let go too
        pass


CONCURRENT_FIT = """
import sys, time
from pathlib import Path
import numpy as np
from study.compress import reducers

log, go, out = (Path(p) for p in sys.argv[1:4])
real = reducers.Reducer.fit

def slow_fit(self, vectors):
    with open(log, "a") as fh:
        fh.write(f"{self.name}\\n")
    time.sleep(1.0)  # long enough for the other process to ask for the same fit meanwhile
    return real(self, vectors)

reducers.Reducer.fit = slow_fit
rng = np.random.default_rng(1)
x = rng.standard_normal((300, 32)).astype(np.float32)
Path(str(out) + ".ready").touch()
while not go.exists():
    time.sleep(0.01)
np.save(out, reducers.fit_reducer("pca", x, 0.25).transform(x))
"""


def test_two_processes_asking_for_the_same_fit_at_once_fit_it_once(tmp_path, fits):
    log, go = tmp_path / "fits.log", tmp_path / "go"
    outs = [tmp_path / f"out{i}.npy" for i in range(2)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_FIT, str(log), str(go), str(out)],
            cwd=REPO,
            env=dict(os.environ),
            stderr=subprocess.PIPE,
            text=True,
        )
        for out in outs
    ]
    wait_until(lambda: all(Path(str(o) + ".ready").exists() for o in outs), "both processes ready")
    go.touch()
    for p in procs:
        assert p.wait() == 0, p.stderr.read()
    assert log.read_text().splitlines() == ["pca"]  # one fitted, the other waited and loaded it
    np.testing.assert_array_equal(np.load(outs[0]), np.load(outs[1]))
    assert len(entries(fits, "reducer", "pca")) == 1
