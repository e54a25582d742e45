"""compress: see the README's "How the study is built".

Importing any of its modules registers every format: the casts, integers and bits of ``formats`` and the
codecs of ``codecs`` (RaBitQ, OPQ/PQ, TurboQuant, OSQ, binary fixes)."""

from study.compress import codecs, formats  # noqa: F401  (each registers its formats)
