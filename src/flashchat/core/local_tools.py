"""Read-only tools the model may call (opt-in): read a file, list a directory, search text.

Everything is confined to the directory flashchat was started in: a path that leads outside it (`..`, an
absolute path, a symlink pointing out, a directory swapped for a symlink while it is opened) is refused, by
opening each component without following links (core/confined_files.py). Only regular files are read, with
a byte cap; a search stops at a time budget. A tool that fails returns one line the model can read; it never
raises into the chat.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

from flashchat.core.attachments import MAX_ATTACHMENT_BYTES, AttachmentError, attachment_from_bytes, project_files
from flashchat.core.confined_files import FileRefused, open_confined, read_confined
from flashchat.core.conversation import ToolCall

MAX_RESULT_CHARS = 100_000
MAX_SEARCH_HITS = 100
# search_text skips files bigger than this (generated or data files, not source), and stops after this long.
MAX_SEARCHED_FILE_BYTES = 2 * 1024 * 1024
SEARCH_SECONDS = 10.0
MAX_LISTED_ENTRIES = 2_000

DECLARATIONS: list[dict[str, Any]] = [
    {
        "name": "read_file",
        "description": "Read a UTF-8 text file in the user's working directory. Optionally a range of lines.",
        "parameters_json_schema": {
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "path relative to the working directory"},
                "start_line": {"type": "integer", "description": "first line to return (1-based)"},
                "end_line": {"type": "integer", "description": "last line to return (inclusive)"},
            },
            "required": ["path"],
        },
    },
    {
        "name": "list_directory",
        "description": "List the files and subdirectories of a directory in the user's working directory.",
        "parameters_json_schema": {
            "type": "object",
            "properties": {"path": {"type": "string", "description": "directory, default '.'"}},
        },
    },
    {
        "name": "search_text",
        "description": "Search the working tree's text files (respecting .gitignore) for a case-insensitive "
        "literal string; returns matching lines as path:line: text.",
        "parameters_json_schema": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "text to look for"},
                "path": {"type": "string", "description": "limit the search to this directory, default '.'"},
            },
            "required": ["query"],
        },
    },
]
TOOL_NAMES = frozenset(declaration["name"] for declaration in DECLARATIONS)


class ToolRefused(Exception):
    pass


class LocalTools:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def run(self, call: ToolCall) -> dict[str, Any]:
        """The function response payload: {"result": ...} or {"error": "..."}."""
        try:
            if call.name == "read_file":
                return {"result": self.read_file(**call.args)}
            if call.name == "list_directory":
                return {"result": self.list_directory(**call.args)}
            if call.name == "search_text":
                return {"result": self.search_text(**call.args)}
            return {"error": f"unknown tool {call.name!r}; available: {', '.join(sorted(TOOL_NAMES))}"}
        except (ToolRefused, FileRefused) as refusal:
            return {"error": str(refusal)}
        except TypeError as error:
            return {"error": f"bad arguments for {call.name}: {error}"}
        except (OSError, ValueError) as error:  # anything the checks above did not word: still one line
            return {"error": f"{call.name} failed: {getattr(error, 'strerror', None) or error}"}

    def read_file(self, path: str, start_line: int | None = None, end_line: int | None = None) -> str:
        _require_text("path", path)
        try:
            text = attachment_from_bytes(path, read_confined(self.root, path, MAX_ATTACHMENT_BYTES)).text
        except AttachmentError as error:
            raise ToolRefused(str(error)) from None
        if start_line is not None or end_line is not None:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[max(0, (start_line or 1) - 1) : end_line])
        if len(text) > MAX_RESULT_CHARS:
            text = text[:MAX_RESULT_CHARS] + f"\n[truncated at {MAX_RESULT_CHARS:,} characters; ask for a line range]"
        return text

    def list_directory(self, path: str = ".") -> list[str]:
        _require_text("path", path)
        descriptor = open_confined(self.root, path, directory=True)
        try:
            with os.scandir(descriptor) as scan:
                names = sorted((entry.name, _is_directory(entry)) for entry in scan if entry.name != ".git")
        finally:
            os.close(descriptor)
        entries = [name + ("/" if is_directory else "") for name, is_directory in names[:MAX_LISTED_ENTRIES]]
        if len(names) > MAX_LISTED_ENTRIES:
            entries.append(f"[{len(names) - MAX_LISTED_ENTRIES:,} more entries not shown]")
        return entries

    def search_text(self, query: str, path: str = ".") -> list[str]:
        _require_text("query", query)
        _require_text("path", path)
        if not query:
            raise ToolRefused("the query is empty")
        os.close(open_confined(self.root, path, directory=True))  # refuses a path outside or not a directory
        prefix = os.path.normpath(path).lstrip("/")
        prefix = "" if prefix == "." else prefix.rstrip("/") + "/"
        pattern = re.compile(re.escape(query), re.IGNORECASE)
        deadline = time.monotonic() + SEARCH_SECONDS
        hits: list[str] = []
        for relative in project_files(self.root):
            if not relative.startswith(prefix):
                continue
            if time.monotonic() > deadline:
                hits.append(f"[stopped after {SEARCH_SECONDS:g} s; narrow the path]")
                return hits
            try:
                text = attachment_from_bytes(relative, read_confined(self.root, relative, MAX_SEARCHED_FILE_BYTES)).text
            except (AttachmentError, FileRefused):
                continue
            for number, line in enumerate(text.splitlines(), 1):
                if pattern.search(line):
                    hits.append(f"{relative}:{number}: {line.strip()[:200]}")
                    if len(hits) >= MAX_SEARCH_HITS:
                        hits.append(f"[stopped at {MAX_SEARCH_HITS} matches; narrow the query or the path]")
                        return hits
        return hits


def _require_text(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise ToolRefused(f"{name} must be a string, not {type(value).__name__}")


def _is_directory(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False
