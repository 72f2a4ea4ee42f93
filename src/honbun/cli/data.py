"""``honbun data …``: create, export, import, validate, agree, migrate and count annotations."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    action = args.data_command.replace("-", "_")
    return int(globals()[f"_{action}"](args))


def _init(args: argparse.Namespace) -> int:
    from honbun.gold.create import init_pages

    print(f"created {init_pages(Path(args.manifest), Path(args.out))} annotation headers")
    return 0


def _init_articles(args: argparse.Namespace) -> int:
    from honbun.gold.create import init_articles

    select = dict(kv.split("=", 1) for kv in args.select)
    made = init_articles(Path(args.file), Path(args.out), select, args.sample, args.seed)
    print(f"created {made} annotation headers")
    return 0


def _sample_livedoor(args: argparse.Namespace) -> int:
    from honbun.gold.create import sample_livedoor

    n = sample_livedoor(Path(args.archive), Path(args.out), args.n, args.seed)
    print(f"sampled {n} livedoor sentences into {args.out}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from honbun.atomic import write_text
    from honbun.gold.sheets import export_sheet
    from honbun.gold.store import AnnotationError

    try:
        text = export_sheet(args.targets, args.what, args.blank)
    except (AnnotationError, ValueError) as exc:
        print(f"honbun: error: {exc}", file=sys.stderr)
        return 2
    if args.output:
        write_text(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def _import(args: argparse.Namespace) -> int:
    """All or nothing: any error means no annotation file is changed."""
    from honbun.gold.sheets import import_sheet
    from honbun.gold.store import write_doc

    tsv = Path(args.tsv)
    docs, errors = import_sheet(tsv, args.reviewer, args.notes)
    for e in errors:
        print(f"honbun: error: {e}", file=sys.stderr)
    if errors:
        print(f"honbun: nothing imported from {tsv} ({len(errors)} errors)", file=sys.stderr)
        return 1
    for doc in docs:
        assert doc.file is not None
        write_doc(doc, doc.file)
    print(f"imported {tsv}: {len(docs)} document(s)", file=sys.stderr)
    return 0


def _agree(args: argparse.Namespace) -> int:
    """Score second annotators' sheets against the gold. Block sheets: a table per page,
    the pooled summary and every block labelled differently; a bad sheet is reported and
    skipped, and the exit status is 1 if any was. Topic sheets: kappa per label over all
    their sentences, and every sentence tagged differently."""
    from honbun.gold.sheets import sheet_meta
    from honbun.labels import load_labels

    labels = load_labels()
    tsvs = [Path(t) for t in args.tsvs]
    topics = [t for t in tsvs if t.exists() and sheet_meta(t).get("what") == "topics"]
    failed = _agree_topics(topics, labels) if topics else 0
    blocks = [t for t in tsvs if t not in topics]
    return 1 if (_agree_blocks(blocks, labels) if blocks else 0) or failed else 0


def _agree_topics(tsvs: list[Path], labels) -> int:  # type: ignore[no-untyped-def]
    from honbun.gold.agreement import topic_agreement
    from honbun.gold.store import AnnotationError

    try:
        agreement = topic_agreement(tsvs, labels)
    except (OSError, ValueError, AnnotationError) as e:
        print(f"honbun: error: {e}", file=sys.stderr)
        return 1
    print("| topic | gold + | second + | agreement | Cohen's kappa | F1 |")
    print("|---|---|---|---|---|---|")
    for name, r in agreement.per_label(labels.topic_names).items():
        print(f"| {name} | {r['gold']} | {r['second']} | {r['agreement']:.3f} | "
              f"{r['kappa']:.3f} | {r['f1']:.3f} |")  # fmt: skip
    print(f"\n{len(agreement.sentences)} sentences from {len(tsvs)} sheet(s)")
    for i in agreement.disagreements():
        doc_id, start, end, text = agreement.sentences[i]
        print(f"- {doc_id} {start}-{end}: gold {sorted(agreement.gold[i]) or 'none'}, "
              f"second {sorted(agreement.second[i]) or 'none'}: {text[:60]}")  # fmt: skip
    return 0


def _agree_blocks(tsvs: list[Path], labels) -> int:  # type: ignore[no-untyped-def]
    from honbun.errors import PageError
    from honbun.gold.agreement import second_annotation, summarise
    from honbun.gold.store import AnnotationError

    pages, failed = [], 0
    for t in tsvs:
        try:
            pages.append(second_annotation(t, labels))
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
    return failed


def _validate(args: argparse.Namespace) -> int:
    from honbun.gold.store import validate_files
    from honbun.labels import load_labels

    files = [Path(p) for p in args.files] or None
    checked = validate_files(load_labels(args.labels), files)
    for _, errors in checked:
        for e in errors:
            print(f"honbun: error: {e}", file=sys.stderr)
    bad = sum(1 for _, errors in checked if errors)
    print(f"{len(checked)} annotation files, {bad} with errors", file=sys.stderr)
    return 1 if bad else 0


def _migrate(args: argparse.Namespace) -> int:
    """Re-key annotation files after a segmentation change."""
    from datetime import date

    from honbun.gold.migrate import migrate
    from honbun.gold.store import load_page_for, read_doc, write_doc

    failed = 0
    for f in args.files:
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


def _suggest(args: argparse.Namespace) -> int:
    from honbun.atomic import write_text
    from honbun.gold.suggest import pool_candidates, sheet, suggest
    from honbun.labels import load_labels

    labels = load_labels(args.labels)
    candidates = pool_candidates(args.pool)
    if not candidates:
        print("honbun: error: no sentence without topics in the pool", file=sys.stderr)
        return 1
    try:
        picked = suggest(labels, args.label, candidates, args.n, args.seed)
    except ValueError as exc:
        print(f"honbun: error: {exc}", file=sys.stderr)
        return 2
    write_text(args.output, sheet(picked))
    docs = len({c.doc.doc_id for c in picked})
    print(f"wrote {len(picked)} sentences from {docs} documents to {args.output} "
          f"(of {len(candidates)} without topics)", file=sys.stderr)  # fmt: skip
    return 0


def _stats(args: argparse.Namespace) -> int:
    from honbun.gold.stats import format_stats, stats
    from honbun.labels import load_labels

    st = stats(load_labels(args.labels))
    print(json.dumps(st, ensure_ascii=False, indent=1) if args.json else format_stats(st))
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``honbun data`` and its actions to the ``honbun`` parser."""
    d = sub.add_parser(
        "data", help="annotation tools: init, export, import, agree, validate, stats"
    )
    dsub = d.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    p = dsub.add_parser("init", help="create annotation headers (with provenance) from a manifest")
    p.add_argument("--manifest", default="data/raw/pages/manifest.jsonl")
    p.add_argument("--out", default="data/annotations/pages", help="folder for the files")
    p = dsub.add_parser(
        "init-articles",
        help="create annotation headers for articles of a JSON Lines article file "
        "(id, title, text; every sentence is to be topic-annotated)",
    )
    p.add_argument("file")
    p.add_argument("--out", required=True, help="folder for the annotation files")
    p.add_argument(
        "--select", action="append", default=[], metavar="FIELD=VALUE",
        help="keep records whose field has this value (repeatable), e.g. security=true",
    )  # fmt: skip
    p.add_argument("--sample", type=int, help="draw this many of the selected records")
    p.add_argument("--seed", type=int, default=13)
    p = dsub.add_parser(
        "sample-livedoor", help="pick keyword sentences from the livedoor corpus to annotate"
    )
    p.add_argument("--archive", default="data/raw/livedoor/ldcc-20140209.tar.gz")
    p.add_argument("--out", default="data/annotations/livedoor")
    p.add_argument("-n", type=int, default=520)
    p.add_argument("--seed", type=int, default=13)
    p = dsub.add_parser(
        "export",
        help="write a page's blocks or sentences as an editable TSV, pre-filled with "
        "gold labels where they exist, else the model's or heuristic predictions",
    )
    p.add_argument("targets", nargs="+", help="annotation files or doc ids")
    p.add_argument("--what", choices=["blocks", "topics"], default="blocks")
    p.add_argument("-o", "--output")
    p.add_argument(
        "--blank",
        action="store_true",
        help="leave labels, roles and topics empty (a second annotator's sheet, or a first "
        "annotation that must not lean on the lexicon)",
    )
    p = dsub.add_parser(
        "agree",
        help="score second annotators' filled-in blank sheets against the gold (agreement, "
        "kappa, block and char3 F1)",
    )
    p.add_argument("tsvs", nargs="+")
    p = dsub.add_parser("import", help="read a corrected TSV back into its annotation file")
    p.add_argument("tsv")
    p.add_argument("--reviewer", help="mark the document reviewed by this annotator")
    p.add_argument("--notes", default="")
    p = dsub.add_parser("validate", help="check annotation files against the current segmentation")
    p.add_argument("files", nargs="*")
    p.add_argument("--labels", default="data/labels.toml")
    p = dsub.add_parser(
        "migrate",
        help="carry block labels over after a segmentation change (by text hash; splits and "
        "merges inherit agreeing labels; the rest is flagged for review)",
    )
    p.add_argument("files", nargs="+")
    p = dsub.add_parser(
        "suggest",
        help="pick the unlabelled sentences to annotate next (those the topic model is least "
        "sure of, spread over documents) and write them as a blank topic sheet",
    )
    p.add_argument("--label", help="the topic to improve (default: whichever is least sure)")
    p.add_argument(
        "--pool", nargs="+", required=True, metavar="PATH",
        help="annotation files or folders whose sentences without topics may be picked",
    )  # fmt: skip
    p.add_argument("-n", type=int, default=50, help="sentences to pick")
    p.add_argument("-o", "--output", required=True, help="the sheet to write")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--labels", default="data/labels.toml")
    p = dsub.add_parser("stats", help="counts per label, role, source, publisher, topic")
    p.add_argument("--labels", default="data/labels.toml")
    p.add_argument("--json", action="store_true")
    for p in dsub.choices.values():
        p.set_defaults(handler=run)
