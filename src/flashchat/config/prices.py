"""What a request costs: a dated table of list prices, overridable in the config.

Prices are USD per 1M tokens on the Gemini API's paid tier (text input; thinking is billed as output). The
config keys `price_input_per_million`, `price_output_per_million` and `price_cached_per_million` replace the
table's figures, each on its own, for whatever model is in use (an `[endpoints.NAME]` table can set them for
one endpoint). A model the table does not know has no cost unless those keys are set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# When the figures below were last checked against https://ai.google.dev/gemini-api/docs/pricing.
PRICES_AS_OF = "2026-12-01"


@dataclass(frozen=True)
class ModelPrice:
    """USD per 1M tokens. Models with a long-context tier charge its prices for the whole request once the
    prompt is over `long_context_tokens`."""

    input: float
    output: float
    cached: float
    long_context_tokens: int | None = None
    long_input: float | None = None
    long_output: float | None = None
    long_cached: float | None = None

    def for_prompt(self, prompt_tokens: int) -> ModelPrice:
        """The flat prices that apply to a request with this many prompt tokens."""
        if self.long_context_tokens is None or prompt_tokens <= self.long_context_tokens:
            return self
        return ModelPrice(
            self.long_input if self.long_input is not None else self.input,
            self.long_output if self.long_output is not None else self.output,
            self.long_cached if self.long_cached is not None else self.cached,
        )


# Every model the model picker offers for the Gemini API, plus the current Pro.
PRICES: dict[str, ModelPrice] = {
    "gemini-3.5-flash": ModelPrice(input=1.50, output=9.00, cached=0.15),
    "gemini-3-flash-preview": ModelPrice(input=0.50, output=3.00, cached=0.05),
    "gemini-3-pro-preview": ModelPrice(
        input=2.00, output=12.00, cached=0.20, long_context_tokens=200_000, long_input=4.00, long_output=18.00,
        long_cached=0.40,
    ),
    "gemini-2.5-pro": ModelPrice(
        input=1.25, output=10.00, cached=0.125, long_context_tokens=200_000, long_input=2.50, long_output=15.00,
        long_cached=0.25,
    ),
    "gemini-2.5-flash": ModelPrice(input=0.30, output=2.50, cached=0.03),
    "gemini-2.5-flash-lite": ModelPrice(input=0.10, output=0.40, cached=0.01),
}  # fmt: skip


def table_price(model: str) -> ModelPrice | None:
    """The table's entry for `model`: exact, then `models/NAME`, then a dated or `-latest` variant of a known
    name (`gemini-2.5-flash-preview-09-2025` is priced as `gemini-2.5-flash`); the longest match wins."""
    name = model.removeprefix("models/")
    if name in PRICES:
        return PRICES[name]
    variants = [known for known in PRICES if name.startswith(known + "-")]
    return PRICES[max(variants, key=len)] if variants else None


def price_for(model: str, settings: Any) -> ModelPrice | None:
    """The prices for `model`: the table's, with each price key set in the config replacing its figure.

    None when neither knows anything (no cost is shown then). An unset cached price falls back to the input
    price, so a config that sets only input and output prices never under-counts.
    """
    configured = (
        settings.price_input_per_million,
        settings.price_output_per_million,
        settings.price_cached_per_million,
    )
    table = table_price(model)
    if table is None:
        input_price, output_price, cached_price = configured
        if input_price is None and output_price is None:
            return None
        input_price = input_price or 0.0
        return ModelPrice(input_price, output_price or 0.0, cached_price if cached_price is not None else input_price)
    if all(value is None for value in configured):
        return table
    input_price = configured[0] if configured[0] is not None else table.input
    output_price = configured[1] if configured[1] is not None else table.output
    cached_price = configured[2] if configured[2] is not None else min(table.cached, input_price)
    # The user's own figures are flat: the table's long-context tier no longer applies.
    return ModelPrice(input_price, output_price, cached_price)
