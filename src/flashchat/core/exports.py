"""Writing a conversation to a file (Markdown or lossless JSON), for every front end's export action."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from flashchat.config.paths import write_private_file
from flashchat.render.safe_text import json_c1_safe
from flashchat.render.transcript import conversation_markdown

if TYPE_CHECKING:
    from flashchat.core.conversation import Conversation
    from flashchat.store.conversation_store import ConversationStore

EXPORT_FORMATS = ("md", "json")


class ExportError(Exception):
    """The export could not be written; the text says why, in one line."""


def export_text(conversation: Conversation, store: ConversationStore | None, format_name: str) -> str:
    """The conversation as Markdown, or as the store's lossless JSON document (re-importable)."""
    if format_name == "json":
        if store is None or conversation.id is None:
            raise ExportError("nothing is stored yet to export as JSON: send a message first")
        # Lossless and still inert if someone `cat`s it: DEL, C1 and bidi controls are escaped as JSON allows.
        return json_c1_safe(json.dumps(store.export_json(conversation.id), ensure_ascii=False, indent=2)) + "\n"
    return conversation_markdown(conversation)


def write_export(conversation: Conversation, store: ConversationStore | None, format_name: str, path: Path) -> Path:
    """Write the export to `path`, readable by the user alone (a chat is private); return the path written."""
    if format_name not in EXPORT_FORMATS:
        raise ExportError(f"unknown export format {format_name!r}; use md or json")
    text = export_text(conversation, store, format_name)
    if path.is_dir():
        raise ExportError(f"{path} is a directory; give a file name")
    try:
        write_private_file(path, text.encode("utf-8"))
    except OSError as error:
        raise ExportError(f"cannot write {path}: {error.strerror or error}") from None
    return path
