"""Assessment adapters: tables and the case repository."""
