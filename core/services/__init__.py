"""State changes of the core, shared by the pages, the API and the command line."""
