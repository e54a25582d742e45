"""One module per notebook: ``NAME`` (file name) and ``CELLS`` (kind, source) pairs.

Kinds: "md" (markdown), "parameters" (the papermill parameters cell), "code".
"""

SETUP = """\
from study.notebook import setup
setup()"""
