"""Tools for developing tts-eval itself: a tiny random model for plumbing tests."""
