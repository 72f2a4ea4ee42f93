"""Creating annotation files: headers with provenance for pages, loose files and article
corpora, and the livedoor sentence sample (references only: the corpus is CC BY-ND)."""

from __future__ import annotations

import json
from pathlib import Path

from honbun.gold.sheets import new_header
from honbun.gold.store import DocAnnotation, SentenceTopics, sha256_file, write_doc
from honbun.read.sites import site_key


def init_pages(manifest: Path, out_dir: Path) -> int:
    """Create an annotation header (provenance, unreviewed) for each manifest page lacking one."""
    made = 0
    for line in manifest.read_text("utf-8").splitlines():
        m = json.loads(line)
        target = out_dir / f"{m['id']}.jsonl"
        if target.exists():
            continue
        path = manifest.parent / m["path"]
        from honbun.read.files import load_page

        page = load_page(path, doc_id=m["id"])
        provenance = {
            "origin": str(manifest.parent),
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
            site=site_key(m.get("url"), m["publisher"]),
            provenance=provenance,
            review={"status": "unreviewed", "prelabel": f"honbun.prelabel/{prelabel_kind}"},
        )
        write_doc(DocAnnotation(header), target)
        made += 1
    return made


def init_files(paths: list[Path], out_dir: Path, provenance: dict[str, str], site: str) -> int:
    """Create unreviewed annotation headers for loose page files (e.g. the seeds)."""
    from honbun.read.files import load_page

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

    from honbun.read.articles import parse_record, records

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
            site=site_key(rec.get("url"), str(rec.get("publisher", "?"))),
            provenance=provenance,
            review={"status": "unreviewed", "prelabel": None},
        )
        write_doc(DocAnnotation(header), target)
        made += 1
    return made


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

    from honbun.read.livedoor import iter_livedoor
    from honbun.read.page import text_hash

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
