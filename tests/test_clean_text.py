"""Clean article text for the text-only model: article documents read as the text file a
user would hand ``honbun score``, every line body (labels by construction)."""

from __future__ import annotations

from pathlib import Path

from conftest import DATA, REPO
from honbun.experiment.boilerplate import gold_pages
from honbun.experiment.config import load_experiment
from honbun.experiment.report import RunOutput
from honbun.gold.dataset import load_clean_text
from honbun.labels import load_labels
from honbun.read.text import parse_text


def test_articles_become_plain_text_pages_all_body() -> None:
    pages = load_clean_text(load_labels(DATA / "labels.toml"), DATA / "annotations",
                            ("security-web",))  # fmt: skip
    assert len(pages) == 249
    for g in pages:
        assert g.page.format == "text" and {b.kind for b in g.page.blocks} == {"line"}
        assert g.y.tolist() == [1] * len(g.page.blocks)
        assert set(g.roles) <= {"title", "paragraph"} and "title" not in g.roles[1:]
        # exactly what reading the same text from a file gives
        again = parse_text(g.page.text, g.page.doc_id, g.page.source)
        assert [b.text for b in again.blocks] == [b.text for b in g.page.blocks]
    from honbun.gold.store import load_page_for

    titled = [g for g in pages if g.roles[0] == "title"]
    assert len(titled) == 89  # the records with a title: their first line is the headline
    for g in titled:
        assert g.page.blocks[0].text == load_page_for(g.doc).meta["title"]
    # an article folder not asked for, or a folder of web pages, brings none
    assert load_clean_text(load_labels(DATA / "labels.toml"), DATA / "annotations", ()) == []
    assert (
        load_clean_text(load_labels(DATA / "labels.toml"), DATA / "annotations", ("seeds",)) == []
    )


def test_the_config_puts_them_beside_the_block_gold(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    text = (REPO / "tests/fixtures/tiny.toml").read_text("utf-8")
    config = tmp_path / "clean.toml"
    config.write_text(text.replace("[data]\n", '[data]\nclean_text_sets = ["security-web"]\n', 1))
    html, dumps, clean = gold_pages(load_experiment(config), load_labels(), RunOutput())
    assert clean and all(g.page.format == "text" for g in clean)
    assert not {g.page.doc_id for g in clean} & {g.page.doc_id for g in html + dumps}
    plain = tmp_path / "plain.toml"
    plain.write_text(text)
    assert gold_pages(load_experiment(plain), load_labels(), RunOutput())[2] == []
