"""Response bodies of the directory's REST API, shaped as Open Referral HSDS 3.0 defines them."""

from pydantic import BaseModel, Field


class HsdsRoot(BaseModel):
    """HSDS 3.0 `GET /`: which HSDS version and profile this API follows, and where its OpenAPI is."""

    version: str = Field(description="HSDS version of this API.")
    profile: str = Field(description="URL of the information on the HSDS profile of this API.")
    openapi_url: str = Field(description="URL of the openapi JSON file which defines this API.")
