"""The topic tagger: shapes, thresholds, lexicon column and cold-start fallback, roll-up."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from honbun.decision import TOPIC_THRESHOLDS as THRESHOLD_GRID
from honbun.features.text import TextItem, lexicon_hits
from honbun.topics.cold_start import LexiconRule
from honbun.topics.config import TopicConfig
from honbun.topics.model import TopicTagger, rollup, tuned_threshold

LABELS = ("deployment", "sanctions")
LEXICON = {"deployment": ["派遣", "派兵"], "sanctions": ["制裁"]}

# Military deployment vs the hard negative 派遣社員 (temp staff), plus filler.
POS = [
    "北朝鮮はロシアに部隊を派遣した。",
    "兵士約一万人が前線に派遣されたという。",
    "政府は追加の部隊派遣を否定した。",
    "特殊部隊がクルスク州に派兵された。",
    "工兵部隊の派遣も検討されている。",
    "派遣された部隊は訓練を終えた。",
]
NEG = [
    "派遣社員として働く人が増えている。",
    "人材派遣会社の売上が伸びた。",
    "派遣社員の待遇改善が課題だ。",
    "新しいスマートフォンが発売された。",
    "週末は晴れの予報です。",
    "野球の試合は雨で中止になった。",
    "株価は小幅に上昇した。",
    "映画の公開日が決まった。",
]
SANCTION_POS = ["米国は北朝鮮への制裁を強化した。", "国連の制裁決議に違反した。"]


def _data() -> tuple[list[TextItem], np.ndarray, np.ndarray]:
    texts = POS + NEG + SANCTION_POS
    y_dep = [1] * len(POS) + [0] * (len(NEG) + len(SANCTION_POS))
    y_san = [0] * (len(POS) + len(NEG)) + [1] * len(SANCTION_POS)
    Y = np.array([y_dep, y_san]).T
    groups = np.arange(len(texts)) // 2  # two sentences per "document"
    return [TextItem(t) for t in texts], Y, groups


@pytest.fixture(scope="module")
def tagger() -> TopicTagger:
    items, Y, groups = _data()
    return TopicTagger(TopicConfig(), LABELS, LEXICON).fit(items, Y, groups)


def test_shapes_and_thresholds(tagger: TopicTagger) -> None:
    items = [TextItem("部隊を派遣する。"), TextItem("天気が良い。"), TextItem("")]
    P = tagger.predict_proba(items)
    assert P.shape == (3, 2)
    assert ((P >= 0) & (P <= 1)).all()
    assert tagger.predict(items).shape == (3, 2)
    assert len(tagger.thresholds_) == 2
    assert all(THRESHOLD_GRID[0] <= t <= THRESHOLD_GRID[-1] for t in tagger.thresholds_)


def test_learned_label_separates_the_hard_negative(tagger: TopicTagger) -> None:
    # Both contain the lexicon word 派遣; only one is about troops.
    p = tagger.predict_proba(
        [TextItem("ロシアへの部隊派遣が続く。"), TextItem("派遣社員を募集する。")]
    )
    assert p[0, 0] > p[1, 0]


def test_rare_label_falls_back_to_its_lexicon(tagger: TopicTagger) -> None:
    # Two positives < min_positives (5): the sanctions model is the lexicon rule.
    rule = tagger.models_[1]
    assert isinstance(rule, LexiconRule)
    assert not isinstance(tagger.models_[0], LexiconRule)
    p = tagger.predict_proba([TextItem("ＥＵは経済制裁を決めた。"), TextItem("経済が回復した。")])
    assert p[0, 1] == pytest.approx(rule.hit)
    assert p[1, 1] == pytest.approx(rule.miss)
    assert tagger.predict([TextItem("制裁を科す。")])[0, 1] == 1
    expl = tagger.explain([TextItem("制裁を科す。")])[0]
    assert expl["sanctions"] == [("lex:sanctions", rule.hit)]


def test_explanations_of_a_batch_are_those_of_each_item_alone(tagger: TopicTagger) -> None:
    texts = ["ロシアへの部隊派遣が続く。", "", "制裁を科す。", "派遣社員を募集する。", "天気。"]
    together = tagger.explain([TextItem(t) for t in texts])
    assert together == [tagger.explain([TextItem(t)])[0] for t in texts]
    assert together[0]["deployment"]  # something to compare


def test_without_lexicon_features_a_rare_label_is_learned() -> None:
    items, Y, groups = _data()
    cfg = TopicConfig(lexicon_features=False)
    t = TopicTagger(cfg, LABELS, LEXICON).fit(items, Y, groups)
    assert not any(isinstance(m, LexiconRule) for m in t.models_)
    assert not any(n.startswith("lex:") for n in t.featurizer_.feature_names())


def test_lexicon_column_is_last_and_named(tagger: TopicTagger) -> None:
    names = tagger.featurizer_.feature_names()
    assert names[-2:] == ["lex:deployment", "lex:sanctions"]
    assert tagger.featurizer_.lexicon_column("sanctions") == len(names) - 1
    assert tagger.featurizer_.n_features() == len(names)


def test_lexicon_hits_normalise_full_width() -> None:
    X = lexicon_hits(
        ["ＥＵの制裁", "派遣社員", "なし"], {"s": ["制裁"], "d": ["派遣"], "x": ["ＥＵ"]}
    )
    assert X.toarray().tolist() == [[1, 0, 1], [0, 1, 0], [0, 0, 0]]


def test_tuned_threshold_maximises_f1() -> None:
    y = np.array([1, 1, 0, 0, 0])
    p = np.array([0.9, 0.6, 0.55, 0.2, 0.1])
    t = tuned_threshold(y, p)
    assert 0.55 < t <= 0.6
    assert tuned_threshold(np.zeros(3, int), p[:3]) == 0.5


def test_a_threshold_tolerance_takes_the_high_end_of_the_f1_plateau() -> None:
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    p = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1, 0.1, 0.1])
    # F1: 8/9 up to 0.20, 1.0 on (0.20, 0.30], 6/7 on (0.30, 0.70], 4/5 on (0.70, 0.80] …
    assert tuned_threshold(y, p) == 0.21  # the lowest best
    assert tuned_threshold(y, p, 0.001) == 0.3  # the highest of the exact plateau
    assert tuned_threshold(y, p, 0.15) == 0.7  # 6/7 is within 0.15 of 1.0; 4/5 is not


def test_rollup_is_the_max_per_owner() -> None:
    P = np.array([[0.1, 0.9], [0.7, 0.2], [0.3, 0.3]])
    out = rollup(P, [0, 0, 1])
    assert out[0].tolist() == [0.7, 0.9]
    assert out[1].tolist() == [0.3, 0.3]


def test_lexicon_fired_equals_labels_one_by_one() -> None:
    from honbun.features.lexicon import Lexicon

    lex = Lexicon.normalised({"deployment": ["派兵", "部隊"], "sanctions": ["制裁"], "none": []})
    texts = ["北朝鮮が派兵、部隊を", "", "制裁を科す", "派", "兵", "ＵＮ制裁", "部隊派兵と制裁"]
    assert lex.fired(texts) == [set(lex.labels(t)) for t in texts]
    assert lex.fired(texts)[:4] == [{"deployment"}, set(), {"sanctions"}, set()]
    assert lex.fired(["派\x00兵", "制裁"]) == [set(), {"sanctions"}]  # a text with the separator


def test_second_stage_reads_only_documents_that_reach_the_gate() -> None:
    items, Y, groups = _data()
    open_all = TopicTagger(TopicConfig(stack=True), LABELS, LEXICON).fit(items, Y, groups)
    scorer = open_all.scorer()
    assert scorer.stage2, "the learned label has a second stage"
    test = [
        TextItem("北朝鮮は部隊をロシアに派遣した。"),  # document 0: military deployment
        TextItem("派遣された兵士は前線にいる。"),
        TextItem("週末は晴れの予報です。"),  # document 1: nothing of the kind
        TextItem("映画の公開日が決まった。"),
    ]
    g = np.array([0, 0, 1, 1])
    stage1 = scorer.stage1_proba(test)
    full = scorer.predict_proba(test, g)
    learned = sorted(scorer.stage2)
    doc_top = [stage1[g == d][:, learned].max() for d in (0, 1)]
    gate = (doc_top[0] + doc_top[1]) / 2  # opens document 0 only
    assert doc_top[1] < gate <= doc_top[0]
    gated_scorer = dataclasses.replace(scorer, cfg=dataclasses.replace(scorer.cfg, stack_gate=gate))
    gated = gated_scorer.predict_proba(test, g)
    np.testing.assert_allclose(gated[:2], full[:2])  # the open document: as without a gate
    np.testing.assert_allclose(gated[2:], stage1[2:])  # the closed one keeps stage 1's
    assert not np.allclose(full[2:, learned], stage1[2:, learned])  # the gate did something


def test_a_bagged_second_stage_scores_as_its_members_mean() -> None:
    from honbun.decision import calibrate, expit
    from honbun.trees import BaggedHGB, export_forest

    items, Y, groups = _data()
    tagger = TopicTagger(TopicConfig(stack=True, stack_bags=3), LABELS, LEXICON).fit(
        items, Y, groups
    )
    k = sorted(tagger.stage2_)[0]
    bagged = tagger.stage2_[k]
    assert isinstance(bagged, BaggedHGB) and len(bagged.members_) == 3
    test = [TextItem("北朝鮮は部隊をロシアに派遣した。"), TextItem("派遣社員の募集。")]
    g = np.array([0, 1])
    scorer = tagger.scorer()
    D = tagger.stage2_design(test, scorer.stage1_proba(test), g)
    mean = np.mean([export_forest(m).raw(D) for m in bagged.members_], axis=0)
    want = calibrate(expit(mean), *tagger.calibration_[k])
    np.testing.assert_allclose(scorer.predict_proba(test, g)[:, k], want, atol=1e-12)


def test_document_design_reads_each_sentence_in_its_document() -> None:
    from honbun.topics.context import NO_NEIGHBOUR, document_design

    scores = np.array([[0.9], [0.1], [0.3], [0.5]])  # K = 1 label
    hits = np.array([[1], [0], [0], [1]])
    groups = np.array([7, 7, 7, 8])  # a document of three sentences, then one of one
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [3.0, 4.0]])  # d = 2
    D = document_design(scores, hits, groups, vectors)
    assert D.shape == (4, 8 + 3 + 3 * 2)  # 8K + 3 + 3d
    prev, nxt, doc_max, doc_mean, others_max = (D[:, i] for i in range(1, 6))
    np.testing.assert_allclose(prev, [NO_NEIGHBOUR, 0.9, 0.1, NO_NEIGHBOUR])
    np.testing.assert_allclose(nxt, [0.1, 0.3, NO_NEIGHBOUR, NO_NEIGHBOUR])
    np.testing.assert_allclose(doc_max, [0.9, 0.9, 0.9, 0.5])
    np.testing.assert_allclose(doc_mean, [13 / 30, 13 / 30, 13 / 30, 0.5], rtol=1e-6)
    np.testing.assert_allclose(others_max, [0.3, 0.9, 0.9, NO_NEIGHBOUR])
    np.testing.assert_allclose(D[:, 7], [1 / 3, 1 / 3, 1 / 3, 1.0], rtol=1e-6)  # density
    doc_vec = D[:, -2:]
    np.testing.assert_allclose(doc_vec[0], np.array([1.0, 2.0]) / np.sqrt(5), rtol=1e-6)
    np.testing.assert_allclose(doc_vec[3], [0.6, 0.8], rtol=1e-6)
    # Without the document's vector: the same columns, less the last d.
    D2 = document_design(scores, hits, groups, vectors, document_vector=False)
    np.testing.assert_array_equal(D2, D[:, :-2])
    # With word-group cues (G = 2): their hits, then each document's share, appended.
    cues = np.array([[1, 0], [0, 0], [1, 1], [0, 1]])
    D3 = document_design(scores, hits, groups, vectors, cues=cues)
    assert D3.shape == (4, 8 + 3 + 3 * 2 + 2 * 2)  # 8K + 3 + 3d + 2G
    np.testing.assert_array_equal(D3[:, : D.shape[1]], D)
    np.testing.assert_array_equal(D3[:, -4:-2], cues)
    np.testing.assert_allclose(D3[:, -2:], [[2 / 3, 1 / 3]] * 3 + [[0, 1]], rtol=1e-6)


def test_second_stage_reads_the_cue_groups_in_training_and_scoring(tmp_path) -> None:
    from honbun.features.lexicon import read_word_groups

    path = tmp_path / "cues.toml"
    path.write_text('[groups]\nmilitary = ["部隊", "兵士"]\ncivilian = ["社員", "人材"]\n', "utf-8")
    items, Y, groups = _data()
    cfg = TopicConfig(stack=True, cues=str(path))
    tagger = TopicTagger(cfg, LABELS, LEXICON).fit(items, Y, groups)
    scorer = tagger.scorer()
    assert scorer.cue_words == {"military": ["部隊", "兵士"], "civilian": ["社員", "人材"]}
    test = [TextItem("北朝鮮は部隊を派遣した。"), TextItem("派遣社員の募集。")]
    g = np.array([0, 1])
    # The export builds the same design as the tagger: the cue columns included.
    D = tagger.stage2_design(test, scorer.stage1_proba(test), g)
    assert D.shape[1] == 8 * 2 + 3 + 2 * 2  # no vectors: 8K + 3 + 2G
    np.testing.assert_array_equal(D[:, -4:-2], [[1, 0], [0, 1]])
    rows_as_scored = scorer.predict_proba(test, g)
    k = sorted(scorer.stage2)[0]
    want = scorer.calibration[k]
    from honbun.decision import calibrate

    np.testing.assert_allclose(
        rows_as_scored[:, k], calibrate(scorer.stage2[k].predict_proba(D)[:, 1], *want)
    )
    bad = tmp_path / "bad.toml"
    bad.write_text("military = 1\n", "utf-8")
    with pytest.raises(ValueError, match=r"bad\.toml"):
        read_word_groups(bad)
