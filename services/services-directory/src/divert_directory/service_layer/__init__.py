"""Directory command handlers and reactions: service referrals, capacity, case facts, catalogue import."""
