"""``python -m gupsim`` runs the command line."""

from .cli import main

main()
