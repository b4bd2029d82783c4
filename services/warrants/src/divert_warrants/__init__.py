"""Divert warrants: warrant requests raised when an arrest diversion's assessment window lapses."""
