"""Export a page as an editable TSV for annotators, and import the corrected file back.

Block file columns: ``index  label  role  text``. Topic file columns:
``block  start  end  topics  text`` (topics comma-separated, empty for none). Lines
starting with ``#`` are comments; the header comments name the document. On import the
text column must still equal the current block/sentence text, so a file exported before
a segmentation change cannot be applied to the new segmentation by mistake.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from honbun.gold.store import (
    BlockLabel,
    DocAnnotation,
    SentenceTopics,
    find_doc,
    load_page_for,
    read_doc,
    validate_doc,
)
from honbun.labels import LabelConfig, load_labels
from honbun.read.page import Page, text_hash


def export_blocks(page: Page, doc: DocAnnotation | None, guesses: list[tuple[str, str]]) -> str:
    """TSV of every block, with existing gold labels where present, else the guesses."""
    lines = [f"# doc_id: {page.doc_id}", f"# source: {page.source}", "# index\tlabel\trole\ttext"]
    for b, (label, role) in zip(page.blocks, guesses, strict=True):
        if doc and b.index in doc.blocks:
            label, role = doc.blocks[b.index].label, doc.blocks[b.index].role
        lines.append(f"{b.index}\t{label}\t{role}\t{b.text}")
    return "\n".join(lines) + "\n"


def export_topics(
    page: Page,
    doc: DocAnnotation | None,
    guesses: dict[tuple[int, int], list[str]],
    keep_gold: bool = True,
) -> list[str]:
    """TSV rows for the sentences to annotate in one document.

    Which sentences: those already recorded for the document when it is not block-annotated
    (livedoor samples); else the sentences of its body blocks (all of them while blocks
    are unlabelled). Existing topics win over the guesses unless ``keep_gold`` is false
    (a second annotator's sheet).
    """
    body = None
    if doc and doc.header.get("blocks_annotated"):
        body = {i for i, b in doc.blocks.items() if b.label == "body"}
    only = None
    if doc and not doc.header.get("blocks_annotated") and doc.sentences:
        only = set(doc.sentences)
    lines = []
    for s in page.sentences:
        key = (s.start, s.end)
        if (body is not None and s.block not in body) or (only is not None and key not in only):
            continue
        reviewed = keep_gold and doc is not None and doc.reviewed and key in doc.sentences
        topics = doc.sentences[key].topics if reviewed and doc else guesses.get(key, [])
        lines.append(f"{page.doc_id}\t{s.block}\t{s.start}\t{s.end}\t{','.join(topics)}\t{s.text}")
    return lines


TOPIC_COLUMNS = "# doc_id\tblock\tstart\tend\ttopics\ttext"


def _rows(path: Path, ncols: int) -> list[tuple[int, list[str]]]:
    out = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t", ncols - 1)
        if len(cols) != ncols:
            raise ValueError(f"{path}:{n}: expected {ncols} tab-separated columns")
        out.append((n, cols))
    return out


def import_blocks(path: Path, page: Page, doc: DocAnnotation, labels: LabelConfig) -> list[str]:
    """Apply a corrected block TSV to ``doc`` (in place); return error messages (none = ok)."""
    errors = []
    updates: dict[int, BlockLabel] = {}
    for n, (idx, label, role, text) in _rows(path, 4):
        where = f"{path}:{n}"
        if not idx.isdigit() or int(idx) >= len(page.blocks):
            errors.append(f"{where}: no block {idx}")
            continue
        b = page.blocks[int(idx)]
        if text != b.text:
            errors.append(f"{where}: text differs from block {idx}; re-export the page")
            continue
        if role not in labels.roles:
            errors.append(f"{where}: unknown role {role!r}")
            continue
        if labels.roles[role] != label:
            errors.append(f"{where}: role {role!r} implies {labels.roles[role]!r}, not {label!r}")
            continue
        updates[b.index] = BlockLabel(b.index, b.start, b.end, b.key, label, role)
    if not errors:
        doc.blocks.update(updates)
        doc.header["n_blocks"] = len(page.blocks)
        doc.header["blocks_annotated"] = len(doc.blocks) == len(page.blocks)
    return errors


def read_topic_rows(path: Path) -> dict[str, list[tuple[int, list[str]]]]:
    """Rows of a topic TSV grouped by doc_id (line numbers kept for messages)."""
    out: dict[str, list[tuple[int, list[str]]]] = {}
    for n, cols in _rows(path, 6):
        out.setdefault(cols[0], []).append((n, cols[1:]))
    return out


def import_topics(
    path: Path,
    rows: list[tuple[int, list[str]]],
    page: Page,
    doc: DocAnnotation,
    labels: LabelConfig,
) -> list[str]:
    """Apply one document's rows of a topic TSV to ``doc`` (in place); return errors."""
    errors = []
    spans = {(s.start, s.end): s for s in page.sentences}
    known = set(labels.topic_names)
    updates: dict[tuple[int, int], SentenceTopics] = {}
    for n, (blk, start, end, topics, text) in rows:
        where = f"{path}:{n}"
        try:
            key = (int(start), int(end))
        except ValueError:
            errors.append(f"{where}: start/end must be integers")
            continue
        s = spans.get(key)
        if s is None or str(s.block) != blk or s.text != text:
            errors.append(f"{where}: not a current sentence of the page; re-export it")
            continue
        names = [t.strip() for t in topics.split(",") if t.strip()]
        bad = set(names) - known
        if bad:
            errors.append(f"{where}: unknown topics {sorted(bad)}")
            continue
        updates[key] = SentenceTopics(s.block, s.start, s.end, text_hash(s.text), sorted(names))
    if not errors:
        doc.sentences.update(updates)
        doc.header["topics_annotated"] = True
    return errors


def new_header(page: Page, path: str, sha256: str, **extra: Any) -> dict[str, Any]:
    return {
        "doc_id": page.doc_id,
        "path": path,
        "sha256": sha256,
        "format": page.format,
        "n_blocks": len(page.blocks),
        "blocks_annotated": False,
        "topics_annotated": False,
        **extra,
    }


def mark_reviewed(doc: DocAnnotation, reviewer: str, notes: str = "") -> None:
    review = doc.header.setdefault("review", {})
    review.update(
        {"status": "reviewed", "reviewer": reviewer, "reviewed_at": date.today().isoformat()}
    )
    if notes:
        review["notes"] = notes


def sheet_meta(tsv: Path) -> dict[str, str]:
    """The ``# key: value`` header lines that ``honbun data export`` wrote atop a TSV."""
    head = [x for x in tsv.read_text("utf-8").splitlines()[:6] if x.startswith("# ")]
    return dict(x[2:].split(": ", 1) for x in head if ": " in x)


def export_sheet(targets: list[str], what: str, blank: bool = False) -> str:
    """The TSV an annotator edits. Blocks: one document per sheet, pre-filled with the
    gold where it exists, else pre-labels. Topics: any number of documents, pre-filled
    with the gold, else the lexicon's guesses. ``blank``: labels, roles and topics left
    empty, for an annotation that must not lean on the gold or the lexicon (a second
    annotator's, to measure agreement)."""
    if what == "blocks":
        from honbun.gold.prelabel import guesses_for

        if len(targets) != 1:
            raise ValueError("export --what blocks takes one document")
        doc = find_doc(targets[0])
        page = load_page_for(doc)
        if blank:
            body = export_blocks(page, None, [("", "")] * len(page.blocks))
        else:
            body = export_blocks(page, doc, guesses_for(doc, page))
        return f"# annotation: {doc.file}\n# what: blocks\n" + body
    from honbun.features.lexicon import Lexicon

    lex = Lexicon.from_config(load_labels())
    lines = ["# what: topics", TOPIC_COLUMNS]
    for target in targets:
        doc = find_doc(target)
        page = load_page_for(doc)
        if blank:
            lines += export_topics(page, doc, {}, keep_gold=False)
            continue
        guesses = {(s.start, s.end): lex.labels(s.text) for s in page.sentences}
        lines += export_topics(page, doc, guesses)
    return "\n".join(lines) + "\n"


def import_sheet(
    tsv: Path, reviewer: str | None, notes: str = ""
) -> tuple[list[DocAnnotation], list[str]]:
    """Apply an edited sheet to its documents (in memory); the documents and every error.

    All or nothing: the caller writes the documents only when there is no error.
    """
    meta = sheet_meta(tsv)
    labels = load_labels()
    if meta.get("what") == "blocks" and "annotation" in meta:
        doc = read_doc(meta["annotation"])
        page = load_page_for(doc)
        pending = [(doc, page, import_blocks(tsv, page, doc, labels))]
    elif meta.get("what") == "topics":
        pending = []
        for doc_id, rows in read_topic_rows(tsv).items():
            doc = find_doc(doc_id)
            page = load_page_for(doc)
            pending.append((doc, page, import_topics(tsv, rows, page, doc, labels)))
    else:
        return [], [f"{tsv}: no '# what:' header from 'honbun data export'"]
    errors = [e for _, _, errs in pending for e in errs]
    for doc, page, _ in pending:
        if reviewer:
            mark_reviewed(doc, reviewer, notes)
        errors += validate_doc(doc, page, labels)
    return [doc for doc, _, _ in pending], errors
