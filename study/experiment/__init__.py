"""experiment: see the README's "How the study is built"."""
