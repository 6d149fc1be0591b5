"""Test support: a fake Gemini server that the real SDK can talk to over HTTP."""
