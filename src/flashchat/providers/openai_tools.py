"""Local tools over Chat Completions: declarations, the calls a reply makes, and the `role: "tool"` answers.

- Streamed calls arrive as `delta.tool_calls` pieces merged by `index` (several calls may interleave, the
  arguments string split anywhere); the name comes whole in the first piece. A server that omits `index`
  (older Ollama) sends each call whole, told apart by its `id`.
- Gemini's compatible endpoint sends `"id": ""`; a call without an id gets `call_<position>` in the request
  (the assistant message and its tool messages use the same one), and its `extra_content` (the thought
  signature) goes back untouched.
- Every assistant message with tool_calls must be followed by one tool message per call id, or the server
  answers 400; a stored conversation missing some (imported, or stopped in between) gets error answers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flashchat.core.conversation import Message, ToolCall

NAME = "openai"
UNANSWERED = "No answer was recorded for this call (the conversation was imported or stopped before it ran)."


def tool_declarations() -> list[dict[str, Any]]:
    from flashchat.core.local_tools import DECLARATIONS

    return [
        {
            "type": "function",
            "function": {
                "name": declaration["name"],
                "description": declaration["description"],
                "parameters": declaration["parameters_json_schema"],
            },
        }
        for declaration in DECLARATIONS
    ]


def call_id(call: Mapping[str, Any], position: int) -> str:
    given = call.get("id")
    return given if isinstance(given, str) and given else f"call_{position}"


def parsed_arguments(arguments: Any) -> dict[str, Any]:
    """A call's arguments: a JSON object string (or an object, as some servers send); anything else is kept
    under "arguments", so the tool answers "bad arguments" and the model can try again."""
    if isinstance(arguments, Mapping):
        return dict(arguments)
    if not isinstance(arguments, str) or not arguments.strip():
        return {}
    try:
        value = json.loads(arguments)
    except ValueError:
        return {"arguments": arguments}
    return value if isinstance(value, dict) else {"arguments": value}


def calls_in(message: Mapping[str, Any] | None) -> list[ToolCall]:
    """The tool calls of an assistant message, with the ids the request will carry."""
    calls = []
    for position, call in enumerate((message or {}).get("tool_calls") or []):
        if not isinstance(call, Mapping):
            continue
        function = call.get("function")
        function = function if isinstance(function, Mapping) else {}
        name = function.get("name")
        calls.append(
            ToolCall(
                name=name if isinstance(name, str) else "",
                args=parsed_arguments(function.get("arguments")),
                id=call_id(call, position),
            )
        )
    return calls


def _call_ids_in(message: Mapping[str, Any]) -> list[str]:
    """The ids `calls_in` gives, without parsing each call's arguments (every turn, for every call of the history)."""
    calls = message.get("tool_calls") or []
    return [call_id(call, position) for position, call in enumerate(calls) if isinstance(call, Mapping)]


def with_call_ids(tool_calls: list[Any]) -> list[Any]:
    """The tool calls as sent back: each with its id (generated where the server gave none) and its arguments as
    a JSON string (a server that sent an object); otherwise untouched, extra_content included."""
    outgoing = []
    for position, call in enumerate(tool_calls):
        if isinstance(call, Mapping):
            function = call.get("function")
            if isinstance(function, Mapping) and isinstance(function.get("arguments"), Mapping):
                call = {**call, "function": {**function, "arguments": json.dumps(function["arguments"])}}
            if not call.get("id"):
                call = {**call, "id": call_id(call, position)}
        outgoing.append(call)
    return outgoing


def tool_results_message(results: list[tuple[ToolCall, dict[str, Any]]]) -> Message:
    """The tool messages answering a reply's calls, one per call id, kept as one user-side message."""
    answers = [
        {"role": "tool", "tool_call_id": call.id, "content": json.dumps(response, ensure_ascii=False)}
        for call, response in results
    ]
    summary = "; ".join(
        f"{call.describe()} -> {'error' if 'error' in response else 'ok'}" for call, response in results
    )
    return Message(role="user", text=f"[tool results: {summary}]", native={"tool_messages": answers}, provider=NAME)


def answer_unanswered(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`messages` with an error tool message for each call id the messages after its assistant leave unanswered
    (inserted right after the answers that are there, before anything else)."""
    repaired: list[dict[str, Any]] = []
    position = 0
    while position < len(messages):
        message = messages[position]
        repaired.append(message)
        position += 1
        if message.get("role") != "assistant" or not message.get("tool_calls"):
            continue
        answered = set()
        while position < len(messages) and messages[position].get("role") == "tool":
            answered.add(messages[position].get("tool_call_id"))
            repaired.append(messages[position])
            position += 1
        for ident in _call_ids_in(message):
            if ident not in answered:
                error = json.dumps({"error": UNANSWERED})
                repaired.append({"role": "tool", "tool_call_id": ident, "content": error})
    return repaired
