"""The plots of a run report: one way to label, finish and save a matplotlib figure."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def axes(title: str, xlabel: str, ylabel: str) -> tuple[Any, Any]:
    """A new 5 × 4 in figure and its axes (the Agg backend: reports are written headless)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig, ax


def save(fig: Any, ax: Any, path: Path, legend: bool = False) -> Path:
    """Grid, legend, tight layout; written to ``path`` (100 dpi) and closed."""
    import matplotlib.pyplot as plt

    if legend:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
