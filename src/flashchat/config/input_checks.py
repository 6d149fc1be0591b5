"""Checks of values flashchat does not trust: config values, the API key, and files read as config or imports.

Each check returns what is wrong in words that say how to fix it (or None), so `settings.check_value` and the
command line turn it into one line and exit 2 before anything is sent. Reading a file here opens regular files
only, never follows a FIFO or a device into a hang, and stops at a byte cap.
"""

from __future__ import annotations

import math
import os
import re
import stat
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# A config file is a few dozen lines; an export holds a long conversation with every native part.
CONFIG_FILE_BYTES = 1_000_000
IMPORT_FILE_BYTES = 256_000_000

# What a model name is made of, Gemini's (gemini-3.5-flash, models/x, tunedModels/y) and an OpenAI-compatible
# server's (org/Llama-3-8B, qwen2.5:7b-instruct, name@version) alike. It goes into the request path, so `?`,
# `#`, whitespace, controls and `..` segments would change which URL is asked for.
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+/-]*")
MODEL_NAME_CHARS = 200
# API keys are printable ASCII without spaces: they travel in an HTTP header.
_KEY_CHARACTER = re.compile(r"[!-~]")


class UnreadableFile(Exception):
    """A file that is not a regular file, is too large, or cannot be opened; the text says which, in one line."""


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of `path` if it is a regular file of at most `limit` bytes (symlinks to one are fine).

    Opened without blocking, so a FIFO cannot hang the open, and checked on the opened descriptor, so a
    device such as /dev/zero is refused instead of read until memory runs out.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(path, flags)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(f"{path} is not a regular file ({_file_kind(info.st_mode)})")
        if info.st_size > limit:
            raise UnreadableFile(f"{path} is {info.st_size:,} bytes, more than the {limit:,} allowed")
        with os.fdopen(descriptor, "rb", closefd=False) as stream:
            data = stream.read(limit + 1)
    finally:
        os.close(descriptor)
    if len(data) > limit:  # grew while being read
        raise UnreadableFile(f"{path} is more than the {limit:,} bytes allowed")
    return data


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def value_problem(key: str, value: Any) -> str | None:
    """What is wrong with a value of the right type for `key`, beyond its type, choices and minimum."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{key} = {value!r} is not allowed; use a finite number"
    if not isinstance(value, str):
        return None
    if key == "model":
        return model_problem(value)
    if key == "base_url":
        return base_url_problem(value)
    if key == "api_key":
        return api_key_problem(value)
    return None


def model_problem(name: str) -> str | None:
    shown = _shown(name)
    rule = "letters, digits and . _ - : @ + / (like gemini-3.5-flash)"
    if not name:
        return f"model = '' is not allowed; give a model name: {rule}"
    if len(name) > MODEL_NAME_CHARS:
        return f"model = {shown} is not allowed: a model name is at most {MODEL_NAME_CHARS} characters"
    if not _MODEL_NAME.fullmatch(name) or ".." in name.split("/") or "//" in name or name.endswith("/"):
        return f"model = {shown} is not allowed: a model name is {rule}"
    return None


def base_url_problem(url: str) -> str | None:
    if not url:
        return None  # the provider's own address
    shown = _shown(url)
    example = "such as https://gateway.example/v1 or http://localhost:8080/v1"
    if any(character.isspace() or not character.isprintable() for character in url):
        return f"base_url = {shown} is not allowed: it contains spaces or control characters"
    try:
        parts = urlsplit(url)
    except ValueError:
        return f"base_url = {shown} is not allowed: it is not a URL; use an address {example}"
    if parts.scheme.lower() not in ("http", "https"):
        return f"base_url = {shown} is not allowed: use an http:// or https:// address {example}"
    try:
        port = parts.port
    except ValueError:
        return f"base_url = {shown} is not allowed: the port must be a number from 1 to 65535"
    if not parts.hostname:
        return f"base_url = {shown} is not allowed: it names no host; use an address {example}"
    if port == 0:
        return f"base_url = {shown} is not allowed: the port must be a number from 1 to 65535"
    return None


def api_key_problem(key: str) -> str | None:
    """What is wrong with the characters of an API key, never quoting the key itself."""
    for position, character in enumerate(key, start=1):
        if _KEY_CHARACTER.fullmatch(character):
            continue
        if character in "\r\n":
            what = "a line break"
        elif character.isspace():
            what = "a space"
        elif ord(character) < 0x20 or 0x7F <= ord(character) <= 0x9F:
            what = "a control character"
        else:
            what = "a non-ASCII character"
        return (
            f"the API key has {what} at position {position} (of {len(key)}), which no API key has: "
            "copy it again from https://aistudio.google.com/apikey and set it with `export GEMINI_API_KEY=...` "
            "or `flashchat config set api_key -`"
        )
    return None


def _shown(text: str) -> str:
    """A value quoted in a message: repr makes controls visible; long values are cut."""
    return repr(text if len(text) <= 80 else text[:80] + "…")
