"""WSGI entry point for gunicorn: `gunicorn -w 4 -b 127.0.0.1:8000 core.wsgi:app`."""
import gc

from core import create_app

app = create_app()
# What the app holds from start-up (modules, mappers, templates) lives as long as the worker: the
# cyclic collector need not walk it again on every full collection (shorter pauses, lower p99).
gc.freeze()
