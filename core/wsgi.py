"""WSGI entry point for gunicorn: `gunicorn -w 4 -b 127.0.0.1:8000 core.wsgi:app`."""
from core import create_app

app = create_app()
