"""``honbun data …``: create, export, import, validate and count annotations."""

from __future__ import annotations

import json
import sys
from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING

from honbun.annotate_io import (
    TOPIC_COLUMNS,
    export_blocks,
    export_topics,
    import_blocks,
    import_topics,
    mark_reviewed,
    new_header,
    read_topic_rows,
)
from honbun.annotations import (
    ANNOTATION_DIR,
    AnnotationError,
    DocAnnotation,
    SentenceTopics,
    iter_annotation_files,
    load_page_for,
    read_doc,
    sha256_file,
    validate_doc,
    write_doc,
)
from honbun.atomic import write_text
from honbun.errors import PageError
from honbun.labels import LabelConfig, load_labels
from honbun.prelabel import prelabel, reference_text

if TYPE_CHECKING:
    from honbun.agreement import PageAgreement

PAGES_ROOT = Path("data/raw/pages")


def site_of(url: str | None, publisher: str) -> str:
    """The grouping key for leave-one-site-out: the URL's host without ``www.``."""
    if url:
        from urllib.parse import urlparse

        host = urlparse(url).hostname or ""
        if host:
            return host.removeprefix("www.")
    return publisher


def init_pages(manifest: Path, out_dir: Path) -> int:
    """Create an annotation header (provenance, unreviewed) for each manifest page lacking one."""
    made = 0
    for line in manifest.read_text("utf-8").splitlines():
        m = json.loads(line)
        target = out_dir / "pages" / f"{m['id']}.jsonl"
        if target.exists():
            continue
        path = manifest.parent / m["path"]
        from honbun.loaders import load_page

        page = load_page(path, doc_id=m["id"])
        provenance = {
            "origin": "shared/corpora/pages",
            "repo": m["source_repo"],
            "commit": m["source_commit"],
            "source_path": m["source_path"],
            "repo_licence": m["repo_licence"]["type"],
            "content_rights": "publisher's; research evaluation only",
            "publisher": m["publisher"],
            "url": m["url"],
            "kind": m["kind"],
            "gold": (m["gold"] or {}).get("kind"),
        }
        prelabel_kind = "reference-alignment" if m["gold"] else "heuristic"
        header = new_header(
            page,
            str(path),
            m["sha256"],
            site=site_of(m.get("url"), m["publisher"]),
            provenance=provenance,
            review={"status": "unreviewed", "prelabel": f"honbun.prelabel/{prelabel_kind}"},
        )
        write_doc(DocAnnotation(header), target)
        made += 1
    return made


def init_files(paths: list[Path], out_dir: Path, provenance: dict[str, str], site: str) -> int:
    """Create unreviewed annotation headers for loose page files (e.g. the seeds)."""
    from honbun.loaders import load_page

    made = 0
    for path in paths:
        target = out_dir / f"{path.stem}.jsonl"
        if target.exists():
            continue
        page = load_page(path, doc_id=path.stem)
        header = new_header(
            page,
            str(path),
            sha256_file(path),
            site=site,
            provenance=provenance,
            review={"status": "unreviewed", "prelabel": "honbun.prelabel/heuristic"},
        )
        write_doc(DocAnnotation(header), target)
        made += 1
    return made


def init_articles(
    path: Path, out_dir: Path, select: dict[str, str], sample: int | None, seed: int
) -> int:
    """Create unreviewed annotation headers for articles of a JSON Lines article file.

    ``select`` keeps records whose fields equal the given values (compared as strings,
    ``security=true`` matches ``true``); ``sample`` draws that many of them at random
    (seeded). Every sentence of a chosen article is to be topic-annotated; the articles
    are clean text, so none of their blocks is boilerplate.
    """
    import random

    from honbun.loaders.articles import parse_record, records

    def text(v: object) -> str:
        return json.dumps(v) if isinstance(v, bool) else str(v)

    recs = [
        r for r in records(path).values() if all(text(r.get(k)) == v for k, v in select.items())
    ]
    if sample is not None and sample < len(recs):
        recs = sorted(random.Random(seed).sample(recs, sample), key=lambda r: r["id"])
    sha = sha256_file(path)
    made = 0
    for rec in recs:
        target = out_dir / f"{rec['id']}.jsonl"
        if target.exists():
            continue
        page = parse_record(rec, f"{path}#{rec['id']}")
        provenance = {
            "origin": str(rec.get("source", path)),
            "licence": str(rec.get("licence", "see the data card")),
            "url": str(rec.get("url", "")),
            "kind": str(rec.get("kind", "news")),
            "sample": f"init_articles(select={select}, sample={sample}, seed={seed})",
        }
        header = new_header(
            page,
            f"{path}#{rec['id']}",
            sha,
            site=site_of(rec.get("url"), str(rec.get("publisher", "?"))),
            provenance=provenance,
            review={"status": "unreviewed", "prelabel": None},
        )
        write_doc(DocAnnotation(header), target)
        made += 1
    return made


def _resolve(target: str) -> DocAnnotation:
    p = Path(target)
    if p.suffix == ".jsonl" and p.exists():
        return read_doc(p)
    hits = list(ANNOTATION_DIR.rglob(f"{target}.jsonl"))
    if len(hits) == 1:
        return read_doc(hits[0])
    raise SystemExit(f"honbun: error: {target}: no annotation file or doc id")


def _guesses(doc: DocAnnotation, page) -> list[tuple[str, str]]:
    gold = None
    prov = doc.header.get("provenance", {})
    if prov.get("gold"):
        manifest = {
            json.loads(x)["id"]: json.loads(x)
            for x in (PAGES_ROOT / "manifest.jsonl").read_text("utf-8").splitlines()
        }
        gold = manifest.get(doc.doc_id, {}).get("gold")
    return prelabel(page, reference_text(gold, PAGES_ROOT))


def cmd_export(targets: list[str], what: str, output: str | None, blank: bool = False) -> int:
    """Blocks: one document per file. Topics: any number of documents in one file.

    ``blank``: block labels and roles left empty, for a second annotator who must not see
    the first one's labels (``honbun data agree`` compares the two).
    """
    if what == "blocks":
        if len(targets) != 1:
            raise SystemExit("honbun: error: export --what blocks takes one document")
        doc = _resolve(targets[0])
        page = load_page_for(doc)
        if blank:
            body = export_blocks(page, None, [("", "")] * len(page.blocks))
        else:
            body = export_blocks(page, doc, _guesses(doc, page))
        text = f"# annotation: {doc.file}\n# what: blocks\n" + body
    else:
        from honbun.lexicon import Lexicon

        lex = Lexicon.from_config(load_labels())
        lines = ["# what: topics", TOPIC_COLUMNS]
        for target in targets:
            doc = _resolve(target)
            page = load_page_for(doc)
            if blank:  # neither the gold nor the lexicon: an independent annotation
                lines += export_topics(page, doc, {}, keep_gold=False)
                continue
            guesses = {(s.start, s.end): lex.labels(s.text) for s in page.sentences}
            lines += export_topics(page, doc, guesses)
        text = "\n".join(lines) + "\n"
    if output:
        write_text(output, text)
    else:
        sys.stdout.write(text)
    return 0


def _report(errors: list[str], tsv: Path) -> int:
    for e in errors:
        print(f"honbun: error: {e}", file=sys.stderr)
    if errors:
        print(f"honbun: nothing imported from {tsv} ({len(errors)} errors)", file=sys.stderr)
    return 1 if errors else 0


def _export_meta(tsv: Path) -> dict[str, str]:
    """The ``# key: value`` header lines that ``honbun data export`` wrote atop a TSV."""
    head = [x for x in tsv.read_text("utf-8").splitlines()[:6] if x.startswith("# ")]
    return dict(x[2:].split(": ", 1) for x in head if ": " in x)


def cmd_import(tsv: Path, reviewer: str | None, notes: str) -> int:
    """Read a corrected TSV back; all-or-nothing: any error means no file is changed."""
    meta = _export_meta(tsv)
    labels = load_labels()
    if meta.get("what") == "blocks" and "annotation" in meta:
        doc = read_doc(meta["annotation"])
        page = load_page_for(doc)
        pending = [(doc, page, import_blocks(tsv, page, doc, labels))]
    elif meta.get("what") == "topics":
        pending = []
        for doc_id, rows in read_topic_rows(tsv).items():
            doc = _resolve(doc_id)
            page = load_page_for(doc)
            pending.append((doc, page, import_topics(tsv, rows, page, doc, labels)))
    else:
        print(
            f"honbun: error: {tsv}: no '# what:' header from 'honbun data export'", file=sys.stderr
        )
        return 1
    errors = [e for _, _, errs in pending for e in errs]
    for doc, page, _ in pending:
        if reviewer:
            mark_reviewed(doc, reviewer, notes)
        errors += validate_doc(doc, page, labels)
    if _report(errors, tsv):
        return 1
    for doc, _, _ in pending:
        assert doc.file is not None
        write_doc(doc, doc.file)
    print(f"imported {tsv}: {len(pending)} document(s)", file=sys.stderr)
    return 0


def second_annotation(tsv: Path, labels: LabelConfig) -> PageAgreement:
    """The gold and a second annotator's labels of one page, from a block TSV that ``honbun
    data export --blank`` wrote and the second annotator filled in. Raises ``ValueError``
    naming the file if a row is invalid, a block is left out or the gold is incomplete."""
    from honbun.agreement import PageAgreement

    meta = _export_meta(tsv)
    if meta.get("what") != "blocks" or "annotation" not in meta:
        raise ValueError(f"{tsv}: no block export header from 'honbun data export'")
    gold = read_doc(meta["annotation"])
    page = load_page_for(gold)
    second = DocAnnotation(dict(gold.header))
    errors = import_blocks(tsv, page, second, labels)
    if errors:
        raise ValueError(f"{errors[0]} ({len(errors)} errors)")
    for name, doc in (("second annotation", second), ("gold", gold)):
        missing = len(page.blocks) - len(doc.blocks)
        if missing:
            raise ValueError(f"{tsv}: the {name} leaves {missing} of {len(page.blocks)} blocks out")
    order = range(len(page.blocks))
    return PageAgreement(
        gold.doc_id,
        [b.text for b in page.blocks],
        [(gold.blocks[i].label, gold.blocks[i].role) for i in order],
        [(second.blocks[i].label, second.blocks[i].role) for i in order],
    )


def cmd_agree(tsvs: list[str]) -> int:
    """Score second annotations against the gold: a table per page, the pooled summary
    and every block whose body/boilerplate label differs. A bad sheet is reported and
    skipped; the exit status is 1 if any was."""
    from honbun.agreement import summarise

    labels = load_labels()
    pages, failed = [], 0
    for t in tsvs:
        try:
            pages.append(second_annotation(Path(t), labels))
        except (OSError, ValueError, AnnotationError, PageError) as e:
            print(f"honbun: error: {e}", file=sys.stderr)
            failed += 1
    if pages:
        cols = ["blocks", "gold_body", "second_body", "disagreements", "block_f1", "char3_f1",
                "role_agreement"]  # fmt: skip
        print("| doc | " + " | ".join(cols) + " |")
        print("|---" * (len(cols) + 1) + "|")
        for p in pages:
            sc = p.scores()
            cells = [f"{sc[c]:.3f}" if isinstance(sc[c], float) else str(sc[c]) for c in cols]
            print(f"| {p.doc_id} | " + " | ".join(cells) + " |")
        s = summarise(pages)
        print(
            f"\n{s['pages']} pages, {s['blocks']} blocks: body/boilerplate agreement "
            f"{s['agreement']:.4f}, Cohen's kappa {s['kappa']:.3f}, block F1 {s['block_f1']:.3f}, "
            f"char3 F1 {s['char3_f1_macro']:.3f} (macro), same role {s['role_agreement']:.3f}"
        )
        for p in pages:
            for i in p.disagreements:
                print(f"- {p.doc_id} block {i}: gold {p.gold[i][1]}, second {p.second[i][1]}: "
                      f"{p.texts[i][:60]}")  # fmt: skip
    return 1 if failed else 0


def cmd_validate(paths: list[str], labels_path: str) -> int:
    labels = load_labels(labels_path)
    files = [Path(p) for p in paths] if paths else iter_annotation_files()
    seen: dict[str, Path] = {}
    n_err = 0
    for f in files:
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
        for e in errors:
            print(f"honbun: error: {e}", file=sys.stderr)
        n_err += bool(errors)
    print(f"{len(files)} annotation files, {n_err} with errors", file=sys.stderr)
    return 1 if n_err else 0


def stats(labels: LabelConfig, files: list[Path] | None = None) -> dict[str, object]:
    """Counts per label, role, source and publisher, and topic co-occurrence."""
    by_label: Counter[str] = Counter()
    by_role: Counter[str] = Counter()
    by_source: Counter[str] = Counter()
    by_publisher: Counter[str] = Counter()
    topics: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    docs = Counter()
    n_sent = 0
    for f in files or iter_annotation_files():
        doc = read_doc(f)
        prov = doc.header.get("provenance", {})
        source = prov.get("repo") or prov.get("origin", "?")
        docs["reviewed" if doc.reviewed else "unreviewed"] += 1
        for b in doc.blocks.values():
            by_label[b.label] += 1
            by_role[b.role] += 1
            by_source[f"{source}\t{b.label}"] += 1
            by_publisher[f"{prov.get('publisher', '?')}\t{b.label}"] += 1
        for s in doc.sentences.values():
            n_sent += 1
            topics.update(s.topics or ["(none)"])
            pairs.update("+".join(p) for p in combinations(sorted(s.topics), 2))
    return {
        "documents": dict(docs),
        "blocks_by_label": dict(by_label.most_common()),
        "blocks_by_role": dict(by_role.most_common()),
        "blocks_by_source": dict(sorted(by_source.items())),
        "blocks_by_publisher": dict(sorted(by_publisher.items())),
        "sentences": n_sent,
        "sentences_by_topic": dict(topics.most_common()),
        "topic_cooccurrence": dict(pairs.most_common()),
    }


def format_stats(st: dict[str, object]) -> str:
    out = []
    for key, val in st.items():
        if isinstance(val, dict):
            out.append(f"## {key}")
            out += [f"  {k}\t{v}" for k, v in val.items()]
        else:
            out.append(f"## {key}: {val}")
    return "\n".join(out) + "\n"


# The keywords: every sentence of the corpus containing one is taken (there are
# only about 400). Then related words that bring hard negatives (corporate 提携, sports
# 合宿) and more security sentences fill the sample up to ``n``.
LIVEDOOR_KEYWORDS = (
    "北朝鮮", "制裁", "派遣", "派兵", "訓練", "演習", "同盟", "条約", "部隊", "自衛隊", "ロシア",
)  # fmt: skip
LIVEDOOR_EXTRA_KEYWORDS = (
    "提携", "合宿", "軍事", "ミサイル", "米軍", "防衛", "兵士", "核", "戦争", "協力",
)  # fmt: skip
MAX_EXTRA_PER_ARTICLE = 2  # spread the filler over many articles
MAX_SENTENCE_CHARS = 400  # longer "sentences" are lists or tables, not sentences


def sample_livedoor(archive: Path, out_dir: Path, n: int, seed: int) -> int:
    """Pick livedoor sentences for topic annotation: all keyword sentences, then filler.

    Deterministic for a given archive, ``n`` and ``seed``. Writes one unreviewed
    annotation file per article, holding references (offsets + hashes) to the chosen
    sentences, never the text itself (the corpus is CC BY-ND).
    """
    import random

    from honbun.loaders.livedoor import iter_livedoor
    from honbun.page import text_hash

    primary: list[tuple[str, int, int, int, str]] = []
    extra: list[tuple[str, int, int, int, str]] = []
    pages = {}
    for page in iter_livedoor(archive):
        for s in page.sentences:
            if s.block == 0 or len(s.text) > MAX_SENTENCE_CHARS:
                continue  # titles are not sentences of the body
            row = (page.doc_id, s.block, s.start, s.end, s.text)
            if any(k in s.text for k in LIVEDOOR_KEYWORDS):
                primary.append(row)
            elif any(k in s.text for k in LIVEDOOR_EXTRA_KEYWORDS):
                extra.append(row)
            else:
                continue
            pages[page.doc_id] = page
    random.Random(seed).shuffle(extra)
    chosen: dict[str, list[tuple[int, int, int, str]]] = {}
    for doc_id, blk, start, end, text in primary:
        chosen.setdefault(doc_id, []).append((blk, start, end, text))
    taken = len(primary)
    per_doc: dict[str, int] = {}
    for doc_id, blk, start, end, text in extra:
        if taken >= n:
            break
        if per_doc.get(doc_id, 0) < MAX_EXTRA_PER_ARTICLE:
            per_doc[doc_id] = per_doc.get(doc_id, 0) + 1
            chosen.setdefault(doc_id, []).append((blk, start, end, text))
            taken += 1
    sha = sha256_file(archive)
    for doc_id, picks in chosen.items():
        page = pages[doc_id]
        member = page.source.split("#", 1)[1] if "#" in page.source else page.source
        header = new_header(
            page,
            f"{archive}#{member}",
            sha,
            site=f"livedoor/{page.meta['category']}",
            provenance={
                "origin": "livedoor news corpus ldcc-20140209 (RONDHUIT), via shared/corpora",
                "licence": "CC BY-ND 2.1 JP; credit per category LICENSE.txt",
                "category": page.meta["category"],
                "url": page.meta["url"],
                "kind": "news",
                "sample": f"sample_livedoor(n={n}, seed={seed})",
            },
            review={"status": "unreviewed", "prelabel": "honbun.lexicon"},
        )
        doc = DocAnnotation(header)
        for blk, start, end, text in picks:
            doc.sentences[(start, end)] = SentenceTopics(blk, start, end, text_hash(text), [])
        write_doc(doc, out_dir / f"{doc_id}.jsonl")
    return taken


MIGRATE_LENGTH_TOLERANCE = 0.05  # a re-cut gap may differ by joining spaces, not by content


def migrate(doc: DocAnnotation, page) -> tuple[int, list[int]]:
    """Carry block labels over to a new segmentation of the same page (in place).

    A new block whose text hash equals an old block's (in order) keeps that label. A run of
    unmatched new blocks between two matched ones inherits the label and role of the old
    unmatched blocks they replace when those all agree and the run has the same length in
    characters (a block split into lines, or lines merged). Anything else stays unlabelled and is returned for review. Returns
    (carried, unlabelled indices).
    """
    from honbun.annotations import BlockLabel

    old = sorted(doc.blocks.values(), key=lambda b: b.index)
    by_hash: dict[str, list[BlockLabel]] = {}
    for b in old:
        by_hash.setdefault(b.hash, []).append(b)
    matched: dict[int, BlockLabel] = {}
    last_old = -1
    for blk in page.blocks:
        for cand in by_hash.get(blk.key, []):
            if cand.index > last_old:
                matched[blk.index] = cand
                last_old = cand.index
                break
    new: dict[int, BlockLabel] = {}
    unlabelled: list[int] = []
    prev_new, prev_old = -1, -1
    anchors = [*sorted(matched.items()), (len(page.blocks), None)]
    for idx, cand in anchors:
        gap_new = range(prev_new + 1, idx)
        upto = cand.index if cand is not None else (old[-1].index + 1 if old else 0)
        gap_old = [b for b in old if prev_old < b.index < upto]
        kinds = {(b.label, b.role) for b in gap_old}
        old_chars = sum(b.end - b.start for b in gap_old)
        new_chars = sum(len(page.blocks[j].text) for j in gap_new)
        # Same text re-cut (a split or merge) keeps its length; new content does not.
        same_text = abs(new_chars - old_chars) <= MIGRATE_LENGTH_TOLERANCE * max(1, old_chars)
        for j in gap_new:
            blk = page.blocks[j]
            if len(kinds) == 1 and same_text:
                label, role = next(iter(kinds))
                new[j] = BlockLabel(j, blk.start, blk.end, blk.key, label, role)
            else:
                unlabelled.append(j)
        if cand is not None:
            blk = page.blocks[idx]
            new[idx] = BlockLabel(idx, blk.start, blk.end, blk.key, cand.label, cand.role)
            prev_new, prev_old = idx, cand.index
    doc.blocks = new
    doc.header["n_blocks"] = len(page.blocks)
    doc.header["blocks_annotated"] = not unlabelled
    carried = len(new)
    return carried, unlabelled


def cmd_migrate(paths: list[str]) -> int:
    """``honbun data migrate``: re-key annotation files after a segmentation change."""
    from datetime import date

    failed = 0
    for f in paths:
        doc = read_doc(f)
        page = load_page_for(doc)
        before = len(doc.blocks)
        carried, unlabelled = migrate(doc, page)
        note = (
            f"migrated {date.today().isoformat()}: {before} -> {len(page.blocks)} blocks, "
            f"{carried} labels carried, {len(unlabelled)} need review"
        )
        doc.header.setdefault("review", {})["migration"] = note
        if unlabelled:
            doc.header["review"]["status"] = "needs-review"
            failed += 1
        write_doc(doc, f)
        print(f"{f}: {note}" + (f" (blocks {unlabelled[:20]})" if unlabelled else ""))
    return 1 if failed else 0
