"""Hash what a model makes of a fixed set of pages, to prove a refactoring changed nothing.

Scores the 92 development pages, both seeds and 300 livedoor articles (every 24th of the
corpus in member order) one at a time with ``honbun.load_model(MODEL).score(page)`` and
prints one SHA-256 per set and in all. Two digests per page:

- ``result``: the whole JSON result, except each block's ``p_body`` and ``rule``;
- ``p_model``: each block's body probability *before* the decision rules, rounded as the
  result rounds it.

So a change that only moves the rules out of the model (``p_body`` then reports the
model's probability) still has to keep both digests. ``--save FILE`` writes every page's
digests as JSON; ``--compare FILE`` reports the pages whose digests differ and exits 1 if
any do.

    .venv/bin/python benchmarks/output_identity.py --model models/default --save before.json
    # ... change the code, retrain the same config (training is deterministic) ...
    .venv/bin/python benchmarks/output_identity.py --model models/default --compare before.json
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
LIVEDOOR_STEP = 24
LIVEDOOR_ARTICLES = 300


def identity_pages() -> Iterator[tuple[str, Any]]:
    """``(set name, page or path)`` for every page of the identity set, in a fixed order."""
    manifest = Path("data/raw/pages/manifest.jsonl")  # relative: results name their source
    for line in manifest.read_text("utf-8").splitlines():
        yield "pages", str(manifest.parent / json.loads(line)["path"])
    for seed in sorted(Path("seeds").glob("*.txt")):
        yield "seeds", str(seed)
    from honbun.read.livedoor import iter_livedoor

    tarball = Path("data/raw/livedoor/ldcc-20140209.tar.gz")
    picked = itertools.islice(iter_livedoor(tarball), 0, None, LIVEDOOR_STEP)
    for page in itertools.islice(picked, LIVEDOOR_ARTICLES):
        yield "livedoor", page


def _sha(obj: Any) -> str:
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _legacy_capture() -> list[Any] | None:
    """Layouts where the model's ``predict_proba`` applied the rules itself (before the
    boilerplate package): record the probabilities the rules were given."""
    try:
        import honbun.inference  # noqa: F401  (the old flat layout)

        from honbun import rules  # type: ignore[attr-defined]
    except ImportError:
        return None
    seen: list[Any] = []
    apply = rules.apply

    def recording(cfg: Any, pages: Any, probas: Any) -> Any:
        seen.extend(p.copy() for p in probas)
        return apply(cfg, pages, probas)

    rules.apply = recording
    return seen


def digests(model_path: str) -> dict[str, dict[str, str]]:
    import os

    import honbun

    seen = _legacy_capture()
    model = honbun.load_model(Path(model_path).resolve())
    os.chdir(REPO)
    out: dict[str, dict[str, str]] = {}
    for set_name, page in identity_pages():
        if seen is not None:
            seen.clear()
        res = model.score(page)
        blocks = res.get("blocks", [])
        legacy = seen is not None and blocks
        p_model = [round(float(p), 4) for p in seen[0]] if legacy else [b["p_body"] for b in blocks]
        rest = {**res, "blocks": [{k: v for k, v in b.items() if k not in ("p_body", "rule")}
                                  for b in blocks]}  # fmt: skip
        key = f"{set_name}/{res['doc_id']}"
        out[key] = {"result": _sha(rest), "p_model": _sha(p_model)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="models/default")
    ap.add_argument("--save", help="write every page's digests to this JSON file")
    ap.add_argument("--compare", help="compare with digests saved by --save")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    pages = digests(args.model)
    by_set: dict[str, list[str]] = {}
    for key, d in pages.items():
        by_set.setdefault(key.split("/", 1)[0], []).append(d["result"] + d["p_model"])
    print(f"{len(pages)} pages scored in {time.perf_counter() - t0:.1f} s with {args.model}")
    for name, rows in [*by_set.items(), ("all", [r for rs in by_set.values() for r in rs])]:
        print(
            f"  {name:9s} {len(rows):4d} pages  {hashlib.sha256(''.join(rows).encode()).hexdigest()}"
        )
    if args.save:
        Path(args.save).write_text(json.dumps(pages, indent=1, sort_keys=True), "utf-8")
    if args.compare:
        before = json.loads(Path(args.compare).read_text("utf-8"))
        differ = [k for k in sorted(set(before) | set(pages)) if before.get(k) != pages.get(k)]
        for k in differ:
            what = [
                f
                for f in ("result", "p_model")
                if (before.get(k) or {}).get(f) != (pages.get(k) or {}).get(f)
            ]
            print(f"  differs: {k} ({', '.join(what)})")
        print(f"{len(differ)} of {len(pages)} pages differ from {args.compare}")
        return 1 if differ else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
