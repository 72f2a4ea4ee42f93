"""The annotation loop's ranking (honbun.gold.suggest): least sure first, at most
``per_doc`` per document, ties in a seeded random order, a cold label's lexicon first."""

from __future__ import annotations

import numpy as np

from honbun.gold.suggest import lexicon_first, rank, uncertainty


def test_rank_orders_by_doubt() -> None:
    doubt = np.array([0.4, 0.1, 0.3, 0.0, 0.2])
    assert rank(doubt, ["a", "b", "c", "d", "e"], n=5, per_doc=2, seed=0) == [3, 1, 4, 2, 0]


def test_rank_caps_each_document_and_fills_from_the_next() -> None:
    doubt = np.array([0.0, 0.1, 0.2, 0.3, 0.9, 0.8])
    docs = ["a", "a", "a", "a", "b", "c"]
    picked = rank(doubt, docs, n=4, per_doc=2, seed=0)
    assert picked == [0, 1, 5, 4]  # the third and fourth of "a" wait for another batch
    assert rank(doubt, docs, n=10, per_doc=1, seed=0) == [0, 5, 4]  # fewer than n: all allowed


def test_rank_stops_at_n() -> None:
    doubt = np.arange(10, dtype=float)
    assert rank(doubt, [str(i) for i in range(10)], n=3) == [0, 1, 2]
    assert rank(doubt, [str(i) for i in range(10)], n=0) == []


def test_rank_breaks_ties_by_seed_reproducibly() -> None:
    doubt = np.zeros(50)
    docs = [str(i) for i in range(50)]
    a = rank(doubt, docs, n=10, seed=1)
    assert a == rank(doubt, docs, n=10, seed=1)  # the same seed, the same batch
    assert a != rank(doubt, docs, n=10, seed=2)  # another seed, another batch
    assert a != list(range(10))  # shuffled, not the pool's order
    # A tie never jumps ahead of a less doubtful candidate.
    doubt[:5] = -1.0
    assert sorted(rank(doubt, docs, n=5, seed=1)) == [0, 1, 2, 3, 4]


def test_uncertainty_is_the_least_sure_label() -> None:
    P = np.array([[0.9, 0.52], [0.1, 0.2], [0.45, 0.99]])
    d = uncertainty(P, np.array([0.5, 0.3]))
    np.testing.assert_allclose(d, [0.22, 0.1, 0.05])
    assert uncertainty(np.zeros((3, 0)), np.zeros(0)).tolist() == [0.0, 0.0, 0.0]


def test_lexicon_hits_come_before_any_scored_candidate() -> None:
    doubt = lexicon_first(np.array([0.0, 0.3, 0.01]), np.array([False, True, False]))
    assert rank(doubt, ["a", "b", "c"], n=1) == [1]
