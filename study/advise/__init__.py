"""``study advise``: the study's method on a user's own document vectors.

* ``inputs``: read ``.npy``, Parquet, ann-benchmarks HDF5 or a BEIR folder with one of the study's models, check
  every row, split the rows into the index, the evaluation queries and the training sample;
* ``grid``: the configurations for the data's width (formats, codecs with a valid ``m``, PCA, truncation for
  Matryoshka models, two-tier rescoring) and those that do not apply, with the reason;
* ``evaluate``: each configuration searched and scored per query (recall@10 against the exact float32 top-10, the
  top-100 overlap, nDCG@10 with judgments), cached per configuration under the output folder, so a rerun resumes;
* ``report``: the study's configurations table with query-level CIs, the frontier, the figure, the explorer page
  and ``select``'s answer, written into the output folder.
"""
