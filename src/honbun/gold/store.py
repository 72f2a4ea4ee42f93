"""Gold annotations: one JSON Lines file per document under ``data/annotations/``.

Line 1 is the document header (``type: "doc"``): which file, its sha256, its format, the
number of blocks the segmenter produced when it was labelled, provenance and review
status. Then one ``type: "block"`` record per labelled block (index, offsets, text hash,
label, role) and one ``type: "sentence"`` record per topic-annotated sentence (block,
offsets, text hash, topics). Offsets plus hashes mean a change in segmentation or
normalisation is *detected* by :func:`validate_doc`, never silently misapplied.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from honbun import jsonl
from honbun.labels import LabelConfig
from honbun.read.page import Page, text_hash

ANNOTATION_DIR = Path("data/annotations")


@dataclass
class BlockLabel:
    index: int
    start: int
    end: int
    hash: str
    label: str
    role: str
    # 1-based line of the record in its annotation file (None: not read from a file);
    # bookkeeping for messages, never written
    line: int | None = field(default=None, kw_only=True, compare=False, repr=False)


@dataclass
class SentenceTopics:
    block: int
    start: int
    end: int
    hash: str
    topics: list[str]
    line: int | None = field(default=None, kw_only=True, compare=False, repr=False)


@dataclass
class DocAnnotation:
    """Everything annotated about one document; ``header`` is kept as written."""

    header: dict[str, Any]
    blocks: dict[int, BlockLabel] = field(default_factory=dict)
    sentences: dict[tuple[int, int], SentenceTopics] = field(default_factory=dict)
    file: Path | None = None
    line: int | None = None  # 1-based line of the header in ``file``

    @property
    def doc_id(self) -> str:
        return str(self.header["doc_id"])

    @property
    def path(self) -> str:
        return str(self.header["path"])

    @property
    def reviewed(self) -> bool:
        return self.header.get("review", {}).get("status") == "reviewed"

    def records(self) -> Iterator[dict[str, Any]]:
        yield {"type": "doc", **self.header}
        for b in sorted(self.blocks.values(), key=lambda b: b.index):
            yield {"type": "block", **_fields(b)}
        for s in sorted(self.sentences.values(), key=lambda s: s.start):
            yield {"type": "sentence", **_fields(s)}

    def where(self, line: int | None = None) -> str:
        """``file:line`` for messages (the file alone, or the doc_id, when unknown)."""
        base = str(self.file or self.doc_id)
        return f"{base}:{line}" if line is not None and self.file is not None else base


def _fields(rec: BlockLabel | SentenceTopics) -> dict[str, Any]:
    out = asdict(rec)
    del out["line"]
    return out


class AnnotationError(ValueError):
    """A problem in an annotation file; the message names file and line."""


@lru_cache(maxsize=64)
def _sha256_cached(path: str, mtime_ns: int, size: int) -> str:
    return _sha256(path)


def sha256_file(path: str | Path) -> str:
    """sha256 of a file, cached per (path, mtime, size): validation hashes the same tarball
    for every livedoor annotation."""
    st = os.stat(path)
    return _sha256_cached(str(path), st.st_mtime_ns, st.st_size)


def _sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_BLOCK_KEYS = {"index", "start", "end", "hash", "label", "role"}
_SENT_KEYS = {"block", "start", "end", "hash", "topics"}


def read_doc(path: str | Path) -> DocAnnotation:
    """Parse one annotation file; schema errors raise AnnotationError("file:line: …")."""
    p = Path(path)
    doc: DocAnnotation | None = None
    with open(p, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{p}:{n}"
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise AnnotationError(f"{where}: invalid JSON: {exc.msg}") from exc
            if not isinstance(rec, dict) or "type" not in rec:
                raise AnnotationError(f"{where}: a record must be an object with a 'type'")
            kind = rec.pop("type")
            if doc is None:
                if kind != "doc":
                    raise AnnotationError(f"{where}: the first record must be the doc header")
                for key in ("doc_id", "path", "format", "n_blocks"):
                    if key not in rec:
                        raise AnnotationError(f"{where}: doc header lacks '{key}'")
                doc = DocAnnotation(rec, file=p, line=n)
            elif kind == "block":
                _keys(rec, _BLOCK_KEYS, where)
                if rec["index"] in doc.blocks:
                    raise AnnotationError(f"{where}: duplicate block {rec['index']}")
                doc.blocks[rec["index"]] = BlockLabel(**rec, line=n)
            elif kind == "sentence":
                _keys(rec, _SENT_KEYS, where)
                key = (rec["start"], rec["end"])
                if key in doc.sentences:
                    raise AnnotationError(f"{where}: duplicate sentence {key}")
                if not isinstance(rec["topics"], list):
                    raise AnnotationError(f"{where}: 'topics' must be a list")
                doc.sentences[key] = SentenceTopics(**rec, line=n)
            else:
                raise AnnotationError(f"{where}: unknown record type {kind!r}")
    if doc is None:
        raise AnnotationError(f"{p}: empty annotation file")
    return doc


_TYPES: dict[str, type | tuple[type, ...]] = {
    "index": int, "block": int, "start": int, "end": int,
    "hash": str, "label": str, "role": str, "topics": list,
}  # fmt: skip


def _keys(rec: dict[str, Any], want: set[str], where: str) -> None:
    missing, extra = want - rec.keys(), rec.keys() - want
    if missing or extra:
        raise AnnotationError(
            f"{where}: fields wrong (missing {sorted(missing)}, unknown {sorted(extra)})"
        )
    for key in want:
        expected = _TYPES[key]
        value = rec[key]
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise AnnotationError(
                f"{where}: '{key}' must be {getattr(expected, '__name__', expected)}"
            )


def write_doc(doc: DocAnnotation, path: str | Path) -> None:
    """Write atomically: the previous file stays intact until the new one is complete."""
    jsonl.write(path, doc.records())


def iter_annotation_files(root: str | Path = ANNOTATION_DIR) -> list[Path]:
    return sorted(Path(root).rglob("*.jsonl"))


def find_doc(target: str, root: Path = ANNOTATION_DIR) -> DocAnnotation:
    """The annotation of ``target``: an annotation file's path, or a doc id under ``root``."""
    p = Path(target)
    if p.suffix == ".jsonl" and p.exists():
        return read_doc(p)
    hits = sorted(Path(root).rglob(f"{target}.jsonl"))
    if len(hits) == 1:
        return read_doc(hits[0])
    raise AnnotationError(f"{target}: no annotation file or doc id")


def load_page_for(doc: DocAnnotation, repo_root: Path = Path(".")) -> Page:
    """Load the page a header points at: a file, a member of the livedoor tarball
    (``archive#member``) or an article of a JSON Lines article file (``file.jsonl#id``)."""
    from honbun.read.articles import load_record
    from honbun.read.files import load_page
    from honbun.read.livedoor import load_article

    path = doc.path
    if "#" in path:
        archive, member = path.split("#", 1)
        if archive.endswith(".jsonl"):
            return load_record(repo_root / archive, member)
        return load_article(repo_root / archive, member)
    return load_page(repo_root / path, doc_id=doc.doc_id, fmt=doc.header["format"])


def validate_doc(doc: DocAnnotation, page: Page, labels: LabelConfig) -> list[str]:
    """Every problem found, each a one-line message naming the file and, where known, the
    line of the offending record (empty list: valid)."""
    where = doc.where(doc.line)
    errors: list[str] = []
    if doc.header["n_blocks"] != len(page.blocks):
        errors.append(
            f"{where}: segmentation changed: {len(page.blocks)} blocks now, "
            f"{doc.header['n_blocks']} when annotated"
        )
    if doc.header.get("blocks_annotated") and len(doc.blocks) != len(page.blocks):
        errors.append(f"{where}: {len(page.blocks) - len(doc.blocks)} blocks lack a label")
    body_blocks = set()
    for b in doc.blocks.values():
        where = doc.where(b.line)
        if not 0 <= b.index < len(page.blocks):
            errors.append(f"{where}: block {b.index} does not exist")
            continue
        blk = page.blocks[b.index]
        if (blk.start, blk.end, blk.key) != (b.start, b.end, b.hash):
            errors.append(f"{where}: block {b.index} changed (offsets or text hash differ)")
        if b.role not in labels.roles:
            errors.append(f"{where}: block {b.index}: unknown role {b.role!r}")
        elif labels.roles[b.role] != b.label:
            errors.append(
                f"{where}: block {b.index}: role {b.role!r} implies "
                f"{labels.roles[b.role]!r}, not {b.label!r}"
            )
        if b.label == labels.positive:
            body_blocks.add(b.index)
    spans = {(s.start, s.end): s for s in page.sentences}
    known = set(labels.topic_names)
    for s in doc.sentences.values():
        where = doc.where(s.line)
        cur = spans.get((s.start, s.end))
        if cur is None or cur.block != s.block:
            errors.append(f"{where}: sentence {s.start}-{s.end} is not a sentence any more")
        elif text_hash(cur.text) != s.hash:
            errors.append(f"{where}: sentence {s.start}-{s.end} text changed")
        unknown = set(s.topics) - known
        if unknown:
            errors.append(f"{where}: sentence {s.start}-{s.end}: unknown topics {sorted(unknown)}")
        if doc.header.get("blocks_annotated") and s.block not in body_blocks and s.topics:
            errors.append(f"{where}: sentence {s.start}-{s.end} has topics but is not body")
    return errors


def validate_files(
    labels: LabelConfig, files: list[Path] | None = None
) -> list[tuple[Path, list[str]]]:
    """Every annotation file (or ``files``) checked: doc ids unique, the page unchanged
    since it was annotated (sha256) and :func:`validate_doc`; each file with its problems
    (an empty list: valid)."""
    from honbun.errors import PageError

    seen: dict[str, Path] = {}
    out = []
    for f in files if files is not None else iter_annotation_files():
        try:
            doc = read_doc(f)
            if doc.doc_id in seen:
                raise AnnotationError(f"{f}: doc_id {doc.doc_id} also in {seen[doc.doc_id]}")
            seen[doc.doc_id] = f
            page = load_page_for(doc)
            sha = doc.header.get("sha256")
            if sha and sha256_file(doc.path.split("#", 1)[0]) != sha:
                raise AnnotationError(f"{f}: {doc.path} changed since it was annotated (sha256)")
            errors = validate_doc(doc, page, labels)
        except (AnnotationError, PageError, OSError, ValueError) as exc:
            errors = [str(exc)]
        out.append((f, errors))
    return out
