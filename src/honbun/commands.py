"""Subcommands beyond ``segment``; each imports its heavy modules only when it runs."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the remaining subcommands to the ``honbun`` parser."""
