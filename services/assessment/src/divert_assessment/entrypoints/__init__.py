"""Assessment processes: api, relay, consumer."""
