"""Assessment adapters: tables, the case repository and its read models, queries and reports."""
