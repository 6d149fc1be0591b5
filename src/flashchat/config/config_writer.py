"""Edits to config.toml that keep the user's file as they wrote it.

The file is the user's: comments, blank lines, key order and quoting survive an edit (tomlkit, a
style-preserving TOML parser; rebuilding the file from a dict drops all of them). A config.toml that is a
symlink (dotfile managers keep the real file in a repository) is written through: the link's target gets the
new text, the link stays (paths.write_private_file: atomic, 0600 from the first byte on).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flashchat.config import paths


class ConfigWriteError(OSError):
    """The config file could not be written; str() is one line that says where and what to do."""


def set_config_value(path: Path, key_path: Sequence[str], value: Any | None, current_text: str) -> bool:
    """Set `key_path` (("theme",) or ("keys", "quit")) to `value`, or remove it when `value` is None.

    `current_text` is the file as read (validated by the caller); returns False when nothing changed, so an
    unset of an absent key does not touch the file.
    """
    import tomlkit

    document = tomlkit.parse(current_text)
    *tables, key = key_path
    container: Any = document
    for name in tables:
        if name not in container:
            if value is None:
                return False
            container[name] = tomlkit.table()
        container = container[name]
    if value is None:
        if key not in container:
            return False
        del container[key]
    elif key not in container and (last := _last_plain_key(container)) is not None:
        # tomlkit would append after the comments that introduce the first table ("# endpoints below"):
        # a new key goes after the last key of its own table instead. (A private method: tomlkit is capped.)
        container._insert_after(last, key, value)
    else:
        container[key] = value
    text = tomlkit.dumps(document)
    if text == current_text:
        return False
    try:
        paths.write_private_file(path, text.encode("utf-8"))
    except OSError as error:
        raise ConfigWriteError(_cannot_write(path, error)) from None
    return True


def _last_plain_key(container: Any) -> Any | None:
    """The last `key = value` line directly in `container` (not a table), or None."""
    from tomlkit.items import AoT, Table

    last = None
    for key, item in container.body:
        if key is not None and not isinstance(item, Table | AoT):
            last = key
    return last


def _cannot_write(path: Path, error: OSError) -> str:
    target = Path(os.path.realpath(path))
    shown = f"{path} (a link to {target})" if target != Path(os.path.abspath(path)) else str(path)
    reason = error.strerror or type(error).__name__
    return f"{shown}: cannot write the config file ({reason}); make {target.parent} writable or edit the file by hand"
