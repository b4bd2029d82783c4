"""What this API says about its relationship with Open Referral HSDS."""

HSDS_VERSION = "3.0"
"""The HSDS version the directory's API implements (the `version` of `GET /`)."""
