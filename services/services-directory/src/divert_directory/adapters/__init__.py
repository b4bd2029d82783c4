"""Directory adapters: tables, the event-sourced service-referral and capacity repositories, the
state-based stores (HSDS catalogue, case facts, consents) and their read-side queries."""
