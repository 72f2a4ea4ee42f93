"""Experiment configs: TOML files in ``training/configs/`` (config is data, not code)."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = Path("training/configs/default.toml")
SECTIONS = {"name", "seed", "labels", "data", "boilerplate", "topics", "documents", "tracking"}


@dataclass(frozen=True)
class Experiment:
    """A parsed config; ``raw`` is the TOML as read, ``text`` the file's exact bytes."""

    name: str
    seed: int
    path: Path
    raw: dict[str, Any]
    text: str

    def section(self, key: str) -> dict[str, Any]:
        return dict(self.raw.get(key, {}))

    def enabled(self, key: str) -> bool:
        return bool(self.raw.get(key, {}).get("enabled", False))

    @property
    def labels_path(self) -> Path:
        return Path(self.raw.get("labels", "data/labels.toml"))

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def flat(self) -> dict[str, str]:
        """Dotted keys → string values, for MLflow params and run comparison."""
        return flatten(self.raw)


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = str(v)
    return out


def load_experiment(path: str | Path = DEFAULT_CONFIG) -> Experiment:
    """Read and check a config; errors name the file."""
    p = Path(path)
    try:
        text = p.read_text("utf-8")
        raw = tomllib.loads(text)
    except FileNotFoundError as exc:
        raise ValueError(f"{p}: config not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{p}: invalid TOML: {exc}") from exc
    unknown = set(raw) - SECTIONS
    if unknown:
        raise ValueError(f"{p}: unknown config keys {sorted(unknown)}")
    name = str(raw.get("name", p.stem))
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"{p}: name must be letters, digits, - or _ ({name!r})")
    return Experiment(name, int(raw.get("seed", 13)), p, raw, text)
