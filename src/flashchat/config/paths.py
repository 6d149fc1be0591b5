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
    """Create `path` (and parents) readable only by the user: it may hold keys and chat history."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


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
