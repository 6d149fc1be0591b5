"""The conversation store: SQLite (standard library) in the user data dir, so nothing a user saw is lost.

- WAL mode plus a busy timeout, and every write in `BEGIN IMMEDIATE`, so two flashchat processes can write at
  once without "database is locked".
- Messages keep the provider-native content as JSON text exactly as received (signatures included); `text` is a
  copy for display and the FTS5 index.
- A corrupt file is moved aside (never deleted) and a fresh store started; a read-only or full data dir falls
  back to an in-memory store. Either way `store.warning` says so in one line and chatting goes on.
- The API key is never written here: only conversations and messages are stored.
- One store serves several threads (the TUI reads from worker threads while the session writes from its writer
  thread, so the event loop never waits on SQLite): every public method holds the store's lock.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import math
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Concatenate, ParamSpec, TypeVar

from flashchat.config import paths
from flashchat.core.conversation import Conversation, Message, Usage
from flashchat.core.errors import StoreError
from flashchat.core.media import MediaRef, UploadedFile
from flashchat.store import media_blobs

DATABASE_NAME = "history.db"
EXPORT_FORMAT = "flashchat.conversation"
EXPORT_VERSION = 1
BUSY_TIMEOUT_MS = 10_000

_SCHEMA_V1 = """
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    system_prompt TEXT NOT NULL DEFAULT '',
    message_count INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    thought_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    total_tokens INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX conversations_by_update ON conversations (updated_at DESC);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    role TEXT NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    thoughts TEXT NOT NULL DEFAULT '',
    native TEXT,
    provider TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    model_version TEXT NOT NULL DEFAULT '',
    thinking_level TEXT NOT NULL DEFAULT '',
    usage TEXT,
    finish_reason TEXT,
    incomplete INTEGER NOT NULL DEFAULT 0,
    stopped INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    first_token_seconds REAL,
    duration_seconds REAL
);
CREATE INDEX messages_in_order ON messages (conversation_id, position);
CREATE VIRTUAL TABLE message_search USING fts5 (text, content = 'messages', content_rowid = 'id');
CREATE TRIGGER messages_indexed AFTER INSERT ON messages BEGIN
    INSERT INTO message_search (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER messages_unindexed AFTER DELETE ON messages BEGIN
    INSERT INTO message_search (message_search, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER messages_reindexed AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO message_search (message_search, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO message_search (rowid, text) VALUES (new.id, new.text);
END;
"""

# Reply metadata shown with a reply but never sent back (grounding sources, URL context results).
_ADD_EXTRAS = "ALTER TABLE messages ADD COLUMN extras TEXT;"

# The Interactions API's chain: each stored reply's interaction id and the server that holds it.
_ADD_INTERACTION_IDS = """
ALTER TABLE messages ADD COLUMN interaction_id TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN interaction_endpoint TEXT NOT NULL DEFAULT '';
"""

# Forward migrations: entry N turns schema version N into N + 1. Never edit a shipped entry; append one.
MIGRATIONS: list[str] = [_SCHEMA_V1, _ADD_EXTRAS, _ADD_INTERACTION_IDS, media_blobs.MIGRATION]
SCHEMA_VERSION = len(MIGRATIONS)

# Stored per message, in the order of `_message_row`; the row id and position are handled apart.
_MESSAGE_FIELDS = [
    "role",
    "text",
    "thoughts",
    "native",
    "provider",
    "model",
    "model_version",
    "thinking_level",
    "usage",
    "finish_reason",
    "incomplete",
    "stopped",
    "error",
    "created_at",
    "first_token_seconds",
    "duration_seconds",
    "extras",
    "interaction_id",
    "interaction_endpoint",
    "media",
]
_INSERT_MESSAGE = (
    f"INSERT INTO messages (conversation_id, position, {', '.join(_MESSAGE_FIELDS)})"
    f" VALUES (?, ?, {', '.join('?' * len(_MESSAGE_FIELDS))})"
)
_UPDATE_MESSAGE = f"UPDATE messages SET position = ?, {', '.join(f'{f} = ?' for f in _MESSAGE_FIELDS)} WHERE id = ?"
_SELECT_MESSAGES = (
    f"SELECT id, {', '.join(_MESSAGE_FIELDS)} FROM messages WHERE conversation_id = ? ORDER BY position, id"
)
# A conversation's end (newest first), and what comes before a message: (position, id) orders messages.
_SELECT_LAST_MESSAGES = (
    f"SELECT id, {', '.join(_MESSAGE_FIELDS)} FROM messages WHERE conversation_id = ?"
    " ORDER BY position DESC, id DESC LIMIT ?"
)
_BEFORE = "conversation_id = ? AND (position < ? OR (position = ? AND id < ?))"
_SELECT_EARLIER_MESSAGES = (
    f"SELECT id, {', '.join(_MESSAGE_FIELDS)} FROM messages WHERE {_BEFORE} ORDER BY position, id"
)
_COUNT_EARLIER = f"SELECT count(*) FROM messages WHERE {_BEFORE}"


@dataclass(frozen=True)
class ConversationSummary:
    id: str
    title: str
    created_at: float
    updated_at: float
    message_count: int
    total_tokens: int
    model: str


# FTS5 marks the matched words in a snippet with these. Not "[" and "]": a message's own brackets would look
# like matches, and a front end that reads markup would take "[b]" in a message for a style.
MATCH_START, MATCH_END = "\x02", "\x03"


@dataclass(frozen=True)
class SearchHit:
    conversation_id: str
    title: str
    snippet: str  # the matched words between MATCH_START and MATCH_END; see snippet_parts
    message_id: int
    updated_at: float

    def snippet_parts(self) -> list[tuple[str, bool]]:
        """The snippet as (text, is_match) pieces, markers removed, for a front end to highlight."""
        parts: list[tuple[str, bool]] = []
        for index, piece in enumerate(self.snippet.split(MATCH_START)):
            matched, _, rest = piece.partition(MATCH_END) if index else ("", "", piece)
            parts += [(text, is_match) for text, is_match in ((matched, True), (rest, False)) if text]
        return parts

    @property
    def plain_snippet(self) -> str:
        return "".join(text for text, _ in self.snippet_parts())


def _connect(path: Path | str) -> sqlite3.Connection:
    # Autocommit mode: transactions are opened explicitly (BEGIN IMMEDIATE) so lock waits use the busy timeout.
    # Any thread may use the connection (check_same_thread=False); ConversationStore's lock keeps them in turn.
    connection = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA foreign_keys = ON")
    return connection


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _serialised(
    method: Callable[Concatenate[ConversationStore, _P], _R],
) -> Callable[Concatenate[ConversationStore, _P], _R]:
    """Run `method` holding the store's lock. The one connection is shared by threads, and two threads' statements
    must not interleave: one thread's COMMIT would end the other's transaction, and a read could see a write
    half done. Reentrant, since public methods call each other (load -> resolve_id)."""

    @functools.wraps(method)
    def locked(self: ConversationStore, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._lock:
            return method(self, *args, **kwargs)

    return locked


class ConversationStore:
    def __init__(self, connection: sqlite3.Connection, path: Path | None, warning: str = "") -> None:
        self._db = connection
        self._lock = threading.RLock()
        self.path = path
        # One line for the user when history is not being kept as usual ("" when all is well).
        self.warning = warning
        # History that can be read but not written (see `warning`): saves are skipped, commands refused.
        self.read_only = False

    # -- opening -----------------------------------------------------------------------------------------

    @classmethod
    def open_file(cls, path: Path) -> ConversationStore:
        """Open (creating or migrating) the database at `path`; raises sqlite3 errors to `open_store`."""
        paths.ensure_private_dir(path.parent)
        _make_private(path)
        connection = _connect(path)
        try:
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            connection.execute("PRAGMA synchronous = NORMAL")  # with WAL: durable across process crashes
            _migrate(connection)
            if connection.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("integrity check failed")
        except BaseException:
            connection.close()
            raise
        store = cls(connection, path)
        if mode != "wal":
            store.warning = f"history database {path} is not in WAL mode ({mode}); concurrent writers may wait"
        return store

    @classmethod
    def open_read_only(cls, path: Path, options: str) -> ConversationStore:
        """The database at `path` opened for reading only (`options`: SQLite URI parameters)."""
        if not path.is_file():
            raise sqlite3.OperationalError(f"{path} does not exist")
        from urllib.parse import quote

        connection = sqlite3.connect(
            f"file:{quote(str(path))}?{options}", uri=True, isolation_level=None, check_same_thread=False
        )
        try:
            if connection.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                raise sqlite3.OperationalError("the database needs a schema migration, which cannot be written")
            connection.execute("SELECT count(*) FROM conversations").fetchone()
        except BaseException:
            connection.close()
            raise
        store = cls(connection, path)
        store.read_only = True
        return store

    @classmethod
    def in_memory(cls, warning: str = "") -> ConversationStore:
        connection = _connect(":memory:")
        _migrate(connection)
        return cls(connection, None, warning)

    @_serialised
    def close(self) -> None:
        self._db.close()

    # -- writing ----------------------------------------------------------------------------------------

    @_serialised
    def save_message(self, conversation: Conversation, message: Message) -> None:
        """Insert or update `message` (and its conversation row). Safe to call many times while streaming."""
        if self.read_only:
            return
        try:
            self._write_message(conversation, message)
        except sqlite3.Error as error:
            self._degrade(error)

    @_serialised
    def delete_message(self, conversation: Conversation, message: Message) -> None:
        if message.id is None or conversation.id is None or self.read_only:
            return
        try:
            with self._transaction():
                self._db.execute("DELETE FROM messages WHERE id = ?", (message.id,))
                self._update_totals(conversation)
        except sqlite3.Error as error:
            self._degrade(error)

    def _write_message(self, conversation: Conversation, message: Message) -> None:
        with self._transaction():
            conversation.updated_at = time.time()
            if conversation.id is None:
                conversation.id = self._new_id()
                self._insert_conversation(conversation)
            position = _position_of(conversation, message)
            if message.media:  # one copy of each attached file, before the message that names it
                media_blobs.save(self._db, conversation.media, message.media)
                if conversation.media.backing is None:
                    conversation.media.backing = self  # where its uploads are remembered from now on
            if message.id is None:
                cursor = self._db.execute(_INSERT_MESSAGE, (conversation.id, position, *_message_row(message)))
                message.id = cursor.lastrowid
            else:
                self._db.execute(_UPDATE_MESSAGE, (position, *_message_row(message), message.id))
            self._update_totals(conversation)

    def _insert_conversation(self, conversation: Conversation) -> None:
        self._db.execute(
            "INSERT INTO conversations (id, title, created_at, updated_at, model, system_prompt)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                conversation.id,
                conversation.title,
                conversation.created_at,
                conversation.updated_at,
                conversation.model,
                conversation.system_prompt,
            ),
        )

    def _update_totals(self, conversation: Conversation) -> None:
        usage = conversation.total_usage()
        self._db.execute(
            "UPDATE conversations SET title = ?, updated_at = ?, model = ?, system_prompt = ?,"
            " message_count = (SELECT count(*) FROM messages WHERE conversation_id = ?),"
            " prompt_tokens = ?, output_tokens = ?, thought_tokens = ?, cached_tokens = ?, total_tokens = ?"
            " WHERE id = ?",
            (
                conversation.title,
                conversation.updated_at,
                conversation.model,
                conversation.system_prompt,
                conversation.id,
                usage.prompt,
                usage.output,
                usage.thoughts,
                usage.cached,
                usage.total,
                conversation.id,
            ),
        )

    @_serialised
    def rename(self, conversation_id: str, title: str) -> None:
        conversation_id = self.resolve_id(conversation_id)
        with self._transaction():
            self._db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title.strip(), conversation_id))

    @_serialised
    def delete(self, conversation_id: str) -> None:
        conversation_id = self.resolve_id(conversation_id)
        with self._transaction():
            self._db.execute("DELETE FROM messages WHERE conversation_id = ?", (conversation_id,))
            self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    # -- reading ----------------------------------------------------------------------------------------

    @_serialised
    def resolve_id(self, given: str) -> str:
        """The full id for `given`, which may be a unique prefix (like git): raises StoreError otherwise."""
        given = given.strip()
        rows = self._db.execute(
            "SELECT id FROM conversations WHERE id >= ? AND id < ? ORDER BY id LIMIT 2", (given, given + "\uffff")
        ).fetchall()
        if len(rows) == 1 or (rows and rows[0][0] == given):
            return rows[0][0]
        if not rows:
            raise StoreError(f"no conversation with id {given!r} (see `flashchat history`)")
        raise StoreError(f"id {given!r} matches several conversations; give more characters")

    @_serialised
    def latest_id(self) -> str | None:
        row = self._db.execute("SELECT id FROM conversations ORDER BY updated_at DESC LIMIT 1").fetchone()
        return row[0] if row else None

    @_serialised
    def load(self, conversation_id: str) -> Conversation:
        """The conversation with all its messages (`conversation_id` may be a unique prefix; KeyError if none)."""
        return self.load_tail(conversation_id, None)[0]

    @_serialised
    def load_tail(self, conversation_id: str, last: int | None) -> tuple[Conversation, int]:
        """The conversation with only its `last` messages (all of them for None), and how many come before those
        (`load_earlier` reads them). Opening a long conversation reads its end first, which is what the first
        paint shows: reading and decoding 8,000 messages took 0.1-0.4 s, the last 16 under a millisecond."""
        try:
            conversation_id = self.resolve_id(conversation_id)
        except StoreError as error:
            raise KeyError(conversation_id) from error
        row = self._db.execute(
            "SELECT id, title, system_prompt, model, created_at, updated_at FROM conversations WHERE id = ?",
            (conversation_id,),
        ).fetchone()
        with _collector_paused():
            if last is None:
                rows = self._db.execute(_SELECT_MESSAGES, (conversation_id,))
                messages = [_message_from_row(values) for values in rows]
            else:
                rows = self._db.execute(_SELECT_LAST_MESSAGES, (conversation_id, last)).fetchall()
                messages = [_message_from_row(values) for values in reversed(rows)]
        earlier = 0
        if messages and len(messages) == last:
            earlier = self._db.execute(_COUNT_EARLIER, (conversation_id, *self._order_of(messages[0]))).fetchone()[0]
        conversation = Conversation(
            messages=messages,
            id=row[0],
            title=row[1],
            system_prompt=row[2],
            model=row[3],
            created_at=row[4],
            updated_at=row[5],
        )
        conversation.media.backing = self  # attachments are sent again from the store's copy
        return conversation, earlier

    @_serialised
    def load_earlier(self, conversation_id: str, first: Message) -> list[Message]:
        """The stored messages of `conversation_id` that come before `first` (the first one `load_tail` read), in
        order: with the tail, the whole conversation as `load` reads it."""
        with _collector_paused():
            rows = self._db.execute(_SELECT_EARLIER_MESSAGES, (conversation_id, *self._order_of(first)))
            return [_message_from_row(values) for values in rows]

    def _order_of(self, message: Message) -> tuple[int, int, int]:
        """Where `message` sits in its conversation, as the parameters of `_BEFORE`."""
        row = self._db.execute("SELECT position FROM messages WHERE id = ?", (message.id,)).fetchone()
        if row is None:
            raise StoreError("the conversation changed while it was being read; open it again")
        return row[0], row[0], message.id or 0

    # -- attachments (core.media.MediaBacking): one copy per file, by sha256 -----------------------------

    @_serialised
    def has_media(self, sha256: str) -> bool:
        return media_blobs.has(self._db, sha256)

    @_serialised
    def read_media(self, sha256: str) -> bytes:
        return media_blobs.read(self._db, sha256)

    @_serialised
    def copy_media(self, sha256: str, into: BinaryIO) -> None:
        media_blobs.copy(self._db, sha256, into)

    @_serialised
    def upload_of(self, sha256: str) -> UploadedFile | None:
        return media_blobs.upload_of(self._db, sha256)

    @_serialised
    def remember_upload(self, sha256: str, uploaded: UploadedFile) -> None:
        try:
            with self._transaction():
                media_blobs.remember_upload(self._db, sha256, uploaded)
        except sqlite3.Error as error:
            self._degrade(error)

    @_serialised
    def list_conversations(
        self, limit: int = 50, offset: int = 0, *, replied_only: bool = False
    ) -> list[ConversationSummary]:
        """The newest conversations first. With `replied_only` (what the history lists show), only those that
        hold a reply: a first prompt whose request failed (or was stopped before a word came) stays stored, so
        `flashchat -c`, `/open` and search still find what was typed, but it is not listed as an empty
        "1 message · 0 tokens" entry."""
        replied = " WHERE EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.role = 'model')"
        rows = self._db.execute(
            "SELECT id, title, created_at, updated_at, message_count, total_tokens, model FROM conversations c"
            + (replied if replied_only else "")
            + " ORDER BY updated_at DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [ConversationSummary(*row) for row in rows]

    @_serialised
    def summary(self, conversation_id: str) -> ConversationSummary:
        row = self._db.execute(
            "SELECT id, title, created_at, updated_at, message_count, total_tokens, model FROM conversations"
            " WHERE id = ?",
            (self.resolve_id(conversation_id),),
        ).fetchone()
        return ConversationSummary(*row)

    @_serialised
    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """Best matches first (bm25), one hit per conversation, with a snippet around the match."""
        match = _fts_query(query)
        if not match:
            return []
        rows = self._db.execute(
            "SELECT m.conversation_id, c.title, snippet(message_search, 0, char(2), char(3), '…', 12), m.id,"
            " c.updated_at, bm25(message_search) AS rank"
            " FROM message_search JOIN messages m ON m.id = message_search.rowid"
            " JOIN conversations c ON c.id = m.conversation_id"
            " WHERE message_search MATCH ? ORDER BY rank LIMIT ?",
            (match, limit * 5),
        )
        hits: dict[str, SearchHit] = {}
        for conversation_id, title, snippet, message_id, updated_at, _rank in rows:
            if conversation_id not in hits:
                hits[conversation_id] = SearchHit(
                    conversation_id, title, " ".join(snippet.split()), message_id, updated_at
                )
        return list(hits.values())[:limit]

    # -- export and import ------------------------------------------------------------------------------

    @_serialised
    def export_json(self, conversation_id: str) -> dict[str, Any]:
        """A lossless document: every stored field, native content exactly as kept."""
        conversation = self.load(conversation_id)
        return {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "conversation": {
                "id": conversation.id,
                "title": conversation.title,
                "system_prompt": conversation.system_prompt,
                "model": conversation.model,
                "created_at": conversation.created_at,
                "updated_at": conversation.updated_at,
            },
            "messages": [_message_document(message) for message in conversation.messages],
            "attachments": media_blobs.export(self._db, [ref for m in conversation.messages for ref in m.media]),
        }

    @_serialised
    def import_json(self, document: Any) -> str:
        """Store an exported conversation; keeps its id unless taken. Returns the id it was stored under.

        A document already in the history (the same id, or the same start time and title, with the same
        messages) is not stored again: its id is returned."""
        return self._import(document)[0]

    @_serialised
    def import_json_once(self, document: Any) -> tuple[str, bool]:
        """Like import_json, also saying whether anything was stored (False: it was already there)."""
        return self._import(document)

    def _import(self, document: Any) -> tuple[str, bool]:
        if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
            raise StoreError(f'not a flashchat export (expected "format": "{EXPORT_FORMAT}")')
        if document.get("version") != EXPORT_VERSION:
            raise StoreError(f"unsupported export version {document.get('version')!r} (this flashchat reads 1)")
        try:
            header = document["conversation"]
            if not isinstance(header, dict) or not isinstance(document["messages"], list):
                raise TypeError('"conversation" must be an object and "messages" a list')
            messages = [_message_from_document(item) for item in document["messages"]]
            conversation = Conversation(
                messages=messages,
                title=str(header.get("title", "")),
                system_prompt=str(header.get("system_prompt", "")),
                model=str(header.get("model", "")),
                created_at=_finite(header.get("created_at") or time.time()),
                updated_at=_finite(header.get("updated_at") or time.time()),
            )
        except (KeyError, TypeError, ValueError, OverflowError) as error:
            raise StoreError(f"the export is damaged: {error}") from None
        try:  # text SQLite can store: a lone surrogate (valid JSON, "\ud800") is not UTF-8
            json.dumps(document, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise StoreError("the export is damaged: it holds text that is not valid Unicode") from None
        wanted = str(header.get("id") or "")
        wanted = wanted if re.fullmatch(r"[0-9A-Za-z_-]{1,64}", wanted) else ""  # else a new id
        dated = header.get("created_at") is not None
        if (existing := self._same_conversation(wanted, conversation, dated)) is not None:
            return existing, False
        taken = wanted and self._db.execute("SELECT 1 FROM conversations WHERE id = ?", (wanted,)).fetchone()
        conversation.id = wanted if wanted and not taken else self._new_id()
        refs = [ref for message in messages for ref in message.media]
        with self._transaction():
            try:
                media_blobs.import_(self._db, document.get("attachments"), refs)
            except (KeyError, TypeError, ValueError) as error:
                raise StoreError(f"the export is damaged: {error}") from None
            self._insert_conversation(conversation)
            for position, message in enumerate(messages):
                cursor = self._db.execute(_INSERT_MESSAGE, (conversation.id, position, *_message_row(message)))
                message.id = cursor.lastrowid
            self._update_totals(conversation)
        return conversation.id, True

    def _same_conversation(self, wanted_id: str, conversation: Conversation, dated: bool) -> str | None:
        """A stored conversation with the same messages as `conversation`: the export's own id, or, when the
        export gives its start time, one stored from it under another id (the same start time and title)."""
        candidates = self._db.execute(
            "SELECT id FROM conversations WHERE id = ? OR (? AND created_at = ? AND title = ?) ORDER BY id = ? DESC",
            (wanted_id, dated, conversation.created_at, conversation.title, wanted_id),
        ).fetchall()
        documents = [_message_document(message) for message in conversation.messages]
        for (candidate,) in candidates:
            stored = self._db.execute(_SELECT_MESSAGES, (candidate,))
            if [_message_document(_message_from_row(row)) for row in stored] == documents:
                return candidate
        return None

    # -- internals --------------------------------------------------------------------------------------

    def _transaction(self) -> _Transaction:
        if self.read_only:
            raise StoreError(f"history at {self.path} is read-only; nothing can be changed in it")
        return _Transaction(self._db)

    def _new_id(self) -> str:
        while True:
            candidate = secrets.token_hex(4)
            if not self._db.execute("SELECT 1 FROM conversations WHERE id = ?", (candidate,)).fetchone():
                return candidate

    def _degrade(self, error: sqlite3.Error) -> None:
        """A write failed mid-session (disk full, file gone read-only): keep chatting, say history stopped."""
        where = self.path or "memory"
        reason = _WORDED_ERRORS.get(getattr(error, "sqlite_errorcode", -1), str(error))
        self.warning = f"could not save history to {where} ({reason}); this chat continues but is not being saved"


class _Transaction:
    """BEGIN IMMEDIATE takes the write lock up front, so a waiting writer honours the busy timeout."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self._db.execute("COMMIT")
        elif self._db.in_transaction:
            # SQLite has already rolled back after some errors (a full disk): a ROLLBACK then would fail with
            # "no transaction is active" and hide the error that says what happened.
            self._db.execute("ROLLBACK")


# SQLite errors as a user would say them.
_WORDED_ERRORS = {
    sqlite3.SQLITE_FULL: "the disk is full",
    sqlite3.SQLITE_READONLY: "the database file is read-only",
    sqlite3.SQLITE_IOERR: "a disk I/O error",
    sqlite3.SQLITE_CANTOPEN: "the database file cannot be opened",
}


def _migrate(connection: sqlite3.Connection) -> None:
    """Apply pending migrations, each in its own write transaction.

    The version is read again after the write lock is held: another flashchat may have created or migrated the
    database while this one waited.
    """
    # Already current, the usual case: no write lock, so opening never waits behind another flashchat's write.
    # (Versions only go up, so a read outside the lock cannot miss a migration that is needed.)
    if connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return
    while True:
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"the history database has schema version {version}, newer than this flashchat knows "
                    f"({SCHEMA_VERSION}); upgrade flashchat"
                )
            if version == SCHEMA_VERSION:
                connection.execute("COMMIT")
                return
            for statement in _statements(MIGRATIONS[version]):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {version + 1}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise


def _statements(script: str) -> Iterable[str]:
    """Split a migration script into statements (executescript would commit our transaction)."""
    statement = ""
    for line in script.strip().splitlines():
        statement += line + "\n"
        if sqlite3.complete_statement(statement):
            yield statement
            statement = ""


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No garbage collections while a conversation's messages are decoded: everything made is kept (no cycles to
    find), and with the collector on, the ~100,000 objects of a 2,000-message conversation set off repeated
    collections of the whole heap while they were made (bench/huge_history.py)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _position_of(conversation: Conversation, message: Message) -> int:
    for index in range(len(conversation.messages) - 1, -1, -1):
        if conversation.messages[index] is message:
            return index
    return len(conversation.messages)


def _json_or_none(value: dict[str, Any] | None) -> str | None:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) if value is not None else None


def _message_row(message: Message) -> tuple[Any, ...]:
    return (
        message.role,
        message.text,
        message.thoughts,
        _json_or_none(message.native),
        message.provider,
        message.model,
        message.model_version,
        message.thinking_level,
        json.dumps(message.usage.to_dict()) if message.usage is not None else None,
        message.finish_reason,
        int(message.incomplete),
        int(message.stopped),
        message.error,
        message.created_at,
        message.first_token_seconds,
        message.duration_seconds,
        _json_or_none(message.extras),
        message.interaction_id,
        message.interaction_endpoint,
        json.dumps([ref.to_dict() for ref in message.media]) if message.media else None,
    )


def _message_from_row(row: tuple[Any, ...]) -> Message:
    (message_id, role, text, thoughts, native, provider, model, model_version, thinking_level, usage, finish_reason,
     incomplete, stopped, error, created_at, first_token_seconds, duration_seconds, extras, interaction_id,
     interaction_endpoint, media) = row  # fmt: skip
    return Message(
        role=role,
        text=text,
        thoughts=thoughts,
        native=json.loads(native) if native is not None else None,
        provider=provider,
        model=model,
        model_version=model_version,
        thinking_level=thinking_level,
        usage=Usage.from_dict(json.loads(usage)) if usage is not None else None,
        finish_reason=finish_reason,
        incomplete=bool(incomplete),
        stopped=bool(stopped),
        error=error,
        created_at=created_at,
        first_token_seconds=first_token_seconds,
        duration_seconds=duration_seconds,
        id=message_id,
        extras=json.loads(extras) if extras is not None else None,
        interaction_id=interaction_id,
        interaction_endpoint=interaction_endpoint,
        media=[MediaRef.from_dict(item) for item in json.loads(media)] if media else [],
    )


# Export documents keep usage as an object rather than JSON text.
_DOCUMENT_FIELDS = [name for name in _MESSAGE_FIELDS if name not in ("usage", "media")]


def _message_document(message: Message) -> dict[str, Any]:
    document = {name: getattr(message, name) for name in _DOCUMENT_FIELDS}
    document["usage"] = message.usage.to_dict() if message.usage is not None else None
    if message.media:
        document["media"] = [ref.to_dict() for ref in message.media]
    return document


# The JSON types an exported message field may have (an import is untrusted: anything else is damage).
_DOCUMENT_TYPES: dict[str, tuple[type, ...]] = {
    "role": (str,), "text": (str,), "thoughts": (str,), "native": (dict, type(None)), "provider": (str,),
    "model": (str,), "model_version": (str,), "thinking_level": (str,), "finish_reason": (str, type(None)),
    "incomplete": (bool,), "stopped": (bool,), "error": (str,), "created_at": (int, float),
    "first_token_seconds": (int, float, type(None)), "duration_seconds": (int, float, type(None)),
    "id": (int, type(None)), "extras": (dict, type(None)), "usage": (dict, type(None)),
    "media": (list, type(None)),
}  # fmt: skip


_SQLITE_INTEGERS = range(-(2**63), 2**63)  # what an INTEGER column holds: a larger int fails the insert


def _finite(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{str(value)[:40]!r} is not a time")
    return number


def _message_from_document(document: Any) -> Message:
    if not isinstance(document, dict):
        raise ValueError(f"a message is {type(document).__name__}, not an object")
    if document.get("role") not in ("user", "model"):
        raise ValueError(f"message role {str(document.get('role'))[:40]!r} is neither 'user' nor 'model'")
    for name, value in document.items():
        allowed = _DOCUMENT_TYPES.get(name)
        if allowed and (not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed)):
            raise ValueError(f"message field {name!r} is {type(value).__name__}, which it cannot be")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isfinite(float(value)):
            raise ValueError(f"message field {name!r} is not a finite number")
        if isinstance(value, int) and not isinstance(value, bool) and value not in _SQLITE_INTEGERS:
            raise ValueError(f"message field {name!r} is too large a number to store")
    usage = document.get("usage")
    if usage is not None and not all(
        isinstance(count, int) and not isinstance(count, bool) and count in _SQLITE_INTEGERS for count in usage.values()
    ):
        raise ValueError("message usage holds something other than whole numbers")
    fields = {name: document[name] for name in _DOCUMENT_FIELDS if name in document}
    fields.pop("id", None)  # a row id of the other database; this one gives its own
    media = [MediaRef.from_dict(item) for item in document.get("media") or []]
    return Message(**fields, usage=Usage.from_dict(usage), media=media)


def _fts_query(text: str) -> str:
    """Each word as a quoted FTS5 term (so user text never hits FTS syntax errors); the last one as a prefix."""
    words = [word.replace('"', '""') for word in text.split()]
    if not words:
        return ""
    terms = [f'"{word}"' for word in words[:-1]] + [f'"{words[-1]}"*']
    return " ".join(terms)


def default_path() -> Path:
    return paths.data_dir() / DATABASE_NAME


class _Damaged(Exception):
    """The file is not a usable SQLite database (as opposed to busy, read-only or full)."""


def _open_with_retries(path: Path) -> ConversationStore:
    """Open the file, waiting out another process that holds the lock (e.g. while it creates the schema)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return ConversationStore.open_file(path)
        except sqlite3.OperationalError as error:
            if _is_lock_wait(error) and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            raise
        except sqlite3.DatabaseError as error:
            raise _Damaged(str(error)) from error


def open_store(path: Path | None = None) -> ConversationStore:
    """The user's store. Never raises for a damaged or unwritable database: see `ConversationStore.warning`.

    Replies a killed flashchat was streaming are folded in first (core/reply_journal.py)."""
    from flashchat.core.reply_journal import recover_replies

    store = _open_or_fall_back(path or default_path())
    recover_replies(store)
    return store


def _open_or_fall_back(path: Path) -> ConversationStore:
    try:
        return _open_with_retries(path)
    except StoreError as error:
        return ConversationStore.in_memory(f"{error}; this session's chat is not saved")
    except _Damaged as damage:
        backup = _move_aside(path)
        try:
            store = _open_with_retries(path)
        except (sqlite3.Error, _Damaged) as error:
            return ConversationStore.in_memory(f"cannot open history at {path} ({error}); chat is not saved")
        store.warning = f"the history database was damaged ({damage}); it was kept as {backup} and a new one started"
        return store
    except sqlite3.Error as error:
        return _read_only_or_in_memory(path, str(error))
    except OSError as error:
        return _read_only_or_in_memory(path, error.strerror or str(error))


def _read_only_or_in_memory(path: Path, reason: str) -> ConversationStore:
    """History that cannot be written (a read-only data dir, say) is still shown; only saving is off."""
    for options in ("mode=ro", "immutable=1"):  # immutable: no -shm could be made for a WAL database
        try:
            store = ConversationStore.open_read_only(path, options)
        except sqlite3.Error:
            continue
        store.warning = f"history at {path} is read-only ({reason}); it is shown, but saving is off"
        return store
    return ConversationStore.in_memory(f"cannot write history to {path} ({reason}); this session's chat is not saved")


def _make_private(path: Path) -> None:
    """The database 0600 before SQLite opens it, so the -wal and -shm files it creates copy that mode (SQLite
    gives them the database file's permissions); ones left 0644 by an older flashchat are closed too."""
    paths.create_private_file(path)
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(OSError):  # none yet, or not ours to change
            Path(f"{path}{suffix}").chmod(0o600)


def _is_lock_wait(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


def _move_aside(path: Path) -> Path:
    """Rename the damaged database (and its WAL files) next to itself; never delete what the user had."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.corrupt-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            source.rename(f"{backup}{suffix}")
    return backup
