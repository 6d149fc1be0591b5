"""How a streamed reply is written to a terminal or a pipe; shared by the one-shot mode and the plain REPL.

A pipe gets the reply's text exactly as it arrives. A terminal gets Markdown rendered progressively with rich
(finished blocks printed once, only the unfinished tail live), or plain text when colour is off; either way
control and escape sequences in model output are neutralised first, through a `SafeTextStream` so a CRLF that
arrives split over two chunks is still a newline.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, TextIO

from flashchat.render.markdown_blocks import MarkdownBlockSplitter
from flashchat.render.safe_text import NAME_CHARS, SafeTextStream, one_line

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live

    from flashchat.core.conversation import Message, Usage


def usage_line(usage: Usage | None, message: Message | None, cost: float | None = None) -> str:
    """`usage: prompt … tokens · first token 0.42 s · 1.90 s · cost $0.0036 · MODEL, thinking LEVEL`."""
    from flashchat.render.formatting import usd

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
    if cost is not None:
        parts.append(f"cost {usd(cost)}")
    if message is not None:
        model = one_line(message.model_version or message.model, NAME_CHARS)  # the server names the version
        parts.append(f"{model}, thinking {message.thinking_level}")
    return "usage: " + " · ".join(parts) if parts else "usage: none reported"


class PlainOutput:
    """Text deltas as they arrive; thoughts, if asked for, to `thoughts_to` (stderr for a pipe).

    Text to a terminal is neutralised; a pipe gets the model's text unchanged, byte for byte. Thoughts are
    always neutralised: they are not the reply, and on stderr they are read by a person.
    """

    def __init__(self, stdout: TextIO, thoughts_to: TextIO) -> None:
        self.stdout, self.stderr = stdout, thoughts_to
        self._ends_with_newline = True
        self._thinking = False
        self._text: SafeTextStream | None = SafeTextStream() if stdout.isatty() else None
        self._thoughts = SafeTextStream()

    def thought(self, text: str) -> None:
        self._thinking = True
        self.stderr.write(self._thoughts.feed(text))
        self.stderr.flush()

    def text(self, text: str) -> None:
        if self._thinking:
            self._end_thoughts()
        shown = self._text.feed(text) if self._text is not None else text
        self.stdout.write(shown)
        self.stdout.flush()
        if shown:
            self._ends_with_newline = shown.endswith("\n")

    def _end_thoughts(self) -> None:
        self._thinking = False
        self.stderr.write(self._thoughts.flush() + "\n")

    def close(self) -> None:
        if self._thinking:
            self._end_thoughts()
            self.stderr.flush()
        if self._text is not None:
            held = self._text.flush()  # a CR that ended the stream is shown, not dropped
            self.stdout.write(held)
            if held:
                self._ends_with_newline = False
        if not self._ends_with_newline:
            self.stdout.write("\n")
        self.stdout.flush()


class MarkdownOutput:
    """For a terminal: finished Markdown blocks are printed once; only the unfinished tail is live."""

    _REFRESH_SECONDS = 0.06

    def __init__(self, stdout: TextIO, *, force_terminal: bool | None = None, hyperlinks: bool | None = None) -> None:
        from rich.console import Console

        from flashchat.render.hyperlinks import terminal_supports_hyperlinks

        self.console: Console = Console(file=stdout, highlight=False, force_terminal=force_terminal)
        # OSC 8 links where the terminal has them; elsewhere rich writes "label (address)" so the address shows.
        self.hyperlinks = terminal_supports_hyperlinks() if hyperlinks is None else hyperlinks
        self._splitter = MarkdownBlockSplitter()
        self._safe_text = SafeTextStream()
        self._safe_thoughts = SafeTextStream()
        self._live: Live | None = None
        self._printed_blocks = 0
        self._thinking = False
        self._last_refresh = 0.0

    def thought(self, text: str) -> None:
        if not self._thinking:
            self._thinking = True
            self.console.print("Thinking…", style="dim bold")
        self._print_thought(self._safe_thoughts.feed(text))

    def _print_thought(self, safe: str) -> None:
        self.console.print(safe, style="dim italic", end="", markup=False, highlight=False)

    def _end_thoughts(self) -> None:
        self._thinking = False
        self._print_thought(self._safe_thoughts.flush())

    def text(self, text: str) -> None:
        if self._thinking:
            self._end_thoughts()
            self.console.print("\n")
        for block in self._splitter.feed(self._safe_text.feed(text)):
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
        self.console.print(Markdown(block, hyperlinks=self.hyperlinks))
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
        self._live.update(Markdown(tail, hyperlinks=self.hyperlinks), refresh=True)

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        if self._thinking:
            self._end_thoughts()
            self.console.print()
        for block in self._splitter.feed(self._safe_text.flush()):
            self._print_block(block)
        tail = self._splitter.tail.strip("\n")
        if tail:
            self._print_block(tail)


class CitedOutput:
    """A terminal output that holds each reply's text until it is finished, then writes it with citation markers
    (`…in 2024.[1][3]`): a grounded reply's supports arrive with its last chunk, after the text they mark.

    Used only while Google Search is on (other replies are never grounded and stream as usual); a pipe never
    gets markers, it gets the model's text unchanged."""

    def __init__(self, inner: PlainOutput | MarkdownOutput) -> None:
        self.inner = inner
        self._held: list[str] = []

    def thought(self, text: str) -> None:
        self.inner.thought(text)

    def text(self, text: str) -> None:
        self._held.append(text)

    def finish_reply(self, extras: dict[str, Any] | None) -> None:
        """The reply is complete: write it, with markers where its grounding metadata places them."""
        from flashchat.render.citations import cited_text

        held, self._held = "".join(self._held), []
        if held:
            self.inner.text(cited_text(held, extras, markdown=isinstance(self.inner, MarkdownOutput)))

    def close(self) -> None:
        self.finish_reply(None)  # a reply that failed or was stopped: what arrived, without markers
        self.inner.close()
