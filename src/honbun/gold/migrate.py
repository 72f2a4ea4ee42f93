"""Carrying block labels over to a new segmentation of the same page."""

from __future__ import annotations

from honbun.gold.store import BlockLabel, DocAnnotation

MIGRATE_LENGTH_TOLERANCE = 0.05  # a re-cut gap may differ by joining spaces, not by content


def migrate(doc: DocAnnotation, page) -> tuple[int, list[int]]:
    """Carry block labels over to a new segmentation of the same page (in place).

    A new block whose text hash equals an old block's (in order) keeps that label. A run of
    unmatched new blocks between two matched ones inherits the label and role of the old
    unmatched blocks they replace when those all agree and the run has the same length in
    characters (a block split into lines, or lines merged). Anything else stays unlabelled and is returned for review. Returns
    (carried, unlabelled indices).
    """
    from honbun.gold.store import BlockLabel

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
