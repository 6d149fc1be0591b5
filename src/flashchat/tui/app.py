"""flashchat's full-screen chat: a Textual app around one `ChatSession`.

The app owns the session and runs each reply in a worker on the app's own event loop; it turns the
session's events into calls on the widgets, which know nothing of HTTP. Imports stay light until the first
frame is on screen: the provider (and google.genai, ~0.4 s to import) is imported afterwards in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from textual import events as textual_events
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult, SystemCommand
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.css.query import NoMatches, QueryType
from textual.notifications import SeverityLevel
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Header, OptionList

from flashchat.config.settings import (
    THINKING_LEVELS,
    ConfigError,
    Settings,
    list_endpoints,
    needs_api_key,
    update_config_file,
)
from flashchat.core.commands import THINKING_ACTION_TITLE, TOOL_SWITCHES, api_switch_text
from flashchat.core.conversation import Conversation, Message, ToolCall
from flashchat.core.errors import ChatError, ErrorKind, StoreError
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
    UsageUpdate,
)
from flashchat.core.session import ChatSession, RetryPolicy, ToolApproval
from flashchat.render.formatting import count, recent_code_blocks
from flashchat.render.safe_text import NAME_CHARS, one_line
from flashchat.render.sources import sources_markdown
from flashchat.tui.actions import added_bindings, bindings, keymap, tui_actions
from flashchat.tui.attachment_actions import AttachmentActions
from flashchat.tui.quiet_gc import QuietCollector
from flashchat.tui.screens.cost_estimate_screen import CostEstimateScreen
from flashchat.tui.screens.help_screen import HelpScreen
from flashchat.tui.screens.picker_screen import PickerScreen
from flashchat.tui.screens.setup_screen import SetupScreen
from flashchat.tui.screens.text_prompt_screen import TextPromptScreen
from flashchat.tui.screens.tool_approval_screen import ToolApprovalScreen
from flashchat.tui.terminal_diff import DiffedDisplay
from flashchat.tui.themes import DEFAULT_THEME, load_themes
from flashchat.tui.widgets.attachment_chips import AttachmentChips
from flashchat.tui.widgets.composer import Composer, Draft, draft_for
from flashchat.tui.widgets.conversation_view import MOUNT_BATCH, ConversationView
from flashchat.tui.widgets.error_notice import ErrorNotice
from flashchat.tui.widgets.history_sidebar import HistoryEntry, HistorySidebar, summary_detail
from flashchat.tui.widgets.key_footer import KeyFooter
from flashchat.tui.widgets.level_selector import LevelSelector
from flashchat.tui.widgets.path_suggestions import PathSuggestions, matching_paths
from flashchat.tui.widgets.status_bar import StatusBar
from flashchat.tui.widgets.tool_call_notice import ToolCallNotice
from flashchat.tui.widgets.usage_panel import UsagePanel
from flashchat.tui.widgets.user_message import UserMessage

if TYPE_CHECKING:
    from flashchat.core.prompt import PreparedPrompt
    from flashchat.render.markdown_lines import MarkdownStyles
    from flashchat.store.conversation_store import ConversationStore

    # Imported where a reply is first shown: with them come markdown-it, pygments and Rich's Markdown,
    # which an empty chat's first frame does not need.
    from flashchat.tui.widgets.reply_view import ReplyView

log = logging.getLogger("flashchat.tui")
_T = TypeVar("_T")

EMPTY_HINT = (
    "Ask anything. Enter sends, Shift+Enter or Ctrl+J adds a line, @path attaches a file, Ctrl+T changes the "
    "thinking level, Ctrl+U shows token usage, F1 lists every key."
)
LIVE_USAGE_INTERVAL = 0.25  # seconds between usage-panel redraws while a reply streams
# The history search waits for this pause in typing, so a burst of keys costs one FTS query, not one per key.
HISTORY_SEARCH_DELAY = 0.15
# At startup the loop waits up to this long (keys typed meanwhile queue up) for the thread that opens the history
# and the conversation asked for, then goes on without it. That usually takes a few tens of ms, and with the loop
# waiting the thread has the interpreter to itself instead of sharing the GIL with the frames Textual would draw
# meanwhile: without the wait a 2,000-message conversation painted ~50 ms later (bench/tui.py, history). A
# database locked by another process holds the UI this long at most, instead of for its busy timeout.
STARTUP_HEAD_START = 0.1

RETRY_HINT = "Press ctrl+r to retry."
ERROR_HINTS = {
    ErrorKind.NO_KEY: "Press F4 to enter a key.",
    ErrorKind.BAD_KEY: "Press F4 to enter another key.",
    ErrorKind.NOT_FOUND: "Press F2 to choose another model.",
    ErrorKind.PERMISSION: "Press F2 to choose another model, or F4 to use another key.",
    ErrorKind.RATE_LIMIT: RETRY_HINT,
    ErrorKind.SERVER: RETRY_HINT,
    ErrorKind.NETWORK: RETRY_HINT,
    ErrorKind.TIMEOUT: RETRY_HINT,
    ErrorKind.TRUNCATED: RETRY_HINT,
    ErrorKind.BAD_RESPONSE: RETRY_HINT,
}


# Drawn once, off screen, by the warm-up: what a first reply's first segment is likely to hold.
REPLY_WARM_UP_MARKDOWN = "Some *words*, `code` and **more**.\n\n- an item\n\n```python\nvalue = 1\n```\n"


def error_text(error: ChatError, partial: Message | None) -> str:
    """The server's part bounded first, so a 5 MB error body never pushes the hint off the notice."""
    kept = " The partial reply above is kept." if partial is not None and partial.text else ""
    hint = ERROR_HINTS.get(error.kind, "")
    return " ".join(part for part in (one_line(error.message) + kept, hint) if part)


def endpoint_label(settings: Settings) -> str:
    """For the status bar: the [endpoints.NAME] in use, and the API it speaks."""
    return f"{settings.endpoint} · {settings.provider}" if settings.endpoint else settings.provider


def endpoint_choice(name: str, table: Any) -> str:
    """A line of the endpoint picker: the name, then what the table changes (provider, model, URL)."""
    details = [str(table[key]) for key in ("provider", "model", "base_url") if table.get(key)]
    return "  ".join([name, " · ".join(details)]) if details else name


def store_errors() -> tuple[type[Exception], ...]:
    """What a store call raises when the database refuses (locked past the busy timeout, read-only, unknown id).

    A function so that `except store_errors():` imports sqlite3 only when something failed: app.py is imported
    before the first frame, and sqlite3 costs a few ms."""
    import sqlite3

    return StoreError, sqlite3.Error


async def in_thread_with_head_start(function: Callable[[], _T]) -> _T:
    """`function()` in a thread; the loop first waits up to STARTUP_HEAD_START for it (see there)."""
    finished = threading.Event()

    def run() -> _T:
        try:
            return function()
        finally:
            finished.set()

    result = asyncio.get_running_loop().run_in_executor(None, run)
    finished.wait(STARTUP_HEAD_START)  # holds the loop but not the GIL: the thread runs alone
    return await result


# `conversation_id` value that opens the most recent conversation (`flashchat -c`).
CONTINUE_LATEST = "@latest"


class FlashchatApp(AttachmentActions, DiffedDisplay):  # DiffedDisplay: each frame writes only what changed
    """The chat. `settings` are the starting settings; the session's copy changes as the user switches
    thinking level or model.

    History comes from `store`, or from `open_store()`, which is called once the first frame is painted
    (opening SQLite is not free and the store module is not imported before then); `conversation_id` is then
    opened. Every store call runs in a thread, since SQLite may wait for another process's lock. Tests pass
    `retry_policy`, `sleep` and `clock` to keep retries fast and countdowns deterministic.
    """

    CSS_PATH = "app.tcss"
    TITLE = "flashchat"
    BINDINGS = bindings()

    replying: var[bool] = var(False, bindings=True)

    def __init__(
        self,
        settings: Settings,
        *,
        config_path: Path,
        conversation: Conversation | None = None,
        store: ConversationStore | None = None,
        open_store: Callable[[], ConversationStore] | None = None,
        conversation_id: str | None = None,
        retry_policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.monotonic,
        warm_up: bool = True,
    ) -> None:
        super().__init__()
        self.config_path = config_path
        self.clock = clock
        self._warm_up_after_first_frame = warm_up
        self._session_options: dict[str, Any] = {}
        if retry_policy is not None:
            self._session_options["retry_policy"] = retry_policy
        if sleep is not None:
            self._session_options["sleep"] = sleep
        self.store = store
        self._open_store = open_store
        self._conversation_id = conversation_id
        if "show_thoughts" not in settings.origins:
            # The TUI folds thoughts into a block of their own, so it asks for them unless the config says no.
            settings = settings.with_overrides("TUI default", show_thoughts=True)
        self.session = ChatSession(
            settings,
            conversation=conversation,
            store=self.store,
            approve_tool=self._approve_tool,
            working_dir=Path.cwd(),
            **self._session_options,
        )
        self._models: list[Any] | None = None  # ModelInfo list, fetched once per run
        self._usage_redraw_pending = False
        self._live_usage: Any = None
        self._save_theme_changes = False
        self._current_reply: ReplyView | None = None  # the reply the streaming events go to
        self._pending_tool: ToolCallNotice | None = None  # the tool call waiting for approval or running
        self._project_files: list[str] | None = None  # for `@path` completion, listed on the first `@`
        self._quiet_gc = QuietCollector()
        loaded = load_themes()
        for theme in loaded.themes:
            self.register_theme(theme)
        self._startup_problems = list(loaded.problems)
        if settings.theme in self.available_themes:
            self.theme = settings.theme
        else:
            self._startup_problems.append(f"Unknown theme {settings.theme!r}; using {DEFAULT_THEME}.")
            self.theme = DEFAULT_THEME
        self._apply_key_choices(settings)
        self._pressed_key = self._previous_key = ""  # for Ctrl+C twice, and Home/End in an empty composer
        self._interrupt_armed = False
        self._held_toasts: list[tuple[str, str, SeverityLevel, float | None]] = []

    def _apply_key_choices(self, settings: Settings) -> None:
        """The config's [keys]: moved bindings as a Textual keymap, keys for palette-only actions added."""
        from flashchat.core.keys import read_key_choices

        choices = read_key_choices(settings.keys, where=f"{self.config_path}: [keys]")
        self.key_choices = choices.keys
        self._startup_problems += choices.problems
        self.set_keymap(keymap(choices.keys))
        for binding in added_bindings(choices.keys):
            self._bindings.bind(binding.key, binding.action, binding.description, show=False, priority=True)

    @property
    def settings(self) -> Settings:
        return self.session.settings

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast passes the render boundary: one bounded line, never read as markup (a server's text may
        hold `[` or escape sequences), whoever calls it. While a question that needs an answer is up (a tool
        call, a large request) toasts wait: on a small screen they would cover it."""
        top = self.screen_stack[-1] if self.screen_stack else None
        if isinstance(top, (ToolApprovalScreen, CostEstimateScreen)):
            self._held_toasts.append((message, title, severity, timeout))
            return
        super().notify(
            one_line(message), title=one_line(title, NAME_CHARS), severity=severity, timeout=timeout, markup=False
        )

    def _release_toasts(self) -> None:
        held, self._held_toasts = self._held_toasts, []
        for message, title, severity, timeout in held:
            self.notify(message, title=title, severity=severity, timeout=timeout)

    def open_url(self, url: str, *, new_tab: bool = True) -> None:
        """Links in a reply or a source come from the model or a server: only http(s) ones are opened (a
        `file:` or custom-scheme link handed to the desktop could start a program)."""
        from flashchat.render.sources import link_target

        if link_target(url) is None:
            self.notify(f"Not opened: {one_line(url, NAME_CHARS)} (only http and https links are).", severity="warning")
            return
        super().open_url(url, new_tab=new_tab)

    def format_title(self, title: str, sub_title: str) -> Content:
        """The header shows the conversation's title, which came from a prompt or an imported file."""
        return super().format_title(one_line(title, NAME_CHARS), one_line(sub_title, NAME_CHARS))

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Horizontal(id="main"):
            yield HistorySidebar(id="history")
            with Vertical(id="chat"):
                yield ConversationView(id="conversation")
                yield UsagePanel(id="usage")
                yield PathSuggestions(id="path-suggestions")
                yield Composer(id="composer")
                yield AttachmentChips(id="attachment-chips")
                yield StatusBar(
                    level=self.settings.thinking_level,
                    model=self.settings.model,
                    endpoint=endpoint_label(self.settings),
                    id="status",
                )
        yield KeyFooter()

    async def on_mount(self) -> None:
        self.set_interval(1.0, self._collect_garbage_if_idle)
        self.query_one("#usage").display = False
        self.query_one(HistorySidebar).display = False
        self.query_one(PathSuggestions).display = False
        self._show_tools()
        await self._show_conversation()
        self.query_one(Composer).focus()
        for problem in self._startup_problems:
            self.notify(problem, severity="warning", timeout=10)
        self.theme_changed_signal.subscribe(self, self._save_theme)
        self._save_theme_changes = True
        if self._missing_key:
            self.push_screen(SetupScreen(self.config_path), self._key_entered)
        if self._conversation_id:
            # A conversation asked for on the command line is what the user waits for, not an empty chat:
            # its end is read now, beside the first frame, rather than after it (bench/tui.py, history).
            self._open_at_start()
        self.call_after_refresh(self._after_first_frame)

    # A worker, not a handler: awaiting in the app's message queue would hold up every key press meanwhile.
    @work(group="open-store", exit_on_error=False)
    async def _after_first_frame(self) -> None:
        if self._warm_up_after_first_frame:
            self._warm_reply_drawing()
            self._import_provider(asyncio.get_running_loop())
        if not self._conversation_id:
            await self._open_at_start().wait()

    @work(group="open-store", exit_on_error=False)
    async def _open_at_start(self) -> None:
        """The store, and the conversation asked for on the command line (if any)."""
        if self.store is None and self._open_store is None:
            return
        # One trip to a thread for the store and the conversation: opening may wait for another flashchat's lock.
        store, opened, problem = await in_thread_with_head_start(self._open_history)
        if store is not self.store:
            self.store = store
            await self.session.attach_store(store)
        if store.warning:
            self.notify(f"History: {store.warning}", severity="warning", timeout=10)
        if problem:
            self.notify(problem, severity="error")
        if opened is not None:
            await self._switch_to(*opened)

    def _open_history(self) -> tuple[ConversationStore, tuple[Conversation, int] | None, str]:
        """Run in a thread: the store (opened if need be), the end of the conversation asked for and how many
        messages come before it (None if none was asked for), and why it could not be opened ("" if it could)."""
        store = self.store
        if store is None:
            assert self._open_store is not None
            store = self._open_store()
        wanted = self._conversation_id
        if wanted == CONTINUE_LATEST:
            wanted = store.latest_id()
        if not wanted:
            return store, None, ""
        import flashchat.tui.widgets.reply_view  # noqa: F401  (here in the thread, not on the loop when painting)

        try:
            return store, store.load_tail(wanted, MOUNT_BATCH), ""
        except KeyError:
            return store, None, f"No conversation with id {wanted!r} in the history."
        except store_errors() as error:
            return store, None, f"Could not open the conversation: {error}"

    async def on_unmount(self) -> None:
        self._quiet_gc.stop()
        # A reply stopped by quitting saves itself as it winds down: let that land before the store closes.
        stopping = [worker for worker in self.workers if worker.group == "reply"]
        if stopping:
            await asyncio.gather(*(worker.wait() for worker in stopping), return_exceptions=True)
        await self.session.aclose()
        if self.store is not None and self._open_store is not None:
            await asyncio.to_thread(self.store.close)

    async def on_event(self, event: textual_events.Event) -> None:
        if isinstance(event, textual_events.InputEvent):
            self._quiet_gc.saw_input(self.clock())
        if isinstance(event, textual_events.Key):
            self._previous_key, self._pressed_key = self._pressed_key, event.key
        await super().on_event(event)

    def watch_replying(self, replying: bool) -> None:
        if replying:
            self._quiet_gc.stream_started()
        else:
            self._quiet_gc.stream_ended()

    def _collect_garbage_if_idle(self) -> None:
        self._quiet_gc.collect_if_idle(self.clock())

    @work(thread=True, group="warm-up", exit_on_error=False)
    def _import_reply_widgets(self) -> None:
        """The reply widgets (and markdown-it, pygments, Textual's Markdown) are left out of the first frame's
        imports; bring them in now, before the first reply or stored message needs them."""
        import flashchat.tui.widgets.reply_view
        import flashchat.tui.widgets.sources_block  # noqa: F401

    @work(group="warm-up", exit_on_error=False)
    async def _warm_reply_drawing(self) -> None:
        """Pay the first reply's first-use costs before it streams rather than between its first byte and the
        screen (bench/tui.py, first-token): the theme's Markdown styles (~20 ms of Textual CSS parsing),
        markdown-it's parser and rules, pygments' lexer. The theme is read here, on the app's thread; the
        styles are built and a sample drawn in a thread."""
        await self._import_reply_widgets().wait()
        from flashchat.tui.reply_styles import prepare_reply_styles

        # A segment is drawn on the conversation's background: the key its styles are kept under.
        self._draw_reply_once(prepare_reply_styles(self, self.conversation_view.background_colors[1]))

    @work(thread=True, group="warm-up", exit_on_error=False)
    def _draw_reply_once(self, styles: Callable[[], MarkdownStyles]) -> None:
        from flashchat.render.markdown_lines import MarkdownLines

        MarkdownLines(styles()).render(REPLY_WARM_UP_MARKDOWN, 60)

    @work(thread=True, group="warm-up", exit_on_error=False)
    def _import_provider(self, loop: asyncio.AbstractEventLoop) -> None:
        """Import the provider (and google.genai) and build what its first request needs, in a thread once the
        first frame is up, so the first send does not pay for it (nothing is sent)."""
        from flashchat.providers import import_provider
        from flashchat.render.math import prepare_math

        import_provider(self.settings)
        self.session.warm_up(loop)
        prepare_math()  # the first formula would otherwise pay ~0.3 s for pylatexenc on the event loop

    # -- the conversation on screen

    @property
    def _missing_key(self) -> bool:
        """Gemini needs a key; a local OpenAI-compatible server may well not."""
        return needs_api_key(self.settings) and not self.settings.api_key

    @property
    def conversation_view(self) -> ConversationView:
        return self.query_main_screen(ConversationView)

    @property
    def composer(self) -> Composer:
        return self.query_main_screen(Composer)

    def query_main_screen(self, selector: type[QueryType]) -> QueryType:
        """A widget of the chat screen, also while a dialog is on top (App.query_one looks only at the top
        screen, and timers such as the chips' preview fire under the tool approval dialog)."""
        if not self.screen_stack:  # the app is closing
            raise NoMatches(f"no chat screen to hold {selector.__name__}")
        return self.screen_stack[0].query_one(selector)

    async def _show_conversation(self, *, paint_first: bool = False) -> None:
        conversation = self.session.conversation
        await self.conversation_view.show_messages(
            conversation.messages, empty_hint=EMPTY_HINT, paint_first=paint_first
        )
        self.composer.set_history([m.text for m in conversation.messages if m.role == "user"])
        self.sub_title = conversation.title
        self._refresh_usage()
        if not conversation.messages:
            return
        from flashchat.tui.widgets.reply_view import ReplyView
        from flashchat.tui.widgets.sources_block import SourcesBlock

        for reply in self.conversation_view.query_children(ReplyView):
            if reply.message is not None and (sources := sources_markdown(reply.message.extras)):
                await self.conversation_view.mount(SourcesBlock(sources), after=reply)

    def _refresh_usage(self) -> None:
        conversation = self.session.conversation
        self.query_one(UsagePanel).refresh_from(conversation, self.settings)
        self.query_one(StatusBar).set_context(conversation.context_tokens())

    # -- sending and streaming

    @on(Composer.Submitted)
    async def _send(self, event: Composer.Submitted) -> None:
        if self.replying:
            self.composer.set_draft(draft_for(event.text))
            self.notify("A reply is still streaming: Esc stops it.", severity="warning")
            return
        if self._missing_key:
            self.composer.set_draft(draft_for(event.text))
            self.push_screen(SetupScreen(self.config_path), self._key_entered)
            return
        from flashchat.core.attachments import AttachmentError
        from flashchat.core.prompt import prepare_prompt

        try:
            prepared = await prepare_prompt(self.session, event.text, root=Path.cwd(), **self.prepare_arguments())
        except AttachmentError as error:
            # As in the REPL: one unreadable or binary file and nothing is sent; the draft comes back to fix.
            self.composer.set_draft(draft_for(event.text))
            await self.conversation_view.mount(ErrorNotice(f"{error}; nothing was sent."))
            return
        if prepared.refusal:
            self.composer.set_draft(draft_for(event.text))
            await self.conversation_view.mount(ErrorNotice(prepared.refusal))
            return
        if prepared.missing:
            names = ", ".join(f"@{name}" for name in prepared.missing)
            self.notify(f"No such file here: {names} (sent as plain text).", severity="warning", timeout=8)
        if prepared.warning or prepared.estimate is not None:
            # The guard comes before the request: nothing is sent until the user says so.
            async def confirmed(send: bool | None) -> None:
                self.call_after_refresh(self._release_toasts)
                if send:
                    await self._send_prepared(prepared)
                else:
                    self.composer.set_draft(draft_for(event.text))
                    self.composer.focus()

            if prepared.estimate is not None:
                threshold = self.settings.large_request_tokens
                self.push_screen(
                    CostEstimateScreen(prepared.estimate, warning=prepared.warning, threshold=threshold), confirmed
                )
                return
            choices = [("Send them anyway", True), ("Back to the prompt", False)]
            self.push_screen(PickerScreen(f"{prepared.warning} Send them?", choices), confirmed)
            return
        await self._send_prepared(prepared)

    async def _send_prepared(self, prepared: PreparedPrompt) -> None:
        self.clear_attachment_chips()

        async def show_sent() -> None:
            user_message = await self.conversation_view.add_user_message(prepared.typed)
            if prepared.attachments:
                await self.show_sent_attachments(prepared, after=user_message)

        await self._start_reply(lambda: self.session.send(prepared), before=show_sent)

    async def _start_reply(
        self,
        events: Callable[[], AsyncGenerator[Event, None]],
        before: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Start the reply's worker first, then mount what the turn shows: the request leaves while the widgets
        mount (5-40 ms of layout and CSS under load), and the worker shows nothing before the reply view is up."""
        view_ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.replying = True
        self._live_usage = None
        self.query_one(StatusBar).set_activity("streaming · Esc stops")
        self._stream_reply(events, view_ready)
        try:
            # One frame for the turn (status, the user's message, the reply view), not one per mount: each
            # frame is a layout of the whole screen (5-25 ms), and a first byte arriving meanwhile waits for it.
            with self.batch_update():
                if before is not None:
                    await before()
                self._current_reply = await self._add_reply()
        finally:
            view_ready.set_result(None)

    async def _add_reply(self) -> ReplyView:
        settings = self.settings
        return await self.conversation_view.add_reply(model=settings.model, thinking_level=settings.thinking_level)

    async def _live_reply(self) -> ReplyView:
        """The reply that events go to; after a tool round the model answers in a new one."""
        if self._current_reply is None or self._current_reply.finished:
            self._current_reply = await self._add_reply()
        return self._current_reply

    @work(exclusive=True, group="reply", exit_on_error=False)
    async def _stream_reply(
        self, events: Callable[[], AsyncGenerator[Event, None]], view_ready: asyncio.Future[None]
    ) -> None:
        messages = self.session.conversation.messages
        last_before = messages[-1] if messages else None
        try:
            async with contextlib.aclosing(events()) as stream:
                async for event in stream:
                    await view_ready  # the request is out; what it brings goes to the reply view once mounted
                    await self._show_event(event)
        except asyncio.CancelledError:
            await view_ready  # stopped before the reply view was up: it is stopped once mounted
            # Esc: the session kept what had arrived as a stopped message.
            if self._pending_tool is not None:
                self._pending_tool.show_stopped()
            reply = self._current_reply
            if reply is not None and not reply.finished:
                last = messages[-1] if messages else None
                stopped = last if last is not last_before and last is not None and last.role == "model" else None
                await reply.stop(stopped)
            raise
        except Exception as error:  # a bug must not take the chat down with it
            log.exception("reply failed")
            await view_ready
            reply = await self._live_reply()
            await reply.fail(
                None, f"Something went wrong in flashchat: {one_line(repr(error))}. Details are in the log file."
            )
        finally:
            await view_ready
            self._pending_tool = None
            self.replying = False
            self.query_one(StatusBar).set_activity("")
            self._refresh_usage()
            self.sub_title = self.session.conversation.title
            await self.conversation_view.prune()
            if self.query_one(HistorySidebar).display:
                self._fill_history(self.query_one(HistorySidebar).query_text)

    async def _show_event(self, event: Event) -> None:
        match event:
            case Uploading(name=name, sent=sent, total=total):
                percent = 100 * sent // total if total else 100
                bar = "█" * (percent // 10) + "░" * (10 - percent // 10)
                self.query_one(StatusBar).set_activity(f"uploading {one_line(name, 60)} {bar} {percent}% · Esc stops")
            case TextDelta(text=text):
                await (await self._live_reply()).add_text(text)
            case ThoughtDelta(text=text):
                await (await self._live_reply()).add_thoughts(text)
            case UsageUpdate(usage=usage):
                self._live_usage = usage
                if not self._usage_redraw_pending:
                    self._usage_redraw_pending = True
                    self.set_timer(LIVE_USAGE_INTERVAL, self._redraw_live_usage)
            case Retrying():
                await (await self._live_reply()).show_retry(event, self.clock)
            case Finished(message=message, notice=notice):
                reply = await self._live_reply()
                await reply.finish(message, notice)
                if sources := sources_markdown(message.extras):
                    from flashchat.tui.widgets.sources_block import SourcesBlock

                    await self.conversation_view.mount(SourcesBlock(sources), after=reply)
            case Failed(error=error, message=message):
                await (await self._live_reply()).fail(message, error_text(error, message))
            case ToolRequested(call=call):
                self._pending_tool = ToolCallNotice(call)
                await self.conversation_view.mount(self._pending_tool)
            case ToolFinished(call=call, response=response, approved=approved, declared=declared):
                if self._pending_tool is not None and self._pending_tool.call is call:
                    self._pending_tool.show_outcome(response, approved, declared)
                    self._pending_tool = None

    async def _approve_tool(self, call: ToolCall) -> ToolApproval:
        """Asked by the session before each local tool call: the dialog's answer resolves the future it awaits."""
        decided: asyncio.Future[ToolApproval] = asyncio.get_running_loop().create_future()

        def answer(decision: ToolApproval | None) -> None:
            self.call_after_refresh(self._release_toasts)
            if not decided.done():
                decided.set_result(decision or ToolApproval.DENY)

        dialog = ToolApprovalScreen(call)
        self.push_screen(dialog, answer)
        try:
            return await decided
        except asyncio.CancelledError:
            # Esc stopped the reply while the dialog was up: the question no longer stands.
            if self.screen is dialog:
                self.pop_screen()
            self.call_after_refresh(self._release_toasts)
            raise

    def _redraw_live_usage(self) -> None:
        self._usage_redraw_pending = False
        if self.replying and self._live_usage is not None:
            conversation = self.session.conversation
            panel = self.query_one(UsagePanel)
            if panel.display:
                panel.show_live(self._live_usage, self.settings, conversation)
            usage = self._live_usage
            self.query_one(StatusBar).set_context(usage.prompt + usage.output + usage.tool_use)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return self.replying
        return True

    # -- actions

    def action_stop(self) -> None:
        self.workers.cancel_group(self, "reply")

    def action_interrupt(self) -> None:
        """Ctrl+C: stops a streaming reply, as in the other modes. Pressed again with no other key in between it
        quits (so does Ctrl+Q); when idle the first press only says so, since a reflex Ctrl+C must not throw
        away a half-typed prompt. With text selected in the composer it copies, as a text field should."""
        again = self._interrupt_armed and self._previous_key == self._pressed_key
        if self.replying:
            self.action_stop()
            self._interrupt_armed = True
            self.notify("Stopped. Ctrl+C again quits.", timeout=3)
            return
        if self.focused is self.composer and self.composer.selected_text:
            self._interrupt_armed = False
            raise SkipAction()  # the composer copies the selection
        if again:
            self.exit()
            return
        self._interrupt_armed = True
        self.notify("Press Ctrl+C again (or Ctrl+Q) to quit; everything is saved.", timeout=3)

    def action_scroll_conversation(self, where: str) -> None:
        """PageUp/PageDown, Ctrl+Home/End (and Home/End in an empty composer) scroll the conversation from the
        composer; anywhere else (the history list, a dialog) the keys keep their usual meaning."""
        if self.focused is not self.composer:
            raise SkipAction()
        if where in ("top", "bottom") and self._pressed_key in ("home", "end") and self.composer.text:
            raise SkipAction()  # editing text: Home and End move the cursor
        view = self.conversation_view
        scroll = {
            "page_up": view.scroll_page_up,
            "page_down": view.scroll_page_down,
            "top": view.scroll_home,
            "bottom": view.scroll_end,
        }[where]
        scroll(animate=False)

    def action_cycle_level(self) -> None:
        levels = THINKING_LEVELS
        current = self.settings.thinking_level
        self.set_thinking_level(levels[(levels.index(current) + 1) % len(levels)] if current in levels else "medium")

    @on(LevelSelector.Picked)
    def _level_picked(self, event: LevelSelector.Picked) -> None:
        self.set_thinking_level(event.level)

    def set_thinking_level(self, level: str) -> None:
        """Applies from the next request on; a reply that is streaming keeps the level it started with."""
        self.session.update_settings(thinking_level=level)
        self.query_one(LevelSelector).level = level

    def action_toggle_usage(self) -> None:
        panel = self.query_one(UsagePanel)
        panel.display = not panel.display
        if panel.display and self.replying and self._live_usage is not None:
            panel.show_live(self._live_usage, self.settings, self.session.conversation)

    async def action_new_chat(self) -> None:
        await self._switch_to(None)

    async def _switch_to(self, conversation: Conversation | None, earlier_count: int = 0) -> None:
        """Stop any reply, then continue `conversation` (or start a new one) in the same session, and show it.

        `earlier_count`: `conversation` holds only the end of a stored one (ConversationStore.load_tail), the
        messages the view mounts first; the `earlier_count` before them are read once that end is painted, and
        the session sends nothing until they are in (ChatSession.open's `earlier`)."""
        if self.replying:
            self.action_stop()
            await self.workers.wait_for_complete()
        shown = asyncio.Event()
        if conversation is None:
            self.session.new()
        elif earlier_count and self.store is not None:
            earlier = self._read_earlier(self.store, conversation, shown)
            self.session.open(conversation, earlier=earlier, when_whole=self._earlier_messages_arrived)
            self.run_worker(self._report_unread_history(), group="history-open", exit_on_error=False)
        else:
            self.session.open(conversation)  # its system prompt and model come with it
        self.query_one(StatusBar).set_model(self.settings.model)
        try:
            await self._show_conversation(paint_first=True)  # the app is up: paint its last messages first
        finally:
            self.call_after_refresh(shown.set)
        self.composer.focus()

    async def _read_earlier(
        self, store: ConversationStore, conversation: Conversation, shown: asyncio.Event
    ) -> list[Message]:
        """The messages before the end that `conversation` holds, read in a thread once that end is on screen
        (before, the thread would share the interpreter with the frames that paint it)."""
        first, conversation_id = conversation.messages[0], conversation.id or ""
        await shown.wait()
        return await asyncio.to_thread(store.load_earlier, conversation_id, first)

    def _earlier_messages_arrived(self, conversation: Conversation, count: int) -> None:
        """Called as the earlier messages go in front of the conversation's (the same step on the loop)."""
        if conversation is not self.session.conversation:
            return  # another conversation was opened meanwhile
        with contextlib.suppress(NoMatches):  # the app is closing
            self.conversation_view.earlier_messages_added(conversation.messages, count)
            self.composer.set_history([m.text for m in conversation.messages if m.role == "user"])
            self._refresh_usage()

    async def _report_unread_history(self) -> None:
        try:
            await self.session.whole_history()
        except store_errors() as error:
            self.notify(f"Could not read the earlier messages of this conversation: {error}", severity="error")

    # -- history

    async def open_conversation(self, conversation_id: str) -> None:
        """Show a stored conversation; the next prompt continues it, its signatures sent back as stored."""
        assert self.store is not None
        try:
            opened = await asyncio.to_thread(self.store.load_tail, conversation_id, MOUNT_BATCH)
        except KeyError:
            self.notify(f"No conversation with id {conversation_id!r} in the history.", severity="error")
            return
        except store_errors() as error:
            self.notify(f"Could not open the conversation: {error}", severity="error")
            return
        await self._switch_to(*opened)

    def action_toggle_history(self) -> None:
        if self.store is None:
            self.notify("History is not available yet.")
            return
        sidebar = self.query_one(HistorySidebar)
        sidebar.display = not sidebar.display
        if sidebar.display:
            self._fill_history(sidebar.query_text)
            sidebar.query_one("#history-search").focus()
        else:
            self.composer.focus()

    def _fill_history(self, query: str = "", *, delay: float = 0.0) -> None:
        """List the recent conversations, or those matching `query`, in the sidebar once the store answers."""
        if self.store is not None and self.is_running:
            self._query_history(self.store, query, delay)

    # Exclusive: each call cancels the one before, whose results (for "ab" when the box now says "abc") are
    # never shown, however long its query took.
    @work(exclusive=True, group="history", exit_on_error=False)
    async def _query_history(self, store: ConversationStore, query: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)  # cancelled here by the next key, if it comes in time
        if query:
            hits = await asyncio.to_thread(store.search, query)
            entries = [
                HistoryEntry(hit.conversation_id, hit.title, hit.plain_snippet, tuple(hit.snippet_parts()))
                for hit in hits
            ]
            empty_text = f"Nothing matches {query!r}."
        else:
            summaries = await asyncio.to_thread(store.list_conversations, replied_only=True)
            entries = [HistoryEntry(s.id, s.title, summary_detail(s.message_count, s.total_tokens)) for s in summaries]
            empty_text = "No conversations yet."
        sidebar = self.query_one(HistorySidebar)
        if query == sidebar.query_text:  # else a search for the newer text is on its way
            sidebar.show_entries(entries, empty_text=empty_text)

    @on(HistorySidebar.Search)
    def _search_history(self, event: HistorySidebar.Search) -> None:
        self._fill_history(event.query, delay=HISTORY_SEARCH_DELAY)

    @on(HistorySidebar.Open)
    def _open_from_history(self, event: HistorySidebar.Open) -> None:
        self.query_one(HistorySidebar).display = False
        self.run_worker(self.open_conversation(event.conversation_id), group="history-open", exit_on_error=False)

    @on(HistorySidebar.Rename)
    def _rename_from_history(self, event: HistorySidebar.Rename) -> None:
        if event.conversation_id is not None:
            self._ask_new_title(event.conversation_id)

    def action_rename_conversation(self) -> None:
        self._ask_new_title(None)

    def _ask_new_title(self, conversation_id: str | None) -> None:
        """Ask for a title and store it; the open conversation (None: the open one, maybe not stored yet) is
        renamed through the session."""
        store = self.store
        sidebar = self.query_one(HistorySidebar)
        is_open = conversation_id is None or conversation_id == self.session.conversation.id
        current = (
            self.session.conversation.title
            if is_open
            else next((e.title for e in sidebar.entries if e.conversation_id == conversation_id), "")
        )

        async def rename(title: str) -> None:
            try:
                if is_open:
                    self.sub_title = await self.session.rename(title)
                elif store is not None and conversation_id is not None:
                    await asyncio.to_thread(store.rename, conversation_id, title)
            except store_errors() as error:
                self.notify(f"The conversation was not renamed: {error}", severity="error")
            if sidebar.display:
                self._fill_history(sidebar.query_text)

        def renamed(title: str | None) -> None:
            if title and title.strip():
                self.run_worker(rename(title), group="history-edit", exit_on_error=False)

        self.push_screen(TextPromptScreen("Rename the conversation", current), renamed)

    @on(HistorySidebar.Delete)
    def _delete_from_history(self, event: HistorySidebar.Delete) -> None:
        store, conversation_id = self.store, event.conversation_id
        if store is None or conversation_id is None:
            return

        async def delete() -> None:
            if self.session.conversation.id == conversation_id:
                # Away from it first: a reply still streaming into it would save its rows again.
                await self._switch_to(None)
            try:
                await asyncio.to_thread(store.delete, conversation_id)
            except store_errors() as error:
                self.notify(f"The conversation was not deleted: {error}", severity="error")
            self._fill_history(self.query_one(HistorySidebar).query_text)

        def confirmed(answer: bool | None) -> None:
            if answer:
                self.run_worker(delete(), group="history-edit", exit_on_error=False)

        entry = next((e for e in self.query_one(HistorySidebar).entries if e.conversation_id == conversation_id), None)
        title = one_line(entry.title, NAME_CHARS) if entry is not None and entry.title else "(untitled)"
        choices = [("Delete this conversation for good", True), ("Keep it", False)]
        self.push_screen(PickerScreen(f"Delete “{title}”?", choices), confirmed)

    async def action_regenerate(self) -> None:
        if self.replying:
            self.notify("A reply is still streaming: Esc stops it.", severity="warning")
            return
        messages = self.session.conversation.messages
        if not any(message.role == "user" for message in messages):
            self.notify("Nothing to regenerate yet.")
            return
        await self.conversation_view.show_end()  # the user may be reading far up: the last widgets are needed
        # Everything that answered the last prompt goes (tool rounds and sources too); its attachment chips stay.
        from flashchat.tui.widgets.reply_view import ReplyView

        children = list(self.conversation_view.children)
        last_prompt = max((i for i, child in enumerate(children) if isinstance(child, UserMessage)), default=-1)
        first_answer = next((child for child in children[last_prompt + 1 :] if isinstance(child, ReplyView)), None)
        if first_answer is not None:
            await self.conversation_view.remove_from(first_answer)
        await self._start_reply(self.session.regenerate)

    async def action_edit_last(self) -> None:
        if self.replying:
            self.notify("A reply is still streaming: Esc stops it.", severity="warning")
            return
        await self.conversation_view.show_end()  # the user may be reading far up: the last widgets are needed
        text = await self.session.forget_last_prompt()
        if text is None:
            self.notify("There is no prompt to edit yet.")
            return
        view = self.conversation_view
        last_user = next((w for w in reversed(view.message_widgets) if isinstance(w, UserMessage)), None)
        if last_user is not None:
            await view.remove_from(last_user)
            # What the user typed (`@path` mentions and all), not the prompt with the files' text added.
            text = last_user.text
        self.composer.set_draft(draft_for(text))
        self.composer.focus()
        self._refresh_usage()

    def action_copy_reply(self) -> None:
        messages = self.session.conversation.messages
        reply = next((m for m in reversed(messages) if m.role == "model" and m.text), None)
        if reply is None:
            self.notify("There is no reply to copy yet.")
            return
        self.copy_to_clipboard(reply.text)
        self.notify(f"Copied the last reply ({count(len(reply.text))} characters).")

    def action_copy_code(self) -> None:
        blocks = recent_code_blocks(self.session.conversation)
        if not blocks:
            self.notify("No code blocks in the recent replies.")
            return
        choices = [(block.summary(), block.code) for block in blocks]

        def copy(code: str | None) -> None:
            if code is not None:
                self.copy_to_clipboard(code)
                self.notify(f"Copied the code block ({count(len(code))} characters).")

        self.push_screen(PickerScreen("Copy a code block (newest first)", choices), copy)

    def action_pick_model(self) -> None:
        picker: PickerScreen[str] = PickerScreen(
            "Choose the model (for this session)", loading_text="Asking the API for models…"
        )
        self.push_screen(picker, self._model_picked)
        self._load_models(picker)

    @work(exclusive=True, group="models", exit_on_error=False)
    async def _load_models(self, picker: PickerScreen[str]) -> None:
        if self._models is None:
            try:
                self._models = await self.session.provider.list_models(self.settings)
            except ChatError as error:
                picker.show_status(error.message)
                return
        current = self.settings.model
        names = [model.name for model in self._models]
        choices = [(f"{m.name}  {m.display_name}" if m.display_name else m.name, m.name) for m in self._models]
        picker.set_choices(choices, highlighted=names.index(current) if current in names else 0)

    def _model_picked(self, model: str | None) -> None:
        if model:
            try:
                self.session.update_settings(model=model)
            except ConfigError as error:
                self.notify(str(error), severity="error", timeout=10)
                return
            self.query_one(StatusBar).set_model(model)

    def action_pick_endpoint(self) -> None:
        endpoints = self.settings.endpoints
        names = list_endpoints(self.settings)
        choices = [("default", ""), *((endpoint_choice(name, endpoints[name]), name) for name in names)]
        current = self.settings.endpoint
        highlighted = names.index(current) + 1 if current in names else 0
        title = "Switch endpoint (the conversation carries on)"
        if not names:
            title += ": add [endpoints.NAME] tables to the config file for more"
        self.push_screen(PickerScreen(title, choices, highlighted=highlighted), self._endpoint_picked)

    def _endpoint_picked(self, name: str | None) -> None:
        if name is None:
            return
        try:
            settings = self.session.switch_endpoint(name or None, self.config_path)  # it swaps providers itself
        except ConfigError as error:
            self.notify(str(error), severity="error", timeout=10)
            return
        self._models = None  # another endpoint offers other models
        status = self.query_one(StatusBar)
        status.set_model(settings.model)
        status.set_endpoint(endpoint_label(settings))
        self._show_tools()
        self.notify(f"Endpoint: {endpoint_label(settings)}, {settings.model}, from the next request on.")
        if self._missing_key:
            self.push_screen(SetupScreen(self.config_path), self._key_entered)

    def action_pick_preset(self) -> None:
        presets = self.settings.presets
        choices = [(f"{name}  {text.splitlines()[0][:60] if text else ''}", name) for name, text in presets.items()]
        self.push_screen(PickerScreen("Insert a preset prompt", choices), self._preset_picked)

    def _preset_picked(self, name: str | None) -> None:
        """The preset goes first and what was already typed stays after it, so preset + question send together."""
        if name is None:
            return
        draft = self.composer.draft
        text = "\n\n".join(piece for piece in (self.settings.presets[name], draft.text) if piece.strip())
        self.composer.set_draft(Draft(text, draft.pastes))
        self.composer.focus()

    def action_pick_tool(self) -> None:
        offered = [tool for tool in TOOL_SWITCHES if self.session.capabilities.offers(tool.setting)]
        if not offered:
            self.notify(f"{endpoint_label(self.settings)} offers no tools.", severity="warning")
            return
        choices = [
            (f"{'on ' if getattr(self.settings, tool.setting) else 'off'}  {tool.title}: {tool.help}", tool.setting)
            for tool in offered
        ]
        picker = PickerScreen("Switch a tool on or off (from the next request)", choices)
        self.push_screen(picker, lambda setting: self.action_toggle_tool(setting) if setting else None)

    def action_toggle_tool(self, setting: str) -> None:
        tool = next(tool for tool in TOOL_SWITCHES if tool.setting == setting)
        title = f"{tool.title[0].upper()}{tool.title[1:]}"
        if not self.session.capabilities.offers(setting):
            self.notify(f"{title} is not offered by {endpoint_label(self.settings)}.", severity="warning")
            return
        enabled = not getattr(self.settings, setting)
        self.session.update_settings("changed", **{setting: enabled})
        self._show_tools()
        self.notify(f"{title} is {'on' if enabled else 'off'} from the next request.")

    def _show_tools(self) -> None:
        """Badges for the tools that are on and that the active provider honours (the others do nothing)."""
        capabilities = self.session.capabilities
        badges = [
            tool.badge
            for tool in TOOL_SWITCHES
            if getattr(self.settings, tool.setting) and capabilities.offers(tool.setting)
        ]
        self.query_one(StatusBar).set_tools(badges)

    # -- `@path` completion

    @on(Composer.MentionChanged)
    async def _mention_changed(self, event: Composer.MentionChanged) -> None:
        if event.prefix is None:
            self._close_suggestions()
            return
        if self._project_files is None:
            from flashchat.core.attachments import project_files

            # `git ls-files` over a big tree takes a moment: keep the UI responsive meanwhile.
            self._project_files = await asyncio.to_thread(project_files, Path.cwd())
        paths = matching_paths(self._project_files, event.prefix)
        self.query_one(PathSuggestions).show_paths(paths)
        self.composer.completing = bool(paths)

    @on(Composer.CompletionKey)
    def _completion_key(self, event: Composer.CompletionKey) -> None:
        suggestions = self.query_one(PathSuggestions)
        if event.key in ("up", "down"):
            suggestions.move(-1 if event.key == "up" else 1)
        elif event.key in ("tab", "enter") and suggestions.chosen is not None:
            self._complete_with(suggestions.chosen)
        else:
            self._close_suggestions()

    @on(OptionList.OptionSelected, "#path-suggestions")
    def _suggestion_clicked(self, event: OptionList.OptionSelected) -> None:
        self._complete_with(self.query_one(PathSuggestions).paths[event.option_index])

    def _complete_with(self, path: str) -> None:
        self.composer.complete_mention(path)
        self._close_suggestions()
        self.composer.focus()

    def _close_suggestions(self) -> None:
        self.query_one(PathSuggestions).hide()
        self.composer.completing = False

    def action_pick_theme(self) -> None:
        self.search_themes()

    def _save_theme(self, theme: Any) -> None:
        if not self._save_theme_changes:
            return
        try:
            update_config_file(self.config_path, "theme", theme.name)
        except (ConfigError, OSError) as error:
            self.notify(f"The theme is not saved: {error}", severity="warning")

    def action_set_api_key(self) -> None:
        self.push_screen(SetupScreen(self.config_path), self._key_entered)

    def _key_entered(self, key: str | None) -> None:
        if key:
            self.session.update_settings("F4", api_key=key)
            self.notify(f"The key is saved in {self.config_path}.")
        self.composer.focus()

    def action_toggle_thoughts(self) -> None:
        show = not self.settings.show_thoughts
        self.session.update_settings(show_thoughts=show)
        try:
            update_config_file(self.config_path, "show_thoughts", show)
            saved = ", saved in the config file"
        except (ConfigError, OSError) as error:
            saved = f" (not saved: {error})"
        self.notify(("Thought summaries will be shown" if show else "Thought summaries are off") + saved + ".")

    def action_toggle_api(self) -> None:
        api = "generate" if self.settings.api == "interactions" else "interactions"
        self.session.update_settings(api=api)
        self.notify(api_switch_text(self.session.settings))

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.key_choices))

    def action_open_conversation_picker(self) -> None:
        """The history sidebar is where stored conversations are opened."""
        if not self.query_one(HistorySidebar).display:
            self.action_toggle_history()

    def action_edit_system_prompt(self) -> None:
        current = self.session.conversation.system_prompt

        def changed(text: str | None) -> None:
            if text is None or text == current:
                return
            self.session.update_settings(system_prompt=text)
            self.notify("System prompt cleared." if not text else "System prompt set, from the next request on.")

        title = "System prompt of this conversation (empty clears it)"
        self.push_screen(TextPromptScreen(title, current, allow_empty=True), changed)

    def action_export_conversation(self) -> None:
        conversation = self.session.conversation
        if not conversation.messages:
            self.notify("Nothing to export yet.")
            return
        suggested = f"flashchat-{conversation.id or 'chat'}.md"

        async def export(target: str | None) -> None:
            if not target:
                return
            try:
                await self.session.whole_history()  # a long conversation opened from its end: all of it
            except store_errors() as error:
                self.notify(f"Not exported: the earlier messages could not be read ({error}).", severity="error")
                return
            from flashchat.core.exports import ExportError, write_export

            path = Path(target).expanduser()
            format_name = "json" if path.suffix.lower() == ".json" else "md"
            try:
                written = write_export(conversation, self.store, format_name, path)
            except ExportError as error:
                self.notify(str(error), severity="error", timeout=10)
                return
            self.notify(f"Wrote {written} ({format_name}).")

        self.push_screen(TextPromptScreen("Export to (a .json name writes lossless JSON)", suggested), export)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for action, tui in tui_actions():
            if tui.action == "quit":
                continue  # Textual's own palette already has Quit
            yield SystemCommand(action.title, action.help, self._runner(tui.action))
        for level in THINKING_LEVELS:
            yield SystemCommand(
                THINKING_ACTION_TITLE.format(level=level),
                "Use this thinking level from the next request on.",
                lambda level=level: self.set_thinking_level(level),
            )

    def _runner(self, action: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await self.run_action(action)

        return run


def run_tui(settings: Settings, *, config_path: Path, conversation_id: str | None = None) -> int:
    """Run the chat until the user quits; returns the process exit code.

    `conversation_id` opens a stored conversation (a unique prefix will do; CONTINUE_LATEST: the newest).
    """
    from flashchat.config.logs import route_library_output_to_log_file

    route_library_output_to_log_file()

    def open_default_store() -> ConversationStore:
        from flashchat.store.conversation_store import open_store

        return open_store()

    app = FlashchatApp(
        settings, config_path=config_path, open_store=open_default_store, conversation_id=conversation_id
    )
    app.run()
    return app.return_code or 0
