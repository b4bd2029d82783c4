"""`GET /v1/audit?referral_id=`: who read a case's suggestions and service referrals here, and who
made and moved its service referrals, for program managers of the case's jurisdiction.

The platform's audit route, as intake and assessment serve it; here a case's streams are found in
the database: one per service referral it has.
"""

from divert_directory.adapters.case_facts import jurisdiction_of_case
from divert_directory.adapters.service_referrals import service_referral_streams
from divert_platform.audit import audit_router

router = audit_router(jurisdiction_of=jurisdiction_of_case, streams_of=service_referral_streams)
