"""`flashchat --plain`: a line-mode chat in the terminal's own scrollback (prompt-toolkit).

For screen readers, tmux logs, slow SSH links and people who want the transcript in their terminal. Same
engine, store and settings as the TUI. Enter sends, Alt+Enter (Esc Enter) or Ctrl+J inserts a newline,
Ctrl-C during a reply stops it (the partial text is kept), Ctrl-D exits.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from flashchat.config import paths
from flashchat.config.settings import (
    GEMINI_APIS,
    THINKING_LEVELS,
    ConfigError,
    Settings,
    list_endpoints,
    update_config_file,
)
from flashchat.core.attachments import AttachmentError, mention_at_cursor, project_files
from flashchat.core.commands import (
    TOOL_SWITCHES,
    UserAction,
    action_for_command,
    api_switch_text,
    not_offered,
    slash_commands,
)
from flashchat.core.conversation import CONTEXT_WINDOW_TOKENS, Conversation, ToolCall
from flashchat.core.costs import conversation_cost, message_cost
from flashchat.core.events import (
    Event,
    Failed,
    Finished,
    Retrying,
    TextDelta,
    ThoughtDelta,
    ToolFinished,
    ToolRequested,
    Uploading,
)
from flashchat.core.exports import EXPORT_FORMATS, ExportError, write_export
from flashchat.core.media import MediaAttachment, format_size
from flashchat.core.prompt import PreparedPrompt, prepare_prompt
from flashchat.core.session import ChatSession, ToolApproval
from flashchat.render.formatting import count_noun, recent_code_blocks, usd
from flashchat.render.math import MathStream, prepare_math, render_math
from flashchat.render.safe_text import NAME_CHARS, one_line, safe_block, terminal_safe
from flashchat.render.sources import sources_markdown
from flashchat.render.terminal_output import CitedOutput, MarkdownOutput, PlainOutput
from flashchat.repl.type_ahead import keys_kept_for_the_next_prompt
from flashchat.store.conversation_store import ConversationStore, StoreError

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import CompleteEvent, Completion
    from prompt_toolkit.document import Document
    from prompt_toolkit.input import Input
    from prompt_toolkit.output import Output

    from flashchat.providers.base import ModelInfo

PROMPT_HISTORY_FILE = "prompt_history"


# The slash commands, from the one action table every front end shares (core/commands.py).
COMMANDS: tuple[UserAction, ...] = slash_commands()
# Slash command -> the setting it switches on and off.
TOGGLES = {switch.command: switch.setting for switch in TOOL_SWITCHES}


def colour_wanted(no_color_flag: bool, environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Rendered Markdown unless --no-color, NO_COLOR (any value, see no-color.org) or a dumb terminal."""
    return not (no_color_flag or "NO_COLOR" in environ or environ.get("TERM", "") in ("dumb", ""))


class SlashCompleter:
    """Completes command names (with their one-line descriptions) and the arguments that have a fixed set."""

    def __init__(self, repl: PlainRepl) -> None:
        self._repl = repl

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        from prompt_toolkit.completion import Completion

        text = document.text_before_cursor
        mention = mention_at_cursor(document.current_line_before_cursor)  # the same @path rule as the TUI's
        if mention is not None:
            for path in self._repl.project_files():
                if path.startswith(mention):
                    yield Completion(path, start_position=-len(mention), display=one_line(path, NAME_CHARS))
            return
        if not text.startswith("/") or "\n" in text:
            return
        name, space, argument = text[1:].partition(" ")
        if not space:
            for command in COMMANDS:
                if command.command.startswith(name):
                    yield Completion(command.command, start_position=-len(name), display_meta=command.help)
            return
        for value, meta in self._repl.argument_choices(name):
            if value.startswith(argument):
                yield Completion(value, start_position=-len(argument), display_meta=meta)

    async def get_completions_async(self, document: Document, complete_event: CompleteEvent):  # type: ignore[no-untyped-def]
        for completion in self.get_completions(document, complete_event):
            yield completion


class PlainRepl:
    def __init__(
        self,
        settings: Settings,
        store: ConversationStore,
        *,
        colour: bool,
        conversation: Conversation | None = None,
        stdout: TextIO | None = None,
        prompt_input: Input | None = None,
        prompt_output: Output | None = None,
        history_file: Path | None = None,
    ) -> None:
        self.store = store
        self.session = ChatSession(
            settings, store=store, conversation=conversation, approve_tool=self._ask_approval, working_dir=Path.cwd()
        )
        self.colour = colour
        self.stdout = stdout or sys.stdout
        self._prompt_input = prompt_input
        self._prompt_output = prompt_output
        self._history_file = history_file
        self._models: list[ModelInfo] | None = None
        self._reported_store_warning = ""
        # What the next prompt attaches besides its @path mentions (/attach, /paste) and chosen resolutions.
        self._attach_paths: list[str] = []
        self._attach_media: list[MediaAttachment] = []
        self._resolutions: dict[str, str] = {}
        self._missing_shown: str | None = None  # the prompt whose unknown @path was flagged, not yet sent
        self._prompt: PromptSession[str] | None = None
        self._output: MarkdownOutput | PlainOutput | CitedOutput | None = None
        self._project_files: list[str] | None = None
        self._next_default = ""  # text put back on the prompt line by /edit
        self._math = MathStream()  # LaTeX formulas in replies shown as Unicode
        self._key_problems: list[str] = []  # bad [keys] entries, said once at the start

    # -- the loop ---------------------------------------------------------------------------------------

    @property
    def prompt_text(self) -> str:
        return f"[{self.session.settings.thinking_level}] > "

    def say(self, text: str) -> None:
        """Every message of plain mode goes through the sanitiser: server strings in it cannot act on the terminal."""
        self.stdout.write(terminal_safe(text) + "\n")
        self.stdout.flush()

    async def run(self) -> int:
        prompt_session = self._prompt = self._prompt_session()
        self.say("flashchat: Enter sends, Alt+Enter adds a line, /help lists commands, Ctrl-D quits.")
        for problem in self._key_problems:
            self.say(f"warning: {problem}")
        self._report_store_warning()
        # pylatexenc's tables, built while the user types the first prompt rather than on the first formula.
        loop = asyncio.get_running_loop()
        loop.run_in_executor(None, prepare_math)
        # The provider and what its first request builds (~0.7 s: the SDK's import, client, TLS context, request
        # models), also while the user types: the first message then leaves as fast as the later ones.
        loop.run_in_executor(None, self._warm_up, loop)
        # Keys typed while a reply streams go to the next prompt, Enter included (repl/type_ahead.py).
        terminal = sys.stdin if self._prompt_input is None else None
        try:
            with keys_kept_for_the_next_prompt(terminal) if terminal is not None else contextlib.nullcontext():
                await self._loop(prompt_session)
        finally:
            await self.session.aclose()
        return 0

    def _warm_up(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run in a thread: sends nothing. A failure here only means the first send does the work itself.

        The provider's module stays until the process ends: imported with the collector paused and then frozen,
        its objects (~80,000 for google-genai) stay out of every later collection while replies stream."""
        from flashchat.providers import import_provider_kept

        try:
            import_provider_kept(self.session.settings)
            self.session.warm_up(loop)
        except Exception:
            import logging

            logging.getLogger("flashchat.repl").debug("warm-up failed", exc_info=True)

    async def _loop(self, prompt_session: PromptSession[str]) -> None:
        while True:
            default, self._next_default = self._next_default, ""
            try:
                text = await prompt_session.prompt_async(self.prompt_text, default=default)
            except KeyboardInterrupt:
                continue  # Ctrl-C at the prompt clears the line, as in a shell
            except EOFError:
                return
            if not text.strip():
                continue
            if text.lstrip().startswith("/"):
                if await self.run_command(text.strip()) == "quit":
                    return
                continue
            await self.send(text)

    def _prompt_session(self) -> PromptSession[str]:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory, InMemoryHistory
        from prompt_toolkit.key_binding import KeyBindings

        bindings = KeyBindings()

        @bindings.add("enter")
        def _send(event: Any) -> None:
            event.current_buffer.validate_and_handle()

        @bindings.add("escape", "enter")  # Alt+Enter in most terminals
        @bindings.add("c-j")
        def _newline(event: Any) -> None:
            event.current_buffer.insert_text("\n")

        self._bind_chosen_keys(bindings)
        history_file = self._history_file or paths.data_dir() / PROMPT_HISTORY_FILE
        try:
            # Earlier prompts may hold private text: the file is the user's alone.
            paths.ensure_private_dir(history_file.parent)
            os.close(os.open(history_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
            history: Any = FileHistory(str(history_file))
        except OSError:
            history = InMemoryHistory()
        return PromptSession(
            history=history,
            key_bindings=bindings,
            multiline=True,
            completer=SlashCompleter(self),  # type: ignore[arg-type]
            complete_while_typing=True,
            input=self._prompt_input,
            output=self._prompt_output,
            prompt_continuation=lambda width, line_number, wrap_count: "." * (width - 1) + " ",
        )

    def _bind_chosen_keys(self, bindings: Any) -> None:
        """The config's [keys], for the actions plain mode runs as a command without required arguments: the key
        runs `/command` at once, and what was typed so far comes back on the next prompt line."""
        from flashchat.core.keys import prompt_toolkit_keys, read_key_choices

        choices = read_key_choices(self.session.settings.keys)
        self._key_problems = list(choices.problems)
        for action in slash_commands():
            keys = choices.keys.get(action.name)
            if not keys or (action.arguments and not action.arguments.startswith("[")):
                continue
            for key in keys.split(","):
                sequence = prompt_toolkit_keys(key)
                if sequence is None:
                    self._key_problems.append(f"[keys] {action.name}: plain mode cannot bind {key!r}")
                    continue

                def run(event: Any, command: str = action.command) -> None:
                    self._next_default = event.current_buffer.text
                    event.app.exit(result=f"/{command}")

                try:
                    bindings.add(*sequence)(run)
                except ValueError:
                    self._key_problems.append(f"[keys] {action.name}: plain mode cannot bind {key!r}")

    # -- a reply ----------------------------------------------------------------------------------------

    async def stream_reply(self, events: Any) -> None:
        """Print one streamed reply. Ctrl-C cancels it; the session keeps what had arrived."""
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(self._print_events(events))
        previous_handler = signal.getsignal(signal.SIGINT)
        loop.add_signal_handler(signal.SIGINT, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            if not task.cancelled():
                raise
            self.say("\n[stopped: the partial reply is kept]")
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            signal.signal(signal.SIGINT, previous_handler)
        self._report_store_warning()

    async def send(self, text: str, *, preset: str = "") -> None:
        """Send what the user typed, with the files it mentions as `@path` attached (checked before sending)."""
        prepared = await self._prepare(text, preset=preset)
        if prepared is not None:
            await self.stream_reply(self.session.send(prepared))

    async def _prepare(self, text: str, *, preset: str = "") -> PreparedPrompt | None:
        """The shared prompt preparation and its guard; None when nothing is to be sent."""
        try:
            prepared = await prepare_prompt(
                self.session, text, preset=preset, root=Path.cwd(), files=list(self._attach_paths),
                media=list(self._attach_media), resolutions=dict(self._resolutions),
            )  # fmt: skip
        except AttachmentError as error:
            self.say(f"error: {one_line(str(error))}; nothing was sent")
            return None
        for index, attachment in enumerate(prepared.attachments):
            self.say(f"[attached {attachment.path}: {prepared.token_label(index)}]")
        if prepared.missing:
            missing = one_line(", ".join("@" + name for name in prepared.missing))
            if self._missing_shown != text:
                # Flagged before anything is sent: the line comes back to fix, and Enter again sends it as it is.
                self.say(f"note: no such file here: {missing}; not sent yet (Enter sends it as written)")
                self._missing_shown = text
                self._next_default = text
                return None
            self.say(f"note: no such file here: {missing} (sent as text)")
        if prepared.refusal:
            self.say(f"error: {prepared.refusal}")
            return None
        if prepared.warning and not await self._confirm(f"{prepared.warning} Send them? [y/N] "):
            self.say("not sent; the prompt is back on the line (edit it, or Ctrl-C to clear)")
            self._next_default = text
            return None
        estimate = prepared.estimate
        if estimate is not None:
            self.say(f"large request: {estimate.summary()} ({estimate.detail()})")
            if not await self._confirm("Send it? [y/N] "):
                self.say("not sent; the prompt is back on the line (edit it, or Ctrl-C to clear)")
                self._next_default = text
                return None
        self._missing_shown = None
        self._attach_paths.clear()
        self._attach_media.clear()
        self._resolutions.clear()
        return prepared

    async def _confirm(self, question: str) -> bool:
        if self._prompt is None:
            return False
        try:
            answer = await self._prompt.prompt_async(question)
        except (KeyboardInterrupt, EOFError):
            return False
        return answer.strip().lower() in ("y", "yes")

    def project_files(self) -> list[str]:
        if self._project_files is None:
            self._project_files = project_files(Path.cwd())
        return self._project_files

    async def _ask_approval(self, call: ToolCall) -> ToolApproval:
        """Every local tool call is shown and needs a yes before it runs."""
        self._close_output()
        if self._prompt is None:
            return ToolApproval.DENY
        question = f"allow {one_line(call.describe())}? [a]lways / [o]nce / [d]eny > "
        while True:
            try:
                answer = (await self._prompt.prompt_async(question)).strip().lower()
            except (KeyboardInterrupt, EOFError):
                return ToolApproval.DENY
            for decision in ToolApproval:
                if answer and decision.value.startswith(answer):
                    return decision

    def _new_output(self) -> MarkdownOutput | PlainOutput | CitedOutput:
        self._close_output()
        output = MarkdownOutput(self.stdout) if self.colour else PlainOutput(self.stdout, self.stdout)
        # With Google Search a reply may be grounded: held until it ends, then written with citation markers.
        self._output = CitedOutput(output) if self.session.settings.google_search else output
        return self._output

    def _close_output(self) -> None:
        if self._output is not None:
            self._output.text(self._math.flush())
            self._output.close()
            self._output = None

    async def _print_events(self, events: Any) -> None:
        show_thoughts = self.session.settings.show_thoughts
        countdown: asyncio.Task[None] | None = None
        try:
            async with contextlib.aclosing(events):
                async for event in events:
                    if countdown is not None:
                        countdown.cancel()
                        countdown = None
                    countdown = self._show(event, show_thoughts)
        finally:
            if countdown is not None:
                countdown.cancel()
            self._close_output()

    def _show(self, event: Event, show_thoughts: bool) -> Any:
        output = self._output or self._new_output()
        match event:
            case TextDelta(text):
                output.text(self._math.feed(text))
            case ThoughtDelta(text):
                if show_thoughts:
                    output.thought(text)
            case Retrying() as retry:
                return asyncio.ensure_future(self._count_down(retry))
            case Uploading(name, sent, total) if sent == total:
                self.say(f"[uploaded {one_line(name)}: {format_size(total)}]")
            case Finished(message, notice):
                if isinstance(output, CitedOutput):
                    output.finish_reply(message.extras)
                self._close_output()
                if notice:
                    self.say(f"note: {one_line(notice)}")
                sources = sources_markdown(message.extras)
                if sources:
                    self._new_output().text(sources + "\n")
                    self._close_output()
            case Failed(error, kept):
                self._close_output()
                suffix = " (the partial reply is kept; /retry asks again)" if kept is not None else ""
                self.say(f"error: {one_line(error.message)}{suffix}")
            case ToolRequested(call):
                self._close_output()
                self.say(f"tool call: {one_line(call.describe())}")
            case ToolFinished(call, response, approved, declared):
                error_text = one_line(str(response.get("error", "")))
                outcome = "denied" if not approved else (f"error: {error_text}" if "error" in response else "done")
                if not declared:
                    outcome = "not a flashchat tool: not run, answered with an error"
                self.say(f"tool {one_line(call.name, NAME_CHARS)}: {outcome}")
        return None

    async def _count_down(self, retry: Retrying) -> None:
        """One line, rewritten each second on a capable terminal; a single line otherwise (screen readers)."""
        head = f"{one_line(retry.reason)} Retrying in"  # written raw below: made safe here
        tail = f"(attempt {retry.attempt} of {retry.max_attempts})"
        if not (self.colour and self.stdout.isatty()):
            self.say(f"{head} {retry.delay_seconds:.0f} s {tail}")
            return
        remaining = retry.delay_seconds
        try:
            while remaining > 0:
                self.stdout.write(f"\r{head} {remaining:.0f} s {tail}\x1b[K")
                self.stdout.flush()
                await asyncio.sleep(min(1.0, remaining))
                remaining -= 1.0
        finally:
            self.stdout.write("\r\x1b[K")
            self.stdout.flush()

    def _report_store_warning(self) -> None:
        if self.store.warning and self.store.warning != self._reported_store_warning:
            self._reported_store_warning = self.store.warning
            self.say(f"warning: {one_line(self.store.warning)}")

    # -- slash commands ---------------------------------------------------------------------------------

    def argument_choices(self, command: str) -> list[tuple[str, str]]:
        if command == "thinking":
            return [(level, "") for level in THINKING_LEVELS]
        if command == "api":
            return [("generate", "generateContent"), ("interactions", "the Interactions API")]
        if command == "export":
            return [("md", "Markdown"), ("json", "lossless JSON, re-importable")]
        if command == "open":
            rows = self.store.list_conversations(limit=30, replied_only=True)
            return [(row.id, one_line(row.title, NAME_CHARS)) for row in rows]
        if command in TOGGLES or command == "thoughts":
            return [("on", ""), ("off", "")]
        if command == "endpoint":
            endpoints = list_endpoints(self.session.settings)
            return [("default", "the config file's top level"), *((name, "") for name in endpoints)]
        if command == "preset":
            return [(name, one_line(text, 60)) for name, text in self.session.settings.presets.items()]
        if command == "model" and self._models:
            return [(one_line(m.name, NAME_CHARS), one_line(m.display_name, NAME_CHARS)) for m in self._models]
        return []

    async def run_command(self, line: str) -> str | None:
        name, _, argument = line[1:].partition(" ")
        argument = argument.strip()
        action = action_for_command(name)
        handler: Callable[[str], Awaitable[str | None]] | None = (
            getattr(self, f"_command_{action.command}", None) if action is not None else None
        )
        if handler is None:
            self.say(f"unknown command /{one_line(name)}: nothing was sent; /help lists the commands")
            return None
        return await handler(argument)

    def _update_settings(self, **changes: Any) -> bool:
        """Through the session, which checks each value; a bad one is one line and changes nothing."""
        try:
            self.session.update_settings("/command", **changes)
        except ConfigError as error:
            self.say(f"error: {one_line(str(error))}")
            return False
        return True

    async def _command_thinking(self, argument: str) -> None:
        if argument not in THINKING_LEVELS:
            self.say(
                f"thinking level is {self.session.settings.thinking_level}; use /thinking {'|'.join(THINKING_LEVELS)}"
            )
            return
        self._update_settings(thinking_level=argument)
        self.say(f"thinking level: {argument} (from the next request)")

    async def _command_model(self, argument: str) -> None:
        if argument:
            if self._update_settings(model=argument):
                self.say(f"model: {one_line(argument)} (from the next request)")
            return
        try:
            if self._models is None:
                self._models = await self.session.provider.list_models(self.session.settings)
        except Exception as error:
            self.say(f"error: could not list models: {one_line(str(getattr(error, 'message', error)))}")
            return
        current = self.session.settings.model
        for model in self._models:
            marker = "*" if model.name == current else " "
            limit = f"{model.input_token_limit:,} tokens" if model.input_token_limit else ""
            self.say(f"{marker} {one_line(model.name, NAME_CHARS):<32} {limit}")

    async def _command_usage(self, argument: str) -> None:
        conversation = self.session.conversation
        last = conversation.last_reply(with_usage=True)
        if last is None or last.usage is None:
            self.say("no usage yet: send a message first")
            return
        usage = last.usage
        first_token = f", first token {last.first_token_seconds:.2f} s" if last.first_token_seconds else ""
        self.say(
            f"last turn: prompt {usage.prompt:,} · thoughts {usage.thoughts:,} · output {usage.output:,} · "
            f"cached {usage.cached:,} · total {usage.total:,} tokens{first_token} (thinking {last.thinking_level})"
        )
        totals = conversation.total_usage()
        self.say(
            f"conversation: prompt {totals.prompt:,} · thoughts {totals.thoughts:,} · output {totals.output:,} · "
            f"cached {totals.cached:,} · total {totals.total:,} tokens"
        )
        used = conversation.context_tokens()
        self.say(f"context: {used:,} / {CONTEXT_WINDOW_TOKENS:,} tokens, {used / CONTEXT_WINDOW_TOKENS:.0%}")
        settings = self.session.settings
        total_cost = conversation_cost(conversation, settings)
        if total_cost is not None:
            self.say(f"cost: {usd(message_cost(last, settings))} last turn · {usd(total_cost)} conversation")

    async def _command_new(self, argument: str) -> None:
        self.session.new()
        self.say("new conversation")

    async def _command_history(self, argument: str) -> None:
        rows = self.store.list_conversations(limit=20, replied_only=True)
        if not rows:
            self.say("no stored conversations yet")
        for row in rows:
            self.say(f"{row.id}  {row.message_count:>4} msgs  {one_line(row.title)}")

    async def _command_rename(self, argument: str) -> None:
        if not argument.strip():
            current = one_line(self.session.conversation.title, NAME_CHARS) or "untitled"
            self.say(f"use /rename TITLE (now: {current})")
            return
        try:
            title = await self.session.rename(argument)
        except (StoreError, sqlite3.Error) as error:
            self.say(f"error: the conversation was not renamed: {one_line(str(error))}")
            return
        self.say(f"renamed to {one_line(title, NAME_CHARS)}")

    async def _command_open(self, argument: str) -> None:
        if not argument:
            self.say("use /open ID (see /history)")
            return
        try:
            conversation = self.store.load(self.store.resolve_id(argument))
        except (StoreError, KeyError) as error:
            self.say(f"error: {one_line(str(error.args[0] if error.args else error))}")
            return
        self.session.open(conversation)  # its system prompt and model come with it
        self.say(
            f"opened {conversation.id}: {terminal_safe(conversation.title)}"
            f" ({count_noun(len(conversation.messages), 'message')})"
        )
        last_reply = conversation.last_reply()
        if last_reply is not None:
            self.say("last reply:")
            self._new_output().text(render_math(last_reply.text))
            self._close_output()

    async def _command_export(self, argument: str) -> None:
        format_name, _, target = argument.partition(" ")
        if format_name not in EXPORT_FORMATS or not target.strip():
            self.say("use /export md PATH or /export json PATH")
            return
        conversation = self.session.conversation
        if not conversation.messages:
            self.say("nothing to export yet")
            return
        try:
            path = write_export(conversation, self.store, format_name, Path(target.strip()).expanduser())
        except ExportError as error:
            self.say(f"error: {one_line(str(error))}")
            return
        self.say(f"wrote {one_line(str(path))}")

    def _copy_to_clipboard(self, text: str) -> None:
        """OSC 52: the terminal puts `text` on the clipboard (base64, so nothing in it reaches the terminal raw)."""
        encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
        self.stdout.write(f"\x1b]52;c;{encoded}\x07")

    async def _command_copy(self, argument: str) -> None:
        reply = self.session.conversation.last_reply()
        if reply is None:
            self.say("no reply to copy yet")
            return
        self._copy_to_clipboard(reply.text)
        self.say(f"copied the last reply ({len(reply.text):,} characters) with OSC 52")

    async def _command_copycode(self, argument: str) -> None:
        """`/copycode` lists the code blocks of the recent replies (newest first); `/copycode N` copies one."""
        blocks = recent_code_blocks(self.session.conversation)
        if not blocks:
            self.say("no code blocks in the recent replies")
            return
        if not argument:
            for number, block in enumerate(blocks, 1):
                self.say(f"{number:>3}  {one_line(block.summary())}")
            self.say("/copycode N copies one")
            return
        if not argument.isdigit() or not 1 <= int(argument) <= len(blocks):
            self.say(f"use /copycode N with N from 1 to {len(blocks)}")
            return
        code = blocks[int(argument) - 1].code
        self._copy_to_clipboard(code)
        self.say(f"copied code block {argument} ({len(code):,} characters) with OSC 52")

    async def _command_edit(self, argument: str) -> None:
        """Drop the last prompt and its reply, and put the prompt back on the line to edit and resend."""
        text = await self.session.forget_last_prompt()
        if text is None:
            self.say("there is no prompt to edit yet")
            return
        self._next_default = text
        self.say("the last prompt and its reply are dropped; edit it and press Enter to resend")

    async def _command_endpoint(self, argument: str) -> None:
        settings = self.session.settings
        names = list_endpoints(settings)
        if not argument:
            current = settings.endpoint or "default"
            self.say(f"endpoint: {one_line(current)} ({settings.provider}, {one_line(settings.model)})")
            self.say(f"endpoints: {', '.join(['default', *map(terminal_safe, names)])}; /endpoint NAME switches")
            return
        try:
            settings = self.session.switch_endpoint(None if argument == "default" else argument)
        except ConfigError as error:
            self.say(f"error: {one_line(str(error))}")
            return
        self._models = None  # another endpoint offers other models
        label = settings.endpoint or "default"
        self.say(f"endpoint: {one_line(label)}, {one_line(settings.model)} (from the next request)")

    async def _command_api(self, argument: str) -> None:
        if argument not in GEMINI_APIS:
            self.say(f"Gemini API: {self.session.settings.api}; use /api {'|'.join(GEMINI_APIS)}")
            return
        if self._update_settings(api=argument):
            self.say(api_switch_text(self.session.settings))

    async def _command_thoughts(self, argument: str) -> None:
        if argument not in ("on", "off"):
            state = "on" if self.session.settings.show_thoughts else "off"
            self.say(f"thought summaries are {state}; use /thoughts on or /thoughts off")
            return
        if self._update_settings(show_thoughts=argument == "on"):
            self.say(f"thought summaries {argument} (from the next request)")

    async def _command_key(self, argument: str) -> None:
        """Ask for a Gemini key without echoing it, and save it to the config file (0600)."""
        if self._prompt is None:
            return
        try:
            key = (await self._prompt.prompt_async("API key (not shown): ", is_password=True)).strip()
        except (KeyboardInterrupt, EOFError):
            key = ""
        if not key:
            self.say("no key entered; nothing changed")
            return
        path = paths.config_file()
        try:
            update_config_file(path, "api_key", key)
        except (ConfigError, OSError) as error:
            self.say(f"error: the key is not saved: {one_line(str(error))}")
            return
        self._update_settings(api_key=key)
        self.say(f"the key is saved in {path} (mode 0600)")

    async def _command_attach(self, argument: str) -> None:
        if not argument:
            pending = [*self._attach_paths, *(item.path for item in self._attach_media)]
            listed = one_line(", ".join(pending))
            self.say(f"attached to the next prompt: {listed}" if pending else "usage: /attach PATH")
            return
        from flashchat.core.attachments import attach

        try:
            found = await asyncio.to_thread(attach, [argument], Path.cwd())
        except AttachmentError as error:
            self.say(f"error: {one_line(str(error))}")
            return
        self._attach_paths.append(argument)
        for item in found:
            what = item.ref.describe() if isinstance(item, MediaAttachment) else "text"
            self.say(f"[{one_line(item.path)} ({what}) goes with the next prompt]")

    async def _command_paste(self, argument: str) -> None:
        from flashchat.core.attach_inputs import clipboard_image
        from flashchat.core.media import MediaError

        try:
            attachment = await asyncio.to_thread(clipboard_image)
        except MediaError as error:
            self.say(f"error: {error}")
            return
        self._attach_media.append(attachment)
        self.say(f"[clipboard image ({attachment.ref.describe()}) goes with the next prompt]")

    async def _command_resolution(self, argument: str) -> None:
        from flashchat.core.media import RESOLUTIONS

        level, _, name = argument.partition(" ")
        if level not in (*RESOLUTIONS, "default"):
            self.say(f"usage: /resolution {'|'.join(RESOLUTIONS)}|default [NAME] (for the next prompt's media)")
            return
        names = [name.strip()] if name.strip() else [*self._attach_paths, *(m.path for m in self._attach_media)]
        if not names:
            self.say("name the file (/resolution high shot.png), or /attach it first")
            return
        for each in names:
            if level == "default":
                self._resolutions.pop(each, None)
            else:
                self._resolutions[each] = level
        self.say(f"media_resolution {level} for {one_line(', '.join(names))}")

    async def _command_system(self, argument: str) -> None:
        if not argument:
            current = self.session.settings.system_prompt
            self.say(f"system prompt: {safe_block(current)}" if current else "no system prompt (/system TEXT sets one)")
            return
        value = "" if argument == "clear" else argument
        if self._update_settings(system_prompt=value):
            self.say("system prompt cleared" if not value else "system prompt set (from the next request)")

    async def _command_retry(self, argument: str) -> None:
        if not any(m.role == "user" for m in self.session.conversation.messages):
            self.say("nothing to retry yet")
            return
        await self.stream_reply(self.session.regenerate())

    async def _toggle(self, command: str, argument: str) -> None:
        key = TOGGLES[command]
        if argument not in ("on", "off"):
            if command == "tools":
                self._list_tools()
            else:
                state = "on" if getattr(self.session.settings, key) else "off"
                self.say(f"/{command} is {state}; use /{command} on or /{command} off")
            return
        if argument == "on" and not self.session.capabilities.offers(key):
            provider = self.session.settings.provider
            self.say(f"/{command}: not offered by the {provider} endpoint in use; nothing changed")
            return
        if self._update_settings(**{key: argument == "on"}):
            self.say(f"/{command} {argument} (from the next request)")

    def _list_tools(self) -> None:
        """`/tools` alone: every switch, and whether the endpoint in use offers it."""
        capabilities = self.session.capabilities
        for switch in TOOL_SWITCHES:
            if not capabilities.offers(switch.setting):
                state = "not offered here"
            else:
                state = "on" if getattr(self.session.settings, switch.setting) else "off"
            self.say(f"/{switch.command:<7} {state:<17} {switch.help}")

    async def _command_search(self, argument: str) -> None:
        await self._toggle("search", argument)

    async def _command_url(self, argument: str) -> None:
        await self._toggle("url", argument)

    async def _command_code(self, argument: str) -> None:
        await self._toggle("code", argument)

    async def _command_tools(self, argument: str) -> None:
        await self._toggle("tools", argument)

    async def _command_preset(self, argument: str) -> None:
        name, _, text = argument.partition(" ")
        presets = self.session.settings.presets
        if name not in presets:
            self.say(f"presets: {one_line(', '.join(presets))}; use /preset NAME [your text, @files]")
            return
        await self.send(text.strip(), preset=presets[name])

    async def _command_help(self, argument: str) -> None:
        for command in COMMANDS:
            usage = f"/{command.command} {command.arguments}".strip()
            self.say(f"{usage:<24} {command.help}")
        self.say("@path attaches a file (Tab completes); Ctrl-C stops a reply; Ctrl-D quits.")
        self.say("Not in plain mode:")
        for action, reason in not_offered("repl"):
            self.say(f"  {action.title}: {reason}")

    async def _command_quit(self, argument: str) -> str:
        return "quit"


def run_repl(settings: Settings, store: ConversationStore, *, colour: bool, conversation: Conversation | None) -> int:
    repl = PlainRepl(settings, store, colour=colour, conversation=conversation)
    return asyncio.run(repl.run())
