"""Fixtures of the security suite."""
import pytest

from core.extensions import db
from tests.conftest import FreshContextClient, make_app


@pytest.fixture
def extra_app(db_url):
    """extra_app(url=None, plugins=(), **config) -> another app on the test's database (or ``url``);
    its connections are closed at the end of the test."""
    made = []

    def make(url=None, plugins=(), **config):
        other = make_app(url or db_url, list(plugins), **config)
        other.test_client_class = FreshContextClient
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Counts travel with each test's report, so a run on several xdist workers adds them all up."""
    outcome = yield
    if call.when == "teardown":
        from tests.security.figures import FIGURES

        counted = {k: v for k, v in FIGURES.items() if v}
        if counted:
            outcome.get_result().user_properties.append(("security_figures", counted))
            FIGURES.update(dict.fromkeys(counted, 0))


def pytest_runtest_logreport(report):
    from tests.security.figures import TOTALS

    for name, value in report.user_properties:
        if name == "security_figures":
            for k, v in value.items():
                TOTALS[k] = TOTALS.get(k, 0) + v


def pytest_terminal_summary(terminalreporter):
    """One figure line at the end: what the security suite tried (nothing was lost if it passed)."""
    from tests.security.figures import TOTALS

    if any(TOTALS.values()):
        failed = len(terminalreporter.stats.get("failed", ())) + len(terminalreporter.stats.get("error", ()))
        terminalreporter.write_line("security figures: " + ", ".join(f"{v} {k}" for k, v in TOTALS.items() if v)
                                    + (f"; {failed} failed" if failed else "; nothing lost"))
