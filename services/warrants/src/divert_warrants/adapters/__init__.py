"""Warrants adapters: SQLAlchemy tables, the warrant-request repository and the referral facts."""
