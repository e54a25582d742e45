"""The names of training sets and of collections: what a configuration's ``fit_on``/``calibrate_on`` may say,
the name a collection goes by, and the input formats ``study advise`` reads. A leaf (standard library only), so
that the code fingerprints of the experiment runner's parts and of ``study advise``'s results leave out the
profiles' and the parameters' modules: editing a profile or a notebook's parameters keeps them valid."""

from __future__ import annotations

import os

SELF = "self"
"""A training set meaning the evaluated corpus itself."""
NONE = "none"
POOL = "pool"
"""A training set meaning the model's other collections pooled (``study.experiment.configs.pool_members``)."""
UNTRAINED = "untrained"
"""The training set of a codec whose parameters do not depend on the sample (a seeded rotation, a fixed codebook)."""
PER_COLLECTION_SETS = (NONE, SELF, POOL, UNTRAINED)
"""Training-set values that name no one collection: none, the corpus itself, its pool, untrained."""
PAPER_SET = "mlquestions"
"""The paper's calibration and fit set (MLQuestions corpus + dev queries): the default wherever one is chosen."""
MTEB_PREFIX = "mteb:"


def collection_name(dataset: str) -> str:
    """The name a collection goes by without loading it: ``mteb:SciFact`` -> ``SciFact``, a path -> its folder."""
    text = str(dataset)
    if text.startswith(MTEB_PREFIX):
        return text[len(MTEB_PREFIX) :]
    return os.path.basename(os.path.normpath(text))


def is_named_set(reference: object) -> bool:
    """A training set that is one collection (not ``none``, ``self``, ``pool`` or ``untrained``)."""
    return reference not in PER_COLLECTION_SETS


ADVISE_FORMATS = ("npy", "parquet", "hdf5", "beir")
"""What ``study advise`` reads: a ``.npy`` array, a Parquet column, the ann-benchmarks HDF5 layout, a BEIR folder."""
