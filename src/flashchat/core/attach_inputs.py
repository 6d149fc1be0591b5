"""Ways a file reaches the next prompt besides `@path` and `-f`: a path pasted or dropped on the terminal (it
pastes the path as text), and an image on the clipboard (through wl-paste, xclip or pngpaste/pbpaste).

The clipboard tools are the one process flashchat starts: a fixed command, found only in the absolute
directories of PATH (never `.` or the repository under review), run without a shell, from `/`, with no
input. Nothing here runs git.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from flashchat.core.media import MediaAttachment, MediaError, MediaRef, media_from_bytes, sniff

if TYPE_CHECKING:
    from flashchat.core.conversation import Conversation

# Clipboard tools, tried in order; the first one present is asked for an image.
CLIPBOARD_TOOLS: tuple[tuple[str, ...], ...] = (
    ("wl-paste", "--no-newline", "--type", "image/png"),
    ("xclip", "-selection", "clipboard", "-target", "image/png", "-out"),
    ("pngpaste", "-"),
    ("pbpaste", "-Prefer", "png"),
)
NO_CLIPBOARD_TOOL = (
    "no clipboard tool found to paste an image: install wl-clipboard (Wayland), xclip (X11) or pngpaste (macOS), "
    "or save the image and attach it with @path"
)
_CLIPBOARD_TIMEOUT_SECONDS = 5.0


def pasted_file(text: str, root: Path) -> Path | None:
    """The existing file a paste names, or None: terminals paste a dropped file as its path, maybe quoted,
    with backslash-escaped spaces, or as a file:// URL. A multi-line paste is never a path."""
    candidate = text.strip()
    if not candidate or "\n" in candidate or len(candidate) > 4096:
        return None
    if candidate.startswith("file://"):
        candidate = unquote(urlsplit(candidate).path)
    else:
        try:
            words = shlex.split(candidate)
        except ValueError:
            return None
        if len(words) != 1:
            return None
        candidate = words[0]
    path = Path(os.path.expanduser(candidate))
    path = path if path.is_absolute() else root / path
    try:
        return path if path.is_file() else None
    except OSError:
        return None


def clipboard_image() -> MediaAttachment:
    """The clipboard's image as an attachment; `MediaError` (one line) when no tool is present or there is none."""
    trusted_path = os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep) if os.path.isabs(d))
    tools = []
    for name, *arguments in CLIPBOARD_TOOLS:
        found = shutil.which(name, path=trusted_path)
        if found and (sys.platform == "darwin" or name not in ("pbpaste", "pngpaste")):
            tools.append((found, *arguments))
    if not tools:
        raise MediaError(NO_CLIPBOARD_TOOL)
    for command in tools:
        try:
            completed = subprocess.run(
                command, capture_output=True, timeout=_CLIPBOARD_TIMEOUT_SECONDS, check=False,
                stdin=subprocess.DEVNULL, cwd="/",
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            continue
        data = completed.stdout
        if completed.returncode == 0 and (mime_type := sniff(data[:64])) and mime_type.startswith("image/"):
            return media_from_bytes(data, "clipboard.png" if mime_type == "image/png" else "clipboard", mime_type)
    raise MediaError(f"the clipboard holds no image ({os.path.basename(tools[0][0])} found none)")


def last_image(conversation: Conversation) -> MediaRef | None:
    """The newest image attached in the conversation (what the open-attachment action shows)."""
    for message in reversed(conversation.messages):
        for ref in reversed(message.media):
            if ref.kind == "image":
                return ref
    return None
