"""pytest plugin: the ``gupsim`` marker and options (filled in with the scenario API)."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "gupsim(**options): check options for a gupsim scenario test")
