"""One process at a time in a run folder: an exclusive, non-blocking lock on ``<run>/run.lock``.

The lock is an ``flock`` on the file, so the kernel releases it when the holder exits in any way (also
on SIGKILL): a crashed run never leaves a stale lock. The holder's pid is written into the file so that
a second process can say who holds it. (The ``filelock`` package truncates the file when it tries to
lock, which would erase that pid; the lock itself is a few lines of the standard library.)
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from vatl.errors import UserError

try:  # POSIX; on other systems the run folder is not locked (documented in the README)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = "run.lock"


class RunFolderInUse(UserError):
    """Another process (or another session of this process) holds the run folder."""


class RunLock:
    """``with RunLock(folder):`` or ``lock = RunLock(folder).acquire(); …; lock.release()``."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> RunLock:
        """Take the lock or raise :class:`RunFolderInUse` naming the holder's pid."""
        if self._fd is not None:
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = _read_pid(fd)
                os.close(fd)
                if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES, errno.EAGAIN):
                    raise
                who = f"pid {holder}" if holder else "another process"
                if holder == os.getpid():
                    who += " (this process: close the other session first)"
                raise RunFolderInUse(f"run folder {self.folder} is in use by {who}; wait for it to finish "
                                     "or use another output folder") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None
