"""Divert services directory: the Open Referral HSDS 3.0 catalogue case managers refer people to.

Case managers get services suggested for a case's needs and refer the person to one, under a
consent naming its provider; the service referral is followed until it ends (closed loop).
Processes: `api`, `relay` (outbox → divert.directory), `consumer` (divert.cases); `import` and
`seed` load HSDS data into the catalogue.
"""
