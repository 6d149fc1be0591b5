"""One-shot mode: `flashchat -p "question"`, `git diff | flashchat -p "review"`.

Piped stdout gets the reply's plain text as it arrives and nothing else (notices, retries and usage go to
stderr). A terminal gets Markdown rendered progressively with rich, with control sequences neutralised.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any, TextIO

from flashchat.config import Settings
from flashchat.events import Failed, Finished, Retrying, TextDelta, ThoughtDelta, UsageUpdate
from flashchat.markdown_blocks import MarkdownBlockSplitter
from flashchat.safetext import json_c1_safe, terminal_safe

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live

    from flashchat.conversation import Conversation, Message, Usage
    from flashchat.events import Event
    from flashchat.store import ConversationStore

EXIT_OK, EXIT_API_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def usage_line(usage: Usage | None, message: Message | None) -> str:
    parts = []
    if usage is not None:
        parts.append(
            f"prompt {usage.prompt:,} · thoughts {usage.thoughts:,} · output {usage.output:,} · "
            f"cached {usage.cached:,} · total {usage.total:,} tokens"
        )
    if message is not None:
        if message.first_token_seconds is not None:
            parts.append(f"first token {message.first_token_seconds:.2f} s")
        if message.duration_seconds is not None:
            parts.append(f"{message.duration_seconds:.2f} s")
        parts.append(f"{message.model_version or message.model}, thinking {message.thinking_level}")
    return "usage: " + " · ".join(parts) if parts else "usage: none reported"


class PlainOutput:
    """For pipes: text deltas straight to stdout; thoughts, if asked for, to stderr."""

    def __init__(self, stdout: TextIO, stderr: TextIO) -> None:
        self.stdout, self.stderr = stdout, stderr
        self._ends_with_newline = True
        self._thinking = False
        self._stderr_is_terminal = stderr.isatty()

    def thought(self, text: str) -> None:
        self._thinking = True
        self.stderr.write(terminal_safe(text) if self._stderr_is_terminal else text)
        self.stderr.flush()

    def text(self, text: str) -> None:
        if self._thinking:
            self._thinking = False
            self.stderr.write("\n")
        self.stdout.write(text)
        self.stdout.flush()
        self._ends_with_newline = text.endswith("\n")

    def close(self) -> None:
        if not self._ends_with_newline:
            self.stdout.write("\n")
        self.stdout.flush()


class MarkdownOutput:
    """For a terminal: finished Markdown blocks are printed once; only the unfinished tail is live."""

    _REFRESH_SECONDS = 0.06

    def __init__(self, stdout: TextIO) -> None:
        from rich.console import Console

        self.console: Console = Console(file=stdout, highlight=False)
        self._splitter = MarkdownBlockSplitter()
        self._live: Live | None = None
        self._printed_blocks = 0
        self._thinking = False
        self._last_refresh = 0.0

    def thought(self, text: str) -> None:
        if not self._thinking:
            self._thinking = True
            self.console.print("Thinking…", style="dim bold")
        self.console.print(terminal_safe(text), style="dim italic", end="", markup=False, highlight=False)

    def text(self, text: str) -> None:
        if self._thinking:
            self._thinking = False
            self.console.print("\n")
        for block in self._splitter.feed(terminal_safe(text)):
            self._print_block(block)
        now = time.monotonic()
        if now - self._last_refresh >= self._REFRESH_SECONDS:
            self._last_refresh = now
            self._show_tail()

    def _print_block(self, block: str) -> None:
        from rich.markdown import Markdown

        if self._live is not None:
            self._live.update("", refresh=True)
        if self._printed_blocks:
            self.console.print()
        self.console.print(Markdown(block))
        self._printed_blocks += 1

    def _show_tail(self) -> None:
        from rich.live import Live
        from rich.markdown import Markdown

        tail = self._splitter.tail
        if not tail.strip():
            return
        if self._live is None:
            # Cropped while streaming (a long code block must not scroll the live region); printed whole at the end.
            self._live = Live(console=self.console, auto_refresh=False, transient=True, vertical_overflow="crop")
            self._live.start()
        self._live.update(Markdown(tail), refresh=True)

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        if self._thinking:
            self.console.print()
        tail = self._splitter.tail.strip("\n")
        if tail:
            self._print_block(tail)


class JsonOutput:
    """`--json`: nothing while streaming; one object at the end."""

    def thought(self, text: str) -> None:
        pass

    def text(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


class OneShot:
    def __init__(
        self,
        settings: Settings,
        *,
        store: ConversationStore | None = None,
        conversation: Conversation | None = None,
        show_usage: bool = False,
        as_json: bool = False,
        stdout: TextIO,
        stderr: TextIO,
    ) -> None:
        self.settings = settings
        self.store = store
        self.conversation = conversation
        # Reported by the caller when the store opened; only a warning that appears mid-run is ours to print.
        self._store_warning_at_start = store.warning if store is not None else ""
        self.show_usage = show_usage
        self.as_json = as_json
        self.stdout, self.stderr = stdout, stderr
        self.output: PlainOutput | MarkdownOutput | JsonOutput
        if as_json:
            self.output = JsonOutput()
        elif stdout.isatty():
            self.output = MarkdownOutput(stdout)
        else:
            self.output = PlainOutput(stdout, stderr)
        self.usage: Usage | None = None
        self.message: Message | None = None
        self.error: Failed | None = None
        self.session: Any = None

    def warn(self, text: str) -> None:
        self.stderr.write(f"flashchat: {terminal_safe(text)}\n")
        self.stderr.flush()

    def run(self, prompt: str) -> int:
        try:
            return asyncio.run(self._run(prompt))
        except KeyboardInterrupt:
            return self._interrupted()

    async def _run(self, prompt: str) -> int:
        from flashchat.logs import route_library_output_to_log_file
        from flashchat.session import ChatSession

        route_library_output_to_log_file()
        self.session = ChatSession(self.settings, store=self.store, conversation=self.conversation)
        try:
            async for event in self.session.send(prompt):
                self._handle(event)
        finally:
            await self.session.aclose()
        self.output.close()
        return self._report()

    def _handle(self, event: Event) -> None:
        match event:
            case TextDelta(text):
                self.output.text(text)
            case ThoughtDelta(text):
                if self.settings.show_thoughts:
                    self.output.thought(text)
            case UsageUpdate(usage):
                self.usage = usage
            case Retrying(attempt, max_attempts, delay, reason):
                self.warn(f"{reason} Retrying in {delay:.1f} s (attempt {attempt} of {max_attempts}).")
            case Finished(message, notice):
                self.message = message
                if notice:
                    self.warn(notice)
            case Failed() as failure:
                self.error = failure
                self.message = failure.message

    def _report(self) -> int:
        if self.store is not None and self.store.warning != self._store_warning_at_start:
            self.warn(f"warning: {self.store.warning}")
        if self.as_json:
            self._print_json()
        elif self.error is not None:
            kept = " (the partial reply above is kept)" if self.error.message and self.error.message.text else ""
            self.warn(f"error: {self.error.error.message}{kept}")
        if self.show_usage:
            self.stderr.write(usage_line(self.usage, self.message) + "\n")
        return EXIT_API_ERROR if self.error is not None else EXIT_OK

    def _interrupted(self) -> int:
        self.output.close()
        if self.session is not None and self.message is None:
            messages = self.session.conversation.messages
            self.message = messages[-1] if messages and messages[-1].role == "model" else None
        if self.as_json:
            self._print_json(interrupted=True)
        self.warn("interrupted; the reply so far is kept.")
        return EXIT_INTERRUPTED

    def _print_json(self, *, interrupted: bool = False) -> None:
        message = self.message
        result: dict[str, Any] = {
            "text": message.text if message else "",
            "thoughts": message.thoughts if message else "",
            "usage": self.usage.to_dict() if self.usage else None,
            "finish_reason": message.finish_reason if message else None,
            "model_version": message.model_version if message else None,
            "thinking_level": self.settings.thinking_level,
            "incomplete": interrupted or self.error is not None or (message.incomplete if message else True),
        }
        if self.error is not None:
            result["error"] = {"kind": self.error.error.kind.value, "message": self.error.error.message}
        self.stdout.write(json_c1_safe(json.dumps(result, ensure_ascii=False)) + "\n")
        self.stdout.flush()


def fenced(text: str, info: str = "") -> str:
    """Wrap `text` in a code fence longer than any backtick run inside it."""
    longest, run = 0, 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text.rstrip(chr(10))}\n{fence}"


def guess_language(text: str) -> str:
    head = text.lstrip()[:200]
    if head.startswith(("diff --git", "--- ", "Index: ")) or "\n+++ " in head:
        return "diff"
    return ""


def read_stdin(stream: Any, warn: Any) -> str:
    """All of stdin as text; bytes that are not UTF-8 are replaced (with a warning), never a crash."""
    data = stream.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        warn(
            f"stdin is not valid UTF-8 (first bad byte at offset {error.start}); "
            "undecodable bytes were replaced with U+FFFD."
        )
        return data.decode("utf-8", errors="replace")


def build_prompt(prompt: str | None, stdin_text: str | None) -> str:
    if stdin_text is None or not stdin_text.strip():
        return prompt or ""
    if not prompt:
        return stdin_text
    return f"{prompt}\n\n{fenced(stdin_text, guess_language(stdin_text))}"
