"""The production overlay's gateway routes every API over HTTPS only, to the Services and ports the
APIs really serve, exposes nothing but the versioned API (no metrics, health or API documents),
and limits each route's requests per client address across every gateway replica.

Each check returns the problems it finds and runs again on copies broken on purpose, so that a
check which can no longer fail is noticed.
"""

import copy
from collections.abc import Callable
from typing import Any

import pytest

Objects = list[dict[str, Any]]
GATEWAY_API = "gateway.networking.k8s.io"


def _of(objects: Objects, kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def _api_services(objects: Objects) -> dict[str, dict[str, Any]]:
    return {name: obj for name, obj in _of(objects, "Service").items() if name.endswith("-api")}


def routing_problems(objects: Objects) -> list[str]:
    """Every API Service is routed, on its http port, under /v1/ only, through an HTTPS listener."""
    problems = []
    gateways = _of(objects, "Gateway")
    if not gateways:
        return ["no Gateway in the overlay"]
    for name, gateway in gateways.items():
        for listener in gateway["spec"]["listeners"]:
            if listener["protocol"] != "HTTPS" or not listener.get("tls", {}).get("certificateRefs"):
                problems.append(f"Gateway {name}: listener {listener['name']} is not HTTPS with a certificate")
    services = _api_services(objects)
    routed: set[str] = set()
    for name, route in _of(objects, "HTTPRoute").items():
        if not {ref["name"] for ref in route["spec"]["parentRefs"]} <= set(gateways):
            problems.append(f"HTTPRoute {name}: attached to no Gateway of the overlay")
        for rule in route["spec"]["rules"]:
            prefixes = [match.get("path", {}).get("value", "/") for match in rule.get("matches", [{}])]
            if any(not prefix.startswith("/v1/") for prefix in prefixes):
                problems.append(f"HTTPRoute {name}: routes {prefixes}, more than the versioned API under /v1/")
            for backend in rule["backendRefs"]:
                ports = services.get(backend["name"], {}).get("spec", {}).get("ports", [])
                http_ports = [p["port"] for p in ports if p["name"] == "http"]
                if backend["port"] not in http_ports:
                    problems.append(f"HTTPRoute {name}: {backend['name']}:{backend['port']} is no API's http port")
                routed.add(backend["name"])
    problems += [f"Service {name} is not routed by the gateway" for name in sorted(set(services) - routed)]
    return problems


def rate_limit_problems(objects: Objects) -> list[str]:
    """Each HTTPRoute has a global (shared across replicas) limit with a bucket per client address,
    for IPv4 and IPv6, and the client address is taken from a bounded number of trusted hops."""
    problems = []
    limited: dict[str, list[dict[str, Any]]] = {}
    for name, policy in _of(objects, "BackendTrafficPolicy").items():
        rate_limit = policy["spec"].get("rateLimit", {})
        for ref in policy["spec"]["targetRefs"]:
            if ref["kind"] == "HTTPRoute" and ref["group"] == GATEWAY_API:
                if rate_limit.get("type") != "Global":
                    problems.append(f"{name}: the limit is not Global, so each gateway replica would count alone")
                limited.setdefault(ref["name"], []).extend(rate_limit.get("global", {}).get("rules", []))
    for route in _of(objects, "HTTPRoute"):
        rules = limited.get(route, [])
        per_address = {
            selector["sourceCIDR"]["value"]
            for rule in rules
            for selector in rule.get("clientSelectors", [])
            if selector.get("sourceCIDR", {}).get("type") == "Distinct" and rule["limit"]["requests"] > 0
        }
        if per_address != {"0.0.0.0/0", "::/0"}:
            problems.append(f"HTTPRoute {route}: no per-address limit for every IPv4 and IPv6 client ({per_address})")
    hops = [
        policy["spec"].get("clientIPDetection", {}).get("xForwardedFor", {}).get("numTrustedHops")
        for policy in _of(objects, "ClientTrafficPolicy").values()
    ]
    if not hops or any(not isinstance(n, int) or n > 2 for n in hops):
        problems.append(f"client address detection trusts {hops} X-Forwarded-For hops: a caller could pick its bucket")
    return problems


def test_the_gateway_routes_every_api_over_https_and_nothing_else(k8s_production) -> None:
    assert routing_problems(k8s_production) == []


def test_every_route_is_limited_per_client_address_across_replicas(k8s_production) -> None:
    assert rate_limit_problems(k8s_production) == []


def _first(objects: Objects, kind: str) -> dict[str, Any]:
    return next(obj for obj in objects if obj["kind"] == kind)


def _plain_http(objects: Objects) -> None:
    _first(objects, "Gateway")["spec"]["listeners"][0]["protocol"] = "HTTP"


def _metrics_routed(objects: Objects) -> None:
    _first(objects, "HTTPRoute")["spec"]["rules"][0]["backendRefs"][0]["port"] = 9464


def _docs_routed(objects: Objects) -> None:
    _first(objects, "HTTPRoute")["spec"]["rules"][0]["matches"][0]["path"]["value"] = "/"


def _route_dropped(objects: Objects) -> None:
    objects.remove(_first(objects, "HTTPRoute"))


def _local_limit(objects: Objects) -> None:
    _first(objects, "BackendTrafficPolicy")["spec"]["rateLimit"]["type"] = "Local"


def _one_bucket_for_all(objects: Objects) -> None:
    for rule in _first(objects, "BackendTrafficPolicy")["spec"]["rateLimit"]["global"]["rules"]:
        rule["clientSelectors"][0]["sourceCIDR"]["type"] = "Exact"


def _no_ipv6_limit(objects: Objects) -> None:
    _first(objects, "BackendTrafficPolicy")["spec"]["rateLimit"]["global"]["rules"].pop()


def _any_forwarded_address_trusted(objects: Objects) -> None:
    _first(objects, "ClientTrafficPolicy")["spec"]["clientIPDetection"]["xForwardedFor"]["numTrustedHops"] = 10


@pytest.mark.parametrize(
    ("check", "break_it"),
    [
        (routing_problems, _plain_http),
        (routing_problems, _metrics_routed),
        (routing_problems, _docs_routed),
        (routing_problems, _route_dropped),
        (rate_limit_problems, _local_limit),
        (rate_limit_problems, _one_bucket_for_all),
        (rate_limit_problems, _no_ipv6_limit),
        (rate_limit_problems, _any_forwarded_address_trusted),
    ],
)
def test_the_checks_catch_a_broken_gateway(
    k8s_production, check: Callable[[Objects], list[str]], break_it: Callable[[Objects], None]
) -> None:
    broken = copy.deepcopy(k8s_production)
    break_it(broken)
    assert check(broken) != []
