"""Helpers the tests share (imported as `support`, never from conftest): the environment to clear, retries
without waiting, a CLI runner, event collection, another process's hold on the history database, and the recorded
wire traffic in tests/wire."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from flashchat.config.settings import ConfigError, Settings, load_settings
from flashchat.core.session import ChatSession, RetryPolicy

if TYPE_CHECKING:
    from flashchat.store.conversation_store import ConversationStore

ENV_VARS_TO_CLEAR = (
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GOOGLE_GEMINI_BASE_URL",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_GENAI_API_VERSION",
    "OPENAI_API_KEY",
    "NO_COLOR",
)


def assert_one_line_config_error(config_file: Path, text: str, expected: str) -> None:
    """Loading ``text`` fails with a single line that names the file first and contains ``expected``."""
    config_file.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file, environ={})
    message = str(caught.value)
    assert message.startswith(f"{config_file}: ") and expected in message
    assert "\n" not in message


class RecordingSleep:
    """Stands in for asyncio.sleep in the session so retry delays are asserted, not waited for."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


FAST_RETRIES = RetryPolicy(base_delay=0.01, jitter=0.0)


def make_session(settings: Settings, **kwargs) -> ChatSession:
    kwargs.setdefault("retry_policy", FAST_RETRIES)
    return ChatSession(settings, **kwargs)


async def collect(stream) -> list:
    """Every event of a turn; the stream is closed here, not left to the garbage collector."""
    async with contextlib.aclosing(stream):
        return [event async for event in stream]


class WriteLock:
    """Another flashchat in the middle of a write: SQLite's write lock on `path`, held by a second connection until
    `release()` (or the end of the `with` block). The store's writes wait for it, up to the busy timeout."""

    def __init__(self, path: Path) -> None:
        # Any thread may release it (a timer, while the test's loop is busy shutting an app down).
        self._db: sqlite3.Connection | None = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        if self._db is not None:
            self._db.execute("ROLLBACK")
            self._db.close()
            self._db = None

    def __enter__(self) -> WriteLock:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


def store_in_use(store: ConversationStore) -> bool:
    """True while another thread is inside a store call: with a WriteLock held, a write waiting for it."""
    if store._lock.acquire(blocking=False):
        store._lock.release()
        return False
    return True


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def default_sigint() -> None:
    """A `preexec_fn` for a child that a test interrupts with SIGINT: a shell starts background jobs (`pytest &`)
    with SIGINT ignored, the child inherits that, and Python then never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_cli(args: list[str], env: dict[str, str], stdin: bytes | None = None, timeout: float = 60) -> CliResult:
    """Run `python -m flashchat` as a real subprocess with pipes (no TTY), like a script would."""
    completed = subprocess.run(
        [sys.executable, "-m", "flashchat", *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=env,
        timeout=timeout,
    )
    return CliResult(
        completed.returncode, completed.stdout.decode("utf-8", "replace"), completed.stderr.decode("utf-8", "replace")
    )


def run_in_terminal(args: list[str], env: dict, timeout: float = 30) -> str:
    """Run flashchat with stdout on a pseudo-terminal; return everything it wrote there."""
    controller, terminal = pty.openpty()
    env = {**env, "COLUMNS": "80", "LINES": "24", "TERM": "xterm-256color"}
    process = subprocess.Popen(
        [sys.executable, "-m", "flashchat", *args], stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal, env=env
    )
    os.close(terminal)
    output = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.2)
        if ready:
            try:
                data = os.read(controller, 65536)
            except OSError:
                break
            if not data:
                break
            output += data
        elif process.poll() is not None:
            break
    process.wait(timeout=5)
    os.close(controller)
    assert process.returncode == 0, output
    return output.decode("utf-8", "replace")


def read_until(controller: int, needle: bytes, timeout: float = 20) -> bytes:
    """Read a pseudo-terminal until `needle` has appeared; everything read."""
    output = b""
    deadline = time.monotonic() + timeout
    while needle not in output:
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} not seen; got {output!r}")
        ready, _, _ = select.select([controller], [], [], 0.1)
        if ready:
            output += os.read(controller, 65536)
    return output


def plain_mode_on_a_pty(env: dict) -> tuple[int, subprocess.Popen]:
    """`flashchat --plain` with stdin, stdout and stderr on a pseudo-terminal: its controller end and the process
    (close the one and wait for or kill the other when done)."""
    controller, terminal = pty.openpty()
    env = {**env, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    process = subprocess.Popen(
        [sys.executable, "-m", "flashchat", "--plain"], stdin=terminal, stdout=terminal, stderr=terminal, env=env
    )
    os.close(terminal)
    return controller, process


# A grounded reply's metadata as the wire carries it (camelCase), for tests of sources.
GROUNDING = {
    "webSearchQueries": ["weather in Tokyo today"],
    "groundingChunks": [
        {"web": {"title": "weather.com", "uri": "https://weather.com/tokyo"}},
        {"web": {"title": "jma.go.jp", "uri": "https://www.jma.go.jp/tokyo"}},
    ],
    "groundingSupports": [{"groundingChunkIndices": [0, 1], "segment": {"startIndex": 0, "endIndex": 20}}],
}


# Real recorded Gemini API traffic (tests/wire, with its CATALOG.md) so the tests need nothing outside
# the checkout. Six recordings over 200 KB (image and video uploads) were left out.
WIRE = Path(__file__).parent / "wire"
SHARED_WIRE = Path(__file__).resolve().parents[2] / "shared" / "wire"
MAX_COPIED_BYTES = 200 * 1024

RECORDINGS = sorted(WIRE.glob("*/*.json"))
SSE_RECORDINGS = [p for p in RECORDINGS if json.loads(p.read_text())["request"]["query"].get("alt") == "sse"]
