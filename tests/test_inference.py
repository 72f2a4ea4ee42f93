"""The numpy exports that scoring runs agree with the scikit-learn estimators they came from;
feature hashing and token cutting behave."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from honbun.boilerplate.config import ModelConfig
from honbun.boilerplate.export import export_linear
from honbun.boilerplate.model import BlockModel
from honbun.boilerplate.roles import export_role_model
from honbun.features.hashing import codepoints, ngram_counts, ngram_keys
from honbun.features.prepared import prepare
from honbun.features.text import TextItem, page_items, prepare_items
from honbun.read.tokens import block_tokens, cut_tokens, tokenize
from honbun.topics.config import TopicConfig
from honbun.topics.model import TopicTagger
from honbun.trees import BaggedHGB, Forest, QuantizedHGB, export_forest

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ hashing
def test_ngram_counts_never_span_rows_and_count_every_ngram() -> None:
    seqs = [codepoints("北朝鮮"), codepoints(""), codepoints("ロシア軍"), codepoints("x")]
    rows, cols, counts = ngram_counts(seqs, (2, 3), bits=12, salt=1)
    # 北朝鮮: 2 bigrams + 1 trigram; ロシア軍: 3 + 2; "" and "x": none.
    assert np.bincount(rows, weights=counts, minlength=4).tolist() == [3, 0, 5, 0]
    assert cols.min() >= 0 and cols.max() < 2**12
    # The same n-gram hashes the same in every row; another salt hashes differently.
    _, k1 = ngram_keys([codepoints("朝鮮")], (2, 2), salt=1)
    _, k2 = ngram_keys([codepoints("北朝鮮")], (2, 2), salt=1)
    _, k3 = ngram_keys([codepoints("朝鮮")], (2, 2), salt=2)
    assert k1[0] == k2[1] and k1[0] != k3[0]


def test_cut_tokens_follow_sentence_spans() -> None:
    text = "北朝鮮が部隊を派遣した。ロシアは否定した！ 次の文"
    toks = block_tokens(text)
    spans = [(0, 12), (12, 21), (22, len(text))]
    cut = cut_tokens(text, toks, spans)
    assert cut is not None
    assert [t for part in cut for t in part] == [t for t in toks if t.surface != " "]
    assert "".join(t.surface for t in cut[0]) == "北朝鮮が部隊を派遣した。"
    assert [t.surface for t in cut[1]] == [t.surface for t in tokenize("ロシアは否定した！")]
    assert cut_tokens("abc", tokenize("xyz"), [(0, 3)]) is None  # surfaces not in the text


# ------------------------------------------------------------------ block model
@pytest.fixture(scope="module")
def block_model(pages_and_labels):
    pages, labels = pages_and_labels
    return BlockModel(ModelConfig(hgb_max_iter=30)).fit(pages[:-3], labels[:-3])


@pytest.fixture(scope="module")
def pages_and_labels():
    from honbun.gold.dataset import load_block_gold
    from honbun.labels import load_labels

    gold = [
        g
        for g in load_block_gold(load_labels(ROOT / "data/labels.toml"), ROOT / "data/annotations")
        if g.page.format == "html"
    ]
    by_site: dict[str, list] = {}
    for g in gold:
        by_site.setdefault(g.site, []).append(g)
    chosen = [gs[0] for gs in list(by_site.values())[:9]]  # 9 pages, 9 sites
    cfg = ModelConfig()
    return [prepare(g.page, cfg.features, g.site) for g in chosen], [g.y for g in chosen]


def test_forest_equals_histgradientboosting() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 6))
    X[rng.random(X.shape) < 0.1] = np.nan
    X[:, 5] = np.nan  # a column NaN everywhere is dropped, as QuantizedHGB does
    y = (np.nan_to_num(X[:, 0]) + 0.5 * np.nan_to_num(X[:, 1]) > 0).astype(int)
    q = QuantizedHGB(max_bins=15, max_iter=40, max_leaf_nodes=15).fit(X, y)
    X_new = rng.normal(size=(200, 6))
    X_new[rng.random(X_new.shape) < 0.2] = np.nan
    forest = export_forest(q)
    np.testing.assert_allclose(forest.predict_proba(X_new), q.predict_proba(X_new), atol=1e-12)
    X_new[:3, :2] = [[np.inf, -np.inf], [1e300, np.nan], [-1e300, np.inf]]  # the +inf path
    np.testing.assert_allclose(forest.predict_proba(X_new), q.predict_proba(X_new), atol=1e-12)
    assert pickle.loads(pickle.dumps(forest))._walk is None  # derived arrays are not stored
    with pytest.raises(ValueError, match="columns"):  # too few columns: an error, not garbage
        forest.raw(X_new[:, : int(forest.feature.max())])


def test_bagged_trees_average_the_log_odds_of_fits_on_whole_documents(monkeypatch) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 5))
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (np.nan_to_num(X[:, 0]) - np.nan_to_num(X[:, 2]) > 0).astype(int)
    docs = np.repeat(np.arange(60), 10)
    params = dict(max_bins=15, max_iter=30, max_leaf_nodes=7)
    one = BaggedHGB(n_bags=1, **params).fit(X, y, groups=docs)
    plain = QuantizedHGB(**params).fit(X, y)  # one bag: every row, bit for bit
    np.testing.assert_array_equal(one.predict_proba(X), plain.predict_proba(X))

    fitted_on: list[np.ndarray] = []  # the rows each member was fitted on
    real_fit = QuantizedHGB.fit
    monkeypatch.setattr(
        QuantizedHGB, "fit", lambda m, Xb, *a, **k: fitted_on.append(Xb) or real_fit(m, Xb, *a, **k)
    )
    bagged = BaggedHGB(n_bags=4, share=0.5, random_state=3, **params).fit(X, y, groups=docs)
    assert len(bagged.members_) == len(fitted_on) == 4
    for Xb in fitted_on:  # half the documents, each whole
        rows = np.flatnonzero(
            (np.nan_to_num(X[:, None, :], nan=9) == np.nan_to_num(Xb, nan=9)).all(-1).any(1)
        )
        assert len(rows) == len(Xb) == 300
        assert set(np.bincount(docs[rows]).tolist()) <= {0, 10}
    X_new = rng.normal(size=(200, 5))
    X_new[rng.random(X_new.shape) < 0.2] = np.nan
    raws = [export_forest(m).raw(X_new) for m in bagged.members_]
    assert not np.allclose(raws[0], raws[1])  # the bags drew different documents
    np.testing.assert_allclose(bagged.forest().raw(X_new), np.mean(raws, axis=0), atol=1e-12)
    p = bagged.predict_proba(X_new)[:, 1]
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-np.mean(raws, axis=0))), atol=1e-12)
    single = export_forest(plain)
    assert Forest.mean([single]) is single


def test_linear_stage1_equals_sgd(block_model: BlockModel, pages_and_labels) -> None:
    pages = pages_and_labels[0][-3:]
    m = block_model
    dense = m._dense(pages, training=False)
    sgd = m.stage1_[0][0]
    want = sgd.predict_proba(m._linear_X(pages, dense))
    got = export_linear(m, sgd, dense.shape[1]).predict_proba(pages, dense)
    np.testing.assert_allclose(got, want, atol=1e-5)  # float32 features on both sides


def test_block_model_predicts_through_its_export(block_model: BlockModel, pages_and_labels) -> None:
    pages = pages_and_labels[0][-3:]
    proba = block_model.predict_proba(pages)
    assert [len(p) for p in proba] == [p.n for p in pages]
    assert all(np.all((p >= 0) & (p <= 1)) for p in proba)
    dense = block_model._dense(pages, training=False)
    X2 = block_model._stack_X(pages, dense, np.zeros((len(dense), 1)))
    forest = block_model.scorer().stage2[0]
    np.testing.assert_allclose(
        forest.predict_proba(X2), block_model.stage2_[0].predict_proba(X2), atol=1e-12
    )


def _no_rules() -> dict[str, dict[str, bool]]:
    """ModelConfig settings that switch every decision rule off (the models' own output)."""
    from honbun.boilerplate.rules import RULE_NAMES

    return {"rules": dict.fromkeys(RULE_NAMES, False)}


def test_blend_averages_a_plain_hgb_into_the_stacked_probabilities(pages_and_labels) -> None:
    import dataclasses

    pages, labels = pages_and_labels
    cfg = ModelConfig(hgb_max_iter=30, blend_hgb=0.25, **_no_rules())
    model = BlockModel(cfg).fit(pages[:-3], labels[:-3])
    scorer = model.scorer()
    assert scorer.blend is not None
    test = pages[-3:]
    stacked = np.concatenate(dataclasses.replace(scorer, blend=None).predict_proba(test))
    dense = model._dense(test, training=False)
    plain = model.blend_.predict_proba(dense)[:, 1]
    got = np.concatenate(scorer.predict_proba(test))
    np.testing.assert_allclose(got, 0.75 * stacked + 0.25 * plain, atol=1e-9)
    assert not np.allclose(got, stacked)
    assert (
        BlockModel(ModelConfig(hgb_max_iter=30)).fit(pages[:4], labels[:4]).scorer().blend is None
    )
    with pytest.raises(ValueError, match="blend_hgb"):
        ModelConfig.from_dict({"blend_hgb": 1.0})


def test_a_second_stacking_round_reads_the_scores_of_both_earlier_stages(
    pages_and_labels,
) -> None:
    from honbun.boilerplate.export import stage1_scores
    from honbun.decision import rescale

    pages, labels = pages_and_labels
    model = BlockModel(ModelConfig(hgb_max_iter=30, stack_rounds=2, **_no_rules()))
    model.fit(pages[:-3], labels[:-3])
    assert len(model.rounds_) == 1 and len(model.scorer().rounds or []) == 1
    # By hand: stage 1, the first round over its scores, the last over both (latest first).
    test = pages[-3:]
    dense = model._dense(test, training=False)
    s1 = stage1_scores(model.scorer().stage1, test, dense)
    first = model.rounds_[0][0].predict_proba(model._stack_X(test, dense, s1))[:, 1]
    X = model._stack_X(test, dense, np.column_stack([first, s1]))
    want = rescale(model.stage2_[0].predict_proba(X)[:, 1], model.threshold_)
    np.testing.assert_allclose(np.concatenate(model.predict_proba(test)), want, atol=1e-9)
    one = BlockModel(ModelConfig(hgb_max_iter=30)).fit(pages[:4], labels[:4])
    assert one.rounds_ == [] and one.scorer().rounds is None  # one round: the usual model
    with pytest.raises(ValueError, match="stack_rounds"):
        ModelConfig.from_dict({"stack_rounds": 0})


def test_stack_variants_average_stacks_fitted_on_their_own_site_folds(pages_and_labels) -> None:
    pages, labels = pages_and_labels
    train, test = pages[:-3], pages[-3:]
    base = {"hgb_max_iter": 20, **_no_rules()}
    cfg = ModelConfig.from_dict({**base, "stack_variants": [[2, 2], [1, 3]]})
    assert cfg.stack_variants == ((2, 2), (1, 3))
    model = BlockModel(cfg).fit(train, labels[:-3])
    assert len(model.variants_) == 2 and len(model.scorer().variants or []) == 2
    # Each stack is the model those settings give alone (stage 1 is the same in all).
    alone = [
        BlockModel(ModelConfig(**base, stack_rounds=r, inner_folds=k)).fit(train, labels[:-3])
        for r, k in [(1, 3), (2, 2), (1, 3)]
    ]
    want = np.mean([np.concatenate(m.predict_proba(test)) for m in alone], axis=0)
    np.testing.assert_allclose(np.concatenate(model.predict_proba(test)), want, atol=1e-12)
    assert BlockModel(ModelConfig(**base)).fit(train, labels[:-3]).scorer().variants is None
    for bad in ([[0, 3]], [[1, 1]], [[1]]):
        with pytest.raises(ValueError, match="stack_variants"):
            ModelConfig.from_dict({"stack_variants": bad})
    with pytest.raises(ValueError, match="refit"):
        ModelConfig.from_dict({"stack_variants": [[1, 3]], "refit": False})


def test_stacks_on_the_same_site_folds_fit_their_shared_rounds_once(
    pages_and_labels, monkeypatch
) -> None:
    from honbun.trees import QuantizedHGB

    pages, labels = pages_and_labels
    fits = []
    real_fit = QuantizedHGB.fit
    monkeypatch.setattr(
        QuantizedHGB, "fit", lambda m, *a, **k: fits.append(1) or real_fit(m, *a, **k)
    )

    def n_fits(**cfg: object) -> int:
        fits.clear()
        BlockModel(ModelConfig.from_dict({"hgb_max_iter": 5, **cfg})).fit(pages[:-3], labels[:-3])
        return len(fits)

    # [2, 3]'s first round is the [1, 3] stack's only round: the pair costs what [2, 3]
    # costs alone. A stack on other folds ([1, 4]) shares nothing.
    two = n_fits(stack_rounds=2)
    assert n_fits(stack_variants=[[2, 3]]) == two
    assert n_fits(stack_variants=[[2, 3], [1, 4]]) == two + n_fits(inner_folds=4)


def test_scoring_runs_a_round_that_stacks_share_once(pages_and_labels, monkeypatch) -> None:
    import dataclasses
    import pickle

    from honbun.boilerplate import export as inference
    from honbun.boilerplate.export import BlockScorer

    pages, labels = pages_and_labels
    cfg = ModelConfig.from_dict(
        {"hgb_max_iter": 20, **_no_rules(), "stack_variants": [[2, 3], [1, 2]]}
    )
    scorer = pickle.loads(pickle.dumps(BlockModel(cfg).fit(pages[:-3], labels[:-3]).scorer()))
    rounds = (scorer.variants or [])[0][0]
    assert rounds[0][0] is scorer.stage2[0]  # the [1, 3] stack is [2, 3]'s first round
    runs, designs = [], []
    real, design = BlockScorer._boosted, inference.stage2_design
    monkeypatch.setattr(BlockScorer, "_boosted", lambda *a: runs.append(1) or real(*a))
    monkeypatch.setattr(inference, "stage2_design", lambda *a: designs.append(1) or design(*a))
    got = np.concatenate(scorer.predict_proba(pages[-3:]))
    # Rounds: [1, 3], [2, 3]'s second and [1, 2]'s (not 4: the shared round runs once).
    # Designs: one over stage 1's scores, read by all three first rounds, and one over
    # [2, 3]'s first round's scores.
    assert (len(runs), len(designs)) == (3, 2)
    # The same probabilities as with the first round exported (and run) twice.
    copy = pickle.loads(pickle.dumps(rounds))
    variants = scorer.variants or []
    unshared = dataclasses.replace(scorer, variants=[(copy, *variants[0][1:]), variants[1]])
    np.testing.assert_allclose(np.concatenate(unshared.predict_proba(pages[-3:])), got, atol=0)
    assert (len(runs), len(designs)) == (7, 4)


def test_inner_folds_sets_how_many_site_folds_the_stages_learn_from(pages_and_labels) -> None:
    pages, labels = pages_and_labels
    for k in (2, 4):
        cfg = ModelConfig(hgb_max_iter=10, refit=False, inner_folds=k)
        model = BlockModel(cfg).fit(pages[:6], labels[:6])  # 6 pages of 6 sites
        assert len(model.stage1_) == len(model.stage2_) == k  # one model per fold
    with pytest.raises(ValueError, match="inner_folds"):
        ModelConfig.from_dict({"inner_folds": 1})


def _logreg(pages_and_labels, **kw: object) -> BlockModel:
    """The ``logreg`` model fitted on the first four pages; its linear model is
    ``.stage1_[0][0]``."""
    pages, labels = pages_and_labels
    return BlockModel(ModelConfig(model="logreg", **kw)).fit(pages[:4], labels[:4])


def test_linear_model_averages_the_weights_of_its_seeds(pages_and_labels) -> None:
    def sgd(**kw: int):
        return _logreg(pages_and_labels, **kw).stage1_[0][0]

    one, other, both = sgd(seed=13), sgd(seed=14), sgd(seed=13, linear_seeds=2)
    assert not np.allclose(one.coef_, other.coef_)  # the seed does move the weights
    np.testing.assert_allclose(both.coef_, (one.coef_ + other.coef_) / 2, rtol=1e-12)
    np.testing.assert_allclose(both.intercept_, (one.intercept_ + other.intercept_) / 2)
    with pytest.raises(ValueError, match="linear_seeds"):
        ModelConfig.from_dict({"linear_seeds": 0})


def test_exact_linear_solver_is_seed_free_and_minimises_the_same_loss(pages_and_labels) -> None:
    model = _logreg(pages_and_labels, linear_solver="lbfgs", seed=13)
    exact = model.stage1_[0][0]
    again = _logreg(pages_and_labels, linear_solver="lbfgs", seed=14).stage1_[0][0]
    sgd = _logreg(pages_and_labels, seed=13).stage1_[0][0]
    np.testing.assert_array_equal(exact.coef_, again.coef_)
    pages, labels = pages_and_labels[0][:4], pages_and_labels[1][:4]
    X = model._linear_X(pages, model._dense(pages, training=False))
    y = np.concatenate(labels).astype(int)
    weight = np.where(y == 1, len(y) / (2 * y.sum()), len(y) / (2 * (len(y) - y.sum())))

    def loss(m: object) -> float:  # class-weighted log loss + ||w||^2 / 2C, as both solve
        z = X @ np.ravel(m.coef_) + m.intercept_[0]
        w = np.ravel(m.coef_)
        return float(weight @ np.logaddexp(0, -(2 * y - 1) * z) + w @ w / (2 * model.cfg.C))

    assert loss(exact) < loss(sgd)
    with pytest.raises(ValueError, match="linear_solver"):
        ModelConfig.from_dict({"linear_solver": "newton"})
    with pytest.raises(ValueError, match="linear_seeds"):  # one exact optimum: nothing to average
        ModelConfig.from_dict({"linear_solver": "lbfgs", "linear_seeds": 3})


def test_pages_scored_alone_in_a_batch_get_their_own_probabilities(
    block_model: BlockModel, pages_and_labels
) -> None:
    pages = pages_and_labels[0]
    scorer = block_model.scorer()
    alone = [scorer.predict_proba([p])[0] for p in pages]
    batch = scorer.predict_proba(pages, alone=True)
    assert all(np.array_equal(a, b) for a, b in zip(alone, batch, strict=True))  # same bits


def test_a_batch_hashed_in_one_pass_equals_its_pages_hashed_alone(pages_and_labels) -> None:
    from honbun.features.prepared import stacked_counts

    pages = pages_and_labels[0][:4]
    cfg = ModelConfig()
    lazy = [prepare(p.page, cfg.features, p.site, hashed=False) for p in pages]
    assert all(p.hashed is None for p in lazy)
    batch, alone = stacked_counts(lazy), stacked_counts(pages)
    # the same triples, and within each block in the same order (sums see the same order)
    by_row = [np.argsort(t[0], kind="stable") for t in (batch, alone)]
    for a, b in zip(batch, alone, strict=True):
        assert np.array_equal(a[by_row[0]], b[by_row[1]])


def test_role_scorer_equals_pipeline(block_model: BlockModel, pages_and_labels) -> None:
    from honbun.boilerplate.roles import RoleModel

    pages, labels = pages_and_labels
    roles = [["paragraph" if y else "navigation" for y in ys] for ys in labels]
    roles[0][0] = "title"
    p_body = [y.astype(float) for y in labels]
    rm = RoleModel({"paragraph": "body", "title": "body", "navigation": "boilerplate"})
    rm.fit(pages, roles, p_body)
    X = rm._X(pages, p_body)
    scorer = export_role_model(rm.role_labels, rm.model_)
    np.testing.assert_allclose(scorer.predict_proba(X), rm.model_.predict_proba(X), atol=1e-12)
    rows = [rm._X([p], [y]) for p, y in zip(pages, p_body, strict=True)]
    one_by_one = np.vstack([scorer.predict_proba(r) for r in rows])
    assert np.array_equal(scorer.predict_proba(X), one_by_one)  # row by row: no batch effect
    out = rm.predict(pages, p_body, labels, "body", "boilerplate")
    for page_roles, ys in zip(out, labels, strict=True):  # a role never contradicts its label
        assert all((r != "navigation") == bool(y) for r, y in zip(page_roles, ys, strict=True))


# ------------------------------------------------------------------ topics
def test_key_table_finds_exactly_the_keys_it_holds() -> None:
    from honbun.topics.export import KeyTable

    rng = np.random.default_rng(0)
    keys = np.unique(rng.integers(1, 2**63, 3000, dtype=np.int64).astype(np.uint64))
    keys = np.concatenate([keys, [np.uint64(0)]])  # 0: the key an empty slot holds
    cols = rng.permutation(len(keys))
    table = KeyTable.build(keys, cols)
    # Keys that share a home slot (long probe runs) and keys the table does not hold.
    queries = np.concatenate([keys, keys[::7], rng.integers(1, 2**63, 5000).astype(np.uint64)])
    at, found = table.find(queries)
    want = dict(zip(keys.tolist(), cols.tolist(), strict=True))
    expect = {i: want[q] for i, q in enumerate(queries.tolist()) if q in want}
    assert dict(zip(at.tolist(), found.tolist(), strict=True)) == expect
    assert len(at) == len(expect)  # each found once
    empty = KeyTable.build(np.zeros(0, np.uint64), np.zeros(0, np.int64))
    assert len(empty.find(queries)[0]) == 0


@pytest.mark.parametrize("model", ["logreg", "svm"])
def test_topic_scorer_equals_sklearn(model: str) -> None:
    from test_topics import LABELS, LEXICON, _data

    items, Y, groups = _data()
    cfg = TopicConfig(model=model)  # deployment is learned, sanctions (2 examples) a rule
    tagger = TopicTagger(cfg, LABELS, LEXICON).fit(items, Y, groups)
    new = [
        TextItem("ロシアに部隊を派遣した。", "北朝鮮は 否定した"),
        TextItem("派遣社員の募集。"),
        TextItem(""),
    ]
    want = tagger._proba(
        tagger.models_, tagger.featurizer_.transform(prepare_items(new, cfg.stop_pos, cfg.context))
    )
    np.testing.assert_allclose(tagger.predict_proba(new), want, atol=1e-12)
    assert want[0, 0] > want[1, 0]
    again = pickle.loads(pickle.dumps(tagger.scorer()))  # as scoring.pkl stores it
    np.testing.assert_allclose(again.predict_proba(new), want, atol=1e-12)


# ------------------------------------------------------------------ loading
def test_scoring_does_not_import_scikit_learn(block_model: BlockModel, tmp_path: Path) -> None:
    from honbun.labels import load_labels
    from honbun.scoring.bundle import BUNDLE_FORMAT, ModelBundle, label_signature, versions

    labels = load_labels(ROOT / "data/labels.toml")
    card = {"format": BUNDLE_FORMAT, "versions": versions(), "labels": label_signature(labels)}
    bundle = ModelBundle(
        "m", labels, block_model.cfg, block_model, block_model.cfg, block_model, card=card
    )
    path = bundle.save(tmp_path, "")
    code = (
        "import sys, honbun; m = honbun.load_model(sys.argv[1]);"
        "r = m.score(sys.argv[2]); assert r['body_text'], r;"
        "print(sorted(x for x in ('sklearn', 'scipy', 'pandas') if x in sys.modules))"
    )
    seed = str(ROOT / "seeds/000_8bf9058727bca4c6.txt")
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), seed], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_page_items_prefill_equals_prepare_items() -> None:
    from honbun.read.files import load_page

    page = load_page(ROOT / "seeds/000_8bf9058727bca4c6.txt")
    sents = page.sentences[:40]
    cfg = TopicConfig()
    filled = page_items(page, sents, cfg.stop_pos)
    plain = prepare_items(page_items(page, sents), cfg.stop_pos, cfg.context)
    assert [(a.lemmas, a.context_lemmas) for a in filled] == [
        (b.lemmas, b.context_lemmas) for b in plain
    ]
    assert any(a.context_lemmas for a in filled)


def test_the_scorer_reads_word_lists_as_training_reads_their_strings() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from honbun.topics.export import export_vocabulary

    # UniDic's lemma of パソコン is "パソコン-personal computer": one token, two words, and
    # each word of the context carries the ctx: prefix (the strings once left "computer" bare).
    assert tokenize("パソコン")[0].words == ("パソコン-personal", "computer")
    cfg = TopicConfig()
    items = prepare_items(
        [
            TextItem("パソコンで部隊の派遣を調べた。", "新しいパソコンを買った。 部隊が動いた。"),
            TextItem("部隊を派遣した。"),  # no context: the vectorizer reads "ctx:"
            TextItem(""),
        ],
        cfg.stop_pos,
        context=True,
    )
    assert items[0].lemmas.split() == items[0].words
    assert "ctx:computer" in items[0].context_lemmas.split()
    for field, attr, strings in (
        ("lemmas", "words", [it.lemmas for it in items]),
        ("context_lemmas", "context_words", [it.context_lemmas or "ctx:" for it in items]),
    ):
        vec = TfidfVectorizer(
            tokenizer=str.split, token_pattern=None, lowercase=False, ngram_range=(1, 2),
            sublinear_tf=True,
        ).fit(strings)  # fmt: skip
        voc = export_vocabulary(vec, field)
        lists = [getattr(it, attr) or ([""] if field == "context_lemmas" else []) for it in items]
        got = voc.rows_of_words(lists)
        want = vec.transform(strings).tocoo()
        dense = np.zeros(want.shape)
        dense[got[0], got[1]] = got[2]
        np.testing.assert_allclose(dense, want.toarray(), atol=1e-12)


# ------------------------------------------------------------------ site context
def _site_page(tmp_path: Path, name: str, host: str, text: str):
    from honbun.read.files import load_page

    html = (
        f"<html><head><title>{name}</title><link rel='canonical' href='https://{host}/{name}'>"
        "</head><body><div class='notice'><p>会員登録で全ての記事が読めます。</p></div>"
        f"<article><p>{text}</p></article></body></html>"
    )
    path = tmp_path / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    return load_page(path)


@pytest.mark.parametrize(
    ("meta", "site"),
    [
        ({"site": "nhk.or.jp", "url": "https://www3.nhk.or.jp/x"}, "nhk.or.jp"),
        ({"url": "https://WWW.Asahi.com/articles/1.html"}, "asahi.com"),
        ({"url": "/articles/1.html"}, ""),  # a relative canonical names no host
        ({"url": "http://[::1"}, ""),  # malformed
        ({}, ""),
    ],
)
def test_site_of_a_page(meta: dict, site: str) -> None:
    from honbun.read.page import Page
    from honbun.read.sites import site_of

    assert site_of(Page("d", "s", "html", "", [], meta)) == site


def test_scoring_a_page_alone_counts_its_sites_training_pages(
    block_model: BlockModel, pages_and_labels, tmp_path: Path
) -> None:
    """Training keys a site by its host without www. (the annotation header's site); a
    page scored alone is keyed the same way from its canonical URL, so the repetition
    feature counts the training pages of its site. (It was keyed "" before: the trained
    counts of a site never applied to a page scored alone, nor, for a www. host, with
    --site-context.)"""
    from honbun.features.design import dense_design
    from honbun.read.files import load_page
    from honbun.scoring.bundle import ModelBundle
    from honbun.scoring.model import prepare_page

    trained = pages_and_labels[0][0]  # a training page of block_model, on its own site
    assert "." in trained.site and not trained.site.startswith("www.")
    html = (  # a new page of that site that repeats one of the training page's blocks
        f"<html><head><link rel='canonical' href='https://www.{trained.site}/new'></head>"
        f"<body><p>{trained.page.blocks[0].text}</p><p>新しい記事の本文です。</p></body></html>"
    )
    (tmp_path / "new.html").write_text(html, encoding="utf-8")
    page = load_page(tmp_path / "new.html")
    bundle = ModelBundle("t", None, block_cfg=block_model.cfg, html_model=block_model.scorer())  # type: ignore[arg-type]
    prepared = prepare_page(bundle, page).features
    assert prepared.site == trained.site
    counts = dense_design([prepared], block_model.scorer().rep, training=False)[:, -2:]
    assert np.expm1(counts[0, 0]).round(6) == 1  # the training page holds the same text
    assert counts[0, 1] == 1  # one other page of the site: the training page


def _pages_in_context(block_model: BlockModel, tmp_path: Path, hosts: list[str]):
    """Pages a, b, c (a notice, then one paragraph each) on ``hosts``: their site context
    and the pages prepared for ``block_model``."""
    from honbun.features.repetition import SiteContext
    from honbun.read.sites import site_of

    texts = [
        "北朝鮮兵がロシアに派遣された。",
        "米国防総省は一万人と推定した。",
        "韓国の情報機関が発表した。",
    ]
    raw = [_site_page(tmp_path, n, h, x) for n, h, x in zip("abc", hosts, texts, strict=True)]
    return SiteContext.of(raw), [prepare(p, block_model.cfg.features, site_of(p)) for p in raw]


def test_site_context_counts_the_other_pages_of_a_site_whatever_the_chunk(
    block_model: BlockModel, tmp_path: Path
) -> None:
    from honbun.features.design import dense_design

    ctx, pages = _pages_in_context(
        block_model, tmp_path, ["news.example.jp", "news.example.jp", "other.example.jp"]
    )
    assert ctx.pages == {"news.example.jp": 2, "other.example.jp": 1}
    rep = block_model.scorer().rep
    rows = dense_design(pages, rep, training=False, context=ctx)[:, -2:]  # count, others
    # Per page: the notice, then the article paragraph. Only the notice of a and b is on
    # another page of the same site; c's site has no other page.
    assert np.expm1(rows[:, 0]).round(6).tolist() == [1, 0, 1, 0, 0, 0]
    assert rows[:, 1].tolist() == [1, 1, 1, 1, 0, 0]
    scorer = block_model.scorer()
    together = scorer.predict_proba(pages, alone=True, context=ctx)
    one_by_one = [scorer.predict_proba([p], alone=True, context=ctx)[0] for p in pages]
    batch = scorer.predict_proba(pages)  # the batch counts itself: the same as its context
    for t, o, b in zip(together, one_by_one, batch, strict=True):
        assert np.array_equal(t, o) and np.array_equal(t, b)
    alone = dense_design(pages[:1], rep, training=False)[:, -2:]
    assert alone.tolist() == [[0, 0], [0, 0]]  # by itself, a page sees no other page


def test_a_page_without_a_site_scores_with_a_context_as_it_does_alone(
    block_model: BlockModel, tmp_path: Path
) -> None:
    from honbun.features.design import dense_design

    ctx, pages = _pages_in_context(block_model, tmp_path, ["news.example.jp", "", ""])
    assert ctx.pages == {"news.example.jp": 1}  # the pages without a site are not counted
    rep = block_model.scorer().rep
    with_ctx = dense_design(pages, rep, training=False, context=ctx)[:, -2:]
    alone = np.vstack([dense_design([p], rep, training=False)[:, -2:] for p in pages])
    assert with_ctx.tolist() == alone.tolist() == [[0, 0]] * 6  # b and c: not one site
