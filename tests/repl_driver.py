"""Driving the plain REPL as a user would: typed keys through a prompt-toolkit pipe, output captured."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from flashchat.config.settings import Settings
from flashchat.repl.plain_repl import PlainRepl
from flashchat.store.conversation_store import open_store

ENTER = "\r"
CTRL_D = "\x04"


class ReplDriver:
    """Runs a PlainRepl on a prompt-toolkit pipe; typed lines wait in the pipe until the prompt reads them."""

    def __init__(self, settings: Settings, tmp_path: Path, colour: bool = False) -> None:
        # Keep the context manager alive: when it is garbage collected it closes the pipe (EOF at the prompt).
        self._pipe_context = create_pipe_input()
        self.pipe = self._pipe_context.__enter__()
        self.stdout = io.StringIO()
        self.store = open_store()
        self.repl = PlainRepl(
            settings,
            self.store,
            colour=colour,
            stdout=self.stdout,
            prompt_input=self.pipe,
            prompt_output=DummyOutput(),
            history_file=tmp_path / "prompt_history",
        )
        self.task: asyncio.Task[int] | None = None

    def type(self, text: str) -> None:
        self.pipe.send_text(text)

    async def start(self) -> None:
        self.task = asyncio.create_task(self.repl.run())

    async def wait_for_output(self, needle: str, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while needle not in self.stdout.getvalue():
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} never appeared in:\n{self.stdout.getvalue()}")
            await asyncio.sleep(0.01)
        return self.stdout.getvalue()

    async def quit(self) -> int:
        self.type(CTRL_D)
        assert self.task is not None
        code = await asyncio.wait_for(self.task, 10)
        self._pipe_context.__exit__(None, None, None)
        return code
