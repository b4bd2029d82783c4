"""Directory domain: the service referral and capacity aggregates, their events and commands, case
facts and the consent check, matching, and the HSDS 3.0 object types. Imports no adapters."""
