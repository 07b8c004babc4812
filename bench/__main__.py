"""`python -m bench` (what `make bench` runs): see bench/runner.py and docs/performance.md."""
import sys

from bench.runner import main

sys.exit(main())
