"""Directory domain (imports no adapters).

Still to come: organizations, services, locations and service-at-location as Open Referral
HSDS 3.0 models; matching a case's need categories to services; and the closed-loop service
referral (sent, accepted, declined, completed).
"""
