"""Counts the security suite reports in its closing figure line (see conftest.py)."""
FIGURES = {"race rounds of 50": 0, "faults injected": 0, "acknowledged writes checked after a kill": 0,
           "acknowledged votes and redemptions checked after a kill": 0, "attack payloads tried": 0,
           "module text fields × payloads shown inert": 0, "routes × roles checked": 0,
           "fuzzed API requests": 0, "files scanned by bandit": 0}
TOTALS = dict.fromkeys(FIGURES, 0)  # summed from every test's report (also across xdist workers)


def add(name, n=1):
    FIGURES[name] = FIGURES.get(name, 0) + n
