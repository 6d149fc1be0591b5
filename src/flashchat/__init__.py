"""flashchat: a terminal chat assistant for Gemini 3.5 Flash."""

__version__ = "0.1.0"
