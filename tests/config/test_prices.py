"""The price table and the config's price keys, as the cost figures on screen use them."""

from __future__ import annotations

import pytest

from flashchat.config.prices import PRICES, price_for
from flashchat.config.settings import Settings
from flashchat.core.conversation import Usage
from flashchat.core.costs import estimated_cost, send_estimate


def test_gemini_35_flash_list_price() -> None:
    price = price_for("gemini-3.5-flash", Settings())
    assert (price.input, price.output, price.cached) == (1.50, 9.00, 0.15)


def test_a_900k_token_turn_costs_about_135() -> None:
    """The issue's example: a 900k-token prompt is $1.35, about $0.14 when the prefix is cached."""
    assert estimated_cost(Usage(prompt=900_000), Settings()) == pytest.approx(1.35)
    assert estimated_cost(Usage(prompt=900_000, cached=900_000), Settings()) == pytest.approx(0.135)
    assert send_estimate(900_000, 0, exact=True, settings=Settings()).summary() == (
        "~900k tokens ≈ $1.35, ≈ $0.14 if cached"
    )


def test_every_model_the_picker_lists_has_a_price() -> None:
    from flashchat.testing.fake_gemini import DEFAULT_MODELS

    names = [
        m["name"].removeprefix("models/")
        for m in DEFAULT_MODELS
        if "generateContent" in m["supportedGenerationMethods"]
    ]
    assert names and all(price_for(name, Settings()) is not None for name in names), names


def test_thinking_is_billed_as_output() -> None:
    assert estimated_cost(Usage(output=500_000, thoughts=500_000), Settings()) == pytest.approx(9.00)


def test_each_config_key_replaces_one_figure() -> None:
    price = price_for("gemini-3.5-flash", Settings(price_output_per_million=4.0))
    assert (price.input, price.output, price.cached) == (1.50, 4.0, 0.15)


def test_a_model_outside_the_table_needs_the_config_keys() -> None:
    assert price_for("my-local-llama", Settings()) is None
    assert estimated_cost(Usage(prompt=1000), Settings(model="my-local-llama")) is None
    price = price_for("my-local-llama", Settings(price_input_per_million=2.0, price_output_per_million=3.0))
    assert (price.input, price.output, price.cached) == (2.0, 3.0, 2.0)


def test_dated_variants_take_the_price_of_their_model() -> None:
    assert price_for("models/gemini-2.5-flash-preview-09-2025", Settings()) == PRICES["gemini-2.5-flash"]
    assert price_for("gemini-2.5-flash-lite-preview", Settings()) == PRICES["gemini-2.5-flash-lite"]


def test_long_context_tier() -> None:
    short = estimated_cost(Usage(prompt=200_000), Settings(), "gemini-3-pro-preview")
    long = estimated_cost(Usage(prompt=200_001), Settings(), "gemini-3-pro-preview")
    assert short == pytest.approx(0.40) and long == pytest.approx(200_001 * 4.00 / 1e6)
