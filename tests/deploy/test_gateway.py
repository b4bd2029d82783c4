"""The production overlay's gateway routes every API over HTTPS only, to the Services and ports the
APIs really serve, exposes nothing but the versioned API (no metrics, health or API documents),
routes the console's site with its health, metrics and API documents answered by the gateway
itself, and limits each route's requests per client address across every gateway replica.

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


HIDDEN_FROM_THE_INTERNET = ("/healthz", "/readyz", "/metrics", "/docs", "/openapi.json")
"""Paths of a site (the console) that only the cluster may ask: health, metrics, API documents."""


def _api_services(objects: Objects) -> dict[str, dict[str, Any]]:
    return {name: obj for name, obj in _of(objects, "Service").items() if name.endswith("-api")}


def _site_services(objects: Objects) -> dict[str, dict[str, Any]]:
    """Services of sites people open in a browser (the console): every path but the hidden ones."""
    return {
        name: obj
        for name, obj in _of(objects, "Service").items()
        if not name.endswith("-api")
        and obj["spec"].get("clusterIP") != "None"
        and any(port.get("name") == "http" for port in obj["spec"]["ports"])
    }


def _path_matches(match: dict[str, Any], path: str) -> bool:
    kind, value = match.get("path", {}).get("type", "PathPrefix"), match.get("path", {}).get("value", "/")
    if kind == "Exact":
        return path == value
    prefix = value.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")  # a prefix matches whole path segments


def _winning_rule(route: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The rule of `route` that serves `path` under the Gateway API's precedence: an exact match,
    then the longest prefix."""
    candidates = [
        (match.get("path", {}).get("type") == "Exact", len(match.get("path", {}).get("value", "/")), i)
        for i, rule in enumerate(route["spec"]["rules"])
        for match in rule.get("matches", [{}])
        if _path_matches(match, path)
    ]
    return route["spec"]["rules"][max(candidates)[2]] if candidates else None


def _answers_itself(rule: dict[str, Any], objects: Objects) -> bool:
    """Whether the gateway answers a rule itself with an error (a direct response), reaching no pod."""
    filters = _of(objects, "HTTPRouteFilter")
    return not rule.get("backendRefs") and any(
        f.get("type") == "ExtensionRef"
        and filters.get(f["extensionRef"]["name"], {}).get("spec", {}).get("directResponse", {}).get("statusCode", 0)
        >= 400
        for f in rule.get("filters", [])
    )


def routing_problems(objects: Objects) -> list[str]:
    """Every API Service is routed, on its http port, under /v1/ only, and every site (the console)
    on its http port with its health, metrics and API documents answered by the gateway itself,
    through an HTTPS listener."""
    problems = []
    gateways = _of(objects, "Gateway")
    if not gateways:
        return ["no Gateway in the overlay"]
    for name, gateway in gateways.items():
        for listener in gateway["spec"]["listeners"]:
            if listener["protocol"] != "HTTPS" or not listener.get("tls", {}).get("certificateRefs"):
                problems.append(f"Gateway {name}: listener {listener['name']} is not HTTPS with a certificate")
    services, sites = _api_services(objects), _site_services(objects)
    routed: set[str] = set()
    for name, route in _of(objects, "HTTPRoute").items():
        if not {ref["name"] for ref in route["spec"]["parentRefs"]} <= set(gateways):
            problems.append(f"HTTPRoute {name}: attached to no Gateway of the overlay")
        for rule in route["spec"]["rules"]:
            prefixes = [match.get("path", {}).get("value", "/") for match in rule.get("matches", [{}])]
            backends = rule.get("backendRefs", [])
            if not backends and not _answers_itself(rule, objects):
                problems.append(f"HTTPRoute {name}: a rule for {prefixes} neither reaches a Service nor answers")
            for backend in backends:
                ports = {**services, **sites}.get(backend["name"], {}).get("spec", {}).get("ports", [])
                http_ports = [p["port"] for p in ports if p["name"] == "http"]
                if backend["port"] not in http_ports:
                    problems.append(
                        f"HTTPRoute {name}: {backend['name']}:{backend['port']} is no http port of a Service"
                    )
                elif backend["name"] in services and any(not prefix.startswith("/v1/") for prefix in prefixes):
                    problems.append(f"HTTPRoute {name}: routes {prefixes}, more than the versioned API under /v1/")
                routed.add(backend["name"])
        if any(backend["name"] in sites for rule in route["spec"]["rules"] for backend in rule.get("backendRefs", [])):
            for path in HIDDEN_FROM_THE_INTERNET:
                winner = _winning_rule(route, path)
                if winner is not None and not _answers_itself(winner, objects):
                    problems.append(f"HTTPRoute {name}: {path} reaches the site, which only the cluster may ask")
    problems += [
        f"Service {name} is not routed by the gateway" for name in sorted((set(services) | set(sites)) - routed)
    ]
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


def _console_route(objects: Objects) -> dict[str, Any]:
    return _of(objects, "HTTPRoute")["console"]


def _console_health_exposed(objects: Objects) -> None:
    _console_route(objects)["spec"]["rules"].pop(1)


def _console_docs_exposed(objects: Objects) -> None:
    hidden = _console_route(objects)["spec"]["rules"][1]["matches"]
    hidden.remove({"path": {"type": "PathPrefix", "value": "/docs"}})


def _console_health_to_the_pod(objects: Objects) -> None:
    _console_route(objects)["spec"]["rules"][1]["backendRefs"] = [{"name": "console", "port": 8005}]


def _console_answer_not_an_error(objects: Objects) -> None:
    _of(objects, "HTTPRouteFilter")["not-found"]["spec"]["directResponse"]["statusCode"] = 200


def _console_unrouted(objects: Objects) -> None:
    objects.remove(_console_route(objects))


def _console_on_its_metrics_port(objects: Objects) -> None:
    _console_route(objects)["spec"]["rules"][0]["backendRefs"][0]["port"] = 9464


def _console_unlimited(objects: Objects) -> None:
    objects.remove(_of(objects, "BackendTrafficPolicy")["console-rate-limit"])


def test_the_precedence_follows_the_gateway_api() -> None:
    # The console's health check is hidden only if the exact rule wins over the site's "/" prefix.
    route = {
        "spec": {
            "rules": [
                {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}]},
                {"matches": [{"path": {"type": "Exact", "value": "/readyz"}}]},
                {"matches": [{"path": {"type": "PathPrefix", "value": "/docs"}}]},
            ]
        }
    }
    rules = route["spec"]["rules"]
    assert _winning_rule(route, "/readyz") is rules[1]
    assert _winning_rule(route, "/readyz/x") is rules[0]
    assert _winning_rule(route, "/docs/oauth2-redirect") is rules[2]
    assert _winning_rule(route, "/docsx") is rules[0]


@pytest.mark.parametrize(
    ("check", "break_it"),
    [
        (routing_problems, _console_health_exposed),
        (routing_problems, _console_docs_exposed),
        (routing_problems, _console_health_to_the_pod),
        (routing_problems, _console_answer_not_an_error),
        (routing_problems, _console_unrouted),
        (routing_problems, _console_on_its_metrics_port),
        (rate_limit_problems, _console_unlimited),
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
