#!/usr/bin/env bash
# LaTeX for `make paper` and tests/test_paper.py (the paper is built with latexmk + pdflatex + bibtex).
set -euo pipefail
if command -v latexmk >/dev/null && command -v pdftoppm >/dev/null \
    && kpsewhich booktabs.sty caption.sty natbib.sty >/dev/null; then
    echo "LaTeX already installed"; exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# The paper needs only these two (plus what they depend on: texlive-base, texlive-latex-base, binaries);
# texlive-latex-extra and the font packages add hundreds of MB that it does not use.
$SUDO apt-get install -y -q --no-install-recommends latexmk texlive-latex-recommended poppler-utils  # pdftoppm: the test renders pages
