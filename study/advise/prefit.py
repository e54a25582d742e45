"""The PQ codecs of a run (OPQ + PQ, PQ, PQ fast-scan) trained ahead in a second process, into the fit cache.

Why: a PQ codec trains its k-means codebooks (and OPQ its rotation) on one thread, as in the study, for minutes at
768 dimensions, whatever N; on a machine with two cores the run meanwhile searches and encodes everything else on
the other. ``training_ahead`` starts a process that calls ``calibrate`` for each of them, in the grid's order, on
the run's training sample; the run's own ``calibrate`` then finds the fit in the fit cache
(``study.compress.fitcache``), or waits on the entry's lock while the second process is still fitting it, or fits
it itself where the second process has not begun it (the second process then reads the run's).

The numbers are the same: the second process fits the same formats on the same sample under the same thread
settings (``fixed_threads``), and ``calibrate`` returns a cached fit bit for bit. Nothing is started where the
fit cache is off (``STUDY_FIT_CACHE=off``: nothing to share through), no PQ codec is left to compute or the
training sample is larger than ``MAX_TRAINING_BYTES``.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.process import BaseProcess

import numpy as np

from study.advise.grid import PQ_TARGETS, pq_choice
from study.compress import fitcache
from study.compress.codecs import fixed_threads
from study.compress.formats import calibrate
from study.experiment.configs import is_pq

MAX_TRAINING_BYTES = 256 << 20
"""The training sample is copied to the second process: above this size (``--train-rows`` far beyond its default)
nothing is trained ahead."""


def pq_formats(formats: list[str]) -> list[str]:
    """The PQ families among ``formats``, once each, in order."""
    return [f for f in dict.fromkeys(formats) if is_pq(f)]


def train(formats: list[str], training: np.ndarray, threads: int) -> None:
    """``calibrate`` each format on ``training`` under ``fixed_threads(threads)`` (the second process's work); the
    PQ formats of the grid are registered first, as ``grid`` registers them."""
    for family, ratio in PQ_TARGETS:
        pq_choice(family, ratio, training.shape[1])
    with fixed_threads(threads):
        for fmt in formats:
            calibrate(fmt, training)


@contextmanager
def training_ahead(formats: list[str], training: np.ndarray, threads: int) -> Iterator[BaseProcess | None]:
    """The PQ families among ``formats`` trained in a second process (yielded; None where none is started) while
    the block runs; stopped at its end (it has then fitted, or waited for, every fit the block used)."""
    wanted = pq_formats(formats)
    if not wanted or not fitcache.enabled() or training.nbytes > MAX_TRAINING_BYTES:
        yield None
        return
    process = multiprocessing.get_context("spawn").Process(target=train, args=(wanted, training, threads),
                                                           name="advise-prefit", daemon=True)
    process.start()
    try:
        yield process
    finally:
        process.terminate()
        process.join()
