"""Near-duplicate search: the banded search finds exactly the pairs a brute-force comparison finds."""

from __future__ import annotations

import random

import pytest

from fitdoctor.data.duplicates import near_pairs


def _brute(hashes, second, d):
    return {
        (i, j)
        for i in range(len(hashes))
        for j in range(i + 1, len(hashes))
        if (hashes[i] ^ hashes[j]).bit_count() <= d
        and (hashes[i] ^ hashes[j]).bit_count() <= d
        and (second is None or (second[i] ^ second[j]).bit_count() <= d)
    }


@pytest.mark.parametrize("cluster", [3, 64])  # small buckets and large ones
def test_banded_search_equals_brute_force(cluster):
    rng = random.Random(cluster)
    hashes, second = [], []
    for _ in range(400 // cluster + 1):
        base, base2 = rng.getrandbits(64), rng.getrandbits(64)
        for _ in range(cluster):
            flips = rng.sample(range(64), rng.randint(0, 5))
            h = base
            for bit in flips:
                h ^= 1 << bit
            hashes.append(h)
            second.append(base2 ^ (1 << rng.randrange(64)) if rng.random() < 0.5 else base2)
    for d in (0, 1, 3):
        assert near_pairs(hashes, d) == _brute(hashes, None, d)
        assert near_pairs(hashes, d, second) == _brute(hashes, second, d)
