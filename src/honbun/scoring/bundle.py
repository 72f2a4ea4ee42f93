"""A trained model on disk: ``models/<name>/`` with the models, the config and a model card.

Layout: ``model.joblib`` (the fitted estimators), ``scoring.pkl`` (the same models
exported to numpy arrays, see :mod:`honbun.boilerplate.export`: what ``honbun score`` loads, without
importing scikit-learn), ``card.json`` and ``card.md`` (metrics, data hash, label set,
versions), ``config.toml`` (the experiment config, verbatim).
Writing is atomic for the whole directory: everything goes into a temp directory next to
the target, which then replaces the old one, so an interrupted training leaves the
previous model intact and two trainings of different configs never share a directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from honbun.atomic import WriteError, umask_mode
from honbun.labels import LabelConfig
from honbun.version import __version__

# 2: numpy feature hashing of blocks and the scoring.pkl export; 3: the package by stages
# (honbun 0.2), whose pickles name other modules, and the rules outside the block model.
BUNDLE_FORMAT = 3
MODEL_FILE = "model.joblib"
SCORING_FILE = "scoring.pkl"


class ModelLoadError(RuntimeError):
    """The model cannot be used here; the message says why and what to do."""


def label_signature(labels: LabelConfig) -> dict[str, Any]:
    """What a model depends on in the label config (and its hash)."""
    sig = {
        "block_labels": list(labels.block_labels),
        "positive": labels.positive,
        "roles": dict(sorted(labels.roles.items())),
        "topics": list(labels.topic_names),
    }
    sig["sha256"] = hashlib.sha256(json.dumps(sig, sort_keys=True).encode()).hexdigest()
    return sig


def versions() -> dict[str, str]:
    """Versions of everything a model's behaviour depends on."""
    import platform

    import joblib
    import lxml
    import numpy
    import scipy
    import sklearn

    from honbun.read.tokens import dictionary_info

    out = {
        "honbun": __version__,
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "joblib": joblib.__version__,
        "lxml": lxml.__version__,
    }
    out.update({k: str(v) for k, v in dictionary_info().items()})
    return out


@dataclass
class ModelBundle:
    """Everything ``honbun score`` needs; fields are None when the config disabled them."""

    name: str
    labels: LabelConfig
    block_cfg: Any = None
    html_model: Any = None
    text_cfg: Any = None
    text_model: Any = None
    role_model: Any = None
    topic_cfg: Any = None
    topic_model: Any = None
    doc_cfg: Any = None
    doc_model: Any = None
    card: dict[str, Any] = field(default_factory=dict)

    def for_scoring(self) -> ModelBundle:
        """The bundle with every model replaced by its numpy export (no scikit-learn)."""
        roles = self.role_model or {}
        return replace(
            self,
            html_model=self.html_model.scorer() if self.html_model is not None else None,
            text_model=self.text_model.scorer() if self.text_model is not None else None,
            role_model={k: v.scorer() for k, v in roles.items()} or None,
            topic_model=self.topic_model.scorer() if self.topic_model is not None else None,
            doc_cfg=None,  # the document classifier is evaluated, not used by `score`
            doc_model=None,
        )

    def save(self, root: str | Path, config_text: str) -> Path:
        """Write ``root/<name>/`` atomically; return its path."""
        import joblib

        root = Path(root)
        target = root / self.name
        try:
            root.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{self.name}.", suffix=".tmp", dir=root))
        except OSError as exc:
            raise WriteError(target, exc) from exc
        try:
            os.chmod(tmp, umask_mode(directory=True))  # mkdtemp's is 0700, whatever the umask
            joblib.dump(self, tmp / MODEL_FILE, compress=3)
            with open(tmp / SCORING_FILE, "wb") as f:
                pickle.dump(self.for_scoring(), f, protocol=pickle.HIGHEST_PROTOCOL)
            (tmp / "card.json").write_text(json.dumps(self.card, ensure_ascii=False, indent=1))
            (tmp / "card.md").write_text(card_markdown(self.card), encoding="utf-8")
            (tmp / "config.toml").write_text(config_text, encoding="utf-8")
            old = None
            if target.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{self.name}.", suffix=".old", dir=root))
                os.replace(target, old / "model")
            os.replace(tmp, target)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return target


def load_bundle(path: str | Path, labels: LabelConfig | None = None) -> ModelBundle:
    """Load ``path`` (a model directory) with its scikit-learn estimators, for evaluation.

    Refuses, with a message naming the model, a bundle of another format, one saved with a
    different scikit-learn (pickles are not portable across its versions) or a different
    honbun minor version, and — when ``labels`` is given — one trained on a different
    label config.
    """
    import joblib
    import sklearn

    p = Path(path)
    card = _checked_card(p, labels)
    built = card.get("versions", {})
    if built.get("scikit-learn") != sklearn.__version__:
        raise ModelLoadError(
            f"{p}: built with scikit-learn {built.get('scikit-learn')}, this environment has "
            f"{sklearn.__version__}; retrain the model or install the locked versions"
        )
    bundle = joblib.load(p / MODEL_FILE)
    if not isinstance(bundle, ModelBundle):
        raise ModelLoadError(f"{p}: {MODEL_FILE} does not hold a honbun model")
    return bundle


def load_scoring_bundle(path: str | Path, labels: LabelConfig | None = None) -> ModelBundle:
    """Load ``path`` for scoring: its numpy export (``scoring.pkl``), which does not import
    scikit-learn; a model saved without one is loaded whole and exported here."""
    p = Path(path)
    _checked_card(p, labels)
    if not (p / SCORING_FILE).exists():
        return load_bundle(p, labels).for_scoring()
    with open(p / SCORING_FILE, "rb") as f:
        bundle = pickle.load(f)
    if not isinstance(bundle, ModelBundle):
        raise ModelLoadError(f"{p}: {SCORING_FILE} does not hold a honbun model")
    return bundle


def _checked_card(p: Path, labels: LabelConfig | None) -> dict[str, Any]:
    """The model card of ``p``, after checking the model can be used by this honbun."""
    card_file, model_file = p / "card.json", p / MODEL_FILE
    if not model_file.exists():
        raise ModelLoadError(f"{p}: no {MODEL_FILE} here; train one with `honbun train`")
    card = json.loads(card_file.read_text("utf-8")) if card_file.exists() else {}
    built = card.get("versions", {})
    if card.get("format") != BUNDLE_FORMAT:
        raise ModelLoadError(
            f"{p}: model format {card.get('format')} (this honbun reads {BUNDLE_FORMAT}); "
            "retrain it with `honbun train`"
        )
    if _minor(built.get("honbun", "")) != _minor(__version__):
        raise ModelLoadError(
            f"{p}: built with honbun {built.get('honbun')}, this is {__version__}; retrain it"
        )
    if labels is not None:
        want = label_signature(labels)["sha256"]
        have = card.get("labels", {}).get("sha256")
        if want != have:
            raise ModelLoadError(
                f"{p}: trained on a different label config than {labels.path} "
                f"(topics {card.get('labels', {}).get('topics')} vs {list(labels.topic_names)});"
                " retrain it with the current labels"
            )
    return card


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def card_markdown(card: dict[str, Any]) -> str:
    """The model card as Markdown: what it is, how it was measured, on what data."""
    lines = [f"# honbun model `{card.get('name')}`", ""]
    lines += [f"Trained {card.get('trained_at', '?')} from config `{card.get('config')}`", ""]
    lines += ["## Data", ""]
    data = card.get("data", {})
    lines += [f"- {k}: {v}" for k, v in data.items()]
    lines += ["", "## Metrics (cross-validated)", "", "| metric | value |", "|---|---|"]
    for k, v in sorted(card.get("metrics", {}).items()):
        lines.append(f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |")
    lines += ["", "## Labels", ""]
    lab = card.get("labels", {})
    lines += [f"- block labels: {lab.get('block_labels')} (positive: {lab.get('positive')})"]
    lines += [f"- topics: {lab.get('topics')}", f"- label config sha256: {lab.get('sha256')}"]
    lines += ["", "## Versions", ""]
    lines += [f"- {k}: {v}" for k, v in card.get("versions", {}).items()]
    lines += ["", "## Intended use and limits", "", card.get("limits", ""), ""]
    return "\n".join(lines)
