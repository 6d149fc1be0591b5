"""Where flashchat keeps its files (platformdirs, so XDG_CONFIG_HOME / XDG_DATA_HOME are honoured)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import platformdirs

APP_NAME = "flashchat"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    return config_dir() / "config.toml"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def log_file() -> Path:
    return data_dir() / "flashchat.log"


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) readable only by the user: it may hold keys and chat history. One that
    already exists open to others (0755, say, made by another tool) is closed to them."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        mode = path.stat().st_mode
        if mode & 0o077 and path.owner() == _user_name():
            path.chmod(mode & 0o700)  # only takes away: a directory the user made read-only stays so
    except (OSError, KeyError):  # read-only, or not ours: leave it, the files inside are 0600 anyway
        pass
    return path


def _user_name() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def create_private_file(path: Path) -> None:
    """Make sure `path` exists with mode 0600 before anything else opens it (a library that creates it would
    use the umask, 0644 for most users, and sibling files such as SQLite's -wal and -shm copy its mode)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        if os.fstat(descriptor).st_mode & 0o077:
            os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)


def write_private_file(path: Path, data: bytes) -> None:
    """Atomically replace the file `path` names with `data`, mode 0600 from the first byte on.

    When `path` is a symlink its final target is written and the link stays (a dotfile manager's link to
    the real file in a repository keeps working). The temp file sits beside the target, so the rename
    stays on one filesystem. Raises OSError (PermissionError for a read-only directory).
    """
    target = Path(os.path.realpath(path))
    ensure_private_dir(target.parent)
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")  # 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
