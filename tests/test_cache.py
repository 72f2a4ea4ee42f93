"""The training cache: entries are found again for the same inputs, code and settings, and
a changed page or a changed feature setting misses."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from honbun.boilerplate.config import ModelConfig
from honbun.cache import Cache, fingerprint
from honbun.experiment.boilerplate import prepare_all
from honbun.gold.dataset import load_block_gold
from honbun.labels import load_labels

REPO = Path(__file__).resolve().parents[1]


def _pages(n: int = 3) -> list:
    gold = load_block_gold(load_labels(REPO / "data/labels.toml"), REPO / "data/annotations/seeds")
    return gold[:n]


def test_features_are_cached_by_page_content_and_settings(tmp_path: Path) -> None:
    gold = _pages(2)
    cache = Cache(tmp_path)
    cfg = ModelConfig()
    first = prepare_all(gold, cfg, cache)
    assert (cache.hits, cache.misses) == (0, 2)
    again = prepare_all(gold, cfg, cache)
    assert (cache.hits, cache.misses) == (2, 2)
    assert all(
        np.array_equal(a.dense, b.dense, equal_nan=True) and a.keys == b.keys
        for a, b in zip(first, again, strict=True)
    )

    # A changed page: only that page is featurised again.
    gold[0].page.blocks[1].text += "。追記"
    prepare_all(gold, cfg, cache)
    assert (cache.hits, cache.misses) == (3, 3)

    # A changed feature setting: every page is featurised again.
    no_context = ModelConfig.from_dict({"features": {"context": False}})
    changed = prepare_all(gold, no_context, cache)
    assert (cache.hits, cache.misses) == (3, 5)
    assert changed[1].dense.shape[1] < first[1].dense.shape[1]
    # ...and a setting the features do not read (a model setting) misses nothing.
    prepare_all(gold, ModelConfig(C=1.0), cache)
    assert cache.misses == 5


def test_no_cache_computes_every_time(tmp_path: Path) -> None:
    calls = []
    cache = Cache(None)
    for _ in range(2):
        cache.fetch("k", "x", lambda: calls.append(1) or len(calls))
    assert calls == [1, 1] and not list(tmp_path.iterdir())


def test_a_damaged_entry_is_computed_again(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    key = fingerprint("a", 1)
    assert cache.fetch("k", key, lambda: 41) == 41
    (entry,) = (tmp_path / "k").rglob("*.pkl")
    entry.write_bytes(b"not a pickle")
    assert cache.fetch("k", key, lambda: 42) == 42
    assert Cache(tmp_path).fetch("k", key, lambda: 0) == 42  # rewritten, atomically


def test_fingerprint_sees_values_types_and_order() -> None:
    assert fingerprint([1, 2]) != fingerprint([2, 1])
    assert fingerprint({"a": 1}) == fingerprint({"a": 1})
    assert fingerprint(np.zeros(3)) != fingerprint(np.zeros(4))
    assert fingerprint(ModelConfig()) != fingerprint(ModelConfig(C=1.0))


def test_topic_cv_is_cached_by_data_settings_and_folds(tmp_path: Path) -> None:
    from dataclasses import replace

    from honbun.evaluation.topics import TopicData, cross_validate, document_splits
    from honbun.features.lexicon import Lexicon
    from honbun.gold.dataset import load_topic_gold
    from honbun.topics.config import TopicConfig

    labels = load_labels(REPO / "data/labels.toml")
    gold = load_topic_gold(labels, REPO / "data/annotations/seeds")
    cfg = TopicConfig(min_positives=1)
    data = TopicData.of(gold, labels, cfg)
    lexicon = Lexicon.from_config(labels).words
    splits = document_splits(data, 2, 13)
    cache = Cache(tmp_path)
    first = cross_validate(data, cfg, lexicon, splits, "cv", jobs=1, cache=cache)
    again = cross_validate(data, cfg, lexicon, splits, "cv", jobs=1, cache=cache)
    assert (cache.hits, cache.misses) == (1, 1)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    # Another setting, another label or other folds: computed again.
    cross_validate(data, replace(cfg, C=1.0), lexicon, splits, "cv", jobs=1, cache=cache)
    data.Y[0, 0] = 1 - data.Y[0, 0]
    cross_validate(data, cfg, lexicon, splits, "cv", jobs=1, cache=cache)
    cross_validate(data, cfg, lexicon, splits[::-1], "cv", jobs=1, cache=cache)
    assert (cache.hits, cache.misses) == (1, 4)
    # The cue file is read by path: a changed file under the same path is another key.
    cues = tmp_path / "cues.toml"
    cues.write_text('[groups]\nmilitary = ["部隊"]\n', "utf-8")
    with_cues = replace(cfg, cues=str(cues))
    key = data.fingerprint(with_cues, lexicon)
    cues.write_text('[groups]\nmilitary = ["部隊", "兵士"]\n', "utf-8")
    assert data.fingerprint(with_cues, lexicon) != key
