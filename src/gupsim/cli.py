"""Command line (grows with the scenario layer)."""

import click


@click.group()
def main():
    """gupsim: model-check lockless page-table walkers."""
