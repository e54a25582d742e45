"""embedding-storage study: compress text embeddings, measure retrieval quality against storage.

Importing ``study`` does nothing but name its parts (no environment is changed, nothing heavy is loaded):

* ``study.core`` — errors, paths, atomic I/O, unit vectors, the offline default, notebook set-up
* ``study.data`` — BEIR collections (and MTEB tasks online)
* ``study.encoders`` — the model registry and the embedding cache
* ``study.config`` — parameter validation (one clear error naming the parameter and the allowed values)
* ``study.compress`` — storage formats (encode to packed bytes, decode) and dimensionality reducers
* ``study.search`` — rankings in trec_eval order, exact and streaming search, Hamming search, metrics,
  real indexes (usearch, faiss)
* ``study.experiment`` — configurations, their evaluation (one or two tiers), tidy rows, the mteb bridge
* ``study.figures`` — the figure style and saving
* ``study.analysis`` — summaries, the comparison rule, statistics, verdicts, trade-off, scorecard
* ``study.publish`` — the paper's macros and build, provenance, README blocks
* ``study.stages`` — what each stage notebook calls (run, aggregate, tables, figures), and ``republish``
* ``study.cli`` — the ``study`` command
"""

__version__ = "0.1.0"
