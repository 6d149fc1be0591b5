"""Misleading outcomes of the history store: a full disk reads as a full disk, and a read-only data directory
still shows the history it holds (saving is off, and says so)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from flashchat.config import paths
from flashchat.core.conversation import Conversation, Message
from flashchat.store.conversation_store import open_store
from support import run_cli

FILL_A_TINY_DISK = """
import os, subprocess, sys
data = sys.argv[1]
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", data], check=True)
os.environ["XDG_DATA_HOME"] = data
from flashchat.core.conversation import Conversation, Message
from flashchat.store.conversation_store import open_store
store = open_store()
conversation = Conversation()
store.save_message(conversation, conversation.add(Message(role="user", text="small")))
filler = os.open(os.path.join(data, "filler"), os.O_WRONLY | os.O_CREAT)
try:
    while True:
        os.write(filler, bytes(65536))
except OSError:
    pass
store.save_message(conversation, conversation.add(Message(role="model", text="y" * 300_000)))
print(store.warning)
"""


def test_a_really_full_disk_reads_as_a_full_disk(tmp_path: Path) -> None:
    """A 1 MB tmpfs filled up, in a mount namespace of its own (no root needed, nothing mounted here)."""
    data = tmp_path / "tiny"
    data.mkdir()
    command = ["unshare", "--mount", "--map-root-user", sys.executable, "-c", FILL_A_TINY_DISK, str(data)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout == (
        f"could not save history to {data}/flashchat/history.db (the disk is full); this chat continues but is not"
        " being saved\n"
    )


def test_a_full_database_reads_as_a_full_disk() -> None:
    store = open_store()
    conversation = Conversation()
    store.save_message(conversation, conversation.add(Message(role="user", text="small")))
    # SQLite's own limit on the file's size fails writes exactly as a full disk does (SQLITE_FULL).
    page_count = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {page_count + 1}")
    store.save_message(conversation, conversation.add(Message(role="model", text="x" * 200_000)))
    assert store.warning == (
        f"could not save history to {store.path} (the disk is full); this chat continues but is not being saved"
    )
    store.close()


@contextlib.contextmanager
def read_only(directory: Path) -> Iterator[None]:
    """`directory` read-only for this process: by its mode, or for root (whom modes do not stop) by a read-only
    bind mount of it."""
    if os.geteuid() != 0:
        directory.chmod(0o500)
        try:
            yield
        finally:
            directory.chmod(0o700)
        return
    subprocess.run(["mount", "--bind", str(directory), str(directory)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(directory)], check=True)
        yield
    finally:
        subprocess.run(["umount", str(directory)], check=True)


def test_a_read_only_data_dir_still_shows_history(cli_env: dict) -> None:
    store = open_store()
    conversation = Conversation(title="kept chat")
    store.save_message(conversation, conversation.add(Message(role="user", text="what was said")))
    store.save_message(conversation, conversation.add(Message(role="model", text="the answer")))
    store.close()
    with read_only(paths.data_dir()):
        store = open_store()
        assert store.read_only
        assert store.warning.startswith(f"history at {store.path} is read-only (")
        assert store.warning.endswith("); it is shown, but saving is off")
        assert [m.text for m in store.load(conversation.id).messages] == ["what was said", "the answer"]
        store.save_message(conversation, conversation.add(Message(role="user", text="more")))  # skipped, no error
        store.close()
        listed = run_cli(["history"], cli_env)
        shown = run_cli(["history", "show", conversation.id], cli_env)
    assert listed.returncode == 0 and "kept chat" in listed.stdout, listed.stderr
    assert shown.returncode == 0 and "the answer" in shown.stdout, shown.stderr
