"""The text and Markdown renderings of a result (``honbun score --format text|markdown``)."""

from __future__ import annotations

from honbun.scoring.render import render

RESULT = {
    "doc_id": "p1",
    "source": "p1.html",
    "title": "見出し",
    "labels": ["deployment"],
    "blocks": [
        {"index": 0, "text": "見出し", "label": "body", "role": "title"},
        {"index": 1, "text": "部隊を派遣した。", "label": "body", "role": "paragraph"},
        {"index": 2, "text": "天気は晴れ。", "label": "body", "role": "paragraph"},
        {"index": 3, "text": "関連記事", "label": "boilerplate", "role": "related"},
    ],
    "paragraphs": [
        {"block": 1, "labels": ["deployment", "training"]},
        {"block": 2, "labels": []},
    ],
    "sentences": [
        {"block": 1, "text": "部隊を派遣した。", "labels": ["deployment"]},
        {"block": 2, "text": "天気は晴れ。", "labels": []},
    ],
}
EXPLAINED = {
    **RESULT,
    "sentences": [
        {
            **RESULT["sentences"][0],
            # as score(..., explain=True) gives them: (term, weight) per label of the sentence
            "explanation": {"deployment": [("派遣", 1.25), ("ctx:部隊", 0.5), ("部隊", 0.75)]},
        },
        {**RESULT["sentences"][1], "explanation": {}},
    ],
}


def test_text_shows_the_terms_behind_each_tag() -> None:
    """Before: --explain with --format text (or markdown) showed nothing more."""
    assert render(EXPLAINED, "text").splitlines() == [
        "=== p1 (p1.html) topics: deployment",
        "見出し",
        "部隊を派遣した。  [deployment, training]",
        "    deployment: 派遣 (1.25), 部隊 (0.75), ctx:部隊 (0.50)",
        "天気は晴れ。",
        "",
    ]


def test_markdown_shows_the_terms_behind_each_tag() -> None:
    assert render(EXPLAINED, "markdown").splitlines() == [
        "# 見出し",
        "",
        "*source: p1.html · topics: deployment*",
        "",
        "部隊を派遣した。 `[deployment, training]`",
        "",
        "- *deployment*: 派遣 (1.25), 部隊 (0.75), ctx:部隊 (0.50)",
        "",
        "天気は晴れ。",
        "",
    ]


def test_without_explain_the_rendering_has_no_terms() -> None:
    assert "派遣 (" not in render(RESULT, "text") + render(RESULT, "markdown")
    assert render(RESULT, "text").splitlines()[2] == "部隊を派遣した。  [deployment, training]"
