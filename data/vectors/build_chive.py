"""Build data/vectors/chive-ja_ginza-5.3.0.npz from the ja-ginza wheel (run once; needs the
wheel file, not spaCy). The result: the 20,000 chiVe vectors that ja_ginza 5.3.0 ships
(300 dimensions, pruned from chiVe by GiNZA), projected to 64 dimensions by PCA and stored
as float16, and every one of its 480,443 vocabulary strings as an 8-byte BLAKE2b hash with
the row of its vector. honbun.features.vectors reads it.

    python3 data/vectors/build_chive.py ja_ginza-5.3.0-py3-none-any.whl data/vectors/chive-ja_ginza-5.3.0.npz
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import sys
import zipfile

import numpy as np

DIMS = 64
MASK = (1 << 64) - 1
VOCAB = "ja_ginza/ja_ginza-5.3.0/vocab/"


def murmur64a(data: bytes, seed: int = 1) -> int:
    """MurmurHash64A, the hash spaCy keys its strings by (seed 1)."""
    m, r = 0xC6A4A7935BD1E995, 47
    h = (seed ^ ((len(data) * m) & MASK)) & MASK
    n = len(data) // 8
    for i in range(n):
        k = int.from_bytes(data[8 * i : 8 * i + 8], "little")
        k = (k * m) & MASK
        k ^= k >> r
        k = (k * m) & MASK
        h ^= k
        h = (h * m) & MASK
    tail = data[8 * n :]
    if tail:
        for j in range(len(tail) - 1, -1, -1):
            h ^= tail[j] << (8 * j)
        h = (h * m) & MASK
    h ^= h >> r
    h = (h * m) & MASK
    h ^= h >> r
    return h


def msgpack_uint_map(buf: bytes) -> dict[int, int]:
    """A msgpack map of unsigned integers to unsigned integers (spaCy's key2row)."""
    fmt = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q"}
    pos = 0

    def uint() -> int:
        nonlocal pos
        t = buf[pos]
        pos += 1
        if t <= 0x7F:
            return t
        size = struct.calcsize(fmt[t])
        (v,) = struct.unpack(fmt[t], buf[pos : pos + size])
        pos += size
        return v

    t = buf[0]
    if t != 0xDF:
        raise ValueError(f"not a map32: {t:#x}")
    (n,) = struct.unpack(">I", buf[1:5])
    pos = 5
    return {uint(): uint() for _ in range(n)}


def word_key(word: str) -> int:
    """The key honbun looks a word up by (the same function as honbun.features.vectors)."""
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


def main(wheel: str, out: str) -> None:
    z = zipfile.ZipFile(wheel)
    key2row = msgpack_uint_map(z.read(VOCAB + "key2row"))
    vectors = np.load(io.BytesIO(z.read(VOCAB + "vectors")), allow_pickle=False)
    strings = json.loads(z.read(VOCAB + "strings.json"))
    keys, rows = [], []
    for s in strings:
        row = key2row.get(murmur64a(s.encode("utf-8")))
        if row is not None:
            keys.append(word_key(s))
            rows.append(row)
    keys_a, rows_a = np.array(keys, dtype=np.uint64), np.array(rows, dtype=np.uint16)
    order = np.argsort(keys_a)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    centred = unit - unit.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    table = (centred @ vt[:DIMS].T).astype(np.float16)
    np.savez_compressed(out, keys=keys_a[order], rows=rows_a[order], table=table)
    print(f"{len(keys)} words -> {len(vectors)} vectors of {DIMS} dims: {out}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
