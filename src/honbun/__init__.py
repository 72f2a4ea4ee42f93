"""honbun (本文): article body vs boilerplate and topic tagging for Japanese news pages.

Python API::

    import honbun
    model = honbun.load_model("models/default")
    result = model.score("seeds/000_8bf9058727bca4c6.txt")
    for r in model.score_many(paths, jobs=2): ...
"""

from __future__ import annotations

from typing import Any

from honbun.version import __version__

__all__ = ["__version__", "load_model"]


def load_model(path_or_uri: str = "models/default", labels: Any = None) -> Any:
    """Load a trained model directory or MLflow model URI; see :class:`honbun.scoring.model.Model`."""
    from honbun.scoring.model import load_model as _load

    return _load(path_or_uri, labels)
