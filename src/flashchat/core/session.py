"""The engine: one conversation, one provider, and the policy for retries, timeouts and stopping.

`ChatSession.send(text)` is an async generator of `flashchat.core.events` that every front end consumes. The
session owns the retry policy because the SDK retries nothing once a stream has started, and it keeps
whatever arrived when a reply fails, times out or is stopped, so nothing the user saw is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flashchat.config.input_checks import model_problem
from flashchat.config.settings import Settings, settings_for_endpoint
from flashchat.core.conversation import Conversation, Message, ReplyDraft, ToolCall
from flashchat.core.errors import ChatError, ErrorKind
from flashchat.core.events import Event, Failed, Finished, Retrying, ToolFinished, ToolRequested
from flashchat.core.reply_journal import ReplyJournal
from flashchat.providers import capabilities_for, provider_for
from flashchat.providers.base import Capabilities, MediaTokenCounter, Provider, TokenCounter, ToolCaller

if TYPE_CHECKING:
    from flashchat.core.media import MediaAttachment
    from flashchat.core.prompt import PreparedPrompt
    from flashchat.store.conversation_store import ConversationStore

# A streaming reply is written to the store at least this often; between saves each piece is in the reply's
# journal (core/reply_journal.py) before it is shown, so a crash loses nothing that was on the screen.
SAVE_INTERVAL_SECONDS = 0.25

# Every session's store writes run on this one thread, in the order they were asked for: SQLite can wait up to
# its busy timeout for another process's write lock, and the event loop (a UI's typing) must not wait with it.
# One thread rather than any free one, so a write never overtakes the one before it (a reply's last save
# landing before an earlier partial save would put the partial text back).
_STORE_WRITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flashchat-store")

DENIED = "The user denied this tool call."
CANCELLED = "The user stopped the turn before this tool call ran."
BUDGET_SPENT = "Limited action budget: at most {limit} tool calls per turn are allowed. Answer with what you have."
NOT_OFFERED = "There is no tool named {name!r} here: flashchat did not offer it, so the call was not run."


class ToolApproval(StrEnum):
    ALWAYS = "always"  # this tool, for the rest of the session
    ONCE = "once"
    DENY = "deny"


ToolApprover = Callable[[ToolCall], Awaitable[ToolApproval]]

# Finish reasons that mean the model stopped on its own terms; anything else gets a notice.
NORMAL_FINISH = frozenset({"STOP", "FINISH_REASON_UNSPECIFIED", "TOOL_CALLS"})

# Settings a front end changes live that carry over when the user switches endpoint (the rest comes from the
# endpoint's table). The system prompt travels with the conversation instead, and the model with the endpoint.
LIVE_SETTINGS = ("thinking_level", "show_thoughts", "google_search", "url_context", "code_execution", "local_tools")
# Origins of values the user gave on this run's command line: those win over what a reopened conversation says.
COMMAND_LINE_ORIGINS = ("--option", "--system")


@dataclass(frozen=True)
class RetryPolicy:
    """429: back off 1 s, 2 s, 4 s (with jitter) or as long as the server's RetryInfo asks, up to a cap.
    5xx and connection failures before the first token: two more tries. Other errors: never retried."""

    rate_limit_retries: int = 3
    server_retries: int = 2
    base_delay: float = 1.0
    max_delay: float = 60.0
    jitter: float = 0.2

    def max_attempts(self, error: ChatError) -> int:
        retries = self.rate_limit_retries if error.kind is ErrorKind.RATE_LIMIT else self.server_retries
        return 1 + retries

    def delay(self, error: ChatError, retries_done: int) -> float | None:
        """Seconds to wait before the next attempt, or None when the error should be reported now."""
        if not error.retryable or retries_done + 1 >= self.max_attempts(error):
            return None
        if error.retry_after is not None:
            if error.retry_after > self.max_delay:
                return None
            return error.retry_after + random.uniform(0, self.jitter * min(1.0, error.retry_after))
        backoff = self.base_delay * 2**retries_done
        return min(self.max_delay, backoff + random.uniform(0, self.jitter * backoff))

    def too_long_to_wait(self, error: ChatError) -> ChatError | None:
        """A 429 that asks for longer than this policy waits: the error, saying how long the server asked for."""
        wait = error.retry_after
        if error.kind is not ErrorKind.RATE_LIMIT or wait is None or wait <= self.max_delay:
            return None
        until = time.strftime("%H:%M", time.localtime(time.time() + wait)) if wait < 86_400 else "tomorrow or later"
        message = (
            f"{error.message.rstrip('.')}. The server asks to wait {_duration(wait)} before the next request "
            f"(until about {until}); flashchat waits at most {_duration(self.max_delay)} by itself."
        )
        return ChatError(error.kind, message, status=error.status, retry_after=wait, detail=error.detail)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes < 48 * 60 else f"{minutes / 1440:.0f} days"


async def _put_in_front(
    conversation: Conversation,
    earlier: Awaitable[list[Message]],
    when_whole: Callable[[Conversation, int], None] | None,
) -> None:
    """`ChatSession.open`'s `earlier`: in front of the messages, in place (a view keeps the live list), once read."""
    messages = await earlier
    conversation.messages[0:0] = messages
    if when_whole is not None:
        when_whole(conversation, len(messages))


def finish_notice(message: Message, max_output_tokens: int | None) -> str:
    """A plain sentence for replies that ended for a reason other than a normal stop."""
    reason = message.finish_reason or ""
    if reason in NORMAL_FINISH:
        return ""
    if reason == "MAX_TOKENS":
        cap = f" ({max_output_tokens:,} tokens)" if max_output_tokens else ""
        if not message.text:
            return (
                f"The reply hit the output limit{cap} before any text (thinking used it up): "
                "raise max_output_tokens or lower the thinking level."
            )
        return f"The reply was cut off at the output limit{cap}."
    if reason in ("SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY"):
        return f"The model stopped for safety reasons ({reason})."
    if reason == "RECITATION":
        return "The model stopped because the reply would recite copyrighted material (RECITATION)."
    said = (message.extras or {}).get("finish_message")
    return f"The model stopped early ({reason})" + (f": {said}" if isinstance(said, str) and said else ".")


class ChatSession:
    def __init__(
        self,
        settings: Settings,
        *,
        provider: Provider | None = None,
        conversation: Conversation | None = None,
        store: ConversationStore | None = None,
        retry_policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        approve_tool: ToolApprover | None = None,
        working_dir: Path | None = None,
    ) -> None:
        self.settings = settings
        # What this run started with: a new conversation starts from its system prompt again.
        self._launch_settings = settings
        self.store = store
        self._provider = provider
        self._own_provider = provider is None
        self._retired: list[Provider] = []  # providers replaced after an endpoint switch, closed in aclose()
        self.conversation = Conversation(system_prompt=settings.system_prompt)
        self.retry_policy = retry_policy or RetryPolicy()
        self._sleep = sleep
        # Asked before each local tool call; without one, calls are denied (nobody to ask).
        self.approve_tool = approve_tool
        self.working_dir = working_dir or Path.cwd()
        self._always_allowed: set[str] = set()
        self._pending_calls: list[ToolCall] = []
        self._earlier: asyncio.Future[None] | None = None  # the earlier messages being read (see `open`)
        if conversation is not None:
            self.open(conversation)

    # -- which conversation, and with which settings

    def open(
        self,
        conversation: Conversation,
        *,
        earlier: Awaitable[list[Message]] | None = None,
        when_whole: Callable[[Conversation, int], None] | None = None,
    ) -> None:
        """Continue `conversation`: its system prompt and model come with it, so the next request is sent as the
        earlier ones were. A value given on this run's command line (`--system`, `--model`) wins instead, and a
        model stored by another provider is not carried over (a local server's model means nothing to Gemini).

        `earlier` (a UI that shows a long conversation's end before the rest is read: `ConversationStore.load_tail`)
        gives the messages that come before `conversation.messages`. They are put in front of them when they
        arrive, on the event loop, and `when_whole(conversation, how_many)` is called right then. Until that
        happened nothing sends, regenerates or forgets (each waits in `whole_history`): no request ever carries a
        part of the history, and no save counts positions in one."""
        changes: dict[str, Any] = {}
        if self.settings.origins.get("system_prompt") in COMMAND_LINE_ORIGINS:
            conversation.system_prompt = self.settings.system_prompt
        else:
            changes["system_prompt"] = conversation.system_prompt
        last = conversation.last_reply()
        same_provider = last is None or not last.provider or last.provider == self.settings.provider
        # (An imported conversation's model is not trusted: a name that is no model name stays behind.)
        carried = conversation.model and same_provider and not model_problem(conversation.model)
        if carried and self.settings.origins.get("model") not in COMMAND_LINE_ORIGINS:
            changes["model"] = conversation.model
        self.conversation = conversation
        self._always_allowed.clear()  # "always" was said about the conversation on screen, not this one
        if changes:
            self.settings = self.settings.with_overrides("conversation", **changes)
        self._earlier = None
        if earlier is not None:
            self._earlier = asyncio.ensure_future(_put_in_front(conversation, earlier, when_whole))

    async def whole_history(self) -> None:
        """Return once the conversation holds all its messages (at once, unless `open` was given `earlier`).
        Raises what reading them raised (a `StoreError`, an sqlite3 error): the history is then incomplete."""
        if self._earlier is not None:
            await asyncio.shield(self._earlier)

    async def _history_problem(self) -> Failed | None:
        """Why the conversation cannot be continued (its earlier messages could not be read), or None."""
        try:
            await self.whole_history()
        except Exception as error:  # a store's failure, whatever its class: never send a part of the history
            message = f"The earlier messages of this conversation could not be read ({error}); open it again."
            return Failed(ChatError(ErrorKind.BAD_REQUEST, message))
        return None

    def new(self) -> None:
        """Start a new conversation, with the system prompt this run started with."""
        self._earlier = None
        self.conversation = Conversation(system_prompt=self._launch_settings.system_prompt)
        self._always_allowed.clear()
        self.settings = self.settings.with_overrides("new", system_prompt=self._launch_settings.system_prompt)

    async def rename(self, title: str) -> str:
        """Give this conversation a new title (stored, once the conversation is); returns the title kept.

        In memory first: every save of the session writes the title, so a reply streaming into this
        conversation while the rename is written carries the new one.
        """
        title = title.strip()
        if not title:
            raise ValueError("the new title is empty")
        conversation, store = self.conversation, self.store
        conversation.title = title
        stored_id = conversation.id if any(message.id is not None for message in conversation.messages) else None
        if store is not None and stored_id is not None:
            await self._persist(lambda: store.rename(stored_id, title))
        return title

    def update_settings(self, origin: str = "changed", **changes: Any) -> Settings:
        """Change settings from the next request on, each value checked like a config value (`ConfigError`).

        A system prompt set here belongs to the conversation and is stored with it.
        """
        self.settings = self.settings.with_overrides(origin, **changes)
        if "system_prompt" in changes:
            self.conversation.system_prompt = self.settings.system_prompt
        return self.settings

    def switch_endpoint(self, name: str | None, config_path: Path | None = None) -> Settings:
        """Use the config file's `[endpoints.NAME]` (None: its default) from the next request on.

        The conversation carries on, with its system prompt; the thinking level, thoughts and tool switches the
        user chose live are kept. Raises `ConfigError` for an unknown endpoint or a broken file.
        """
        fresh = settings_for_endpoint(name, config_path)
        live = {key: getattr(self.settings, key) for key in LIVE_SETTINGS}
        self.settings = fresh.with_overrides("switched", system_prompt=self.conversation.system_prompt, **live)
        return self.settings

    @property
    def capabilities(self) -> Capabilities:
        """What the active provider can do, known without importing it."""
        return capabilities_for(self.settings)

    async def count_tokens(self, text: str) -> tuple[int, bool]:
        """The API's count (countTokens) where the provider has one, else a local estimate; True when exact."""
        from flashchat.core.attachments import estimate_tokens

        if self.capabilities.count_tokens:
            provider = self.provider
            if isinstance(provider, TokenCounter):
                with contextlib.suppress(ChatError):
                    return await provider.count_tokens(self.settings, text), True
        return estimate_tokens(text), False

    async def count_media_tokens(self, attachment: MediaAttachment) -> tuple[int, bool]:
        """The API's count for a file small enough to send inline, else an estimate from its type and size."""
        from flashchat.core.media import INLINE_FILE_BYTES, MediaError

        if self.capabilities.count_tokens and attachment.ref.size <= INLINE_FILE_BYTES:
            provider = self.provider
            if isinstance(provider, MediaTokenCounter):
                with contextlib.suppress(ChatError, MediaError, OSError):
                    return await provider.count_media_tokens(self.settings, attachment), True
        return attachment.ref.estimated_tokens(), False

    @property
    def provider(self) -> Provider:
        """Created on first use: importing the SDK costs ~0.4 s, which a UI should spend after its first frame.

        A provider the session made itself follows `settings.provider`, so a front end that switches endpoint
        (say from Gemini to an OpenAI-compatible server) only replaces `session.settings`.
        """
        if self._provider is not None and self._own_provider and self._provider.name != self.settings.provider:
            self._retired.append(self._provider)
            self._provider = None
        if self._provider is None:
            self._provider = provider_for(self.settings)
        return self._provider

    def warm_up(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run in a thread once a UI's first frame is up: the provider (its SDK imported) and what its first
        request would build on `loop` (client, TLS context, request models), so the first message does not pay
        for them. Sends nothing."""
        warm = getattr(self.provider, "warm_up", None)
        if warm is not None:
            warm(self.settings, loop)

    async def send(self, prompt: PreparedPrompt | str) -> AsyncGenerator[Event, None]:
        """Add the user's message and stream the reply. Close the generator (or cancel) to stop it.

        Front ends send a `PreparedPrompt` (see core/prompt.py), whose guard they have already honoured.
        """
        if (problem := await self._history_problem()) is not None:
            yield problem
            return
        text = prompt if isinstance(prompt, str) else prompt.text
        media = () if isinstance(prompt, str) else prompt.media
        for attachment in media:
            self.conversation.media.add(attachment)
        self.conversation.model = self.settings.model
        message = Message(role="user", text=text, model=self.settings.model, media=[item.ref for item in media])
        # Queued, not awaited, before the request: the one writer thread lands it before any save of the reply,
        # and the request need not wait for a thread round trip (1-35 ms on a busy machine) to leave.
        saving = self._queue_save(self.conversation.add(message))
        if media and saving is not None:
            # Except with media: the write stores the file's bytes, and the upload's URI is remembered on that
            # row, so it must be there before the provider uploads (else the URI is lost and a reopened
            # conversation uploads again).
            await self._landed(saving)
            saving = None
        try:
            async with contextlib.aclosing(self._turn()) as events:
                async for event in events:
                    yield event
        finally:
            if saving is not None:
                await self._landed(saving)

    async def regenerate(self) -> AsyncGenerator[Event, None]:
        """Drop the last reply (with any tool rounds) and ask again for the last thing the user wrote."""
        if (problem := await self._history_problem()) is not None:
            yield problem
            return
        messages = self.conversation.messages
        dropped: list[Message] = []
        while messages and (messages[-1].role == "model" or messages[-1].answers_tool_calls):
            dropped.append(messages.pop())
        await self._delete(dropped)
        if not messages:
            return
        async with contextlib.aclosing(self._turn()) as events:
            async for event in events:
                yield event

    async def forget_last_prompt(self) -> str | None:
        """Remove the last thing the user wrote and all that answered it (store included); return its text.

        For "edit the last prompt and resend": the front end puts the text back in the composer.
        """
        if await self._history_problem() is not None:  # stored positions count from the first message
            return None  # (the front end was told when the earlier messages failed to arrive)
        messages = self.conversation.messages
        typed = [i for i, m in enumerate(messages) if m.role == "user" and not m.answers_tool_calls]
        if not typed:
            return None
        index = typed[-1]
        text = messages[index].text
        # Out of the conversation first, so the stored totals are computed without them.
        forgotten = messages[index:]
        del messages[index:]
        await self._delete(forgotten)
        return text

    async def attach_store(self, store: ConversationStore) -> None:
        """Keep history in `store` from now on, starting with what the chat already holds (a front end that opens
        its store in a thread may have sent a prompt before it was ready)."""
        self.store = store
        conversation = self.conversation
        # What was said without a store; from here on the session saves each message itself.
        unsaved = [message for message in conversation.messages if message.id is None]
        if not unsaved:
            return

        def write_unsaved() -> None:
            for message in unsaved:
                store.save_message(conversation, message)

        await self._persist(write_unsaved)

    async def _turn(self) -> AsyncGenerator[Event, None]:
        """Replies until the model stops calling local tools (each call approved by the user), within a budget."""
        calls_run = 0
        budget_spent_rounds = 0
        while True:
            self._pending_calls = []
            async with contextlib.aclosing(self._reply()) as events:
                async for event in events:
                    yield event
            calls, self._pending_calls = self._pending_calls, []
            provider = self.provider
            if not calls or not isinstance(provider, ToolCaller):
                return
            offered = self._offered_tools()
            # Only calls of tools flashchat offered run (and keep the turn going); every call gets an answer.
            runnable = any(call.name in offered for call in calls) and budget_spent_rounds <= 1
            results: list[tuple[ToolCall, dict[str, Any]]] = []
            try:
                for call in calls:
                    yield ToolRequested(call)
                    if call.name not in offered:
                        response = {"error": NOT_OFFERED.format(name=call.name)}
                        results.append((call, response))
                        yield ToolFinished(call, response, False, declared=False)
                        continue
                    if calls_run >= self.settings.max_tool_calls or not runnable:
                        response = {"error": BUDGET_SPENT.format(limit=self.settings.max_tool_calls)}
                        approved = False
                    else:
                        approved = await self._approve(call)
                        response = await self._run_tool(call) if approved else {"error": DENIED}
                        calls_run += approved
                    results.append((call, response))
                    yield ToolFinished(call, response, approved)
            finally:
                # Every call gets an answer, even when the user stopped the turn: the API rejects unanswered calls.
                answered = {id(call) for call, _ in results}
                results += [(call, {"error": CANCELLED}) for call in calls if id(call) not in answered]
                await self._save(self.conversation.add(provider.tool_results_message(results)))
            if not runnable:
                return
            if calls_run >= self.settings.max_tool_calls:
                budget_spent_rounds += 1

    def _offered_tools(self) -> frozenset[str]:
        """The names of the tools the requests of this turn declared."""
        if not (self.settings.local_tools and self.capabilities.local_tools):
            return frozenset()
        from flashchat.core.local_tools import TOOL_NAMES

        return TOOL_NAMES

    async def _approve(self, call: ToolCall) -> bool:
        if call.name in self._always_allowed:
            return True
        if self.approve_tool is None:
            return False
        decision = await self.approve_tool(call)
        if decision is ToolApproval.ALWAYS:
            self._always_allowed.add(call.name)
        return decision is not ToolApproval.DENY

    async def _run_tool(self, call: ToolCall) -> dict[str, Any]:
        from flashchat.core.local_tools import LocalTools

        # Searching a big tree takes a while: keep the event loop (and the UI) responsive.
        return await asyncio.to_thread(LocalTools(self.working_dir).run, call)

    async def aclose(self) -> None:
        if self._earlier is not None:
            self._earlier.cancel()
        retired, self._retired = self._retired, []
        for provider in [*retired, self._provider]:
            if provider is not None:
                await provider.aclose()

    async def _reply(self) -> AsyncGenerator[Event, None]:
        settings = self.settings
        retries_done = 0
        draft: ReplyDraft | None = None
        last_save = 0.0
        saving: Future[None] | None = None  # the partial save being written, if any
        journal = ReplyJournal(self.store, self.conversation)
        try:
            while True:
                draft = ReplyDraft(model=settings.model, thinking_level=settings.thinking_level)
                try:
                    async with contextlib.aclosing(self._attempt(draft, settings)) as events:
                        async for event in events:
                            journal.record(event, draft)  # durable before it is displayed
                            yield event
                            due = draft.received_content and time.monotonic() - last_save >= SAVE_INTERVAL_SECONDS
                            if due and (saving is None or saving.done()):
                                if saving is not None:
                                    saving.result()  # a bug in the last partial save surfaces here
                                saving = self._save_draft(draft)
                                last_save = time.monotonic()
                except ChatError as error:
                    if draft.received_content:
                        # Cleared before the save's await: a stop meanwhile must not keep the reply twice.
                        kept, draft = draft, None
                        message = await self._keep(kept, incomplete=True, error=error.message)
                        yield Failed(error, message)
                        return
                    delay = self.retry_policy.delay(error, retries_done)
                    if delay is None:
                        draft = None
                        yield Failed(self.retry_policy.too_long_to_wait(error) or error)
                        return
                    retries_done += 1
                    attempts = self.retry_policy.max_attempts(error)
                    yield Retrying(retries_done + 1, attempts, delay, error.message, error.kind)
                    await self._sleep(delay)
                    continue
                finished, draft = draft, None
                yield await self._finish(finished, settings)
                return
        finally:
            # Stopped by the user (generator closed or task cancelled): keep what had arrived. Awaiting here is
            # allowed during aclose(); _persist sees the save through a further cancellation.
            try:
                if draft is not None and draft.received_content:
                    await self._keep(draft, incomplete=True, stopped=True)
            finally:
                journal.discard()  # every way out has saved the reply by now

    async def _finish(self, draft: ReplyDraft, settings: Settings) -> Event:
        if draft.block_reason and not draft.received_content:
            return Failed(
                ChatError(
                    ErrorKind.BLOCKED,
                    f"The prompt was blocked ({draft.block_reason}); rephrase it and send again.",
                )
            )
        if draft.finish_reason is None and not draft.received_content:
            # Nothing to keep: an empty "incomplete" reply in the history would only hide what happened.
            return Failed(
                ChatError(
                    ErrorKind.TRUNCATED,
                    "The server ended the response without sending any of the reply (no finish reason); "
                    "nothing was kept. Send again, or check base_url if it keeps happening.",
                )
            )
        if draft.finish_reason is None:
            message = await self._keep(draft, incomplete=True, error="The reply ended before the model finished.")
            error = ChatError(
                ErrorKind.TRUNCATED,
                "The reply ended before the model finished (no finish reason); what arrived is kept.",
            )
            return Failed(error, message)
        message = await self._keep(draft)
        self._pending_calls = list(draft.function_calls)
        notices = (draft.notice, finish_notice(message, settings.max_output_tokens))
        return Finished(message, " ".join(notice for notice in notices if notice))

    async def _keep(self, draft: ReplyDraft, **flags: bool | str) -> Message:
        message = self.conversation.add(draft.to_message(**flags))  # type: ignore[arg-type]
        await self._save(message, draft)
        return message

    async def _save(self, message: Message, draft: ReplyDraft | None = None) -> None:
        saving = self._queue_save(message, draft)
        if saving is not None:
            await self._landed(saving)

    def _queue_save(self, message: Message, draft: ReplyDraft | None = None) -> Future[None] | None:
        """Queue the write of `message` on the store's writer thread (None without a store); `_landed` waits."""
        # The store and conversation as they are now: the write may run after the front end has moved on.
        store, conversation = self.store, self.conversation
        if store is None:
            return None

        def write() -> None:
            if message.id is None and draft is not None:
                # The row of the reply's partial saves: one still being written when `message` was made has
                # landed by now (one writer, in order), so this updates that row rather than adding another.
                message.id = draft.message_id
            store.save_message(conversation, message)

        return _STORE_WRITER.submit(write)

    def _save_draft(self, draft: ReplyDraft) -> Future[None] | None:
        """Queue a write of the reply so far, marked incomplete until it finishes (what a crash would leave behind).

        Not awaited: while a UI draws the reply, the writer thread waits for the GIL (~30 ms a save at full
        speed), and the stream need not wait with it. The reply's final save is queued after this one, and
        awaited."""
        store, conversation = self.store, self.conversation
        if store is None:
            return None
        partial = draft.to_message(incomplete=True)

        def write() -> None:
            store.save_message(conversation, partial)
            draft.message_id = partial.id  # the row the next save updates, the final one included

        return _STORE_WRITER.submit(write)

    async def _delete(self, messages: list[Message]) -> None:
        store, conversation = self.store, self.conversation
        if store is None or not messages:
            return

        def delete() -> None:
            for message in messages:
                store.delete_message(conversation, message)

        await self._persist(delete)

    @staticmethod
    async def _persist(write: Callable[[], object]) -> None:
        """Run `write` on the store's writer thread and return once it has landed.

        The write is queued before the first await, so it happens even if this task is cancelled or its
        generator closed meanwhile. Waiting goes on through cancellations, then the cancellation is raised: the save
        of a stopped reply is the one a user most wants kept, and once the stopped task ends it is on disk.
        """
        await ChatSession._landed(_STORE_WRITER.submit(write))

    @staticmethod
    async def _landed(write: Future[Any]) -> None:
        """Wait until a queued write has landed, through cancellations (see `_persist`), then raise its error."""
        landed = asyncio.wrap_future(write)
        cancelled: asyncio.CancelledError | None = None
        while not landed.done():
            try:
                await asyncio.wait([landed])
            except asyncio.CancelledError as error:
                cancelled = error
        if cancelled is not None:
            raise cancelled
        landed.result()  # a bug in a write surfaces here, as it did when writes ran on the loop

    async def _attempt(self, draft: ReplyDraft, settings: Settings) -> AsyncGenerator[Event, None]:
        """One request; converts a silent server into a timeout error (first token, then gaps)."""
        stream = self.provider.stream(self.conversation, settings, draft)
        async with contextlib.aclosing(stream):
            while True:
                waiting_for_first = not draft.received_content
                limit = settings.first_token_timeout if waiting_for_first else settings.idle_timeout
                try:
                    async with asyncio.timeout(limit):
                        event = await anext(stream)
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    what = "the first token" if waiting_for_first else "the next part of the reply"
                    setting = "first_token_timeout" if waiting_for_first else "idle_timeout"
                    raise ChatError(
                        ErrorKind.TIMEOUT,
                        f"No answer: waited {limit:g} s for {what} (raise {setting} if this is expected).",
                    ) from None
                yield event
