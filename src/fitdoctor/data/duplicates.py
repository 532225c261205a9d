"""Exact duplicates (same bytes) and near duplicates (dHash within a few bits).

Near duplicates are found without comparing every pair: the 64-bit hash is cut into
bands of 16 bits; two hashes within `max_distance` < 4 bits agree exactly on at least
one band (pigeonhole), so only hashes that share a band are compared. With the second
(vertical) hash, bands take bits of both, which keeps look-alike buckets small. A candidate pair
is confirmed when the 32x32 contrast-stretched thumbnails differ by at most `NEAR_MAD`
grey levels on average: on small line drawings (digits) distinct images often share a
dHash, and the thumbnail check keeps them apart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

NEAR_DISTANCE = 3
NEAR_MAD = 3.0


class UnionFind:
    """Disjoint sets over 0..n-1, used to merge duplicates and user groups."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def groups(self) -> list[list[int]]:
        out: dict[int, list[int]] = defaultdict(list)
        for i in range(len(self.parent)):
            out[self.find(i)].append(i)
        return list(out.values())


def exact_groups(hashes: Sequence[str]) -> list[list[int]]:
    """Indices that share a content hash, groups of 2 or more.

    Example:
        >>> exact_groups(["a", "b", "a"])
        [[0, 2]]
    """
    by_hash: dict[str, list[int]] = defaultdict(list)
    for i, h in enumerate(hashes):
        if h:
            by_hash[h].append(i)
    return [g for g in by_hash.values() if len(g) > 1]


def near_pairs(
    hashes: Sequence[int], max_distance: int = NEAR_DISTANCE, second: Sequence[int] | None = None
) -> set[tuple[int, int]]:
    """Pairs (i, j), i < j, whose dHashes (and `second` hashes, if given) differ in at most `max_distance` bits.

    Example:
        >>> sorted(near_pairs([0b1111, 0b1110, 1 << 40]))
        [(0, 1)]
    """
    if max_distance > 3:
        raise ValueError("max_distance must be at most 3 for the banded search to be exact.")
    import numpy as np

    arr = np.asarray([int(h) for h in hashes], dtype=np.uint64)
    arr2 = None if second is None else np.asarray([int(h) for h in second], dtype=np.uint64)
    n = len(arr)
    found = []
    for keys in _band_keys(arr, arr2, max_distance):
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        # Members of a bucket sit next to each other once sorted: compare each one with the
        # one `gap` places further on, for every gap up to the largest bucket, all buckets at once.
        for gap in range(1, n):
            same = ordered[gap:] == ordered[:-gap]
            if not same.any():
                break
            a, b = order[:-gap][same], order[gap:][same]
            close = np.bitwise_count(arr[a] ^ arr[b]) <= max_distance
            if arr2 is not None:
                close &= np.bitwise_count(arr2[a] ^ arr2[b]) <= max_distance
            if close.any():
                a, b = a[close].astype(np.int64), b[close].astype(np.int64)
                found.append(np.minimum(a, b) * n + np.maximum(a, b))
    codes = np.unique(np.concatenate(found)).tolist() if found else []
    return {(c // n, c % n) for c in codes}


def _band_keys(arr, arr2, max_distance: int):
    """One key array per band; two hashes within the distance share at least one band's key.

    One hash: 4 bands of 16 bits (3 differing bits touch at most 3 bands). Two hashes that
    must both be close: 7 bands, each ~9 bits of each hash (at most 6 differing bits in all),
    so the keys are longer and the buckets of look-alike images smaller.
    """
    import numpy as np

    if arr2 is None:
        for band in range(4):
            yield (arr >> np.uint64(band * 16)) & np.uint64(0xFFFF)
        return
    bands = 2 * max_distance + 1
    edges = [round(64 * k / bands) for k in range(bands + 1)]
    for lo, hi in zip(edges, edges[1:], strict=False):
        mask = np.uint64((1 << (hi - lo)) - 1)
        yield (((arr >> np.uint64(lo)) & mask) << np.uint64(32)) | ((arr2 >> np.uint64(lo)) & mask)


def near_groups(
    hashes: Sequence[int],
    sha: Sequence[str],
    second: Sequence[int] | None = None,
    thumbs: Sequence[bytes] | Callable[[int], bytes] | None = None,
    max_distance: int = NEAR_DISTANCE,
    max_mad: float = NEAR_MAD,
) -> list[list[int]]:
    """Groups of near-identical images that are not all byte-identical copies of each other.

    Args:
        hashes: dHash per image.
        sha: Content hash per image (identical bytes are exact, not near, duplicates).
        second: A second hash per image (the vertical dHash) that must be close too; optional.
        thumbs: Thumbnails per image, or a function of the index that makes one (called only for
            candidates, once each), to confirm candidates; skipped when None.
        max_distance: Most differing dHash bits for a candidate pair, default 3.
        max_mad: Most mean absolute thumbnail difference for a confirmed pair, default 3.0.
    """
    import numpy as np

    cache: dict[int, bytes] = {}

    def thumb(i: int) -> bytes:
        if not callable(thumbs):
            return thumbs[i]
        if i not in cache:
            cache[i] = thumbs(i)
        return cache[i]

    uf = UnionFind(len(hashes))
    for i, j in near_pairs(hashes, max_distance, second):
        if sha[i] == sha[j]:
            uf.union(i, j)
            continue
        ta, tb = (thumb(i), thumb(j)) if thumbs is not None else (b"", b"")
        if ta and tb:
            a = np.frombuffer(ta, dtype=np.uint8).astype(np.int16)
            b = np.frombuffer(tb, dtype=np.uint8).astype(np.int16)
            if a.shape != b.shape or np.abs(a - b).mean() > max_mad:
                continue
        uf.union(i, j)
    return [g for g in uf.groups() if len(g) > 1 and len({sha[i] for i in g}) > 1]


def scan_groups(s) -> tuple[list[list[int]], list[list[int]]]:
    """Exact and near-duplicate groups among the usable files of a scan (positions among them).

    The one way fitdoctor groups duplicates: `data inspect` reports these groups and
    `data split` keeps each group in one split. Computed once per scan (a split that also
    saves its inspection does not group twice).

    Args:
        s: A finished `fitdoctor.data.scan.Scan`.
    """
    if s.groups is not None:
        return s.groups
    from fitdoctor.data.images import thumbnail_file

    recs = [f.record for f in s.usable]
    exact = exact_groups([r.sha256 for r in recs])
    near = near_groups(
        [r.dhash for r in recs],
        [r.sha256 for r in recs],
        [r.vhash for r in recs],
        lambda i: thumbnail_file(s.root, recs[i].path),
    )
    s.groups = (exact, near)
    return s.groups
