"""Counts of the gold: documents, labels, roles, sources, publishers, topics."""

from __future__ import annotations

from collections import Counter
from itertools import combinations
from pathlib import Path

from honbun.gold.store import iter_annotation_files, read_doc
from honbun.labels import LabelConfig


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
