"""Writing files safely: the one atomic write of the project.

:func:`write_atomic` writes to a temporary file in the target's folder, flushes it to disk,
renames it over the target and flushes the folder, so a reader sees the old file or the new
one, never half of one, and a crash leaves no partial target. It refuses targets that are not
regular files (a symlink, FIFO or device node is never replaced).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


class UnsafeTarget(ValueError):
    """The target exists and is not a regular file (message in Dutch)."""


def check_target(path: Path) -> None:
    """Raise :class:`UnsafeTarget` when ``path`` exists and is not a regular file."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise UnsafeTarget(f"{path} is een symbolische koppeling; kies een gewoon bestand.")
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeTarget(f"{path} is geen gewoon bestand (maar bijvoorbeeld een apparaat of pijp); "
                           "kies een gewoon bestand.")


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (after a rename) where the platform allows it."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomic(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o644) -> Path:
    """Write ``data`` to ``path`` atomically (see the module doc); returns the path."""
    target = Path(path)
    check_target(target)
    folder = target.parent if str(target.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(folder)
    return target
