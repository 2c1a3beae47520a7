"""Subcommands of the ``vatl`` command, one module each (see :mod:`vatl.cli`)."""
