"""Divert console: server-rendered pages over the services' APIs, called with the signed-in user's token."""
