"""The Gemini stream read as JSON chunk by chunk, with the SDK's response models built only where needed.

Why: google-genai turns every streamed chunk into a validated `GenerateContentResponse` (`_from_response`:
extra-field removal, type-mismatch checks, pydantic validation), about half a millisecond a chunk; for a reply
in small chunks that was most of the CPU `-p` used (bench/gemini_chunks.py). Most chunks are a text delta plus
the running usage, so those are read here from the JSON (`PlainChunk`); every other chunk (a signature, a call,
a finish reason, feedback, grounding, anything unexpected) still goes through the SDK's own conversion.

The request is built and sent by the SDK's own functions, the ones `generate_content_stream` calls, so the
body, headers, retries and the errors raised (status codes, an error event inside the stream) are the same. The
layers of `generate_content_stream` left out do nothing for flashchat's requests: MCP sessions (never used),
automatic function calling (disabled whenever tools are sent; with no tools there is nothing to call) and
automatic continuation (turned off in `generation_config`). When the installed SDK lacks one of the private
functions this relies on, `open_stream` returns None and the caller uses the public call.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

from google import genai
from google.genai import types

from flashchat.core.conversation import Usage
from flashchat.providers.gemini_contents import PLACEHOLDER_CONTENTS, SentAsIs, spliced_body

_TOP_LEVEL = frozenset({"candidates", "usageMetadata", "modelVersion", "responseId"})
_CANDIDATE = frozenset({"content", "index"})
_CONTENT = frozenset({"parts", "role"})
_PART = frozenset({"text", "thought"})
_USAGE_ORDER = ("prompt", "output", "thoughts", "cached", "tool_use", "total")  # Usage's fields, in its order
# usageMetadata field -> its count's position in _USAGE_ORDER; the *Details lists are read by `_token_counts`.
_USAGE_COUNTS = {
    "promptTokenCount": 0,
    "candidatesTokenCount": 1,
    "thoughtsTokenCount": 2,
    "cachedContentTokenCount": 3,
    "toolUsePromptTokenCount": 4,
    "totalTokenCount": 5,
}
# In the order `gemini_metadata.token_details` uses, so the stored extras are the same bytes.
_USAGE_DETAILS = {
    "promptTokensDetails": "prompt",
    "candidatesTokensDetails": "output",
    "cacheTokensDetails": "cached",
    "toolUsePromptTokensDetails": "tool_use",
}
_DETAIL_ORDER = tuple(_USAGE_DETAILS.values())
_MODALITIES = frozenset(modality.value for modality in types.MediaModality)
_MODALITY_ENTRY = frozenset({"modality", "tokenCount"})


@dataclass(slots=True)
class PlainChunk:
    """A chunk with only text (or thought text) parts, usage, model version and response id."""

    parts: list[tuple[str, bool | None]] = field(default_factory=list)  # (text, the part's `thought` as sent)
    usage: Usage | None = None
    token_details: dict[str, dict[str, int]] = field(default_factory=dict)
    model_version: str = ""
    response_id: str = ""


def plain_chunk(body: Any) -> PlainChunk | None:
    """The chunk read directly, or None when it holds anything the SDK's models should read.

    Runs for every streamed chunk (4,000 in a 20k-token reply in small chunks), so it reads each field once,
    with `type() is` checks: JSON gives exact types, and anything else goes to the SDK anyway."""
    if not isinstance(body, dict) or not body.keys() <= _TOP_LEVEL:
        return None
    chunk = PlainChunk()
    model_version = body.get("modelVersion")
    if model_version is not None:
        if type(model_version) is not str:
            return None
        chunk.model_version = model_version
    response_id = body.get("responseId")
    if response_id is not None:
        if type(response_id) is not str:
            return None
        chunk.response_id = response_id
    candidates = body.get("candidates", _ABSENT)
    if candidates is not _ABSENT and not _read_parts(candidates, chunk):
        return None
    metadata = body.get("usageMetadata", _ABSENT)
    if metadata is not _ABSENT and not _read_usage(metadata, chunk):
        return None
    return chunk


_ABSENT: Any = object()


def _read_parts(candidates: Any, chunk: PlainChunk) -> bool:
    if type(candidates) is not list or len(candidates) != 1:
        return False
    candidate = candidates[0]
    if type(candidate) is not dict or not candidate.keys() <= _CANDIDATE:
        return False
    if type(candidate.get("index", 0)) is not int:
        return False
    content = candidate.get("content")
    if content is None:
        return True
    if type(content) is not dict or not content.keys() <= _CONTENT or type(content.get("role", "")) is not str:
        return False
    parts = content.get("parts")
    if parts is None:
        return True
    if type(parts) is not list:
        return False
    read = chunk.parts
    for part in parts:
        if type(part) is not dict or not part.keys() <= _PART:
            return False
        text, thought = part.get("text"), part.get("thought")
        if type(text) is not str or (thought is not None and type(thought) is not bool):
            return False
        read.append((text, thought))
    return True


def _read_usage(metadata: Any, chunk: PlainChunk) -> bool:
    if type(metadata) is not dict:
        return False
    counts = [0, 0, 0, 0, 0, 0]
    details: dict[str, dict[str, int]] = {}
    for name, value in metadata.items():
        position = _USAGE_COUNTS.get(name)
        if position is not None:
            if type(value) is not int:
                return False
            counts[position] = value
            continue
        detail = _USAGE_DETAILS.get(name)
        if detail is None:
            return False
        modality_counts = _token_counts(value)
        if modality_counts is None:
            return False
        if modality_counts:
            details[detail] = modality_counts
    chunk.usage = Usage(*counts)
    if len(details) > 1:
        details = {name: details[name] for name in _DETAIL_ORDER if name in details}
    chunk.token_details = details
    return True


def _token_counts(entries: Any) -> dict[str, int] | None:
    """`[{"modality": "TEXT", "tokenCount": 10}, ...]` summed per modality, as `token_details` does."""
    if type(entries) is not list:
        return None
    counts: dict[str, int] = {}
    for entry in entries:
        if type(entry) is not dict or not entry.keys() <= _MODALITY_ENTRY:
            return None
        modality, count = entry.get("modality"), entry.get("tokenCount", 0)
        if modality not in _MODALITIES or type(count) is not int:
            return None
        counts[modality] = counts.get(modality, 0) + count
    return counts


def sdk_request(
    client: genai.Client, *, model: str, contents: Any, config: types.GenerateContentConfig
) -> tuple[Any, str, dict[str, Any], Any, Any] | None:
    """The request as `generate_content_stream` builds it (validated and converted by the SDK's own functions):
    (api client, path, body, http options, parameters), or None when this module cannot send it. Sends nothing,
    so a UI's warm-up also calls it to build the SDK's request models before the first send."""
    from google.genai import models as sdk_models

    api_client = client.aio.models._api_client  # pyright: ignore[reportPrivateUsage]
    to_request = getattr(sdk_models, "_GenerateContentParameters_to_mldev", None)
    from_response = getattr(sdk_models, "_GenerateContentResponse_from_mldev", None)
    from_response_method = getattr(types.GenerateContentResponse, "_from_response", None)
    parameters_type = getattr(types, "_GenerateContentParameters", None)
    if api_client.vertexai or None in (to_request, from_response, from_response_method, parameters_type):
        return None
    assert to_request is not None and parameters_type is not None
    # Contents already in wire form (gemini_contents.py) skip the SDK's validation and conversion: the request is
    # built around a placeholder and carries them instead.
    wire = contents if isinstance(contents, SentAsIs) else None
    parameters = parameters_type(model=model, contents=PLACEHOLDER_CONTENTS if wire else contents, config=config)
    request = to_request(api_client, parameters, None, parameters)
    url_parts = request.get("_url")
    path = "{model}:streamGenerateContent?alt=sse".format_map(url_parts) if url_parts else ""
    if not path or request.get("_query"):
        return None  # a request shape this module was not written for
    request.pop("config", None)
    from google.genai import _common

    request = _common.encode_unserializable_types(_common.convert_to_dict(request))
    if wire:
        request["contents"] = wire  # with its kept JSON, which `_streamed_bodies` sends
    http_options = parameters.config.http_options if parameters.config is not None else None
    return api_client, path, request, http_options, parameters


async def open_stream(
    client: genai.Client, *, model: str, contents: Any, config: types.GenerateContentConfig
) -> AsyncGenerator[PlainChunk | types.GenerateContentResponse, None] | None:
    """Send the streaming request; the chunks come as `PlainChunk` where possible, else as the SDK makes them."""
    built = sdk_request(client, model=model, contents=contents, config=config)
    if built is None:
        return None
    api_client, path, request, http_options, parameters = built
    bodies = await _streamed_bodies(api_client, path, request, http_options)

    async def chunks() -> AsyncGenerator[PlainChunk | types.GenerateContentResponse, None]:
        async with contextlib.aclosing(bodies) as events:
            async for body, headers in events:
                plain = plain_chunk(body)
                if plain is not None:
                    yield plain
                    continue
                converted = sdk_chunk(body, config, parameters)
                converted.sdk_http_response = types.HttpResponse(headers=headers)
                yield converted

    return chunks()


async def _streamed_bodies(
    api_client: Any, path: str, request: dict[str, Any], http_options: Any
) -> AsyncGenerator[tuple[Any, dict[str, str]], None]:
    """Send the request; each streamed event's JSON (as the SDK's SSE reader parsed it) with the headers.

    This is `async_request_streamed` without its per-event round trip: it dumps each parsed event back to a
    string, wraps it in a pydantic `HttpResponse` and the caller parses it again (about 40 us an event; 4,000
    events in a 20k-token reply in small chunks). The request is built and sent, with the SDK's status-code
    errors, by the same `_build_request` / `_async_request`; an `{"error": ...}` event raises the same
    `APIError` the SDK raises. An SDK without those two methods gets the public call.
    """
    build = getattr(api_client, "_build_request", None)
    send = getattr(api_client, "_async_request", None)
    if build is None or send is None:
        responses = await api_client.async_request_streamed("post", path, request, http_options)
        return _reparsed(responses)
    http_request = build("post", path, request, http_options)
    if (body := spliced_body(http_request.data)) is not None:
        http_request.data = body  # the history's JSON kept from the turn before (gemini_contents.py)
    response = await send(http_request=http_request, http_options=http_options, stream=True)
    return _parsed(response)


async def _parsed(response: Any) -> AsyncGenerator[tuple[Any, dict[str, str]], None]:
    from google.genai import errors as genai_errors

    segments = response.async_segments()
    try:
        async for body in segments:
            # The SDK's own test (`async_request_streamed`): the event's JSON starts with `{"error":`.
            if type(body) is dict and next(iter(body), None) == "error":
                await genai_errors.APIError.raise_error_async(body.get("error", {}).get("code"), body, response)
            yield body, response.headers
    finally:
        await segments.aclose()  # the connection goes back at once when the user stops


async def _reparsed(responses: Any) -> AsyncGenerator[tuple[Any, dict[str, str]], None]:
    async with contextlib.aclosing(responses) as events:
        async for response in events:
            yield (json.loads(response.body) if response.body else {}), response.headers


def sdk_chunk(body: Any, config: types.GenerateContentConfig | None, parameters: Any) -> types.GenerateContentResponse:
    """A chunk converted exactly as `generate_content_stream` converts it (what every non-plain chunk gets)."""
    from google.genai import models as sdk_models

    return types.GenerateContentResponse._from_response(  # pyright: ignore[reportPrivateUsage]
        response=sdk_models._GenerateContentResponse_from_mldev(body, None, parameters),  # pyright: ignore[reportPrivateUsage]
        kwargs={
            "config": {
                "response_schema": getattr(config, "response_schema", None),
                "response_json_schema": getattr(config, "response_json_schema", None),
                "include_all_fields": getattr(config, "include_all_fields", None),
            }
        },
    )
