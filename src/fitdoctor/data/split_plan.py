"""Plan a split: which file goes to train, val or test, before anything is written.

Stratified per class, reproducible for a seed whatever order the file system lists the
files in, and leakage-free: exact duplicates, near duplicates and `group_by` groups move
as one unit, so the same picture never sits in two splits.
"""

from __future__ import annotations

import math
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field

from fitdoctor.data.duplicates import UnionFind, scan_groups
from fitdoctor.data.images import SPLIT_NAMES
from fitdoctor.data.scan import Scan
from fitdoctor.errors import UserError
from fitdoctor.i18n import N_, _
from fitdoctor.validation import SPLIT, validate_params

MANIFEST_COLUMNS = ("source", "dest", "split", "class", "sha256", "bytes")


@dataclass
class Op:
    """One file to place: `source` relative to SRC, `dest` relative to DST."""

    source: str
    dest: str
    split: str
    label: str
    sha256: str
    bytes: int

    def values(self) -> tuple:
        """The manifest row, in `MANIFEST_COLUMNS` order."""
        return (self.source, self.dest, self.split, self.label, self.sha256, self.bytes)

    def row(self) -> dict:
        return dict(zip(MANIFEST_COLUMNS, self.values(), strict=True))


@dataclass
class Plan:
    """The assignment of every usable file, and the files left out with their reason."""

    ops: list[Op]
    left_out: list[dict] = field(default_factory=list)
    splits: tuple[str, ...] = ("train", "val", "test")

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {s: defaultdict(int) for s in self.splits}
        for op in self.ops:
            out[op.split][op.label] += 1
        return {s: dict(sorted(c.items())) for s, c in out.items()}


def ratio_targets(n: int, ratio: tuple[float, ...], minimum: int, label: str) -> list[int]:
    """Files per split for one class: largest remainder, then at least `minimum` in each.

    Example:
        >>> ratio_targets(10, (0.8, 0.1, 0.1), 1, "cat")
        [8, 1, 1]
        >>> ratio_targets(3, (0.8, 0.1, 0.1), 1, "cat")
        [1, 1, 1]
    """
    k = len(ratio)
    if n < minimum * k:
        raise UserError(
            _(
                "Class '{label}' has {n} usable files; --min-per-class {minimum} needs at least {k} ({minimum} per "
                "split). Add files to '{label}' or lower --min-per-class.",
                label=label,
                n=n,
                minimum=minimum,
                k=minimum * k,
            )
        )
    raw = [n * r for r in ratio]
    targets = [math.floor(x) for x in raw]
    order = sorted(range(k), key=lambda i: (-(raw[i] - targets[i]), i))
    for i in order[: n - sum(targets)]:
        targets[i] += 1
    for i in range(k):
        while targets[i] < minimum:
            donor = max(range(k), key=lambda j: (targets[j] - minimum, -j))
            targets[donor] -= 1
            targets[i] += 1
    return targets


def _groups(s: Scan, idx: list[int], group_by: str | None) -> list[list[int]]:
    recs = [s.files[i].record for i in idx]
    uf = UnionFind(len(idx))
    exact, near = scan_groups(s)  # idx: the usable files, as the groups count them
    for g in exact + near:
        for member in g[1:]:
            uf.union(g[0], member)
    if group_by:
        pattern = re.compile(group_by)
        first: dict[str, int] = {}
        for i, r in enumerate(recs):
            m = pattern.search(r.path.rsplit("/", 1)[-1])
            if m:
                key = m.group(1) if m.groups() else m.group(0)
                uf.union(first.setdefault(key, i), i)
    return uf.groups()


def check_one_of(ratio, fixed) -> None:
    """A split takes a ratio or fixed counts: exactly one."""
    if (ratio is None) == (fixed is None):
        raise UserError(_("Pass exactly one of --ratio or --fixed to split."))


@validate_params(SPLIT, where="split")
def make_plan(
    s: Scan,
    *,
    ratio: tuple[float, ...] | None = None,
    fixed: tuple[int, ...] | None = None,
    seed: int = 1337,
    min_per_class: int = 1,
    group_by: str | None = None,
) -> Plan:
    """Assign every usable file of a class-folder scan to a split.

    Args:
        s: The scan of SRC.
        ratio: Fractions for train, val[, test]; or
        fixed: Files per class for train, val[, test] (the rest stay out).
        seed: Seed of the local random generator, default 1337.
        min_per_class: Files of each class that every split must get, default 1.
        group_by: Regex on the file name; files with the same match (group 1 if any) stay together.
    """
    check_one_of(ratio, fixed)
    ratio = tuple(float(r) for r in ratio) if ratio is not None else None
    fixed = tuple(int(v) for v in fixed) if fixed is not None else None
    splits = SPLIT_NAMES[: len(ratio or fixed)]
    idx = [i for i, f in enumerate(s.files) if f.record.problem is None]
    per_class: dict[str, int] = defaultdict(int)
    for i in idx:
        per_class[s.files[i].label] += 1
    targets = {}
    for label, n in sorted(per_class.items()):
        if ratio is not None:
            targets[label] = ratio_targets(n, ratio, min_per_class, label)
        else:
            if n < sum(fixed):
                raise UserError(
                    _(
                        "Class '{label}' has {n} usable files; --fixed {fixed} needs {total}. Add files to '{label}'"
                        " or ask for fewer.",
                        label=label,
                        n=n,
                        fixed=" ".join(map(str, fixed)),
                        total=sum(fixed),
                    )
                )
            targets[label] = list(fixed)
    groups = sorted(_groups(s, idx, group_by), key=lambda g: min(s.files[idx[i]].record.path for i in g))
    rng = random.Random(seed)
    rng.shuffle(groups)
    groups.sort(key=len, reverse=True)
    assigned = {label: [0] * len(splits) for label in targets}
    ops: list[Op] = []
    unused = []
    ks = range(len(splits))
    for g in groups:
        members = [s.files[idx[i]] for i in g]
        if len(members) == 1:  # most groups: one file, scored without the sums
            t, a = targets[members[0].label], assigned[members[0].label]
            score = [t[k] - a[k] for k in ks]
        else:
            score = [sum(targets[m.label][k] - assigned[m.label][k] for m in members) for k in ks]
        best = max(ks, key=lambda k: (score[k], -k))
        if fixed is not None and all(targets[m.label][best] <= assigned[m.label][best] for m in members):
            unused.extend(members)
            continue
        for m in members:
            assigned[m.label][best] += 1
            source = m.record.path
            ops.append(Op(source, f"{splits[best]}/{source}", splits[best], m.label, m.record.sha256, m.record.bytes))
    if ratio is not None:
        for label, counts in assigned.items():
            for k, c in enumerate(counts):
                if c < min_per_class:
                    raise UserError(
                        _(
                            "Class '{label}' cannot give {k} {min_per_class} file(s): its duplicates or --group-by "
                            "groups are too large. Lower --min-per-class or loosen --group-by.",
                            label=label,
                            k=splits[k],
                            min_per_class=min_per_class,
                        )
                    )
    ops.sort(key=lambda op: op.source)
    left_out = [{"source": f.record.path, "reason": f.record.problem} for f in s.unusable]
    left_out += [{"source": m.record.path, "reason": N_("not needed by --fixed")} for m in unused]
    return Plan(ops=ops, left_out=sorted(left_out, key=lambda r: r["source"]), splits=splits)
