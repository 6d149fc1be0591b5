"""What replies cost and what the next request will cost, at the prices of `config/prices.py`.

Cached tokens are part of the prompt count, so they are billed at the cached price instead of the input one;
thought tokens are billed as output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flashchat.config.prices import ModelPrice, price_for

if TYPE_CHECKING:
    from flashchat.core.conversation import Conversation, Message, Usage


def usage_cost(usage: Usage, price: ModelPrice) -> float:
    price = price.for_prompt(usage.prompt)
    uncached = max(0, usage.prompt - usage.cached)
    return (
        uncached * price.input + usage.cached * price.cached + (usage.output + usage.thoughts) * price.output
    ) / 1_000_000


def estimated_cost(usage: Usage, settings: Any, model: str | None = None) -> float | None:
    """USD for `usage` on `model` (default: the model in use), or None when its price is unknown."""
    price = price_for(model or settings.model, settings)
    return usage_cost(usage, price) if price is not None else None


def message_cost(message: Message, settings: Any) -> float | None:
    """What one reply cost, at the price of the model that wrote it."""
    if message.usage is None:
        return None
    return estimated_cost(message.usage, settings, message.model or settings.model)


def conversation_cost(conversation: Conversation, settings: Any) -> float | None:
    """The sum over every reply with usage; None when no reply's price is known."""
    costs = [message_cost(m, settings) for m in conversation.messages if m.role == "model" and m.usage is not None]
    known = [cost for cost in costs if cost is not None]
    return sum(known) if known else None


@dataclass(frozen=True)
class SendEstimate:
    """The size and input cost of a request before it is sent: the context the conversation already has (from
    the last reply's usage) plus the new input (countTokens, or a local estimate when `exact` is False).

    `cost_if_cached` assumes the context is served from the cache and only the new input is billed in full.
    Output is not included: nobody knows yet how long the reply will be.
    """

    context_tokens: int
    new_tokens: int
    exact: bool
    cost: float | None
    cost_if_cached: float | None

    @property
    def tokens(self) -> int:
        return self.context_tokens + self.new_tokens

    def summary(self) -> str:
        """`~900k tokens ≈ $1.35, ≈ $0.14 if cached` (`~` always: the context part is from the last usage)."""
        from flashchat.render.formatting import usd

        text = f"~{short_count(self.tokens)} tokens"
        if self.cost is not None:
            text += f" ≈ {usd(self.cost, cents=True)}"
            if self.cost_if_cached is not None and self.context_tokens:
                text += f", ≈ {usd(self.cost_if_cached, cents=True)} if cached"
        return text

    def detail(self) -> str:
        """Where the figure comes from, for the line under the summary."""
        counted = "counted" if self.exact else "estimated"
        return (
            f"{self.context_tokens:,} tokens of conversation so far + {self.new_tokens:,} new ({counted}); "
            "input only, the reply is billed on top"
        )


def send_estimate(context_tokens: int, new_tokens: int, *, exact: bool, settings: Any) -> SendEstimate:
    price = price_for(settings.model, settings)
    if price is None:
        return SendEstimate(context_tokens, new_tokens, exact, None, None)
    flat = price.for_prompt(context_tokens + new_tokens)
    total = context_tokens + new_tokens
    cost = total * flat.input / 1_000_000
    cached = (context_tokens * flat.cached + new_tokens * flat.input) / 1_000_000
    return SendEstimate(context_tokens, new_tokens, exact, cost, cached)


def short_count(tokens: int) -> str:
    """900k, 1.2M, 950: a size at a glance."""
    if tokens >= 1_000_000:
        return f"{tokens / 1_000_000:.1f}M".replace(".0M", "M")
    if tokens >= 10_000:
        return f"{round(tokens / 1000):,}k"
    if tokens >= 1000:
        return f"{tokens / 1000:.1f}k".replace(".0k", "k")
    return str(tokens)
