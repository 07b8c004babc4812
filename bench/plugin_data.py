"""Plugin data generators (filled in below as plugins land)."""


def generate(app, engine, md, fixture, cfg, rng, counts, log):
    return {}
