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
