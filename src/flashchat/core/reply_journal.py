"""Durable before display: each piece of a streaming reply is appended to a journal file before any front end
shows it, so a kill -9 mid-reply never loses text that was on the screen.

The database is written every `SAVE_INTERVAL_SECONDS` while a reply streams (a transaction is too dear for
every chunk); the journal covers the gap between those saves with one `write()` per chunk (no fsync: the
promise is about the process dying, and the kernel keeps what was written). One file per reply, 0600, in a
private directory next to the database, locked (flock) by the process writing it. It is deleted once the
reply's final save has landed. On the next start, `recover_replies` folds any journal whose writer is gone
into the database as an incomplete message, then deletes it.

Format: JSON lines; the first is a header saying where the reply belongs, each further one `["t", text]` (reply
text) or `["h", text]` (thought summary). A torn last line (the process died mid-write) is ignored.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flashchat.config import paths
from flashchat.core.conversation import Conversation, Message, ReplyDraft
from flashchat.core.events import Event, TextDelta, ThoughtDelta

if TYPE_CHECKING:
    from flashchat.store.conversation_store import ConversationStore

JOURNAL_SUFFIX = ".replies"  # history.db -> history.db.replies/
RECOVERED_ERROR = "flashchat stopped before the reply finished; the text shown until then was kept."
# A journal bigger than this is not a reply (the model's output limit is far smaller); it is left alone.
_MAX_JOURNAL_BYTES = 64 * 1024 * 1024
TEXT, THOUGHT = "t", "h"
# One encoder for every line: `json.dumps` with separators builds a new one on each call (once per streamed piece).
_encode_line = json.JSONEncoder(separators=(",", ":")).encode


def journal_dir(store: ConversationStore) -> Path | None:
    return store.path.with_name(store.path.name + JOURNAL_SUFFIX) if store.path is not None else None


class ReplyJournal:
    """The journal of one streaming reply: `record` each event before it is shown, `discard` once the reply's
    final save has landed. The file is made at the first piece of text; without a store on disk (none, in
    memory, read-only) or when it cannot be made, recording does nothing and the periodic saves go on."""

    def __init__(self, store: ConversationStore | None, conversation: Conversation) -> None:
        self._store = store
        self._conversation = conversation  # the reply will be its message number len(messages)
        self._descriptor: int | None = None
        self._opened = False
        self.path: Path | None = None

    def record(self, event: Event, draft: ReplyDraft) -> None:
        if isinstance(event, TextDelta):
            kind = TEXT
        elif isinstance(event, ThoughtDelta):
            kind = THOUGHT
        else:
            return
        if not self._opened:
            self._opened = True
            self._open(draft)
        if self._descriptor is None:
            return
        try:
            self._write([kind, event.text])
        except OSError:
            self.discard()

    def _open(self, draft: ReplyDraft) -> None:
        store, conversation = self._store, self._conversation
        directory = journal_dir(store) if store is not None and not getattr(store, "read_only", False) else None
        if directory is None or conversation.id is None:
            return
        path = directory / f"{os.getpid()}-{secrets.token_hex(6)}.jsonl"
        try:
            paths.ensure_private_dir(directory)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
            self._descriptor = os.open(path, flags, 0o600)
            self.path = path
            fcntl.flock(self._descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a live writer: recovery leaves it be
            header = {
                "conversation": conversation.id,
                "position": len(conversation.messages),
                "provider": draft.provider,
                "model": draft.model,
                "thinking_level": draft.thinking_level,
                "created_at": time.time(),
            }
            self._write(header)
        except OSError:
            self.discard()

    def _write(self, record: Any) -> None:
        assert self._descriptor is not None
        # ASCII escapes: a lone surrogate from a hostile server ("\\ud800") cannot be encoded as UTF-8, and
        # must not stop the reply.
        line = (_encode_line(record) + "\n").encode("ascii")
        written = os.write(self._descriptor, line)
        while written < len(line):  # a regular file takes it whole unless the disk is full
            more = os.write(self._descriptor, line[written:])
            if more <= 0:
                raise OSError("short write")
            written += more

    def discard(self) -> None:
        """The reply is in the database: the journal has done its job."""
        descriptor, self._descriptor = self._descriptor, None
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
        if descriptor is not None:
            os.close(descriptor)


def recover_replies(store: ConversationStore) -> int:
    """Fold every journal left by a process that died mid-reply into `store`; returns how many were recovered.

    Never raises: a journal that cannot be read stays where it is for the next start."""
    directory = journal_dir(store)
    if directory is None or getattr(store, "read_only", False):
        return 0
    try:
        names = sorted(name for name in os.listdir(directory) if name.endswith(".jsonl"))
    except OSError:
        return 0
    recovered = 0
    for name in names:
        path = directory / name
        try:
            descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # its process is still streaming that reply
            if os.fstat(descriptor).st_size > _MAX_JOURNAL_BYTES:
                continue
            with os.fdopen(os.dup(descriptor), "rb") as handle:
                data = handle.read()
            if _fold(store, data):
                recovered += 1
            with contextlib.suppress(OSError):
                path.unlink()
        except (OSError, ValueError, TypeError, sqlite3.Error):
            continue
        finally:
            os.close(descriptor)
    return recovered


def _parse(data: bytes) -> tuple[dict[str, Any], str, str] | None:
    lines = data.split(b"\n")
    try:
        header = json.loads(lines[0])
    except ValueError:
        return None
    if not isinstance(header, dict) or not isinstance(header.get("conversation"), str):
        return None
    text: list[str] = []
    thoughts: list[str] = []
    for line in lines[1:]:
        try:
            kind, piece = json.loads(line)
        except (ValueError, TypeError):
            continue  # the torn last line of a process killed mid-write, or the empty one after the last "\n"
        if isinstance(piece, str):
            (text if kind == TEXT else thoughts).append(piece)
    return header, "".join(text), "".join(thoughts)


def _fold(store: ConversationStore, data: bytes) -> bool:
    """Put the journal's text into its conversation: into the reply's partial row when that holds less, else as
    a new incomplete message. True when the database changed."""
    parsed = _parse(data)
    if parsed is None:
        return False
    header, text, thoughts = parsed
    if not text and not thoughts:
        return False
    try:
        conversation = store.load(header["conversation"])
    except KeyError:
        return False  # the conversation was deleted since
    position = header.get("position")
    messages = conversation.messages
    if isinstance(position, int) and 0 <= position < len(messages) and messages[position].role == "model":
        kept = messages[position]
        if not kept.incomplete or (len(kept.text) >= len(text) and len(kept.thoughts) >= len(thoughts)):
            return False  # the final save landed, or a partial save already holds all of it
        kept.text = max(kept.text, text, key=len)
        kept.thoughts = max(kept.thoughts, thoughts, key=len)
        kept.native = None  # the parts of an earlier save hold less than the text: send the text it showed
        kept.error = kept.error or RECOVERED_ERROR
        store.save_message(conversation, kept)
        return True
    message = Message(
        role="model",
        text=text,
        thoughts=thoughts,
        provider=str(header.get("provider") or ""),
        model=str(header.get("model") or ""),
        thinking_level=str(header.get("thinking_level") or ""),
        incomplete=True,
        error=RECOVERED_ERROR,
        created_at=float(header.get("created_at") or time.time()),
    )
    store.save_message(conversation, conversation.add(message))
    return True
