"""Intake command and event handlers."""
