"""The one memo for SQL statements built once per process (a compiled INSERT, a prepared UPDATE).

A statement object is immutable and safe to share between threads; building it costs more than
running it on the hottest paths (a vote, a redemption), so each is built on first use and kept.
"""
from functools import cache


def built_once(builder):
    """Decorate a function that builds a statement from hashable arguments (a table, a dialect
    name): it runs once per distinct arguments and the statement is kept for the process."""
    return cache(builder)
