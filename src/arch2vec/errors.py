"""Error messages: one line that names the value or file and what was expected."""

from __future__ import annotations


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line (the message of a Ray task error is its cause's)."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException) and type(exc).__module__.startswith("ray"):
        exc = cause
    text = " ".join(str(exc).split())
    if len(text) > 1000:
        text = text[:997] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
