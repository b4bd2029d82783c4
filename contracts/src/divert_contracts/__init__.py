"""Divert's shared contracts: the only code services have in common besides the runtime kit.

Services meet here and nowhere else: event models (one module per producing service), topic
names and the CloudEvents codec used on Kafka.
"""
