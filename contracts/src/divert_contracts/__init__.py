"""Divert's shared contracts: the only code services have in common besides the runtime kit.

Services meet here and nowhere else: event models (one module per producing service), topic
names, the CloudEvents codec used on Kafka, and every published revision of each event's schema
with the rules a change must follow to keep its version (`evolution`, `revisions`).
"""
