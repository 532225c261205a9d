"""`fitdoctor data split`: write a planned split to disk, safely and resumably.

The plan is written to `DST/.fitdoctor/split-plan.json` before any file is touched (a
write-ahead journal). Each file is then placed with an atomic step: a rename for moves on
the same file system, a temp copy + fsync + `os.replace` otherwise. Where a file stands is
therefore always readable from the disk, and running the same command again after a
crash (even kill -9) finishes the job. `undo_split` puts moved files back. Copies are
not fsynced one by one (SRC keeps every original): the run syncs once at the end, and a
resumed run re-copies any file whose size does not match the plan.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import os
import shutil
import sys
from pathlib import Path

from fitdoctor.data.images import note_text
from fitdoctor.data.scan import scan
from fitdoctor.data.split_plan import MANIFEST_COLUMNS, Op, Plan, check_one_of, make_plan
from fitdoctor.errors import UserError, param_error
from fitdoctor.fsio import (
    LOCK_NAME,
    TMP_SUFFIX,
    MoveConflict,
    atomic_open,
    copy_file_atomic,
    exclusive,
    fsync_path,
    move_file,
    write_json,
)
from fitdoctor.i18n import _
from fitdoctor.validation import RULES, validate_params

STATE_DIR = ".fitdoctor"
PLAN_FILE = "split-plan.json"
DONE_FILE = "split-done.json"
INSPECTION_FILE = "inspection.json"  # what inspect found in SRC, for the report (no second decode)
JOURNAL_FILE = "split-journal.log"


def parse_owner(spec: str | None) -> tuple[str | None, str | None]:
    """Validate `--chown USER:GROUP` (either part may be empty) against this machine's users."""
    if not spec:
        return None, None
    import grp
    import pwd

    user, _sep, group = spec.partition(":")
    try:
        if user:
            pwd.getpwnam(user)
        if group:
            grp.getgrnam(group)
    except KeyError:
        raise param_error("chown", "split", _("USER:GROUP with a user and group that exist here"), spec) from None
    return user or None, group or None


def _free_space_check(src: Path, dst: Path, plan: Plan, mode: str) -> None:
    """Refuse, before anything is written, a split the destination cannot take (space, a hard link across disks)."""
    anchor = dst
    while not anchor.exists():
        anchor = anchor.parent
    if mode == "hardlink" and os.stat(src).st_dev != os.stat(anchor).st_dev:
        raise UserError(
            _(
                "--mode hardlink needs SRC and DST on one file system, and '{src}' and '{dst}' are on two. Use "
                "--mode copy or --mode symlink; nothing was written.",
                src=src,
                dst=dst,
            )
        )
    needed = sum(op.bytes for op in plan.ops)
    if mode in ("hardlink", "symlink"):
        needed = 0
    elif mode == "move" and os.stat(src).st_dev == os.stat(anchor).st_dev:
        needed = 0
    needed += 4096 * (len(plan.ops) + 16)  # directory entries, manifest
    free = shutil.disk_usage(anchor).free
    if needed > free:
        raise UserError(
            _(
                "Not enough free space on '{anchor}' for the split: it needs {needed:.1f} MB and {free:.1f} MB is "
                "free. "
                "Free some space, or use --mode hardlink or --mode move.",
                anchor=anchor,
                needed=needed / 1e6,
                free=free / 1e6,
            )
        )


def _params(src: Path, ratio, fixed, seed, mode, min_per_class, group_by) -> dict:
    return {
        "src": str(src.resolve()),
        "ratio": list(ratio) if ratio else None,
        "fixed": list(fixed) if fixed else None,
        "seed": seed,
        "mode": mode,
        "min_per_class": min_per_class,
        "group_by": group_by,
    }


def _place(op: Op, src: Path, dst: Path, mode: str) -> bool:
    """Copy or move one file to its place; return True when something was done. Idempotent.

    Links go through `_link`.
    """
    source, dest = os.path.join(src, op.source), os.path.join(dst, op.dest)
    dest_there = os.path.lexists(dest)
    if mode == "move":
        try:
            return move_file(source, dest, sha256=op.sha256)
        except FileNotFoundError:
            raise UserError(
                _(
                    "'{source}' is neither in SRC nor in DST. It was moved or deleted by hand; put it back in '{src}'"
                    " and run the same command again.",
                    source=op.source,
                    src=src,
                )
            ) from None
        except MoveConflict:
            raise UserError(
                _(
                    "'{dest}' in DST is another file than '{source}' in SRC. Move it out of '{dst}' and run the same "
                    "command again.",
                    dest=op.dest,
                    source=op.source,
                    dst=dst,
                )
            ) from None
        except OSError as exc:
            if exc.errno == errno.EIO:
                raise UserError(
                    _("Copy of '{source}' does not match its hash; SRC keeps the file.", source=op.source)
                ) from None
            raise
    if dest_there and os.stat(dest).st_size == op.bytes:
        return False
    copy_file_atomic(source, dest, fsync=False)  # SRC keeps the original; synced once at the end
    return True


def _link(op: Op, src: str, dst: str, mode: str) -> bool:
    """Hard or symbolic link: one system call that is atomic by itself, so no temp name is needed.

    `src` and `dst` end with a separator (this runs once per file: no `os.path.join`).
    """
    try:
        if mode == "symlink":
            os.symlink(os.path.abspath(src + op.source), dst + op.dest)
        else:
            os.link(src + op.source, dst + op.dest)
    except FileExistsError:  # placed by the run this one resumes
        return False
    return True


def _clear_temp_files(dst: Path) -> None:
    for path in dst.rglob(f"*{TMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _chown_tree(dst: Path, owner: tuple[str | None, str | None], ops: list[Op]) -> None:
    """Give every file and folder the split wrote (links themselves, not their targets) to `--chown`'s owner."""
    user, group = owner
    if not (user or group):
        return
    import grp
    import pwd

    uid = pwd.getpwnam(user).pw_uid if user else -1
    gid = grp.getgrnam(group).gr_gid if group else -1
    paths = {dst / op.dest for op in ops}
    paths |= {p.parent for p in paths} | {dst / s for s in {op.split for op in ops}} | {dst}
    own = [dst / "manifest.csv", dst / "left_out.csv", dst / STATE_DIR, *(dst / STATE_DIR).glob("*")]
    paths |= {p for p in own if p.exists()}  # the manifest and the split's own state belong to the owner too
    for p in sorted(paths):
        os.lchown(p, uid, gid) if p.is_symlink() else os.chown(p, uid, gid)


def _write_manifest(dst: Path, plan: Plan) -> None:
    with atomic_open(dst / "manifest.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(MANIFEST_COLUMNS)
        writer.writerows(op.values() for op in plan.ops)
    if plan.left_out:
        with atomic_open(dst / "left_out.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=["source", "reason"])
            writer.writeheader()
            writer.writerows(plan.left_out)


def _load_plan(state: Path) -> tuple[dict, Plan]:
    data = json.loads((state / PLAN_FILE).read_text(encoding="utf-8"))
    ops = [Op(o["source"], o["dest"], o["split"], o["class"], o["sha256"], o["bytes"]) for o in data["ops"]]
    return data["params"], Plan(ops=ops, left_out=data["left_out"], splits=tuple(data["splits"]))


@validate_params(RULES["split"], where="split")
def split_folder(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    *,
    ratio=None,
    fixed=None,
    seed: int = 1337,
    mode: str = "copy",
    min_per_class: int = 1,
    group_by: str | None = None,
    dry_run: bool = False,
    chown: str | None = None,
    progress: bool = False,
    echo=None,
    use_cache: bool = True,
) -> Plan:
    """Split a class folder into `DST/train|val|test/<class>/...` with a manifest.

    Args:
        src: Folder with one sub-folder per class.
        dst: New (or empty) folder; or the DST of an unfinished run of the same command.
        ratio: Fractions (train, val[, test]) summing to 1; or
        fixed: Files per class (train, val[, test]).
        seed: Random seed, default 1337.
        mode: "copy" (default, keeps metadata), "move", "hardlink" or "symlink".
        min_per_class: Files of each class every split gets, default 1.
        group_by: Regex on file names; matches stay in one split.
        dry_run: Plan and report, write nothing.
        chown: "USER:GROUP" for every file and folder written.
        progress: Show a progress bar on stderr.
        echo: Callable for one-line status messages (default: none).
        use_cache: Reuse what earlier scans found for unchanged files (see `scan_cache`).

    Example:
        >>> import tempfile
        >>> from fitdoctor.data.demo_set import write_demo_set
        >>> d = tempfile.mkdtemp()
        >>> _ = write_demo_set(d + "/digits", limit_per_class=10)
        >>> plan = split_folder(d + "/digits", d + "/split", ratio=(0.8, 0.1, 0.1))
        >>> plan.counts()["val"]["3"]
        1
    """
    say = echo or (lambda _msg: None)
    src, dst = Path(src), Path(dst)
    check_one_of(ratio, fixed)
    ratio = tuple(float(r) for r in ratio) if ratio is not None else None
    fixed = tuple(int(v) for v in fixed) if fixed is not None else None
    owner = parse_owner(chown)
    params = _params(src, ratio, fixed, seed, mode, min_per_class, group_by)
    state = dst / STATE_DIR
    if dst.exists() and not dst.is_dir():
        raise UserError(_("'{dst}' is a file. Pass a new folder as the split's destination.", dst=dst))
    if (state / PLAN_FILE).exists():
        saved, plan = _load_plan(state)
        if saved != params:
            raise UserError(
                _(
                    "'{dst}' holds a split made with other settings ({params}). Run that command again to finish it, "
                    "or pass a new destination.",
                    dst=dst,
                    params=_diff(saved, params),
                )
            )
        if (state / DONE_FILE).exists():
            say(_("'{dst}' already holds this split; nothing to do.", dst=dst))
            return plan
        say(_("Resuming the unfinished split into '{dst}'.", dst=dst))
        fresh = None
    else:
        if dst.exists() and any(p.name != LOCK_NAME for p in dst.iterdir()):
            raise UserError(
                _("Destination '{dst}' is not empty. Pass a new or empty folder; nothing was written.", dst=dst)
            )
        if src.resolve() == dst.resolve() or dst.resolve().is_relative_to(src.resolve()):
            raise UserError(_("Destination '{dst}' is inside SRC '{src}'. Pass a folder outside it.", dst=dst, src=src))
        s = scan(src, progress=progress, use_cache=use_cache)
        if s.splits:
            raise UserError(
                _(
                    "'{src}' is already split ({splits}). Pass the folder with one folder per class.",
                    src=src,
                    splits=", ".join(s.splits),
                )
            )
        for note in s.notes:  # what the split leaves out besides unusable files, said before anything moves
            say(_("Warning: {warning}", warning=note_text(note)))
        plan = make_plan(s, ratio=ratio, fixed=fixed, seed=seed, min_per_class=min_per_class, group_by=group_by)
        if dry_run:
            return plan
        _free_space_check(src, dst, plan, mode)
        fresh = s
    if dry_run:
        return plan
    with exclusive(dst, "data split"):  # one writer per destination: a second split or an undo waits its turn
        if fresh is not None:
            if (state / PLAN_FILE).exists():  # another split planned this destination while this one scanned
                raise UserError(
                    _("Destination '{dst}' is not empty. Pass a new or empty folder; nothing was written.", dst=dst)
                )
            write_json(state / INSPECTION_FILE, _inspection_record(fresh))
            write_json(
                state / PLAN_FILE,
                {
                    "version": 1,
                    "params": params,
                    "splits": list(plan.splits),
                    "ops": [op.row() for op in plan.ops],
                    "left_out": plan.left_out,
                },
                compact=True,
            )
        _execute(plan, src, dst, mode, progress)
        _write_manifest(dst, plan)
        write_json(state / DONE_FILE, {"files": len(plan.ops), "left_out": len(plan.left_out)})
        _chown_tree(dst, owner, plan.ops)
    fsync_path(dst)
    return plan


def _diff(a: dict, b: dict) -> str:
    return ", ".join(f"{k}={a.get(k)!r} not {b.get(k)!r}" for k in b if a.get(k) != b.get(k))


def _execute(plan: Plan, src: Path, dst: Path, mode: str, progress: bool) -> None:
    _clear_temp_files(dst)
    bar = None
    if progress and sys.stderr.isatty():
        import click

        bar = click.progressbar(length=len(plan.ops), label=f"Split ({mode})", file=sys.stderr)
        bar.__enter__()
    folders = sorted({os.path.join(dst, op.dest.rpartition("/")[0]) for op in plan.ops})
    for folder in folders:  # every destination folder once, not once per file
        os.makedirs(folder, exist_ok=True)
    journal = open(dst / STATE_DIR / JOURNAL_FILE, "a", encoding="utf-8")  # noqa: SIM115
    linking = mode in ("hardlink", "symlink")
    src_prefix, dst_prefix = os.path.join(src, ""), os.path.join(dst, "")
    try:
        step = 256
        for start in range(0, len(plan.ops), step):
            chunk = plan.ops[start : start + step]
            if linking:
                done = [_link(op, src_prefix, dst_prefix, mode) for op in chunk]
            else:
                done = [_place(op, src, dst, mode) for op in chunk]
            buf = io.StringIO()
            for op, did in zip(chunk, done, strict=True):
                if did:
                    buf.write(f"{mode}\t{op.source}\t{op.dest}\n")
            journal.write(buf.getvalue())
            journal.flush()
            if bar:
                bar.update(len(chunk))
        if mode == "copy":
            os.sync()  # one flush for all copies; a resumed run re-copies any file whose size is off
        for folder in folders:
            fsync_path(folder)
    finally:
        journal.close()
        if bar:
            bar.__exit__(None, None, None)


def _inspection_record(s) -> dict:
    """What `data inspect` finds in SRC, as keys and numbers (paths, counts): saved with the split."""
    from fitdoctor.data.inspect import analyse

    ins = analyse(s)
    return {
        "files": ins.files,
        "duplicates": ins.duplicates,
        "near_duplicates": ins.near_duplicates,
        "conflicting_labels": ins.conflicting_labels,
        "problems": ins.problems,
        "quality": {issue: q["count"] for issue, q in ins.quality.items()},
        "leakage": [],  # a fitdoctor split keeps each duplicate group in one split
    }


def saved_inspection(dst: str | os.PathLike) -> dict | None:
    """The inspection a fitdoctor split saved of its SRC, or None (a split made by hand, or an older one)."""
    path = Path(dst) / STATE_DIR / INSPECTION_FILE
    if not path.is_file():
        return None
    import json

    return json.loads(path.read_text(encoding="utf-8"))


def undo_split(dst: str | os.PathLike, *, echo=None) -> tuple[int, list[tuple[str, str]]]:
    """Put the files of a `--mode move` split back into SRC; return (how many moved back, skipped).

    Every file that can go back goes back (across file systems too: see `fsio.move_file`);
    `skipped` lists each one that could not, with the reason. Never writes over a file. Safe
    to run again after a crash: it reads where each file is from the disk.
    """
    say = echo or (lambda _msg: None)
    dst = Path(dst)
    state = dst / STATE_DIR
    if not (state / PLAN_FILE).exists():
        raise UserError(
            _(
                "'{dst}' holds no fitdoctor split (no {state_dir}/{plan_file}). Pass the split's folder.",
                dst=dst,
                state_dir=STATE_DIR,
                plan_file=PLAN_FILE,
            )
        )
    params, plan = _load_plan(state)
    if params["mode"] != "move":
        raise UserError(
            _(
                "'{dst}' was made with --mode {mode}: SRC was never changed, so there is nothing to put back. Remove "
                "the folder yourself if you no longer want it.",
                dst=dst,
                mode=params["mode"],
            )
        )
    src = Path(params["src"])
    with exclusive(dst, "data undo"):
        return _undo(dst, state, src, plan, say)


def _undo(dst: Path, state: Path, src: Path, plan: Plan, say) -> tuple[int, list[tuple[str, str]]]:
    moved, skipped = 0, []
    for op in reversed(plan.ops):
        source, dest = src / op.source, dst / op.dest
        if os.path.islink(dest):
            skipped.append((op.dest, _("it is a symbolic link now, not the file the split moved")))
            continue
        try:
            moved += move_file(dest, source, sha256=op.sha256)
        except FileNotFoundError:
            skipped.append((op.dest, _("it is in neither folder (moved or deleted by hand)")))
        except MoveConflict:
            skipped.append((op.dest, _("SRC holds another file at '{source}'; both are kept", source=op.source)))
        except OSError as exc:
            skipped.append((op.dest, exc.strerror or str(exc)))
    with contextlib.suppress(FileNotFoundError):
        (state / DONE_FILE).unlink()
    for d in sorted(
        {p for op in plan.ops for p in (dst / op.dest).parents if dst in p.parents}, key=lambda p: -len(p.parts)
    ):
        with contextlib.suppress(OSError):
            d.rmdir()
    write_json(state / "undo-done.json", {"moved_back": moved, "skipped": [path for path, _why in skipped]})
    say(_("Moved {moved} files back to '{src}'.", moved=moved, src=src))
    return moved, skipped
