"""Human-readable renderings of a scoring result: plain text or Markdown with topic tags."""

from __future__ import annotations

from typing import Any


def render(res: dict[str, Any], fmt: str) -> str:
    """The clean article, title first, each paragraph followed by its topic labels."""
    tags = {p["block"]: p["labels"] for p in res.get("paragraphs", [])}
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
    else:
        lines.append(f"=== {res['doc_id']} ({res['source']}) topics: {doc_labels}")
        if title:
            lines.append(title)
        for b in body:
            if b["text"] == title:
                continue
            label = f"  [{', '.join(tags[b['index']])}]" if tags.get(b["index"]) else ""
            lines.append(b["text"] + label)
        lines.append("")
    return "\n".join(lines) + "\n"
