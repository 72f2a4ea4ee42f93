"""The label sets, read from ``data/labels.toml`` so users add topics without code."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_LABELS = Path("data/labels.toml")


@dataclass(frozen=True)
class Topic:
    name: str
    description: str
    lexicon: Path | None  # keyword list for the lexicon baseline, relative paths resolved


@dataclass(frozen=True)
class LabelConfig:
    """Block labels, the role → label map, and the topic labels (in file order)."""

    block_labels: tuple[str, ...]
    positive: str
    roles: dict[str, str]
    topics: tuple[Topic, ...]
    path: Path

    @property
    def topic_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.topics)

    def label_for_role(self, role: str) -> str:
        return self.roles[role]


def load_labels(path: str | Path = DEFAULT_LABELS) -> LabelConfig:
    """Parse and check a label config; errors name the file."""
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise ValueError(f"{p}: label config not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{p}: invalid TOML: {exc}") from exc
    blocks = raw.get("blocks", {})
    labels = tuple(blocks.get("labels", ()))
    positive = blocks.get("positive", "")
    roles = dict(blocks.get("roles", {}))
    if len(labels) != 2 or positive not in labels:
        raise ValueError(f"{p}: [blocks] needs two labels and a positive one among them")
    bad = {r: lab for r, lab in roles.items() if lab not in labels}
    if bad:
        raise ValueError(f"{p}: roles map to unknown labels: {bad}")
    topics = []
    for name, spec in raw.get("topics", {}).items():
        lex = spec.get("lexicon")
        topics.append(Topic(name, spec.get("description", ""), (p.parent / lex) if lex else None))
    return LabelConfig(labels, positive, roles, tuple(topics), p)
