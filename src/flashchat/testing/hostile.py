"""Hostile replies for the fake servers: what a server or gateway the user does not control may send.

Every string a server sends is untrusted (SECURITY.md). These named replies put terminal escapes, bidi
controls and unbounded text into each place a server string can reach the user: error messages and bodies,
model names, grounding titles, queries and URIs, finish reasons and finish messages, tool-call arguments.
Tests in tests/security/ send them through the real clients and check the bytes that reach the terminal.

    fake.enqueue(hostile.gemini_error(400))
    fake.models = hostile.gemini_models()
"""

from __future__ import annotations

from typing import Any

from flashchat.testing import fake_gemini, fake_openai
from flashchat.testing._scripted_server import REDIRECT_LOOP_PATH, RawReply

# What a terminal acts on: clear the screen and home the cursor, set the window title (OSC 0), write the
# clipboard (OSC 52), ask for the cursor position (ESC[6n: the terminal types the answer back), the 8-bit
# CSI and OSC introducers and a C1 NEL, a bare CR that overwrites the line, a BEL.
ESCAPES = "\x1b[2J\x1b[H\x1b]0;owned\x07\x1b]52;c;cm0gLXJmIH4=\x07\x1b[6n\x9b31m\x9d0;t\x9c\x85\rX\x07"
# What reorders or hides text: RLO/PDF, an isolate pair, a zero-width space, a BOM, a word joiner.
BIDI = "\u202eevil\u202c \u2066iso\u2069 \u200bzw\ufeff\u2060"
HOSTILE = f"hostile{ESCAPES}{BIDI}end"

HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body>\n<h1>Bad Gateway</h1>\n"
    f"<p>The proxy got no answer{ESCAPES}{BIDI}</p>\n<script>alert(1)</script>\n</body></html>\n"
)


def html_error(status: int = 502) -> RawReply:
    """A proxy's HTML error page (not JSON), with escapes inside."""
    return RawReply(status, HTML_PAGE.encode())


def huge_body(status: int = 500, megabytes: int = 5) -> RawReply:
    """Megabytes of text that is not JSON: a log dump, a binary by mistake."""
    line = f"garbage {ESCAPES} " * 8 + "\n"
    return RawReply(status, (line * (megabytes * 1_000_000 // len(line) + 1)).encode(), "text/plain")


def malformed_bodies() -> dict[str, RawReply]:
    """Bodies of the wrong shape, for either fake: each must end as an error the user can read, never a crash."""
    sse = "text/event-stream"
    return {
        "SSE that is not JSON": RawReply(200, b"data: {not json\r\n\r\n", sse),
        "SSE nested 100,000 deep": RawReply(200, b"data: " + b"[" * 100_000 + b"\r\n\r\n", sse),
        "SSE of the wrong types": RawReply(
            200,
            b'data: {"candidates": [{"content": {"parts": [{"text": 5}]}, "finishReason": 7}], '
            b'"choices": [{"delta": {"content": 5}, "finish_reason": 7}]}\r\n\r\n',
            sse,
        ),
        "an HTML page with 200": RawReply(200, HTML_PAGE.encode()),
        "binary with 200": RawReply(200, bytes(range(256)) * 40, "application/octet-stream"),
        "an error that is not UTF-8": RawReply(400, b"\xff\xfe" + ESCAPES.encode(), "text/plain"),
        "an error body that is a list": RawReply(400, b'[{"error": "x"}]', "application/json"),
        "an error of the wrong types": RawReply(
            400, b'{"error": {"code": "x", "message": {"a": 1}}}', "application/json"
        ),
        "status 599": RawReply(599, b"?", "text/plain"),
        "status 204": RawReply(204),
    }


def redirect_loop() -> RawReply:
    """A redirect to a path that redirects to itself, forever (both fakes serve REDIRECT_LOOP_PATH)."""
    return RawReply(302, headers={"Location": REDIRECT_LOOP_PATH})


# -- Gemini


def gemini_error(code: int = 400, message: str = HOSTILE, **options: Any) -> fake_gemini.Reply:
    """A google.rpc error whose message carries escapes and bidi controls."""
    return fake_gemini.Reply.error(code, message=message, **options)


def gemini_huge_message(code: int = 400, megabytes: int = 3) -> fake_gemini.Reply:
    return gemini_error(code, message=("x" * 99 + ESCAPES) * (megabytes * 10_000))


def gemini_long_rate_limit(seconds: int = 3600) -> fake_gemini.Reply:
    """A 429 whose RetryInfo asks for `seconds` and whose message does not say so."""
    return fake_gemini.Reply.error(429, message="Quota exceeded.", retry_delay=f"{seconds}s")


def gemini_models() -> list[dict[str, Any]]:
    """A models list whose names and display names carry escapes (and one that is 10,000 characters)."""
    models = [dict(model) for model in fake_gemini.DEFAULT_MODELS]
    models.append(fake_gemini.DEFAULT_MODELS[0] | {"name": f"models/evil{ESCAPES}{BIDI}", "displayName": HOSTILE})
    models.append(fake_gemini.DEFAULT_MODELS[0] | {"name": "models/long-" + "m" * 10_000})
    return models


def gemini_grounded_reply(text: str = "Grounded answer.") -> fake_gemini.Reply:
    """A reply whose grounding titles, URIs and search queries carry escapes, and whose finish reason and
    finishMessage do too."""
    grounding = {
        "webSearchQueries": [HOSTILE, "q" * 5000],
        "groundingChunks": [
            {"web": {"title": HOSTILE, "uri": f"https://evil.example/{ESCAPES}"}},
            {"web": {"title": "t" * 5000, "uri": f"javascript:{ESCAPES}"}},
        ],
    }
    candidate = {
        "content": {"parts": [{"text": text}], "role": "model"},
        "finishReason": "STOP",
        "index": 0,
        "groundingMetadata": grounding,
    }
    return fake_gemini.Reply.events([{"candidates": [candidate]}])


def gemini_hostile_finish(text: str = "Partial answer.") -> fake_gemini.Reply:
    """An unknown finish reason and a finishMessage full of escapes."""
    candidate = {
        "content": {"parts": [{"text": text}], "role": "model"},
        "finishReason": f"WEIRD{ESCAPES}",
        "finishMessage": HOSTILE + "m" * 100_000,
        "index": 0,
    }
    return fake_gemini.Reply.events([{"candidates": [candidate]}])


def gemini_tool_call(name: str = "read_file", **args: Any) -> fake_gemini.Reply:
    """A function call whose arguments carry escapes (the default: a path full of them, 10 MB long)."""
    return fake_gemini.Reply.function_calls([(name, args or {"path": HOSTILE + "p" * 10_000_000})])


# -- OpenAI-compatible


def openai_error(status: int = 400, message: str = HOSTILE, **options: Any) -> fake_openai.Reply:
    return fake_openai.Reply.error(status, message, **options)


def openai_models() -> list[dict[str, Any]]:
    return [*fake_openai.DEFAULT_MODELS, {"id": f"evil{ESCAPES}{BIDI}", "object": "model", "owned_by": HOSTILE}]


def openai_hostile_finish(text: str = "Partial answer.") -> fake_openai.Reply:
    return fake_openai.Reply.text(text, finish_reason=f"weird{ESCAPES}")


def openai_tool_call(name: str = "read_file", **args: Any) -> fake_openai.Reply:
    return fake_openai.Reply.tool_calls([(name, args or {"path": HOSTILE + "p" * 10_000_000})])
