"""Assessment command handlers and reactions to events."""
