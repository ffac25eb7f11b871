"""Find article files under the PATH arguments: recursive, hidden files ignored, loops and depth bounded."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from index.encoder import ONNX_FILE
from index.formats import READERS
from index.store import DB_FILE, MANIFEST
from index.types import Skipped

MAX_DEPTH = 32
# A byte of a file name that is not UTF-8, as Python decodes it: in an id it is written %E9, so names that
# differ only in such bytes keep different ids (and ids stay UTF-8).
_RAW_BYTE = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class Found:
    """An article file and the id its path gives it (relative to the PATH it was found under)."""

    path: Path
    article_id: str


def discover(roots: list[Path], ignore: tuple[Path, ...] = ()) -> Iterator[Found | Skipped]:
    """Yield supported files under each root in a stable order, and `Skipped` for what cannot be walked.

    Folders in `ignore` (the index directory itself, when it lies under a root) are passed over silently, and so
    is what an earlier root gave already (roots given twice, or one inside another: `qa index build news
    news/sport`): a file keeps the id it was first found with, and a skipped path is reported once.
    """
    ignored = {_identity(path) for path in ignore if path.is_dir()}
    earlier: set[tuple[int, int]] = set()
    reported: set[str] = set()
    folders: dict[Path, _Folder] = {}  # the folders of files given by name, each listed once
    for root in roots:
        if not root.exists():
            yield Skipped(str(root), "no such file or directory")
            continue
        found: set[tuple[int, int]] = set()
        for item in _walk(root, ignored) if root.is_dir() else _given_file(root, folders):
            if isinstance(item, Skipped):
                if item.where in reported:
                    continue
                reported.add(item.where)
            elif (identity := _identity(item.path)) in earlier:
                continue
            else:
                found.add(identity)
            yield item
        earlier |= found


def _identity(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_dev, info.st_ino


def _walk(root: Path, ignored: set[tuple[int, int]]) -> Iterator[Found | Skipped]:
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Path, int]] = [(root, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            info = folder.stat()
            entries = sorted(os.scandir(folder), key=lambda e: e.name, reverse=True)
        except OSError as exc:
            yield Skipped(str(folder), f"cannot read folder ({exc.strerror or exc})")
            continue
        if (info.st_dev, info.st_ino) in ignored:
            continue
        if (info.st_dev, info.st_ino) in seen:
            yield Skipped(str(folder), "symlink loop (folder already visited)")
            continue
        seen.add((info.st_dev, info.st_ino))
        files: list[Path] = []
        names = {entry.name.lower(): entry.name for entry in entries}
        if _holds_an_index(folder, names):
            yield Skipped(str(folder), "an article-qa index (not articles)")
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if page := _saved_page_of(entry.name, names):
                    yield Skipped(str(path), f"the images and scripts of the saved page {page} (not articles)")
                elif depth + 1 > MAX_DEPTH:
                    yield Skipped(str(path), f"nested deeper than {MAX_DEPTH} folders")
                else:
                    stack.append((path, depth + 1))
            else:
                files.append(path)
        sharing = _sharing_a_name(files)
        for path in reversed(files):
            yield from _one_file(path, root, keep_suffix=path in sharing)


@dataclass(frozen=True)
class _Folder:
    """A folder's article files (as a walk sees them) and those among them that share a name (`_sharing_a_name`)."""

    files: frozenset[Path]
    sharing: frozenset[Path]

    @classmethod
    def listed(cls, folder: Path) -> _Folder:
        try:
            files = frozenset(path for path in folder.iterdir() if not path.name.startswith("."))
        except OSError:
            files = frozenset()
        return cls(files, frozenset(_sharing_a_name(list(files))))


def _given_file(path: Path, folders: dict[Path, _Folder]) -> Iterator[Found | Skipped]:
    """A file given as a PATH argument, named as it is in a walk of its folder (`_sharing_a_name`); `folders`
    keeps the folders listed so far (`qa index build news/*.txt` gives thousands of files of one folder)."""
    folder = folders.get(path.parent)
    if folder is None:
        folder = folders[path.parent] = _Folder.listed(path.parent)
    sharing = folder.sharing if path in folder.files else _sharing_a_name([*folder.files, path])
    yield from _one_file(path, path.parent, keep_suffix=path in sharing)


def _sharing_a_name(files: list[Path]) -> set[Path]:
    """The names that two article files of one folder share but for their extension ("story.txt" and
    "story.md"): each of them keeps its extension in its id ("story.txt", "story.md"), or the second would be
    skipped as a duplicate id. (A JSON feed's articles give their own ids.)"""
    named = [path for path in files if READERS.get(path.suffix.lower()) not in (None, "json")]
    counts = Counter(path.stem for path in named)
    return {path for path in named if counts[path.stem] > 1}


def _saved_page_of(folder: str, names: dict[str, str]) -> str | None:
    """The page a browser saved beside `folder` ("story.html" and "story_files/", its images, scripts and ad
    frames), if there is one; `names` maps the folder's entries in lower case to their names."""
    stem = folder.lower().removesuffix("_files")
    if stem == folder.lower():
        return None
    return next((names[stem + ext] for ext in (".html", ".htm") if stem + ext in names), None)


def _holds_an_index(folder: Path, names: dict[str, str]) -> bool:
    """Whether `folder` (whose entries `names` maps in lower case) is one of an index's generations or an index (its
    manifest beside a generation): its files (the tokenizer's JSON, the manifest) would each be reported as a
    broken article."""
    if DB_FILE in names and ONNX_FILE in names:
        return True
    try:
        return MANIFEST in names and any(name.startswith("gen-") and (folder / name / DB_FILE).is_file()
                                         for name in names.values())
    except OSError:  # a generation it may not look into
        return False


def _one_file(path: Path, base: Path, keep_suffix: bool = False) -> Iterator[Found | Skipped]:
    if path.suffix.lower() not in READERS:
        yield Skipped(str(path), f"unsupported file type {path.suffix or '(no extension)'!r}")
        return
    if not path.exists():
        yield Skipped(str(path), "broken symlink")
        return
    if not path.is_file():  # a named pipe or a device would block or never end when read
        yield Skipped(str(path), "not a regular file")
        return
    relative = path.relative_to(base)
    relative = relative if keep_suffix else relative.with_suffix("")
    yield Found(path, _RAW_BYTE.sub(lambda m: f"%{ord(m.group()) - 0xDC00:02X}", relative.as_posix()))
