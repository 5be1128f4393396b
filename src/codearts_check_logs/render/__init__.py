"""Turning an outcome into what people read: Markdown, plain text, outputs, hints; text safety."""
