"""One-shot mode: `flashchat -p "question"`, `git diff | flashchat -p "review"`.

Piped stdout gets the reply's plain text as it arrives and nothing else (notices, retries and usage go to
stderr); a terminal gets progressively rendered Markdown (see terminal_output.py). Whatever goes to stderr is a
message for the user, never the reply, so it is always terminal-safe, pipe or not: server strings in it
(error messages, finish notices, tool errors, sources) are one bounded line each.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any, TextIO

from flashchat.cli.turn_record import TurnRecord
from flashchat.config.settings import Settings
from flashchat.core.errors import EXIT_API_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_SCHEMA_MISMATCH, EXIT_USAGE
from flashchat.core.events import (
    Failed,
    Finished,
    Retrying,
    TextDelta,
    ThoughtDelta,
    ToolFinished,
    ToolRequested,
    Uploading,
    UsageUpdate,
)
from flashchat.core.media import format_size
from flashchat.render.math import MathStream
from flashchat.render.safe_text import MESSAGE_CHARS, NAME_CHARS, json_c1_safe, one_line, stderr_line, terminal_safe
from flashchat.render.terminal_output import CitedOutput, MarkdownOutput, PlainOutput, usage_line

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from flashchat.core.prompt import PreparedPrompt
    from flashchat.core.session import ChatSession

    # A prompt, or what prepares one with the session's provider (counting tokens): None when refused.
    PromptSource = PreparedPrompt | str | Callable[[ChatSession], Awaitable[PreparedPrompt | None]]
    from flashchat.core.conversation import Conversation, Message, ToolCall, Usage
    from flashchat.core.events import Event
    from flashchat.core.session import ToolApproval
    from flashchat.store.conversation_store import ConversationStore


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
        self.output: PlainOutput | MarkdownOutput | CitedOutput | JsonOutput
        # --schema: the reply is held back until it has been checked, so stdout gets matching JSON or nothing.
        if as_json or settings.response_schema is not None:
            self.output = JsonOutput()
        elif stdout.isatty():
            # With Google Search a reply may be grounded: on a terminal it is written with citation markers.
            self.output = CitedOutput(MarkdownOutput(stdout)) if settings.google_search else MarkdownOutput(stdout)
        else:
            self.output = PlainOutput(stdout, stderr)
        # LaTeX formulas as Unicode on a terminal only: piped and --json output stay as the model wrote them.
        self.math = MathStream() if isinstance(self.output, MarkdownOutput) else None
        self.turn = TurnRecord()
        self.structured: Any = None  # --schema: the reply's JSON, once checked
        self.mismatch = ""  # --schema: why the reply did not pass
        self.message: Message | None = None
        self.error: Failed | None = None
        self.session: Any = None

    @property
    def usage(self) -> Usage | None:
        """The turn's tokens, every hop of a turn with tools included, not only the last reply's. Read when the
        run reports, not on each `UsageUpdate`: Gemini sends one with every chunk."""
        return self.turn.usage

    def warn(self, text: str) -> None:
        """One line on stderr. Callers bound the server strings in `text` (`one_line`) so that their own
        words around them are never the part that is cut; this only makes the whole line safe."""
        self.stderr.write(stderr_line(text))
        self.stderr.flush()

    def run(self, prompt: PromptSource) -> int:
        """Send `prompt` (or what `prompt(session)` prepares: None means it was refused, exit 2)."""
        try:
            return asyncio.run(self._run(prompt))
        except KeyboardInterrupt:
            return self._interrupted()

    async def _run(self, source: PromptSource) -> int:
        from flashchat.config.logs import route_library_output_to_log_file
        from flashchat.core.session import ChatSession
        from flashchat.providers import import_provider_kept

        route_library_output_to_log_file()  # first: the SDK's import may warn
        self.session = ChatSession(
            self.settings, store=self.store, conversation=self.conversation, approve_tool=self._allow_every_call
        )
        import_provider_kept(self.settings)  # this process keeps it until it exits
        try:
            prompt = await source(self.session) if callable(source) else source
            if prompt is None:
                return EXIT_USAGE
            async for event in self.session.send(prompt):
                self._handle(event)
        finally:
            await self.session.aclose()
        self._close_output()
        return self._report()

    def _close_output(self) -> None:
        if self.math is not None:
            self.output.text(self.math.flush())
        self.output.close()

    async def _allow_every_call(self, call: ToolCall) -> ToolApproval:
        """--allow-tools is the user's approval for this run; each call is still shown."""
        from flashchat.core.session import ToolApproval

        return ToolApproval.ONCE

    def _handle(self, event: Event) -> None:
        self.turn.add(event)
        match event:  # the events of every chunk first: the cases are tried in order
            case TextDelta(text):
                self.output.text(self.math.feed(text) if self.math is not None else text)
            case UsageUpdate():
                pass  # read by `usage` when the run reports
            case ThoughtDelta(text):
                if self.settings.show_thoughts:
                    self.output.thought(text)
            case ToolRequested(call):
                self.warn(f"tool: {one_line(call.describe())}")
            case ToolFinished(call, response, _, declared):
                outcome = f"error: {one_line(response['error'])}" if "error" in response else "ok"
                if not declared:
                    outcome = "not a flashchat tool: not run, answered with an error"
                self.warn(f"tool: {one_line(call.name, NAME_CHARS)} -> {outcome}")
            case Uploading(name, sent, total) if sent == total:
                self.warn(f"uploaded {one_line(name)} ({format_size(total)}) through the Files API.")
            case Retrying(attempt, max_attempts, delay, reason):
                self.warn(f"{one_line(reason)} Retrying in {delay:.1f} s (attempt {attempt} of {max_attempts}).")
            case Finished(message, notice):
                self.message = message
                if isinstance(self.output, CitedOutput):
                    self.output.finish_reply(message.extras)
                if notice:
                    self.warn(one_line(notice))
            case Failed() as failure:
                self.error = failure
                self.message = failure.message

    def _show_sources(self) -> None:
        from flashchat.render.sources import sources_markdown

        sources = sources_markdown(self.message.extras if self.message else None)
        if not sources or self.as_json:
            return
        if isinstance(self.output, (MarkdownOutput, CitedOutput)):
            self.output = MarkdownOutput(self.stdout)
            self.output.text("\n" + sources + "\n")
            self._close_output()
        else:
            self.stderr.write(terminal_safe(sources) + "\n")  # sources_markdown made each string safe already

    def _check_structured_reply(self) -> None:
        """--schema: parse and check the finished reply (a failed or cut-off one is reported as such)."""
        from flashchat.cli.schema_output import SchemaMismatch, validated_json

        schema = self.settings.response_schema
        if schema is None or self.error is not None or self.message is None:
            return
        try:
            self.structured = validated_json(self.message.text, dict(schema))
        except SchemaMismatch as error:
            self.mismatch = str(error)

    def _report(self) -> int:
        self._check_structured_reply()
        if self.settings.response_schema is not None and not self.as_json and not self.mismatch and not self.error:
            # Pretty on a terminal, one line in a pipe; json.dumps escapes C0 controls, json_c1_safe the rest.
            indent = 2 if self.stdout.isatty() else None
            self.stdout.write(json_c1_safe(json.dumps(self.structured, ensure_ascii=False, indent=indent)) + "\n")
            self.stdout.flush()
        self._show_sources()
        if self.store is not None and self.store.warning != self._store_warning_at_start:
            self.warn(f"warning: {one_line(self.store.warning)}")
        if self.as_json:
            self._print_json()
        elif self.error is not None:
            kept = " (the partial reply above is kept)" if self.error.message and self.error.message.text else ""
            if self.settings.response_schema is not None:
                kept = " (nothing printed: a partial reply is not checked JSON)" if kept else ""
            self.warn(f"error: {one_line(self.error.error.message)}{kept}")
        elif self.mismatch:
            self.warn(f"error: {one_line(self.mismatch)}; nothing printed (the reply is kept in the history)")
        if self.show_usage:
            line = usage_line(self.usage, self.message, self._cost())
            self.stderr.write(one_line(line, limit=4 * MESSAGE_CHARS) + "\n")
        if self.error is not None:
            return EXIT_API_ERROR
        return EXIT_SCHEMA_MISMATCH if self.mismatch else EXIT_OK

    def _cost(self) -> float | None:
        """USD for the usage reported, at the price of the model that answered (None: price unknown)."""
        from flashchat.core.costs import estimated_cost

        if self.usage is None:
            return None
        model = self.message.model if self.message is not None and self.message.model else None
        return estimated_cost(self.usage, self.settings, model)

    def _interrupted(self) -> int:
        self._close_output()
        if self.session is not None and self.message is None:
            messages = self.session.conversation.messages
            self.message = messages[-1] if messages and messages[-1].role == "model" else None
        if self.as_json:
            self._print_json(interrupted=True)
        self.warn("interrupted; the reply so far is kept.")
        return EXIT_INTERRUPTED

    def _print_json(self, *, interrupted: bool = False) -> None:
        message = self.message
        turn = self.turn
        result: dict[str, Any] = {
            "text": turn.text() if turn.replies else (message.text if message else ""),
            "thoughts": turn.thoughts() if turn.replies else (message.thoughts if message else ""),
            "usage": self.usage.to_dict() if self.usage else None,
            "cost_usd": self._cost(),
            "finish_reason": message.finish_reason if message else None,
            "model_version": message.model_version if message else None,
            "thinking_level": self.settings.thinking_level,
            "incomplete": interrupted or self.error is not None or (message.incomplete if message else True),
        }
        grounding = (message.extras or {}).get("grounding", {}) if message else {}
        if grounding:
            result["sources"] = [
                {"title": chunk["web"].get("title", ""), "uri": chunk["web"].get("uri", "")}
                for chunk in grounding.get("grounding_chunks") or []
                if "web" in chunk
            ]
            result["search_queries"] = grounding.get("web_search_queries") or []
        if turn.tool_calls:
            result["tool_calls"] = turn.tool_calls
        if code := turn.code_execution():
            result["code_execution"] = code
        kept = message.extras or {} if message is not None else {}
        result.update({key: kept[key] for key in ("response_id", "finish_message", "token_details") if key in kept})
        if self.settings.response_schema is not None:
            result["data"] = self.structured  # the checked JSON; null when it did not pass
        if self.error is not None:
            result["error"] = {"kind": self.error.error.kind.value, "message": self.error.error.message}
        elif self.mismatch:
            result["error"] = {"kind": "schema", "message": self.mismatch}
        self.stdout.write(json_c1_safe(json.dumps(result, ensure_ascii=False)) + "\n")
        self.stdout.flush()
