"""Screens and dialogs pushed over the chat."""
