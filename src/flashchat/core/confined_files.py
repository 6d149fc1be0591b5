"""Opening and reading files that someone else chose: the model (local tools) or the user (`-f`, `@path`).

Model-chosen paths are confined to the start directory by the way they are opened, not by a check before
the open: each component is opened with `openat(..., O_NOFOLLOW)` relative to the directory opened before
it, so a directory swapped for a symlink between a check and the open can never lead outside. A symlink
met on the way is read (`readlinkat`) and its target walked the same way from the root, so links inside the
tree still work and links out are refused.

Every read is of a regular file only (opened `O_NONBLOCK`, so a FIFO never blocks the open, then `fstat`),
capped by the bytes actually read rather than `st_size` (0 for devices), and bounded in time. A pipe the
user named (`-f <(cmd)`, a FIFO) is read with a deadline. Failures are `FileRefused` with one line for the
user or the model, never a traceback.
"""

from __future__ import annotations

import errno
import os
import select
import stat
import time
from collections import deque
from pathlib import Path

# More than this many symlinks on one path is a loop (the kernel's own limit is 40).
MAX_SYMLINK_FOLLOWS = 40
# Longer than any real path (PATH_MAX); a longer string is refused before any system call.
MAX_PATH_CHARS = 4096
# How long a pipe or FIFO the user named may take to deliver its text.
PIPE_WAIT_SECONDS = 5.0
_READ_CHUNK = 1 << 16
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class FileRefused(Exception):
    """A file that cannot be opened or read as asked; the text says which and why, in one line."""


def printable_path(given: str) -> str:
    """A path as an error line may show it: NUL bytes spelled out, a huge name cut short."""
    shown = given.replace("\x00", "\\0")
    return shown if len(shown) <= 120 else shown[:100] + f"… ({len(given):,} characters)"


def describe_os_error(shown: str, error: OSError) -> str:
    """One line for an OSError, worded for people (and models) rather than errno names."""
    reasons = {
        errno.ENOENT: "no such file",
        errno.ENOTDIR: "a component of the path is not a directory",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENAMETOOLONG: "the name is too long",
        errno.ELOOP: "too many symbolic links (a loop?)",
        errno.EISDIR: "it is a directory",
    }
    reason = reasons.get(error.errno or 0) or f"cannot read it ({error.strerror or error})"
    return f"{printable_path(shown)}: {reason}"


def _check_path_text(shown: str, given: str) -> None:
    if "\x00" in given:
        raise FileRefused(f"{printable_path(shown)}: the path has a NUL byte in it")
    if len(given) > MAX_PATH_CHARS:
        raise FileRefused(f"{printable_path(shown)}: the path is too long")


def _parts(path: str) -> list[str]:
    return [part for part in path.split("/") if part not in ("", ".")]


def open_confined(root: Path, given: str, *, directory: bool = False, pipes: bool = False) -> int:
    """A descriptor for `given` (relative to `root`, or absolute inside it), opened without ever leaving `root`.

    `directory` asks for a directory (for listing); otherwise the result is a regular file, or with `pipes`
    also a FIFO. The caller closes the descriptor. Raises FileRefused.
    """
    _check_path_text(given, given)
    shown = printable_path(given)
    root_text = os.path.realpath(root)
    if given.startswith("/"):
        if os.path.commonpath([root_text, os.path.normpath(given)]) != root_text:
            raise FileRefused(f"{given!r} is outside the working directory {root_text}; access refused")
        given = os.path.relpath(os.path.normpath(given), root_text)
    outside = f"{shown!r} is outside the working directory {root_text}; access refused"
    stack = [os.open(root_text, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)]
    pending = deque(_parts(given))
    follows = 0
    result: int | None = None
    try:
        while pending:
            name = pending.popleft()
            if name == "..":
                if len(stack) == 1:
                    raise FileRefused(outside)
                os.close(stack.pop())
                continue
            last = not pending
            flags = _OPEN_FLAGS | (os.O_DIRECTORY if directory or not last else 0)
            try:
                descriptor = os.open(name, flags, dir_fd=stack[-1])
            except OSError as error:
                if error.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise FileRefused(describe_os_error(shown, error)) from None
                try:
                    target = os.readlink(name, dir_fd=stack[-1])
                except OSError:
                    raise FileRefused(describe_os_error(shown, error)) from None
                follows += 1
                if follows > MAX_SYMLINK_FOLLOWS:
                    raise FileRefused(f"{shown}: too many symbolic links (a loop?)") from None
                if target.startswith("/"):
                    normal = os.path.normpath(target)
                    if os.path.commonpath([root_text, normal]) != root_text:
                        raise FileRefused(outside) from None
                    while len(stack) > 1:
                        os.close(stack.pop())
                    target = os.path.relpath(normal, root_text)
                pending.extendleft(reversed(_parts(target)))
                continue
            if last:
                result = descriptor
            else:
                stack.append(descriptor)
        if result is None:  # the root itself ("." or "")
            result = os.dup(stack[-1])
        info = os.fstat(result)
        if directory and not stat.S_ISDIR(info.st_mode):
            raise FileRefused(f"{shown!r} is not a directory")
        if not directory:
            if stat.S_ISDIR(info.st_mode):
                raise FileRefused(f"{shown} is a directory")
            if not stat.S_ISREG(info.st_mode) and not (pipes and stat.S_ISFIFO(info.st_mode)):
                raise FileRefused(f"{shown} is not a regular file (a FIFO, device or socket); it is not read")
        descriptor, result = result, None
        return descriptor
    finally:
        if result is not None:
            os.close(result)
        for descriptor in stack:
            os.close(descriptor)


def read_descriptor(descriptor: int, shown: str, cap: int) -> bytes:
    """All of a regular file's bytes, refused (before reading it whole) when over `cap` bytes."""
    size = os.fstat(descriptor).st_size
    if size > cap:
        raise FileRefused(_too_big(shown, size, cap))
    chunks: list[bytes] = []
    total = 0
    while True:
        try:
            chunk = os.read(descriptor, _READ_CHUNK)
        except OSError as error:
            raise FileRefused(describe_os_error(shown, error)) from None
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > cap:  # it grew while being read (st_size said less)
            raise FileRefused(_too_big(shown, total, cap))
        chunks.append(chunk)


def read_confined(root: Path, given: str, cap: int, *, pipe_seconds: float | None = None) -> bytes:
    """The bytes of the regular file `given` inside `root` (see `open_confined`), at most `cap` of them. With
    `pipe_seconds`, a FIFO is read too, for that long at most."""
    descriptor = open_confined(root, given, pipes=pipe_seconds is not None)
    try:
        if pipe_seconds is not None and stat.S_ISFIFO(os.fstat(descriptor).st_mode):
            return _read_pipe(descriptor, printable_path(given), cap, pipe_seconds)
        return read_descriptor(descriptor, printable_path(given), cap)
    finally:
        os.close(descriptor)


def read_user_file(path: Path, shown: str, cap: int, wait_seconds: float = PIPE_WAIT_SECONDS) -> bytes:
    """A file the user named outside the start directory (`-f ~/notes.md`, `-f <(cmd)`): a regular file, or a
    pipe or FIFO read until its end within `wait_seconds`. Devices and sockets are refused, so `-f /dev/zero`
    reads nothing. (A name inside the start directory is read with `read_confined`: the tree may be someone
    else's, and its symlinks must not lead a mention out of it.)"""
    text = str(path)
    _check_path_text(shown, text)
    try:
        descriptor = os.open(text, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as error:
        raise FileRefused(describe_os_error(shown, error)) from None
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise FileRefused(f"{shown} is a directory")
        if stat.S_ISREG(mode):
            return read_descriptor(descriptor, shown, cap)
        if stat.S_ISFIFO(mode):
            return _read_pipe(descriptor, shown, cap, wait_seconds)
        raise FileRefused(f"{shown} is a device or socket, not a file; only files and pipes can be attached")
    finally:
        os.close(descriptor)


def _read_pipe(descriptor: int, shown: str, cap: int, wait_seconds: float) -> bytes:
    # A FIFO with no writer yet reads as end-of-file at once when opened non-blocking, but poll() waits for a
    # writer: so wait on poll, and take an empty read as the end only once poll said something happened.
    deadline = time.monotonic() + wait_seconds
    poller = select.poll()
    poller.register(descriptor, select.POLLIN)
    chunks: list[bytes] = []
    total = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not poller.poll(remaining * 1000):
            got = f" after {total:,} bytes" if total else " (is anything writing to it?)"
            raise FileRefused(f"{shown}: the pipe did not finish within {wait_seconds:g} s{got}")
        try:
            chunk = os.read(descriptor, _READ_CHUNK)
        except BlockingIOError:
            continue
        except OSError as error:
            raise FileRefused(describe_os_error(shown, error)) from None
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > cap:
            raise FileRefused(_too_big(shown, total, cap, streamed=True))
        chunks.append(chunk)


def _too_big(shown: str, size: int, cap: int, streamed: bool = False) -> str:
    amount = f"more than {cap / 1e6:.1f} MB" if streamed else f"{size / 1e6:.1f} MB"
    return f"{shown} is {amount}; files over {cap // 2**20} MB are refused"
