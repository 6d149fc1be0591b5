"""Gemini function calls as they really arrive: streamed in pieces, or left without an answer.

- Vertex-style streamed arguments: a `functionCall` part with the name and `willContinue: true`, then parts
  whose `functionCall` holds only `partialArgs` (`{"jsonPath": "$.city", "stringValue": "Par"}`, pieces of
  one string value are concatenated), the last with `willContinue` false or absent. They are assembled into
  one ordinary `functionCall` with complete `args`: that is what the call means, what the approval shows, and
  the only form the Gemini Developer API accepts back (the SDK raises ValueError for `partial_args`).
- The API rejects a request whose model turn has more function calls than the turn after it has function
  responses. A conversation imported from another client, or one stopped between a call and its answer, can
  hold such a turn; `answer_unanswered` fills the gap with error responses (matching id and name).
"""

from __future__ import annotations

import re
from typing import Any

from google.genai import types

from flashchat.core.conversation import ToolCall
from flashchat.core.errors import ChatError, ErrorKind

# `$.a`, `.b`, `[0]`, `['key']`, `["key"]`: the JSONPath subset the API uses for partial arguments.
_PATH_STEP = re.compile(r"\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\[\"((?:[^\"\\]|\\.)*)\"\]")
UNANSWERED = "No answer was recorded for this call (the conversation was imported or stopped before it ran)."


def _path_steps(path: str) -> list[str | int]:
    if not path.startswith("$"):
        raise ValueError(path)
    steps: list[str | int] = []
    position = 1
    while position < len(path):
        match = _PATH_STEP.match(path, position)
        if match is None:
            raise ValueError(path)
        name, index, single, double = match.groups()
        steps.append(int(index) if index is not None else next(s for s in (name, single, double) if s is not None))
        position = match.end()
    return steps


def _partial_value(partial: types.PartialArg) -> tuple[Any, bool]:
    """The value a partial argument carries, and whether it is a piece of a string to append to."""
    if partial.string_value is not None:
        return partial.string_value, True
    if partial.number_value is not None:
        number = partial.number_value
        return (int(number) if float(number).is_integer() else number), False
    if partial.bool_value is not None:
        return partial.bool_value, False
    return None, False


def apply_partial_arg(args: dict[str, Any], partial: types.PartialArg) -> None:
    """Put one partial argument into `args`; raises ChatError when its path cannot be followed."""
    try:
        steps = _path_steps(partial.json_path or "")
    except ValueError:
        raise _unassemblable(f"an argument path flashchat cannot follow ({(partial.json_path or '')[:80]!r})") from None
    if not steps:
        raise _unassemblable("an argument without a name")
    holder: Any = args
    for step, following in zip(steps, [*steps[1:], None], strict=True):
        if following is None:
            break
        empty: Any = [] if isinstance(following, int) else {}
        holder = _child(holder, step, empty)
    value, appends = _partial_value(partial)
    last = steps[-1]
    current = _get(holder, last)
    if appends and isinstance(current, str):
        value = current + value
    _set(holder, last, value)


def _child(holder: Any, step: str | int, empty: Any) -> Any:
    current = _get(holder, step)
    if not isinstance(current, type(empty)):
        current = empty
        _set(holder, step, current)
    return current


def _get(holder: Any, step: str | int) -> Any:
    if isinstance(step, int):
        return holder[step] if isinstance(holder, list) and step < len(holder) else None
    return holder.get(step) if isinstance(holder, dict) else None


def _set(holder: Any, step: str | int, value: Any) -> None:
    if isinstance(step, int):
        if not isinstance(holder, list) or step > len(holder) + 1_000:
            raise _unassemblable("an argument index flashchat cannot follow")
        holder.extend([None] * (step + 1 - len(holder)))
        holder[step] = value
    elif isinstance(holder, dict):
        holder[step] = value
    else:
        raise _unassemblable("an argument inside a value that is not an object")


def _unassemblable(what: str) -> ChatError:
    return ChatError(ErrorKind.BAD_RESPONSE, f"The model streamed a function call with {what}; flashchat refused it.")


def is_streamed_call_piece(part: types.Part) -> bool:
    call = part.function_call
    return call is not None and (bool(call.partial_args) or call.will_continue is not None)


class StreamedCall:
    """One function call whose arguments arrive over several parts; `part` is its assembled form so far."""

    def __init__(self, part: types.Part) -> None:
        self.part = part.model_copy(deep=True)
        call = self.part.function_call
        assert call is not None
        self.args: dict[str, Any] = dict(call.args or {})
        self.open = True
        self.add(part, first=True)

    def add(self, part: types.Part, *, first: bool = False) -> None:
        call = part.function_call
        assert call is not None and self.part.function_call is not None
        assembled = self.part.function_call
        if not first:
            assembled.name = assembled.name or call.name
            assembled.id = assembled.id or call.id
            if call.args:
                self.args.update(call.args)
            if part.thought_signature and not self.part.thought_signature:
                self.part.thought_signature = part.thought_signature
        for partial in call.partial_args or []:
            apply_partial_arg(self.args, partial)
        assembled.args = self.args
        assembled.partial_args = None
        assembled.will_continue = None
        # A piece that does not say it will continue ends the call (the API's last piece omits the flag).
        self.open = bool(call.will_continue)


# -- calls and their answers in stored contents (our snake_case dumps, or camelCase from another client)


def _field(mapping: Any, snake: str, camel: str) -> Any:
    if not isinstance(mapping, dict):
        return None
    return mapping.get(snake, mapping.get(camel))


def calls_in(content: Any) -> list[ToolCall]:
    """The function calls of a stored model content, in order."""
    calls = []
    for part in _field(content, "parts", "parts") or []:
        call = _field(part, "function_call", "functionCall")
        if isinstance(call, dict):
            args = call.get("args")
            name, args = str(call.get("name") or ""), args if isinstance(args, dict) else {}
            calls.append(ToolCall(name=name, args=args, id=call.get("id")))
    return calls


def _responses_in(content: Any) -> list[dict[str, Any]]:
    responses = []
    for part in _field(content, "parts", "parts") or []:
        response = _field(part, "function_response", "functionResponse")
        if isinstance(response, dict):
            responses.append(response)
    return responses


def error_response_part(call: ToolCall, error: str) -> dict[str, Any]:
    response = types.FunctionResponse(id=call.id, name=call.name, response={"error": error})
    return types.Part(function_response=response).model_dump(mode="json", exclude_none=True)


def answer_unanswered(contents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`contents` with an error response for every function call the next turn leaves unanswered.

    Answers that are there are kept as they are; missing ones are added to that turn (or a turn of their own
    is inserted). Contents without a gap come back as the same objects, so the request is byte-identical.
    """
    repaired: list[dict[str, Any]] = []
    for position, content in enumerate(contents):
        repaired.append(content)
        if _field(content, "role", "role") != "model":
            continue
        calls = calls_in(content)
        if not calls:
            continue
        following = contents[position + 1] if position + 1 < len(contents) else None
        answers = _responses_in(following) if _field(following, "role", "role") == "user" else []
        missing = _unanswered(calls, answers)
        if not missing:
            continue
        parts = [error_response_part(call, UNANSWERED) for call in missing]
        if following is not None and _field(following, "role", "role") == "user":
            # Into the user turn that follows (the API wants the answers right after the call turn), before
            # what the user typed: pydantic-ai sends responses and a prompt in one turn the same way.
            kept = _field(following, "parts", "parts") or []
            answered = [part for part in kept if _field(part, "function_response", "functionResponse") is not None]
            typed = [part for part in kept if _field(part, "function_response", "functionResponse") is None]
            contents[position + 1] = {**following, "parts": [*answered, *parts, *typed]}
        else:
            repaired.append({"role": "user", "parts": parts})
    return repaired


def _unanswered(calls: list[ToolCall], answers: list[dict[str, Any]]) -> list[ToolCall]:
    """Calls no answer matches: by id where the call has one, else by name, each answer used once."""
    left = list(answers)
    missing = []
    for call in calls:
        match = next(
            (a for a in left if (call.id and a.get("id") == call.id) or (not call.id and a.get("name") == call.name)),
            None,
        )
        if match is None:
            match = next((a for a in left if a.get("name") == call.name), None)
        if match is None:
            missing.append(call)
        else:
            left.remove(match)
    return missing
