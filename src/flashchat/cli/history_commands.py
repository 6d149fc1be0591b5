"""`flashchat history ...`: list, show, search, rename, export, import and delete stored conversations."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from flashchat.core.errors import EXIT_OK
from flashchat.render.formatting import bounded_pieces, count_noun
from flashchat.render.safe_text import MESSAGE_CHARS, NAME_CHARS, one_line
from flashchat.render.transcript import conversation_markdown
from flashchat.store.conversation_store import ConversationStore, SearchHit, StoreError


def _when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))


def list_conversations(store: ConversationStore, limit: int, out: TextIO) -> int:
    rows = store.list_conversations(limit=limit, replied_only=True)
    if not rows:
        out.write('No conversations yet: start one with flashchat -p "..." or flashchat.\n')
        return EXIT_OK
    out.write(f"{'id':<8}  {'updated':<16}  {'msgs':>5}  {'tokens':>9}  title\n")
    for row in rows:
        # One row a conversation, to a terminal or a pipe alike: a title (imported, renamed) cannot break it.
        title = one_line(row.title, NAME_CHARS) or "(untitled)"
        out.write(
            f"{row.id:<8}  {_when(row.updated_at):<16}  {row.message_count:>5}  {row.total_tokens:>9,}  {title}\n"
        )
    return EXIT_OK


def show(store: ConversationStore, conversation_id: str, out: TextIO) -> int:
    text = conversation_markdown(store.load(store.resolve_id(conversation_id)))  # terminal-safe already
    if out.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console(file=out, highlight=False).print(Markdown(text))
    else:
        out.write(text)
    return EXIT_OK


def search(store: ConversationStore, query: str, limit: int, out: TextIO) -> int:
    hits = store.search(query, limit=limit)
    if not hits:
        out.write(f"No matches for {query!r}.\n")
        return EXIT_OK
    for hit in hits:
        out.write(f"{hit.conversation_id}  {_when(hit.updated_at)}  {one_line(hit.title, NAME_CHARS)}\n")
        out.write(f"    {_snippet_line(hit, highlight=out.isatty())}\n")
    return EXIT_OK


def _snippet_line(hit: SearchHit, *, highlight: bool) -> str:
    """The snippet on one line, the matched words in bold on a terminal (plain when piped)."""
    pieces = bounded_pieces(hit.snippet_parts(), MESSAGE_CHARS)
    return "".join(f"\x1b[1m{text}\x1b[22m" if matched and highlight else text for text, matched in pieces)


def rename(store: ConversationStore, conversation_id: str, title: str, out: TextIO) -> int:
    conversation_id = store.resolve_id(conversation_id)
    if not title.strip():
        raise StoreError("the new title is empty: give it after the id (flashchat history rename ID TITLE)")
    store.rename(conversation_id, title)
    out.write(f"renamed {conversation_id} to {one_line(store.summary(conversation_id).title, NAME_CHARS)}\n")
    return EXIT_OK


def export(store: ConversationStore, conversation_id: str, format_name: str, output: str | None, out: TextIO) -> int:
    """The same export as the chat's (core/exports.py): JSON lossless yet inert on a terminal; a file is 0600."""
    from flashchat.core.exports import ExportError, export_text, write_export

    conversation = store.load(store.resolve_id(conversation_id))
    try:
        if output in (None, "-"):
            out.write(export_text(conversation, store, format_name))
            return EXIT_OK
        written = write_export(conversation, store, format_name, Path(output))
    except ExportError as error:
        raise StoreError(str(error)) from None
    sys.stderr.write(f"flashchat: wrote {one_line(str(written))}\n")
    return EXIT_OK


def import_file(store: ConversationStore, source: str, out: TextIO) -> int:
    """Store an export. The file is not trusted: a regular file (or stdin) under a byte cap, strict JSON."""
    from flashchat.config.input_checks import IMPORT_FILE_BYTES, UnreadableFile, read_regular_file

    try:
        if source == "-":
            data = sys.stdin.buffer.read(IMPORT_FILE_BYTES + 1)
            if len(data) > IMPORT_FILE_BYTES:
                raise UnreadableFile(f"stdin holds more than the {IMPORT_FILE_BYTES:,} bytes allowed")
        else:
            data = read_regular_file(Path(source), IMPORT_FILE_BYTES)
        document = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except UnreadableFile as error:
        raise StoreError(f"cannot import: {error}") from None
    except OSError as error:
        raise StoreError(f"cannot read {source}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise StoreError(f"cannot import {source}: it is not UTF-8 text (a flashchat export is JSON)") from None
    except (json.JSONDecodeError, ValueError) as error:
        raise StoreError(f"cannot import {source}: it is not valid JSON ({error})") from None
    except RecursionError:
        raise StoreError(f"cannot import {source}: its JSON is nested too deeply to be an export") from None
    conversation_id, stored = store.import_json_once(document)
    if stored:
        out.write(f"imported as {conversation_id}\n")
    else:
        out.write(f"already in the history as {conversation_id}; nothing imported\n")
    return EXIT_OK


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def delete(store: ConversationStore, conversation_id: str, assume_yes: bool, out: TextIO) -> int:
    conversation_id = store.resolve_id(conversation_id)
    if not assume_yes and sys.stdin.isatty():
        summary = store.summary(conversation_id)
        messages = count_noun(summary.message_count, "message")
        answer = input(f"Delete {one_line(summary.title, NAME_CHARS)!r} ({messages})? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            out.write("Kept.\n")
            return EXIT_OK
    store.delete(conversation_id)
    out.write(f"deleted {conversation_id}\n")
    return EXIT_OK
