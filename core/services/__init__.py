"""State changes of the core (the rules), shared by the pages, the API, the command line and
the worker. Services never commit: the entry point owns the transaction (core.db)."""
