"""Gemini through google-genai: `client.aio.models.generate_content_stream`, history kept by us.

Facts this module relies on (see DESIGN.md): usage is a running total per chunk; a reply often ends with
an empty text part that carries the thought signature; only unsigned text deltas of the same kind may be
merged; a stream may end with no finishReason or die with a raw transport error.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, cast

import httpx2
import pydantic
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from flashchat.config.input_checks import api_key_problem
from flashchat.config.settings import Settings
from flashchat.core.conversation import Conversation, Message, ReplyDraft, ToolCall, Usage
from flashchat.core.errors import ChatError, ErrorKind, retry_info_delay
from flashchat.core.events import TextDelta, ThoughtDelta, UsageUpdate
from flashchat.providers import CAPABILITIES
from flashchat.providers.gemini_calls import StreamedCall, answer_unanswered, is_streamed_call_piece
from flashchat.providers.gemini_client import SENDING_FOR, RedirectRefused, new_client
from flashchat.providers.gemini_contents import KeptContents
from flashchat.providers.gemini_metadata import keep_metadata
from flashchat.providers.gemini_raw_stream import PlainChunk, open_stream
from flashchat.providers.interaction_steps import content_from_steps, is_interaction_reply
from flashchat.providers.server_text import GEMINI_KEY_REJECTED, redirect_message
from flashchat.providers.server_text import server_text as bounded_server_text

if TYPE_CHECKING:
    from flashchat.core.media import MediaAttachment
    from flashchat.providers.base import ModelInfo, StreamEvent

NAME = "gemini"


def gemini_contents(
    conversation: Conversation, media_parts: dict[tuple[str, str], dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The request `contents`: model replies exactly as received, user text as a text part after the parts of
    its attachments (`media_parts`, from gemini_files.prepare_parts). (`KeptContents` builds the same, turn after
    turn, from what it kept.)"""
    contents = [message_content(message, media_parts) for message in conversation.messages]
    return answer_unanswered([content for content in contents if content is not None])


def message_content(
    message: Message, media_parts: dict[tuple[str, str], dict[str, Any]] | None = None
) -> dict[str, Any] | None:
    """One message's request content, its streamed calls assembled; None for a message that sends nothing."""
    if message.role == "user" and message.provider == NAME and message.native:
        return message.native  # function responses, exactly as built for the call they answer
    if message.role == "user":
        media = [(media_parts or {})[(ref.sha256, ref.resolution)] for ref in message.media]
        text = [{"text": message.text}] if message.text or not media else []
        return {"role": "user", "parts": [*media, *text]}
    if is_interaction_reply(message):  # made through the Interactions API (api = "interactions")
        content = content_from_steps(message.native or {})
        return _assembled(content) if content["parts"] else None
    if message.provider == NAME and message.native and message.native.get("parts"):
        return _assembled(message.native)
    if message.text:
        # A reply from another provider, or one that arrived without native parts: its text is all we have.
        return {"role": "model", "parts": [{"text": message.text}]}
    return None  # a reply with nothing in it (safety stop, blocked): the API rejects empty contents


def _assembled(content: dict[str, Any]) -> dict[str, Any]:
    """A stored content whose function calls still hold streamed pieces (`partialArgs`, kept by another client),
    assembled into whole calls as a live stream would be; every other content is returned untouched."""
    parts = content.get("parts") or []
    calls = [part.get("function_call") or part.get("functionCall") for part in parts if isinstance(part, dict)]
    pieces = ("partial_args", "partialArgs", "will_continue", "willContinue")
    if content.get("role") != "model" or not any(isinstance(c, dict) and set(c) & set(pieces) for c in calls):
        return content
    collector = _PartCollector()
    for part in types.Content.model_validate(content).parts or []:
        collector.add(part)
    return collector.native() or content


@functools.cache  # once a process
def _build_shared_models() -> None:
    """Build the SDK's models that the first request's schemas share, innermost first.

    Why: the SDK builds each pydantic model on first use (`defer_build`), and a model built as part of another
    one's schema is not marked as built. So the config (its system instruction), the request's contents and
    the response's candidates each generated `Part` again, and the SDK's response reading builds `Candidate`
    on its own after `GenerateContentResponse`. Built first, they are reused by the later schemas: the first
    request's schema building (config, request, the reply's last chunk, the kept content) went from ~40 to
    ~27 ms of CPU. It changes nothing a model does; a name a later SDK drops is skipped."""
    for name in ("Part", "Content", "Candidate"):
        model = getattr(types, name, None)
        if isinstance(model, type) and issubclass(model, pydantic.BaseModel):
            model.model_rebuild()


def generation_config(settings: Settings) -> types.GenerateContentConfig:
    _build_shared_models()  # before the config's own schema, which holds Part
    optional = {
        "max_output_tokens": settings.max_output_tokens,
        "temperature": settings.temperature,
        "top_p": settings.top_p,
        "system_instruction": settings.system_prompt or None,
    }
    if settings.response_schema is not None:
        # JSON only, held to the schema while the model writes (`-p --schema`).
        optional["response_mime_type"] = "application/json"
        optional["response_json_schema"] = dict(settings.response_schema)
    tools = _tools(settings)
    if tools:
        optional["tools"] = tools
        # Calls are run by the session after the user approves them, never by the SDK.
        optional["automatic_function_calling"] = types.AutomaticFunctionCallingConfig(disable=True)
    return types.GenerateContentConfig(
        thinking_config=types.ThinkingConfig(
            thinking_level=types.ThinkingLevel(settings.thinking_level.upper()),
            include_thoughts=True if settings.show_thoughts else None,
        ),
        # It sums usage across hops and can duplicate text after a reconnect; we keep exact history instead.
        automatic_continuation=False,
        **{key: value for key, value in optional.items() if value is not None},
    )


def _tools(settings: Settings) -> list[types.Tool]:
    tools = []
    if settings.google_search:
        tools.append(types.Tool(google_search=types.GoogleSearch()))
    if settings.url_context:
        tools.append(types.Tool(url_context=types.UrlContext()))
    if settings.code_execution:
        tools.append(types.Tool(code_execution=types.ToolCodeExecution()))
    if settings.local_tools:
        from flashchat.core.local_tools import DECLARATIONS

        declarations = [types.FunctionDeclaration(**declaration) for declaration in DECLARATIONS]
        tools.append(types.Tool(function_declarations=declarations))
    return tools


def tool_results_message(results: list[tuple[ToolCall, dict[str, Any]]]) -> Message:
    """The user turn that answers function calls: one functionResponse per call, with its id and name."""
    parts = [
        types.Part(function_response=types.FunctionResponse(id=call.id, name=call.name, response=response))
        for call, response in results
    ]
    native = types.Content(role="user", parts=parts).model_dump(mode="json", exclude_none=True)
    summary = "; ".join(
        f"{call.describe()} -> {'error' if 'error' in response else 'ok'}" for call, response in results
    )
    return Message(role="user", text=f"[tool results: {summary}]", native=native, provider=NAME)


class _PartCollector:
    """Rebuilds the model `Content` from streamed parts without losing a signature.

    Unsigned text deltas of the same kind are concatenated; every signed part, function call and other part
    is kept verbatim and in order, including the final `{"text": "", "thoughtSignature": ...}`.
    """

    def __init__(self) -> None:
        self.parts: list[types.Part] = []
        self._streamed_call: StreamedCall | None = None  # a call whose arguments are still arriving
        # The deltas of the last part while plain text keeps arriving (`add_text`), joined into its `text` only
        # when the parts are read: adding each delta to the pydantic part copied the whole text every chunk.
        self._tail_pieces: list[str] = []

    def add(self, part: types.Part) -> None:
        self._join_tail()
        if self._add_streamed_call_piece(part):
            return
        previous = self.parts[-1] if self.parts else None
        if (
            previous is not None
            and _is_plain_text(part)
            and _is_plain_text(previous)
            and bool(part.thought) == bool(previous.thought)
        ):
            previous.text = (previous.text or "") + (part.text or "")
        else:
            self.parts.append(part.model_copy(deep=True))

    def add_text(self, text: str, thought: bool | None) -> None:
        """`add` for a plain text part read from the JSON: `thought` as sent (None when absent)."""
        previous = self.parts[-1] if self.parts else None
        if self._tail_pieces and previous is not None and bool(thought) == bool(previous.thought):
            self._tail_pieces.append(text)  # the tail is plain text, made here
        elif previous is not None and _is_plain_text(previous) and bool(thought) == bool(previous.thought):
            self._tail_pieces = [previous.text or "", text]
        else:
            self._join_tail()
            self.parts.append(types.Part(text=text, thought=thought))
            self._tail_pieces = [text]

    def _join_tail(self) -> None:
        if self._tail_pieces:
            self.parts[-1].text = "".join(self._tail_pieces)
            self._tail_pieces = []

    def _add_streamed_call_piece(self, part: types.Part) -> bool:
        """Vertex-style streamed arguments (see gemini_calls.py): pieces go into one assembled call part."""
        open_call, call = self._streamed_call, part.function_call
        assembled = open_call.part.function_call if open_call is not None else None
        if (
            open_call is not None
            and assembled is not None
            and call is not None
            and call.name in (None, "", assembled.name)
            and call.id in (None, "", assembled.id)
            and not (call.args and not call.partial_args)  # a whole call of its own (parallel calls)
        ):
            open_call.add(part)  # until a piece without willContinue, pieces of the same call (named or not)
        elif is_streamed_call_piece(part):
            open_call = StreamedCall(part)
            self.parts.append(open_call.part)
        else:
            return False
        self._streamed_call = open_call if open_call.open else None
        return True

    def function_calls(self) -> list[ToolCall]:
        self._join_tail()
        calls = [part.function_call for part in self.parts if part.function_call is not None]
        return [ToolCall(name=call.name or "", args=dict(call.args or {}), id=call.id) for call in calls]

    def native(self) -> dict[str, Any] | None:
        self._join_tail()
        if not self.parts:
            return None
        return types.Content(role="model", parts=self.parts).model_dump(mode="json", exclude_none=True)


def _is_plain_text(part: types.Part) -> bool:
    """Text (or thought text) and nothing else set: no signature, call, media or metadata.

    Reads the field values directly instead of dumping the part: this runs for every streamed part, and the
    SDK models forbid extra fields, so the declared fields are all there is.
    """
    if part.text is None:
        return False
    return all(value is None for name, value in vars(part).items() if name not in _PLAIN_TEXT_FIELDS)


_PLAIN_TEXT_FIELDS = frozenset({"text", "thought"})


def _usage(metadata: types.GenerateContentResponseUsageMetadata) -> Usage:
    return Usage(
        prompt=metadata.prompt_token_count or 0,
        output=metadata.candidates_token_count or 0,
        thoughts=metadata.thoughts_token_count or 0,
        cached=metadata.cached_content_token_count or 0,
        tool_use=metadata.tool_use_prompt_token_count or 0,
        total=metadata.total_token_count or 0,
    )


def _enum_name(value: Any) -> str:
    return getattr(value, "value", None) or str(value)


class GeminiProvider:
    name = NAME
    capabilities = CAPABILITIES[NAME]
    tool_results_message = staticmethod(tool_results_message)

    def __init__(self) -> None:
        # One client per event loop and connection settings: httpx pools belong to the loop that made them.
        self._clients: dict[tuple[int, str, str, float], genai.Client] = {}
        self._kept = KeptContents()  # the history's request contents, kept from turn to turn

    def warm_up(self, settings: Settings, loop: asyncio.AbstractEventLoop) -> None:
        """Run in a thread while a UI idles after its first frame: what the first send would otherwise build on
        `loop` before its request leaves (~0.25 s): the TLS context, the client, and the SDK's request models,
        built by validating and converting a one-line prompt. Nothing is sent and no connection is opened. Without
        a usable key there is nothing to warm: the first send only says the key is missing."""
        if not settings.api_key or api_key_problem(settings.api_key):
            return
        from flashchat.providers.gemini_raw_stream import sdk_chunk, sdk_request
        from flashchat.providers.tls_context import prepare_http_stack

        prepare_http_stack()
        client = self._client(settings, loop)
        if settings.api == "interactions":
            return
        contents = [{"role": "user", "parts": [{"text": "warm-up"}]}]
        built = sdk_request(client, model=settings.model, contents=contents, config=generation_config(settings))
        if built is not None:
            # And the response models, which the reply's last chunk (its finish reason) is read into.
            content = {"parts": [{"text": ""}], "role": "model"}
            sdk_chunk({"candidates": [{"content": content, "finishReason": "STOP"}]}, built[4].config, built[4])

    def _client(self, settings: Settings, loop: asyncio.AbstractEventLoop | None = None) -> genai.Client:
        if not settings.api_key:
            from flashchat.config.settings import NO_KEY_MESSAGE

            raise ChatError(ErrorKind.NO_KEY, NO_KEY_MESSAGE)
        if problem := api_key_problem(settings.api_key):
            raise ChatError(ErrorKind.BAD_KEY, problem[0].upper() + problem[1:] + ".")
        loop = loop or asyncio.get_running_loop()
        key = (id(loop), settings.api_key, settings.base_url, settings.connect_timeout)
        client = self._clients.get(key)
        if client is None:
            client = new_client(settings)
            self._clients[key] = client
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            with contextlib.suppress(Exception):
                await client.aio.aclose()

    async def list_models(self, settings: Settings) -> list[ModelInfo]:
        from flashchat.providers.base import ModelInfo

        try:
            pager = await self._client(settings).aio.models.list(config={"page_size": 100})
            found = [model async for model in pager]
        except genai_errors.APIError as error:
            raise classify_api_error(error, settings) from error
        except (httpx2.TransportError, OSError) as error:
            raise ChatError(ErrorKind.NETWORK, f"Could not list models from {_host(settings)}.") from error
        except (pydantic.ValidationError, *_SDK_SHAPE_ERRORS) as error:
            raise _unreadable(error, settings) from error
        return [
            ModelInfo(
                name=(model.name or "").removeprefix("models/"),
                display_name=model.display_name or "",
                input_token_limit=model.input_token_limit,
                output_token_limit=model.output_token_limit,
                thinking=bool(model.thinking),
            )
            for model in found
            if model.name and "generateContent" in (model.supported_actions or [])
        ]

    async def count_tokens(self, settings: Settings, text: str) -> int:
        """The API's own count for `text` (countTokens); the chip of an attached file shows it."""
        try:
            response = await self._client(settings).aio.models.count_tokens(model=settings.model, contents=text)
        except genai_errors.APIError as error:
            raise classify_api_error(error, settings) from error
        except (httpx2.TransportError, OSError) as error:
            raise ChatError(ErrorKind.NETWORK, f"Could not count tokens at {_host(settings)}.") from error
        except (pydantic.ValidationError, *_SDK_SHAPE_ERRORS) as error:
            raise _unreadable(error, settings) from error
        return response.total_tokens or 0

    async def count_media_tokens(self, settings: Settings, attachment: MediaAttachment) -> int:
        """The API's count for an attached image, PDF, audio or video file (sent inline to countTokens)."""
        from flashchat.providers.gemini_files import counting_part

        contents = [{"role": "user", "parts": [counting_part(attachment)]}]
        try:
            response = await self._client(settings).aio.models.count_tokens(
                model=settings.model, contents=cast("types.ContentListUnionDict", contents)
            )
        except genai_errors.APIError as error:
            raise classify_api_error(error, settings) from error
        except (httpx2.TransportError, OSError) as error:
            raise ChatError(ErrorKind.NETWORK, f"Could not count tokens at {_host(settings)}.") from error
        return response.total_tokens or 0

    async def stream(
        self, conversation: Conversation, settings: Settings, draft: ReplyDraft, *, upload_again: bool = True
    ) -> AsyncGenerator[StreamEvent, None]:
        if settings.api == "interactions":
            from flashchat.providers.gemini_interactions import stream_interaction

            interaction = stream_interaction(self._client(settings), conversation, settings, draft)
            draft.mark_sent()  # and again by the transport, if the SDK sends through ours
            sending = SENDING_FOR.set(draft)
            try:
                async with contextlib.aclosing(interaction) as events:
                    async for event in events:
                        yield event
            finally:
                with contextlib.suppress(ValueError):
                    SENDING_FOR.reset(sending)
            return
        draft.provider = NAME
        collector = _PartCollector()
        draft.native_content = collector.native
        media_parts: dict[tuple[str, str], dict[str, Any]] = {}
        # The SDK may send the request on the first chunk asked for, so this holds until the stream ends.
        sending = SENDING_FOR.set(draft)
        try:
            client = self._client(settings)
            if any(message.media for message in conversation.messages):
                from flashchat.providers.gemini_files import prepare_parts

                async for progress in prepare_parts(client, conversation, media_parts):
                    yield progress
            _build_shared_models()  # before any of the SDK's schemas is built: the contents' check is the first
            # What `gemini_contents` gives, and the same in wire form, built from what the turn before kept.
            contents, wire = self._kept.build(
                conversation.messages, functools.partial(message_content, media_parts=media_parts), answer_unanswered
            )
            request = {"model": settings.model, "contents": contents, "config": generation_config(settings)}
            draft.mark_sent()  # and again by the transport, when the bytes leave
            response = await open_stream(
                client, **{**request, "contents": wire or contents}
            ) or await client.aio.models.generate_content_stream(**request)
            # Annotated as an AsyncIterator, but it is an async generator, closed at once when the user stops.
            async with contextlib.aclosing(
                cast("AsyncGenerator[PlainChunk | types.GenerateContentResponse, None]", response)
            ) as chunks:
                async for chunk in chunks:
                    if isinstance(chunk, PlainChunk):
                        events = _absorb_plain(chunk, draft, collector)
                    else:
                        events = _absorb(chunk, draft, collector)
                    for event in events:
                        yield event
        except genai_errors.APIError as error:
            if upload_again and not draft.received_content and _names_a_gone_file(error, media_parts):
                # An upload expired early or was deleted: upload it again, once, and send the same request.
                conversation.media.forget_uploads()
                async for event in self.stream(conversation, settings, draft, upload_again=False):
                    yield event
                return
            raise classify_api_error(error, settings) from error
        except RedirectRefused as error:
            message = redirect_message(_host(settings), error.status, error.location)
            raise ChatError(ErrorKind.BAD_RESPONSE, message, status=error.status) from error
        except httpx2.TimeoutException as error:
            raise ChatError(
                ErrorKind.NETWORK,
                f"Could not connect to {_host(settings)} within {settings.connect_timeout:g} s.",
                detail=repr(error),
            ) from error
        except (httpx2.TransportError, httpx2.StreamError, OSError) as error:
            raise ChatError(
                ErrorKind.NETWORK, _transport_message(error, settings, draft), detail=repr(error)
            ) from error
        except (genai_errors.UnknownApiResponseError, pydantic.ValidationError) as error:
            raise ChatError(
                ErrorKind.BAD_RESPONSE,
                "The server sent a response flashchat could not read: "
                + bounded_server_text(str(error), settings.api_key),
            ) from error
        except _SDK_SHAPE_ERRORS as error:
            raise _unreadable(error, settings) from error
        finally:
            with contextlib.suppress(ValueError):  # closed from another context: nothing of ours is left set
                SENDING_FOR.reset(sending)


def _names_a_gone_file(error: genai_errors.APIError, media_parts: dict[tuple[str, str], dict[str, Any]]) -> bool:
    from flashchat.providers.gemini_files import is_gone_file_error

    return any("file_data" in part for part in media_parts.values()) and is_gone_file_error(error)


def _absorb(chunk: types.GenerateContentResponse, draft: ReplyDraft, collector: _PartCollector) -> list[StreamEvent]:
    events: list[StreamEvent] = []
    keep_metadata(chunk, draft)
    if chunk.model_version:
        draft.model_version = chunk.model_version
    if chunk.prompt_feedback is not None and chunk.prompt_feedback.block_reason is not None:
        draft.block_reason = _enum_name(chunk.prompt_feedback.block_reason)
    candidate = chunk.candidates[0] if chunk.candidates else None
    if candidate is not None:
        if candidate.finish_reason is not None:
            draft.finish_reason = _enum_name(candidate.finish_reason)
            draft.finish_message = candidate.finish_message or ""
        if candidate.grounding_metadata is not None:
            draft.extras["grounding"] = candidate.grounding_metadata.model_dump(mode="json", exclude_none=True)
        if candidate.url_context_metadata is not None:
            draft.extras["url_context"] = candidate.url_context_metadata.model_dump(mode="json", exclude_none=True)
        parts = (candidate.content.parts if candidate.content else None) or []
        for part in parts:
            collector.add(part)
            draft.mark_content()
            if part.function_call is not None:
                draft.function_calls = collector.function_calls()
            text, thought = _display_text(part)
            if text:
                _show_piece(text, thought, draft, events)
    if chunk.usage_metadata is not None:
        draft.usage = _usage(chunk.usage_metadata)
        events.append(UsageUpdate(draft.usage))
    return events


def _absorb_plain(chunk: PlainChunk, draft: ReplyDraft, collector: _PartCollector) -> list[StreamEvent]:
    """What `_absorb` does for a chunk of text parts and usage, read without the SDK's models."""
    events: list[StreamEvent] = []
    if chunk.response_id:
        draft.extras["response_id"] = chunk.response_id
    if chunk.token_details:
        draft.extras["token_details"] = chunk.token_details
    if chunk.model_version:
        draft.model_version = chunk.model_version
    for text, thought in chunk.parts:
        collector.add_text(text, thought)
        draft.mark_content()
        if text:
            _show_piece(text, thought, draft, events)
    if chunk.usage is not None:
        draft.usage = chunk.usage
        events.append(UsageUpdate(chunk.usage))
    return events


def _show_piece(text: str, thought: bool | None, draft: ReplyDraft, events: list[StreamEvent]) -> None:
    if thought:
        draft.thought_pieces.append(text)
        events.append(ThoughtDelta(text))
    else:
        draft.text_pieces.append(text)
        events.append(TextDelta(text))


def _display_text(part: types.Part) -> tuple[str, bool]:
    """What a part shows the user: its text, or code the model ran and that code's output as fenced blocks."""
    if part.executable_code is not None:
        language = _enum_name(part.executable_code.language or "python").lower().replace("language_unspecified", "")
        return f"\n\n```{language}\n{(part.executable_code.code or '').rstrip()}\n```\n\n", False
    if part.code_execution_result is not None:
        outcome = _enum_name(part.code_execution_result.outcome or "")
        label = "Output:" if outcome in ("", "OUTCOME_OK") else f"Output ({outcome.removeprefix('OUTCOME_').lower()}):"
        output = (part.code_execution_result.output or "").rstrip()
        return f"{label}\n\n```text\n{output}\n```\n\n", False
    return part.text or "", bool(part.thought)


# What the SDK raises when a body has the wrong shape (a list for an object, a number for a string, JSON
# nested too deeply): the server is not trusted, so these are a response flashchat could not read.
_SDK_SHAPE_ERRORS = (RecursionError, AttributeError, TypeError, KeyError, IndexError, ValueError)


def _unreadable(error: BaseException, settings: Settings) -> ChatError:
    return ChatError(
        ErrorKind.BAD_RESPONSE,
        f"The server at {_host(settings)} sent a response flashchat could not read ({type(error).__name__}).",
        detail=bounded_server_text(str(error), settings.api_key),
    )


def _host(settings: Settings) -> str:
    return settings.base_url or "generativelanguage.googleapis.com"


def _transport_message(error: BaseException, settings: Settings, draft: ReplyDraft) -> str:
    if draft.received_content:
        return "The connection dropped in the middle of the reply."
    if isinstance(error, httpx2.ConnectError):
        return f"Could not connect to {_host(settings)}: check your network (or base_url)."
    return f"The connection to {_host(settings)} failed before the reply started."


def _rpc_error(body: Any) -> dict[str, Any] | None:
    """The google.rpc error object of an error response body ({"error": {...}})."""
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


def _error_reasons(body: Any) -> set[str]:
    error = _rpc_error(body)
    return {
        str(detail.get("reason"))
        for detail in (error or {}).get("details") or []
        if isinstance(detail, dict) and detail.get("reason")
    }


def _retry_after_header(error: genai_errors.APIError) -> float | None:
    """Seconds from a Retry-After header (a gateway in front of the API may send one instead of RetryInfo)."""
    headers = getattr(error.response, "headers", None)
    value = headers.get("retry-after", "") if headers is not None else ""
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds < 10**9 else None


def classify_api_error(error: genai_errors.APIError, settings: Settings) -> ChatError:
    # Bounded, an HTML page reduced to its title, and the key masked if the server echoed it back.
    code, server_text = error.code, bounded_server_text(str(error.message or ""), settings.api_key)
    reasons = _error_reasons(error.details)
    detail = f"{code} {error.status}: {server_text}"
    if "API_KEY_INVALID" in reasons or code == 401:
        return ChatError(
            ErrorKind.BAD_KEY,
            GEMINI_KEY_REJECTED,
            status=code,
            detail=detail,
        )
    if code == 403:
        return ChatError(
            ErrorKind.PERMISSION,
            f"Permission denied ({server_text or 'no details'}): the key may not have access to "
            f"{settings.model} or the Gemini API is not enabled for its project.",
            status=code,
            detail=detail,
        )
    if code == 404:
        return ChatError(
            ErrorKind.NOT_FOUND,
            f"Model {settings.model!r} was not found: set another with --model or `flashchat config set model NAME`.",
            status=code,
            detail=detail,
        )
    if code == 429:
        return ChatError(
            ErrorKind.RATE_LIMIT,
            "Rate limited or out of quota (429)" + (f": {server_text}" if server_text else "."),
            status=code,
            retry_after=retry_info_delay(_rpc_error(error.details)) or _retry_after_header(error),
            detail=detail,
        )
    if code >= 500:
        return ChatError(
            ErrorKind.SERVER,
            f"The Gemini API had a server error ({code} {error.status or ''}".rstrip()
            + ")"
            + (f": {server_text}" if server_text else "."),
            status=code,
            detail=detail,
        )
    return ChatError(
        ErrorKind.BAD_REQUEST,
        f"The API rejected the request ({code} {error.status or ''}".rstrip() + f"): {server_text or 'no details'}",
        status=code,
        detail=detail,
    )
