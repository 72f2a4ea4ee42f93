"""Human-readable renderings of a scoring result: plain text or Markdown with topic tags.

A result scored with ``explain`` (``honbun score --explain``) also shows, under each
tagged paragraph, the terms behind each of its tags: the terms its sentences were tagged
for, the largest contributions first (:data:`EXPLAIN_TERMS` per tag).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

EXPLAIN_TERMS = 5  # terms shown per tag of a paragraph


def render(res: dict[str, Any], fmt: str) -> str:
    """The clean article, title first, each paragraph followed by its topic labels (and,
    for an explained result, the terms behind them)."""
    tags = {p["block"]: p["labels"] for p in res.get("paragraphs", [])}
    why = _terms(res)
    body = [b for b in res.get("blocks", []) if b["label"] == "body"]
    title = res.get("title")
    lines: list[str] = []
    doc_labels = ", ".join(res.get("labels", [])) or "none"
    if fmt == "markdown":
        lines.append(f"# {title}" if title else f"# {res['doc_id']}")
        lines += ["", f"*source: {res['source']} · topics: {doc_labels}*", ""]
        for b in body:
            if b["text"] == title:
                continue
            text = f"## {b['text']}" if b["role"] == "subheading" else b["text"]
            label = f" `[{', '.join(tags[b['index']])}]`" if tags.get(b["index"]) else ""
            lines += [text + label, ""]
            terms = _explained(tags.get(b["index"], []), why.get(b["index"], {}))
            if terms:
                lines += [f"- *{lab}*: {words}" for lab, words in terms] + [""]
    else:
        lines.append(f"=== {res['doc_id']} ({res['source']}) topics: {doc_labels}")
        if title:
            lines.append(title)
        for b in body:
            if b["text"] == title:
                continue
            label = f"  [{', '.join(tags[b['index']])}]" if tags.get(b["index"]) else ""
            lines.append(b["text"] + label)
            terms = _explained(tags.get(b["index"], []), why.get(b["index"], {}))
            lines += [f"    {lab}: {words}" for lab, words in terms]
        lines.append("")
    return "\n".join(lines) + "\n"


def _terms(res: dict[str, Any]) -> dict[int, dict[str, dict[str, float]]]:
    """Per block and label, each term's largest contribution in the block's sentences
    (empty for a result scored without ``explain``)."""
    out: dict[int, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for s in res.get("sentences", []):
        for label, pairs in (s.get("explanation") or {}).items():
            seen = out[s["block"]][label]
            for term, weight in pairs:
                seen[term] = max(weight, seen.get(term, weight))
    return out


def _explained(labels: list[str], terms: dict[str, dict[str, float]]) -> list[tuple[str, str]]:
    """``(label, "term (weight), …")`` for each of a paragraph's labels with terms."""
    out = []
    for label in labels:
        ranked = sorted(terms.get(label, {}).items(), key=lambda kv: (-kv[1], kv[0]))
        if ranked:
            words = ", ".join(f"{t} ({w:.2f})" for t, w in ranked[:EXPLAIN_TERMS])
            out.append((label, words))
    return out
