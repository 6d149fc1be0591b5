"""Files on disk: the history database and its -wal and -shm files are 0600 from creation even when the data
directory already exists 0755 (the directory is then closed to 0700); the log file is 0600."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from flashchat.config import paths
from flashchat.core.conversation import Conversation, Message
from flashchat.store.conversation_store import open_store


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_history_files_are_private_in_a_data_dir_made_0755(isolated_home: Path) -> None:
    data = paths.data_dir()
    data.mkdir(parents=True, mode=0o755)
    data.chmod(0o755)
    previous = os.umask(0o022)
    try:
        store = open_store()
        conversation = Conversation()
        store.save_message(conversation, conversation.add(Message(role="user", text="private words")))
        database = data / "history.db"
        files = {name: mode(data / name) for name in ("history.db", "history.db-wal", "history.db-shm")}
        store.close()
    finally:
        os.umask(previous)
    assert store.warning == "" and database.exists()
    assert files == {"history.db": 0o600, "history.db-wal": 0o600, "history.db-shm": 0o600}
    assert mode(data) == 0o700


def test_wal_files_left_0644_by_an_older_version_are_closed(isolated_home: Path) -> None:
    data = paths.data_dir()
    data.mkdir(parents=True)
    store = open_store()
    store.close()
    for name in ("history.db", "history.db-wal", "history.db-shm"):
        (data / name).touch()
        (data / name).chmod(0o644)
    store = open_store()
    try:
        assert {name: mode(data / name) for name in ("history.db", "history.db-wal", "history.db-shm")} == {
            "history.db": 0o600, "history.db-wal": 0o600, "history.db-shm": 0o600,
        }  # fmt: skip
    finally:
        store.close()


def test_the_log_file_is_private(isolated_home: Path) -> None:
    data = paths.data_dir()
    data.mkdir(parents=True, mode=0o755)
    data.chmod(0o755)
    script = (
        "import os, logging; os.umask(0o022)\n"
        "from flashchat.config.logs import route_library_output_to_log_file\n"
        "route_library_output_to_log_file(); logging.getLogger('flashchat').warning('a line')\n"
    )
    subprocess.run([sys.executable, "-c", script], env={**os.environ}, check=True, timeout=60)
    log = data / "flashchat.log"
    assert "a line" in log.read_text()
    assert mode(log) == 0o600 and mode(data) == 0o700
