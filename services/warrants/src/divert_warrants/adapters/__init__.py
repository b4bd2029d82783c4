"""Warrants adapters: SQLAlchemy tables and the warrant-request repository."""
