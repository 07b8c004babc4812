"""Counts the security suite reports in its closing figure line.

Also a pytest plugin (registered in tests/conftest.py, so the line is printed by ``make test`` too):
each test's counts travel with its report, so runs on several xdist workers add up."""
import pytest

FIGURES = {"race rounds of 50": 0, "faults injected": 0, "acknowledged writes checked after a kill": 0,
           "acknowledged votes and redemptions checked after a kill": 0, "attack payloads tried": 0,
           "module text fields × payloads shown inert": 0, "routes × roles checked": 0,
           "fuzzed API requests": 0, "files scanned by bandit": 0}
TOTALS = dict.fromkeys(FIGURES, 0)  # summed from every test's report (also across xdist workers)


def add(name, n=1):
    FIGURES[name] = FIGURES.get(name, 0) + n


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Counts travel with each test's report, so a run on several xdist workers adds them all up."""
    outcome = yield
    if call.when == "teardown":
        counted = {k: v for k, v in FIGURES.items() if v}
        if counted:
            outcome.get_result().user_properties.append(("security_figures", counted))
            FIGURES.update(dict.fromkeys(counted, 0))


def pytest_runtest_logreport(report):
    for name, value in report.user_properties:
        if name == "security_figures":
            for k, v in value.items():
                TOTALS[k] = TOTALS.get(k, 0) + v


def pytest_terminal_summary(terminalreporter):
    """One figure line at the end: what the security suite tried (nothing was lost if it passed)."""
    if any(TOTALS.values()):
        failed = len(terminalreporter.stats.get("failed", ())) + len(terminalreporter.stats.get("error", ()))
        terminalreporter.write_line("security figures: " + ", ".join(f"{v} {k}" for k, v in TOTALS.items() if v)
                                    + (f"; {failed} failed" if failed else "; nothing lost"))
