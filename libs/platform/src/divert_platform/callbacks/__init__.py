"""Signed status callbacks: HTTP deliveries to partners' endpoints, following Standard Webhooks.

A service registers partners' endpoints (`registry`), writes one message per matching endpoint in
the same transaction as the change it reports (`outbox`), and its relay process delivers them
(`delivery`): signed (`signing`) with secrets kept encrypted (`secret_box`), only to addresses a
partner may be reached at (`targets`), retried on a schedule of more than a day, in order per
subject, each attempt recorded. The tables are `schema`'s.
"""
