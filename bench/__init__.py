"""Benchmarks: each ``bench/<name>.py`` with a ``main()`` writes its rows into ``results/bench.csv``."""
