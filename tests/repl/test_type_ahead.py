"""Plain mode under a real pseudo-terminal: keys typed while a reply streams belong to the next prompt.

They are not echoed into the reply, and their Enter is an Enter (the command runs), not a newline that glues
the typed line to the next one."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

from flashchat.testing.fake_gemini import FakeGemini, Reply


def read_until(controller: int, needle: bytes, seen: bytearray, timeout: float = 30) -> bytes:
    """Everything read so far once `needle` has appeared after what `seen` already held."""
    start = len(seen)
    deadline = time.monotonic() + timeout
    while needle not in seen[start:]:
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} not seen; got {bytes(seen[start:])!r}")
        ready, _, _ = select.select([controller], [], [], 0.1)
        if ready:
            seen += os.read(controller, 65536)
    return bytes(seen)


def test_a_line_typed_during_a_reply_runs_at_the_next_prompt(fake: FakeGemini, cli_env: dict) -> None:
    words = " ".join(f"word{n}" for n in range(60))
    # Slow enough that the keys below arrive while it streams (the test waits for output, never for time).
    fake.enqueue(Reply.text(f"START {words} END.", chunk_chars=6, delay_s=0.05), Reply.text("Second answer."))
    controller, terminal = pty.openpty()
    env = {**cli_env, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    process = subprocess.Popen(
        [sys.executable, "-m", "flashchat", "--plain", "--no-color"],
        stdin=terminal, stdout=terminal, stderr=terminal, env=env,
    )  # fmt: skip
    os.close(terminal)
    seen = bytearray()
    try:
        read_until(controller, b"[medium] >", seen)
        os.write(controller, b"first question\r")
        read_until(controller, b"START", seen)
        os.write(controller, b"/thinking high\r")  # typed while the reply streams
        read_until(controller, b"END.", seen)
        reply_part = bytes(seen)
        read_until(controller, b"thinking level: high (from the next request)", seen)
        read_until(controller, b"[high] >", seen)
        os.write(controller, b"second question\r")
        read_until(controller, b"Second answer.", seen)
        read_until(controller, b"[high] >", seen)
        os.write(controller, b"\x04")
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)
    # Not echoed into the reply: nothing of the typed line shows before the reply ends.
    assert b"/thinking" not in reply_part and b"thinking high" not in reply_part
    first, second = fake.generate_requests()
    assert second.user_texts() == ["first question", "second question"]  # not "/thinking high\nsecond question"
    assert (first.thinking_level(), second.thinking_level()) == ("MEDIUM", "HIGH")
