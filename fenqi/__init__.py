"""Fenqi (分期): phone sales on installments."""

__version__ = "0.1.0"
