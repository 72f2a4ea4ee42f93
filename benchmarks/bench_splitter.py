"""Benchmark honbun's sentence splitter against ja_sentence_segmenter and pysbd.

Loads the body lines of the livedoor news corpus (the tarball, read with ``tarfile``),
splits every line with each tool in the same process, and prints speed (best of
``--repeat`` runs) and how many sentences each tool cut inside a 「」 quote.

    python benchmarks/bench_splitter.py [--livedoor PATH] [--limit N] [--repeat 3]

Every tool gets the same input: one call per non-empty body line, because honbun splits
per block and a livedoor line is a paragraph.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import re
import sys
import tarfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from honbun.read.sentences import split_text  # noqa: E402

LOCAL_TARBALL = ROOT / "data/raw/livedoor/ldcc-20140209.tar.gz"
SHARED_TARBALL = ROOT.parent / "shared/corpora/livedoor/ldcc-20140209.tar.gz"
# Article files are text/<category>/<category>-<id>.txt; LICENSE.txt etc. do not match.
ARTICLE = re.compile(r"^text/([^/]+)/\1-\d+\.txt$")
SKIP = {"LICENSE.txt", "README.txt", "CHANGES.txt"}
BODY_FROM_LINE = 4  # lines 1-3 are URL, date and title

Splitter = Callable[[str], list[str]]


def default_tarball() -> Path:
    return LOCAL_TARBALL if LOCAL_TARBALL.exists() else SHARED_TARBALL


def load_lines(path: Path, limit: int | None) -> tuple[int, list[str]]:
    """Body lines (stripped, non-empty) of the first ``limit`` articles, in archive order."""
    lines: list[str] = []
    articles = 0
    with tarfile.open(path, "r:*") as tar:
        for member in tar:
            if limit is not None and articles >= limit:
                break
            name = member.name.removeprefix("./")
            if not member.isfile() or name.rsplit("/", 1)[-1] in SKIP or not ARTICLE.match(name):
                continue
            f = tar.extractfile(member)
            if f is None:
                continue
            text = f.read().decode("utf-8")
            body = text.splitlines()[BODY_FROM_LINE - 1 :]
            lines.extend(s for s in (line.strip() for line in body) if s)
            articles += 1
    return articles, lines


def honbun_splitter() -> Splitter:
    def split(line: str) -> list[str]:
        return [line[a:b] for a, b in split_text(line)]

    return split


def ja_segmenter_splitter() -> Splitter | None:
    """The pipeline from ja_sentence_segmenter's README, composed with functools.reduce.

    Its ``normalize`` step is left out: it rewrites the text (NFKC-like), which honbun does
    not do and which would not be timed fairly. Because of that the full-width ！？ are added
    to the README's ``punctuations=r"。!?"`` (normalize would have made them ASCII).
    """
    try:
        from ja_sentence_segmenter.concatenate.simple_concatenator import concatenate_matching
        from ja_sentence_segmenter.split.simple_splitter import split_newline, split_punctuation
    except ImportError:
        return None
    split_punc2 = functools.partial(split_punctuation, punctuations=r"。!?！？")
    concat_tail_no = functools.partial(
        concatenate_matching,
        former_matching_rule=r"^(?P<result>.+)(の)$",
        remove_former_matched=False,
    )
    segmenter = functools.reduce(
        lambda f, g: lambda x: g(f(x)), [split_newline, concat_tail_no, split_punc2]
    )

    def split(line: str) -> list[str]:
        return list(segmenter(line))

    return split


def pysbd_splitter() -> Splitter | None:
    try:
        import pysbd
    except ImportError:
        return None
    segmenter = pysbd.Segmenter(language="ja", clean=False)

    def split(line: str) -> list[str]:
        return [s.strip() for s in segmenter.segment(line) if s.strip()]

    return split


def run(split: Splitter, lines: Iterable[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        out.extend(split(line))
    return out


def time_tool(split: Splitter, lines: list[str], repeat: int) -> tuple[float, list[str]]:
    best = float("inf")
    sentences: list[str] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        sentences = run(split, lines)
        best = min(best, time.perf_counter() - t0)
    return best, sentences


def split_inside_quote(sentences: list[str]) -> int:
    """Sentences that open more 「 than they close: the tool cut inside a quote."""
    return sum(1 for s in sentences if s.count("「") > s.count("」"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--livedoor", type=Path, default=None, help="ldcc-20140209.tar.gz")
    ap.add_argument("--limit", type=int, default=None, help="only the first N articles")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool; the best counts")
    args = ap.parse_args(argv)
    path = args.livedoor or default_tarball()
    if not path.exists():
        print(f"livedoor tarball not found: {path}", file=sys.stderr)
        return 2

    print(f"Python {platform.python_version()} ({platform.python_implementation()})")
    print(f"CPU count: {os.cpu_count()}  platform: {platform.platform()}")
    articles, lines = load_lines(path, args.limit)
    chars = sum(map(len, lines))
    print(f"input: {path} - {articles} articles, {len(lines)} lines, {chars:,} chars")
    print()

    tools: list[tuple[str, Splitter | None]] = [
        ("honbun", honbun_splitter()),
        ("ja_sentence_segmenter", ja_segmenter_splitter()),
        ("pysbd", pysbd_splitter()),
    ]
    header = f"{'tool':<22} {'chars':>11} {'seconds':>9} {'chars/s':>12} {'sentences':>10}"
    print(header)
    print("-" * len(header))
    inside: list[tuple[str, int, int]] = []
    for name, split in tools:
        if split is None:
            print(f"{name:<22} (not installed)")
            continue
        seconds, sentences = time_tool(split, lines, args.repeat)
        rate = chars / seconds if seconds else float("inf")
        print(f"{name:<22} {chars:>11,} {seconds:>9.3f} {rate:>12,.0f} {len(sentences):>10,}")
        inside.append((name, split_inside_quote(sentences), len(sentences)))
    print()
    print(
        "split inside 「」 (sentences with more 「 than 」): "
        + ", ".join(f"{name} {n:,} ({n / max(total, 1):.2%})" for name, n, total in inside)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
