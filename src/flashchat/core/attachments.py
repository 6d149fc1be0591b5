"""Bringing files into a prompt: `-f PATH` in one-shot mode, `@path` in the TUI and the REPL.

Each text file becomes a fenced block headed by its path, with a language hint from its name. Images, PDFs,
audio and video are recognised by their first bytes and attached as media (core/media.py); any other binary
file is refused (a NUL byte or bytes that are not UTF-8), so a prompt never fills with garbage.
"""

from __future__ import annotations

import glob
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flashchat.core.media import MediaAttachment

# Read this much to decide whether a file is binary.
_SNIFF_BYTES = 8192
# A whole-file cap: well past any source file, well short of filling memory by accident.
MAX_ATTACHMENT_BYTES = 8 * 1024 * 1024

LANGUAGE_BY_SUFFIX = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript", ".ts": "typescript",
    ".tsx": "tsx", ".jsx": "jsx", ".rs": "rust", ".go": "go", ".java": "java", ".kt": "kotlin", ".c": "c",
    ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".hpp": "cpp", ".cs": "csharp", ".rb": "ruby", ".php": "php",
    ".swift": "swift", ".scala": "scala", ".sh": "bash", ".bash": "bash", ".zsh": "zsh", ".fish": "fish",
    ".ps1": "powershell", ".sql": "sql", ".html": "html", ".css": "css", ".scss": "scss", ".json": "json",
    ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".xml": "xml", ".md": "markdown", ".rst": "rst",
    ".tex": "latex", ".lua": "lua", ".r": "r", ".jl": "julia", ".ex": "elixir", ".exs": "elixir",
    ".erl": "erlang", ".hs": "haskell", ".ml": "ocaml", ".clj": "clojure", ".dart": "dart", ".vue": "vue",
    ".svelte": "svelte", ".tf": "hcl", ".proto": "protobuf", ".diff": "diff", ".patch": "diff", ".ini": "ini",
    ".cfg": "ini", ".mk": "make", ".cmake": "cmake", ".gradle": "groovy", ".nix": "nix", ".zig": "zig",
}  # fmt: skip
# `@path` mentions a file to attach; an e-mail address or a bare `@` does not. One rule for every front end:
# an `@` that does not follow a word character or another `@`, then a path that starts like one.
_MENTION_START = r"(?<![\w@])@"
_PATH_START = r"[\w./~-]"
AT_PATH = re.compile(rf"{_MENTION_START}({_PATH_START}[^\s]*)")
# The mention being typed, up to the cursor ("" right after the `@`): what a path completion replaces.
_MENTION_AT_CURSOR = re.compile(rf"{_MENTION_START}({_PATH_START}*)$")

LANGUAGE_BY_NAME = {"Makefile": "make", "Dockerfile": "dockerfile", "CMakeLists.txt": "cmake", "Justfile": "just"}


UNSUPPORTED_TYPE = (
    "not a type flashchat can attach (text, PNG, JPEG, WebP, HEIC, GIF, PDF, MP3, WAV, OGG, FLAC, AAC, "
    "MP4, WebM or MOV)"
)


class AttachmentError(Exception):
    """A file that cannot be attached; the text says which and why, in one line."""


@dataclass(frozen=True)
class Attachment:
    path: str  # as the user should see it: relative to the working directory when inside it
    text: str

    @property
    def language(self) -> str:
        name = Path(self.path).name
        return LANGUAGE_BY_NAME.get(name) or LANGUAGE_BY_SUFFIX.get(Path(name).suffix.lower(), "")

    @property
    def estimated_tokens(self) -> int:
        return estimate_tokens(self.text)

    def as_prompt_block(self) -> str:
        return f"`{self.path}`:\n\n{fenced(self.text, self.language)}"


def fenced(text: str, info: str = "") -> str:
    """Wrap `text` in a code fence longer than any backtick run inside it."""
    longest, run = 0, 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text.rstrip(chr(10))}\n{fence}"


def estimate_tokens(text: str) -> int:
    """A local guess (about 4 characters a token) for warnings before sending; the API's count is the truth."""
    return max(1, len(text) // 4) if text else 0


def _shown_path(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except (ValueError, OSError, RuntimeError):  # outside the root, a NUL byte, a symlink loop
        return str(path)


def read_attachment(path: Path, root: Path) -> Attachment | MediaAttachment:
    """A file the user named (`-f`, `@path`): an image, PDF, audio or video (told by its first bytes) as media,
    hashed in chunks rather than read whole; else text, from a regular file or a pipe such as `-f <(cmd)`, read
    with a byte cap and a time bound (core/confined_files.py); a device such as /dev/zero is refused unread. A
    name inside `root` stays inside it: the repository under review may hold a symlink to ~/.ssh, and
    `@config.py` (or `@shot.png`) must not send what it points at."""
    from flashchat.core.confined_files import PIPE_WAIT_SECONDS, FileRefused, read_confined, read_user_file
    from flashchat.core.media import MediaError, media_from_bytes, read_media, sniff

    shown = _shown_path(path, root)
    try:
        if path.is_dir():
            raise AttachmentError(f"{shown} is a directory; name files or a glob such as '{shown}/**/*.py'")
        inside = _relative_inside(path, root)
        if media := _open_media(path, root, inside):
            mime_type, descriptor = media
            try:
                return read_media(path, shown, mime_type, descriptor=descriptor)
            finally:
                os.close(descriptor)
        if inside is not None:
            data = read_confined(root, inside, MAX_ATTACHMENT_BYTES, pipe_seconds=PIPE_WAIT_SECONDS)
        else:
            data = read_user_file(path, shown, MAX_ATTACHMENT_BYTES)
        if mime_type := sniff(data[:64], path.name):  # media that came down a pipe
            return media_from_bytes(data, shown, mime_type)
    except (FileRefused, MediaError) as refusal:
        raise AttachmentError(str(refusal)) from None
    except (OSError, ValueError) as error:
        raise AttachmentError(f"{shown}: cannot read it ({getattr(error, 'strerror', None) or error})") from None
    return attachment_from_bytes(shown, data)


def _open_media(path: Path, root: Path, inside: str | None) -> tuple[str, int] | None:
    """(MIME type, an open descriptor) when `path` is a regular file whose first bytes say media; inside `root`
    it is opened confined (no symlink out of the tree). None for text, pipes and devices (read as before)."""
    from flashchat.core.confined_files import FileRefused, open_confined
    from flashchat.core.media import sniff

    try:
        if inside is not None:
            descriptor = open_confined(root, inside, pipes=True)
        else:
            descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except (FileRefused, OSError, ValueError):
        return None  # the text read that follows says why, in one line
    if stat.S_ISREG(os.fstat(descriptor).st_mode) and (mime_type := sniff(os.pread(descriptor, 64, 0), path.name)):
        return mime_type, descriptor
    os.close(descriptor)
    return None


def _relative_inside(path: Path, root: Path) -> str | None:
    """`path` relative to `root` when it names something inside it (before any symlink is followed)."""
    normal = os.path.normpath(os.path.abspath(path))
    if "\x00" in normal:
        return None  # refused, in one line, by the read
    for base in (os.path.normpath(os.path.abspath(root)), os.path.realpath(root)):
        if normal == base or normal.startswith(base.rstrip("/") + "/"):
            return os.path.relpath(normal, base)
    return None


def attachment_from_bytes(shown: str, data: bytes) -> Attachment:
    """Text only (the local tools read text): media and other binaries are refused in one line."""
    from flashchat.core.media import SHORT_NAMES, sniff

    if mime_type := sniff(data[:64], shown):
        raise AttachmentError(f"{shown} is a {SHORT_NAMES[mime_type]} file; only text files can be read here")
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise AttachmentError(f"{shown}: {UNSUPPORTED_TYPE}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AttachmentError(
            f"{shown} is not UTF-8 text (bad byte at offset {error.start}); {UNSUPPORTED_TYPE}"
        ) from None
    return Attachment(shown, text)


def expand(patterns: list[str], root: Path) -> list[Path]:
    """Files named by `patterns` (paths or globs, `**` recursive), in order, each once."""
    found: list[Path] = []
    for pattern in patterns:
        if glob.has_magic(pattern):
            matches = sorted(Path(p) for p in glob.glob(pattern, root_dir=root, recursive=True))
            files = [root / match for match in matches if (root / match).is_file()]
            if not files:
                raise AttachmentError(f"{pattern}: no files match")
            found.extend(files)
        else:
            found.append(root / Path(pattern).expanduser())
    # Each file once, known by where it resolves to; read by the name given, since a pipe such as /dev/fd/63
    # (`-f <(cmd)`) resolves to a name that cannot be opened.
    unique: dict[Path, Path] = {}
    for path in found:
        try:
            unique.setdefault(path.resolve(), path)
        except (OSError, RuntimeError):  # a symlink loop: reading it says so in one line
            unique.setdefault(path, path)
        except ValueError:
            raise AttachmentError(f"{str(path)!r}: the path has a NUL byte in it") from None
    return list(unique.values())


def mention_at_cursor(text_before_cursor: str) -> str | None:
    """What follows the `@` of the mention the cursor is in (text up to the cursor on its line); None when
    the cursor is not in a mention. `"see @sr"` gives `"sr"`, `"see @"` gives `""`, `"a@b.c"` gives None."""
    match = _MENTION_AT_CURSOR.search(text_before_cursor)
    return match[1] if match else None


def mentioned_files(text: str, root: Path) -> list[str]:
    """The `@path` mentions in `text` that name existing files under `root` (the TUI and the REPL attach them)."""
    return [name for name, exists in mentions(text, root) if exists]


def mentions(text: str, root: Path) -> list[tuple[str, bool]]:
    """Each `@path` mention and whether it names a file; punctuation after it ("what is @shot.png?") is not
    part of the name unless a file is called that."""
    found = []
    for name in AT_PATH.findall(text):
        if _is_file(root / name):
            found.append((name, True))
            continue
        bare = name.rstrip(_TRAILING_PUNCTUATION) or name
        found.append((bare, bare != name and _is_file(root / bare)))
    return found


_TRAILING_PUNCTUATION = ".,;:!?)]}'\""


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long, a NUL byte: not a file to attach
        return False


def attach(patterns: list[str], root: Path) -> list[Attachment | MediaAttachment]:
    return [read_attachment(path, root) for path in expand(patterns, root)]


def project_files(root: Path, limit: int = 20_000) -> list[str]:
    """Paths for `@path` completion and `search_text`: the files git would show (honours .gitignore), listed
    without running git, whose repository configuration could run commands (core/project_listing.py)."""
    from flashchat.core.project_listing import list_project_files

    return list_project_files(root, limit)
