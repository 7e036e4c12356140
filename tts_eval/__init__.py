"""tts-eval: measure what test-time compute buys, in tokens, FLOPs and accuracy.

Kept import-light on purpose: a .pth hook imports this package at every Python start.
"""

__version__ = "0.1.0"
