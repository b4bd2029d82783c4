"""Directory command handlers and reactions: catalogue import, case facts, service referrals."""
