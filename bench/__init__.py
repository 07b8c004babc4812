"""linli's benchmark (issue 8): bulk street-scale data, gunicorn + wrk runs, the scale curve.

`make bench` runs ``python -m bench``; see docs/performance.md for what it measures and the
latest figures. Plugin benchmarks live in ``bench/bench_<plugin>.py`` with a ``run()`` function."""
