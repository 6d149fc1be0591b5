"""The small union of events every front end consumes from `ChatSession.send`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flashchat.core.conversation import Message, ToolCall, Usage
from flashchat.core.errors import ChatError, ErrorKind


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ThoughtDelta:
    text: str


@dataclass(frozen=True, slots=True)
class UsageUpdate:
    usage: Usage


@dataclass(frozen=True, slots=True)
class Retrying:
    """Announced before the engine waits to try again, so a front end can show a countdown."""

    attempt: int  # the attempt about to be made, counting the first one as 1
    max_attempts: int
    delay_seconds: float
    reason: str
    kind: ErrorKind  # what failed, so a front end can word it ("rate limited") without parsing `reason`


@dataclass(frozen=True, slots=True)
class Finished:
    message: Message
    notice: str = ""  # why the reply may look odd (length cap, safety stop), empty for a normal stop


@dataclass(frozen=True, slots=True)
class Failed:
    error: ChatError
    message: Message | None = None  # the partial reply that was kept, if any arrived


@dataclass(frozen=True, slots=True)
class ToolRequested:
    """The model asked for a local tool; approval (if needed) comes next."""

    call: ToolCall


@dataclass(frozen=True, slots=True)
class ToolFinished:
    call: ToolCall
    response: dict[str, Any]  # what goes back to the model: {"result": ...} or {"error": ...}
    approved: bool
    # False for a call of a tool flashchat did not offer (imported history, a gateway's tool, a model mistake):
    # never run nor asked about, answered with an error so the conversation stays valid.
    declared: bool = True


@dataclass(frozen=True, slots=True)
class Uploading:
    """An attachment going up through the provider's file API before the request (`sent` of `total` bytes)."""

    name: str
    sent: int
    total: int


Event = Uploading | TextDelta | ThoughtDelta | UsageUpdate | Retrying | Finished | Failed | ToolRequested | ToolFinished
