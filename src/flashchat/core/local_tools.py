"""Read-only tools the model may call (opt-in): read a file, list a directory, search text.

Everything is confined to the directory flashchat was started in: a path that resolves outside it (`..`,
an absolute path, a symlink pointing out) is refused. A tool that fails returns an error the model can read;
it never raises into the chat.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flashchat.core.attachments import AttachmentError, project_files, read_text_file
from flashchat.core.conversation import ToolCall

MAX_RESULT_CHARS = 100_000
MAX_SEARCH_HITS = 100

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
        except ToolRefused as refusal:
            return {"error": str(refusal)}
        except TypeError as error:
            return {"error": f"bad arguments for {call.name}: {error}"}

    def _inside(self, given: str) -> Path:
        path = (self.root / given).resolve()
        if not path.is_relative_to(self.root):
            raise ToolRefused(f"{given!r} is outside the working directory {self.root}; access refused")
        return path

    def read_file(self, path: str, start_line: int | None = None, end_line: int | None = None) -> str:
        target = self._inside(path)
        try:
            text = read_text_file(target, self.root).text
        except AttachmentError as error:
            raise ToolRefused(str(error)) from None
        if start_line is not None or end_line is not None:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[max(0, (start_line or 1) - 1) : end_line])
        if len(text) > MAX_RESULT_CHARS:
            text = text[:MAX_RESULT_CHARS] + f"\n[truncated at {MAX_RESULT_CHARS:,} characters; ask for a line range]"
        return text

    def list_directory(self, path: str = ".") -> list[str]:
        target = self._inside(path)
        if not target.is_dir():
            raise ToolRefused(f"{path!r} is not a directory")
        entries = []
        for entry in sorted(target.iterdir()):
            if entry.name == ".git":
                continue
            entries.append(entry.name + ("/" if entry.is_dir() else ""))
        return entries

    def search_text(self, query: str, path: str = ".") -> list[str]:
        if not query:
            raise ToolRefused("the query is empty")
        base = self._inside(path)
        pattern = re.compile(re.escape(query), re.IGNORECASE)
        hits: list[str] = []
        for relative in project_files(self.root):
            candidate = self.root / relative
            if not candidate.resolve().is_relative_to(base):
                continue
            try:
                text = read_text_file(candidate, self.root).text
            except AttachmentError:
                continue
            for number, line in enumerate(text.splitlines(), 1):
                if pattern.search(line):
                    hits.append(f"{relative}:{number}: {line.strip()[:200]}")
                    if len(hits) >= MAX_SEARCH_HITS:
                        hits.append(f"[stopped at {MAX_SEARCH_HITS} matches; narrow the query or the path]")
                        return hits
        return hits
