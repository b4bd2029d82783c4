"""deploy/k8s agrees with the code: the production overlay, resolved as kustomize would, runs every
role of every service with settings it accepts, probes the right ports, and autoscales sensibly.

Each check returns the problems it finds; it runs on the resolved overlay and again on copies
broken on purpose, so that a check which can no longer fail is noticed.
"""

import copy
import posixpath
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from divert_contracts import dataplane

from .conftest import (
    DISCOVERY_PATH,
    EMBEDDED_ONLY_COMMANDS,
    FRONT_END_FORBIDDEN,
    FRONT_END_SECRETS,
    PROCESS_SECRETS,
)

K8S_DIR = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
Objects = list[dict[str, Any]]
TEMPORAL_SECRET = "divert-intake-temporal"
"""Intake's Temporal CA, client certificate and key (overlays generate it from secrets/)."""
TEMPORAL_FILES = {
    "DIVERT_TEMPORAL_TLS_CA_FILE": "ca.crt",
    "DIVERT_TEMPORAL_TLS_CERT_FILE": "tls.crt",
    "DIVERT_TEMPORAL_TLS_KEY_FILE": "tls.key",
}
"""Intake's Temporal TLS settings, and the key of TEMPORAL_SECRET each must name."""


def by_kind(objects: Objects, kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def divert_workloads(objects: Objects, service_clis, tools) -> list[tuple[dict, dict, Any, str]]:
    """(workload, container, ServiceCli, command) for every container running a Divert console script."""
    found = []
    for obj in objects:
        for container in tools.containers(obj):
            command = container.get("command") or []
            if command and command[0] in service_clis:
                found.append((obj, container, service_clis[command[0]], command[1] if len(command) > 1 else ""))
            elif command and str(command[0]).startswith("divert"):
                found.append((obj, container, None, " ".join(command)))
    return found


def container_env(objects: Objects, container: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """What a container's environment resolves to, and references to objects that do not exist."""
    config_maps, secrets = by_kind(objects, "ConfigMap"), by_kind(objects, "Secret")
    env: dict[str, str] = {}
    missing = []
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            kind, ref = "ConfigMap", source["configMapRef"]
        else:
            kind, ref = "Secret", source["secretRef"]
        found = (config_maps if kind == "ConfigMap" else secrets).get(ref["name"])
        if found is None:
            if not ref.get("optional"):
                missing.append(f"{kind} {ref['name']}")
            continue
        env.update(found.get("data") or found.get("stringData") or {})
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
        elif ref := item.get("valueFrom", {}).get("configMapKeyRef"):
            value = config_maps.get(ref["name"], {}).get("data", {}).get(ref["key"])
            if value is None:
                missing.append(f"ConfigMap {ref['name']} key {ref['key']}")
            else:
                env[item["name"]] = value
        elif ref := item.get("valueFrom", {}).get("secretKeyRef"):
            secret = secrets.get(ref["name"], {})
            value = (secret.get("data") or secret.get("stringData") or {}).get(ref["key"])
            if value is not None:
                env[item["name"]] = value
            elif not ref.get("optional"):  # the pod would not start
                missing.append(f"Secret {ref['name']} key {ref['key']}")
    return env, missing


def command_problems(objects: Objects, service_clis, tools) -> list[str]:
    """Every command exists; every role runs as a Deployment; every service has a migration Job and
    a purge CronJob."""
    problems = []
    workloads = divert_workloads(objects, service_clis, tools)
    for obj, _, cli, command in workloads:
        if cli is None or command not in cli.commands:
            problems.append(f"{obj['kind']} {obj['metadata']['name']}: `{command}` is not a service command")
        elif command in EMBEDDED_ONLY_COMMANDS:
            problems.append(f"{obj['kind']} {obj['metadata']['name']}: `{command}` is for the embedded stack only")
    for cli in service_clis.values():
        for role in sorted(cli.roles):
            if not any(c is cli and cmd == role and o["kind"] == "Deployment" for o, _, c, cmd in workloads):
                problems.append(f"no Deployment runs `{cli.script} {role}`")
        if not cli.stateful:
            continue  # the console: nothing to migrate or purge
        if not any(c is cli and cmd == "migrate" and o["kind"] == "Job" for o, _, c, cmd in workloads):
            problems.append(f"no Job runs `{cli.script} migrate`")
        if not any(c is cli and cmd == "purge" and o["kind"] == "CronJob" for o, _, c, cmd in workloads):
            problems.append(f"no CronJob runs `{cli.script} purge`")
    return problems


def environment_problems(objects: Objects, service_clis, tools) -> list[str]:
    """Referenced ConfigMaps/Secrets exist, every variable is a setting of the service, and its settings
    class accepts the environment in production (secrets from the committed examples)."""
    problems = []
    for obj, container, cli, command in divert_workloads(objects, service_clis, tools):
        if cli is None:
            continue
        where = f"{obj['metadata']['name']}"
        env, missing = container_env(objects, container)
        problems += [f"{where}: refers to missing {m}" for m in missing]
        problems += tools.env_name_problems(cli, set(env), where)
        if problem := tools.settings_problem(cli.settings, env):
            problems.append(f"{where}: {cli.settings.__name__} refuses its environment: {problem}")
        if "DIVERT_SERVICE_TOKEN" in env and not (cli.script == "divert-intake" and command == "worker"):
            problems.append(f"{where}: only intake's worker needs the service token")
        holds_callback_keys = "DIVERT_CALLBACK_ENCRYPTION_KEYS" in env
        if holds_callback_keys != (cli.script == "divert-intake" and command in ("api", "relay")):
            problems.append(f"{where}: only intake's api and relay hold (and both need) the callback keys")
    return problems


def _ports(container: dict[str, Any]) -> dict[str, int]:
    return {p.get("name", str(p["containerPort"])): p["containerPort"] for p in container.get("ports", [])}


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def port_problems(objects: Objects, service_clis, tools) -> list[str]:
    """APIs listen on DIVERT_PORT with /healthz liveness and /readyz readiness there; every process
    exposes DIVERT_METRICS_PORT; Services select pods that have the ports they target."""
    problems = []
    for obj, container, cli, command in divert_workloads(objects, service_clis, tools):
        if cli is None or obj["kind"] != "Deployment":
            continue
        name = obj["metadata"]["name"]
        env, _ = container_env(objects, container)
        ports = _ports(container)
        if ports.get("metrics") != int(env.get("DIVERT_METRICS_PORT", -1)):
            problems.append(f"{name}: metrics port {ports.get('metrics')} is not DIVERT_METRICS_PORT")
        if command != "api":
            continue
        if ports.get("http") != int(env.get("DIVERT_PORT", -1)):
            problems.append(f"{name}: http port {ports.get('http')} is not DIVERT_PORT {env.get('DIVERT_PORT')}")
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            get = container.get(probe, {}).get("httpGet", {})
            port = ports.get(get.get("port"), get.get("port"))
            if get.get("path") != path or port != ports.get("http"):
                problems.append(f"{name}: {probe} is not GET {path} on the API port")
    pods = [
        (obj["spec"]["template"]["metadata"]["labels"], c)
        for obj in objects
        if obj["kind"] == "Deployment"
        for c in tools.containers(obj)
    ]
    for service in by_kind(objects, "Service").values():
        selector = service["spec"].get("selector", {})
        selected = [c for labels, c in pods if _matches(selector, labels)]
        if not selected:
            problems.append(f"Service {service['metadata']['name']} selects no pods")
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            for c in selected:
                if target not in _ports(c) and target not in _ports(c).values():
                    problems.append(f"Service {service['metadata']['name']}: {c['name']} has no port {target}")
                elif isinstance(target, str) and service["spec"].get("clusterIP") != "None":
                    if _ports(c)[target] != port["port"]:
                        problems.append(
                            f"Service {service['metadata']['name']} port {port['port']} differs from the pod's "
                            f"{target} {_ports(c)[target]}: other services call the API by DIVERT_PORT"
                        )
    problems += api_url_problems(objects, service_clis, tools)
    return problems


def api_pods(objects: Objects, service_clis, tools) -> dict[str, tuple[dict[str, str], int]]:
    """Console script of each stateful service → (its API pods' labels, their http containerPort)."""
    found = {}
    for obj, container, cli, command in divert_workloads(objects, service_clis, tools):
        if cli is not None and cli.stateful and command == "api" and obj["kind"] == "Deployment":
            found[cli.script] = (obj["spec"]["template"]["metadata"]["labels"], _ports(container).get("http", -1))
    return found


def api_url_problems(objects: Objects, service_clis, tools) -> list[str]:
    """Every `DIVERT_<SERVICE>_URL` a Divert pod is given is `http://<Service>:<port>` of a Service
    that selects that service's API pods, on their http port; a front end (the console) is given
    every API's."""
    problems = []
    services = by_kind(objects, "Service")
    apis = api_pods(objects, service_clis, tools)
    for obj, container, cli, _ in divert_workloads(objects, service_clis, tools):
        if cli is None:
            continue
        where = f"{obj['kind']} {obj['metadata']['name']}"
        env, _ = container_env(objects, container)
        for setting, target in tools.api_url_settings(service_clis).items():
            url = env.get(setting)
            if url is None:
                if not cli.stateful:
                    problems.append(f"{where}: no {setting}: it could not reach {target.script}'s API")
                continue
            parsed = urlsplit(url)
            service = services.get(parsed.hostname or "", {"spec": {"ports": []}})
            labels, http = apis.get(target.script, ({}, -1))
            ports = [p for p in service["spec"]["ports"] if p["port"] == parsed.port]
            if (
                parsed.scheme != "http"
                or not ports
                or not service["spec"].get("selector")
                or not _matches(service["spec"]["selector"], labels)
                or ports[0].get("targetPort") not in ("http", http)
            ):
                problems.append(f"{where}: {setting} {url} is not a Service port of {target.script}'s API pods")
    return problems


def scaling_problems(objects: Objects, service_clis, tools) -> list[str]:
    """APIs and consumers autoscale, consumers no further than their partitions; every Deployment has
    a PodDisruptionBudget that still lets a node drain."""
    problems = []
    deployments = by_kind(objects, "Deployment")
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in by_kind(objects, "HorizontalPodAutoscaler").values()}
    for target in hpas:
        if target not in deployments:
            problems.append(f"an autoscaler targets Deployment {target}, which does not exist")
    for obj, _, cli, command in divert_workloads(objects, service_clis, tools):
        if obj["kind"] != "Deployment" or cli is None:
            continue
        name = obj["metadata"]["name"]
        hpa = hpas.get(name)
        if command in ("api", "consumer") and hpa is None:
            problems.append(f"{name}: no HorizontalPodAutoscaler")
        if hpa is not None and "replicas" in obj["spec"]:
            problems.append(f"{name}: sets replicas under an autoscaler (every apply resets the scale)")
        if command == "consumer":
            partitions = max(t.partitions for t in tools.consumed_topics(cli.package))
            most = hpa["spec"]["maxReplicas"] if hpa else obj["spec"].get("replicas", 1)
            if most > partitions:
                problems.append(f"{name}: up to {most} replicas, but its busiest topic has {partitions} partitions")
        least = hpa["spec"].get("minReplicas", 1) if hpa else obj["spec"].get("replicas", 1)
        labels = obj["spec"]["template"]["metadata"]["labels"]
        budgets = [
            budget
            for budget in by_kind(objects, "PodDisruptionBudget").values()
            if _matches(budget["spec"]["selector"]["matchLabels"], labels)
        ]
        if len(budgets) != 1:
            problems.append(f"{name}: {len(budgets)} PodDisruptionBudgets")
        elif budgets[0]["spec"].get("minAvailable", 0) >= least:
            problems.append(f"{name}: minAvailable {budgets[0]['spec']['minAvailable']} of {least} blocks every drain")
    return problems


def hardening_problems(objects: Objects, tools) -> list[str]:
    """Non-root, no privilege escalation, read-only root filesystem with a scratch /tmp, requests and
    limits; selectors match their templates; images pinned."""
    problems = []
    for obj in objects:
        spec = tools.pod_spec(obj)
        if spec is None:
            continue
        name = f"{obj['kind']} {obj['metadata']['name']}"
        if obj["kind"] == "Deployment" and not _matches(
            obj["spec"]["selector"]["matchLabels"], obj["spec"]["template"]["metadata"]["labels"]
        ):
            problems.append(f"{name}: its selector does not match its pods")
        if spec.get("securityContext", {}).get("runAsNonRoot") is not True:
            problems.append(f"{name}: runAsNonRoot is not set")
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for container in tools.containers(obj):
            context = container.get("securityContext", {})
            if context.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{name}: allowPrivilegeEscalation is not false")
            if context.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{name}: the root filesystem is writable")
            if context.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f"{name}: capabilities are not all dropped")
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            if "emptyDir" not in volumes.get(mounts.get("/tmp", ""), {}):
                problems.append(f"{name}: no writable /tmp (emptyDir) under a read-only root")
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                if not {"cpu", "memory"} <= set(resources.get(kind, {})):
                    problems.append(f"{name}: no cpu and memory {kind}")
            problems += [f"{name}: {p}" for p in tools.image_problems(container["image"])]
    return problems


def _secret_refs(container: dict[str, Any]) -> list[str]:
    return [source["secretRef"]["name"] for source in container.get("envFrom", []) if "secretRef" in source]


def kafka_problems(objects: Objects, service_clis, tools) -> list[str]:
    """Every Divert pod talks SASL_SSL to Kafka as its own service's principal, with the password
    from its service's own Secret (mounted by no other service), and trusts the mounted CA."""
    problems = []
    secrets = by_kind(objects, "Secret")
    owner: dict[str, str] = {}  # Secret holding a Kafka password → the principal it belongs to
    for obj, container, cli, _ in divert_workloads(objects, service_clis, tools):
        if cli is None or not cli.stateful:
            continue  # (the console holds no Kafka setting: front_end_problems)
        where = f"{obj['kind']} {obj['metadata']['name']}"
        principal = dataplane.service(cli.service).principal
        env, _ = container_env(objects, container)
        for key, value in {
            "DIVERT_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "DIVERT_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "DIVERT_KAFKA_SASL_USERNAME": principal,
        }.items():
            if env.get(key) != value:
                problems.append(f"{where}: {key} is {env.get(key)!r}, not {value}")
        if env.get("DIVERT_KAFKA_ALLOW_INSECURE", "false").lower() not in ("false", "0", "no", "off", ""):
            problems.append(f"{where}: DIVERT_KAFKA_ALLOW_INSECURE is set (closed test rigs only)")
        holders = [
            name
            for name in _secret_refs(container)
            if "DIVERT_KAFKA_SASL_PASSWORD" in (secrets.get(name, {}).get("stringData") or {})
        ]
        if holders != [f"{principal}-kafka"]:
            problems.append(f"{where}: its Kafka password comes from {holders}, not Secret {principal}-kafka")
        for name in _secret_refs(container):
            if name.endswith("-kafka") and owner.setdefault(name, principal) != principal:
                problems.append(f"{where}: {principal} is given {name}, {owner[name]}'s Kafka password")
        if obj["kind"] != "Deployment":
            continue  # migrations build no Kafka client
        cafile = env.get("DIVERT_KAFKA_SSL_CAFILE", "")
        volumes = {v["name"]: v for v in tools.pod_spec(obj).get("volumes", [])}
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        secret = volumes.get(mounts.get(posixpath.dirname(cafile), ""), {}).get("secret", {}).get("secretName")
        if posixpath.basename(cafile) not in (secrets.get(secret or "", {}).get("stringData") or {}):
            problems.append(f"{where}: DIVERT_KAFKA_SSL_CAFILE {cafile!r} is not a mounted Secret's file")
    return problems


def database_role_problems(objects: Objects, service_clis, tools) -> list[str]:
    """Only a service's migration Job holds its database owner's URL (DIVERT_MIGRATION_DATABASE_URL,
    the same database as DIVERT_DATABASE_URL); every other pod signs in to it as another role, the
    application role that may only read and write rows."""
    problems = []
    owners: dict[str, str] = {}  # console script → the user its migrations sign in as
    workloads = [
        (o, c, cli, cmd) for o, c, cli, cmd in divert_workloads(objects, service_clis, tools) if cli and cli.stateful
    ]
    for obj, container, cli, command in workloads:
        if command != "migrate":
            continue
        env, _ = container_env(objects, container)
        owner, app = (urlsplit(env.get(key, "")) for key in ("DIVERT_MIGRATION_DATABASE_URL", "DIVERT_DATABASE_URL"))
        where = f"{obj['kind']} {obj['metadata']['name']}"
        if not owner.username:
            problems.append(f"{where}: no DIVERT_MIGRATION_DATABASE_URL: the application role cannot change the schema")
        elif (owner.hostname, owner.port, owner.path) != (app.hostname, app.port, app.path):
            problems.append(f"{where}: DIVERT_MIGRATION_DATABASE_URL names another database than DIVERT_DATABASE_URL")
        else:
            owners[cli.script] = owner.username
    for obj, container, cli, command in workloads:
        if command == "migrate":
            continue
        env, _ = container_env(objects, container)
        where = f"{obj['kind']} {obj['metadata']['name']}"
        if "DIVERT_MIGRATION_DATABASE_URL" in env:
            problems.append(f"{where}: is given the database owner's URL, which only the migration Job needs")
        user = urlsplit(env.get("DIVERT_DATABASE_URL", "")).username
        if user is None or user == owners.get(cli.script):
            problems.append(f"{where}: signs in as {user!r}, not as an application role apart from the owner")
    return problems


def topics_job_problems(objects: Objects, tools) -> list[str]:
    """The kafka-topics Job runs the checked topic script, then the generated ACL script, as the
    admin (a mounted, required client-properties Secret) against the brokers the services use."""
    problems = []
    job = by_kind(objects, "Job")["kafka-topics"]
    scripts = by_kind(objects, "ConfigMap")["divert-kafka-topics"]["data"]
    problems += tools.topic_script_problems(scripts.get("create-topics.sh", ""))
    if scripts.get("create-acls.sh") != dataplane.acl_script():
        problems.append("create-acls.sh is not dataplane.acl_script()")
    container = tools.containers(job)[0]
    volumes = {v["name"]: v for v in tools.pod_spec(job)["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    if volumes[mounts["/scripts"]].get("configMap", {}).get("name") != "divert-kafka-topics":
        problems.append("/scripts is not the divert-kafka-topics ConfigMap")
    command = container["command"]
    steps = [shlex.split(step) for step in command[-1].split("&&")] if command[:2] == ["/bin/sh", "-c"] else []
    if steps != [["sh", "/scripts/create-topics.sh"], ["sh", "/scripts/create-acls.sh"]]:
        problems.append(f"the Job runs {command}, not create-topics.sh and then create-acls.sh")
    env, missing = container_env(objects, container)
    problems += [f"the Job refers to missing {m}" for m in missing]
    common = by_kind(objects, "ConfigMap")["divert-common"]["data"]
    if env.get("KAFKA_BOOTSTRAP") != common["DIVERT_KAFKA_BOOTSTRAP"]:
        problems.append("the Job's KAFKA_BOOTSTRAP is not the services' brokers")
    config = env.get("KAFKA_COMMAND_CONFIG", "")
    source = volumes.get(mounts.get(posixpath.dirname(config), ""), {}).get("secret", {})
    if source.get("optional") or posixpath.basename(config) not in (
        by_kind(objects, "Secret").get(source.get("secretName", ""), {}).get("stringData") or {}
    ):
        problems.append(f"KAFKA_COMMAND_CONFIG {config!r} is not a file of a required, mounted Secret")
    return problems


def _secret_volumes(obj: dict[str, Any], tools) -> dict[str, dict[str, Any]]:
    """A pod's Secret volumes: volume name → its `secret` source."""
    return {v["name"]: v["secret"] for v in (tools.pod_spec(obj) or {}).get("volumes", []) if "secret" in v}


def temporal_problems(objects: Objects, service_clis, tools) -> list[str]:
    """Every pod of a service that talks to Temporal (intake) is set for mutual TLS, never with
    DIVERT_TEMPORAL_ALLOW_INSECURE; in the Deployments that connect the CA, client certificate and
    key are the files of the Secret divert-intake-temporal mounted where the settings point, the
    key readable by no other user; no other pod (another service's, intake's relay or migration
    Job) mounts that Secret."""
    problems = []
    secret = by_kind(objects, "Secret").get(TEMPORAL_SECRET, {}).get("stringData") or {}
    for obj, container, cli, command in divert_workloads(objects, service_clis, tools):
        if cli is None:
            continue
        where = f"{obj['kind']} {obj['metadata']['name']}"
        volumes = _secret_volumes(obj, tools)
        connects = obj["kind"] == "Deployment" and command in tools.temporal_roles(cli)
        if not connects and TEMPORAL_SECRET in {source.get("secretName") for source in volumes.values()}:
            problems.append(f"{where}: mounts {TEMPORAL_SECRET}, intake's Temporal key, but never connects")
        if "DIVERT_TEMPORAL_TLS_KEY_FILE" not in cli.env_names():
            continue
        env, _ = container_env(objects, container)
        if "DIVERT_TEMPORAL_ALLOW_INSECURE" in env:
            problems.append(f"{where}: sets DIVERT_TEMPORAL_ALLOW_INSECURE (only where a mesh secures Temporal)")
        for setting in (*TEMPORAL_FILES, "DIVERT_TEMPORAL_TLS_SERVER_NAME"):
            if not env.get(setting):
                problems.append(f"{where}: no {setting}")
        if not connects:
            continue
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", []) if m.get("readOnly")}
        for setting, file in TEMPORAL_FILES.items():
            path = env.get(setting, "")
            source = volumes.get(mounts.get(posixpath.dirname(path), ""), {})
            if source.get("secretName") != TEMPORAL_SECRET or posixpath.basename(path) != file or file not in secret:
                problems.append(
                    f"{where}: {setting} {path!r} is not {file} of Secret {TEMPORAL_SECRET}, mounted read-only"
                )
            elif setting == "DIVERT_TEMPORAL_TLS_KEY_FILE" and source.get("defaultMode", 0o644) & 0o007:
                problems.append(f"{where}: its Temporal key is readable by every user (defaultMode)")
    return problems


def _env_sources(objects: Objects, container: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Where each of a container's variables comes from: (`Secret`/`ConfigMap`, name), or
    (`value`, "") for a literal in the pod spec; the last source wins, as in Kubernetes."""
    config_maps, secrets = by_kind(objects, "ConfigMap"), by_kind(objects, "Secret")
    sources: dict[str, tuple[str, str]] = {}
    for source in container.get("envFrom", []):
        kind, ref = (
            ("ConfigMap", source["configMapRef"]) if "configMapRef" in source else ("Secret", source["secretRef"])
        )
        found = (config_maps if kind == "ConfigMap" else secrets).get(ref["name"], {})
        for key in found.get("data") or found.get("stringData") or {}:
            sources[key] = (kind, ref["name"])
    for item in container.get("env", []):
        value_from = item.get("valueFrom", {})
        if "secretKeyRef" in value_from:
            sources[item["name"]] = ("Secret", value_from["secretKeyRef"]["name"])
        elif "configMapKeyRef" in value_from:
            sources[item["name"]] = ("ConfigMap", value_from["configMapKeyRef"]["name"])
        else:
            sources[item["name"]] = ("value", "")
    return sources


def _secret_names(obj: dict[str, Any], tools) -> set[str]:
    """Every Secret a workload's pods reference (environment or volume)."""
    names = {source.get("secretName", "") for source in _secret_volumes(obj, tools).values()}
    for container in tools.containers(obj):
        names |= {s["secretRef"]["name"] for s in container.get("envFrom", []) if "secretRef" in s}
        names |= {
            item["valueFrom"]["secretKeyRef"]["name"]
            for item in container.get("env", [])
            if "secretKeyRef" in item.get("valueFrom", {})
        }
    return names


def front_end_problems(objects: Objects, service_clis, tools) -> list[str]:
    """The console's pods hold no database, Kafka or Temporal setting and mount no Secret (no CA,
    no key); its session key and client secret come from a Secret no other pod references, never a
    ConfigMap or a literal; it signs people in at the identity provider whose tokens the APIs verify
    (discovery document below DIVERT_JWT_ISSUER, https), and its https public URL is a host the
    gateway routes to it."""
    problems = []
    workloads = divert_workloads(objects, service_clis, tools)
    routes = by_kind(objects, "HTTPRoute")
    services = by_kind(objects, "Service")
    for obj, container, cli, _ in workloads:
        if cli is None or cli.stateful:
            continue
        where = f"{obj['kind']} {obj['metadata']['name']}"
        env, _ = container_env(objects, container)
        sources = _env_sources(objects, container)
        problems += [
            f"{where}: is given {key}, which a front end has no use for"
            for key in sorted(env)
            if FRONT_END_FORBIDDEN.match(key)
        ]
        problems += [f"{where}: mounts Secret {v.get('secretName')}" for v in _secret_volumes(obj, tools).values()]
        if "DIVERT_SESSION_KEY" not in env:
            problems.append(f"{where}: no DIVERT_SESSION_KEY")
        others = {
            name
            for other in objects
            if other is not obj and tools.pod_spec(other)
            for name in _secret_names(other, tools)
        }
        config_maps = by_kind(objects, "ConfigMap")
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                name = source["configMapRef"]["name"]
                held = set(config_maps.get(name, {}).get("data") or {}) & set(FRONT_END_SECRETS)
                problems += [f"{where}: {secret} is in ConfigMap {name}, readable in clear" for secret in sorted(held)]
        for secret in FRONT_END_SECRETS:
            if secret not in sources:
                continue
            kind, name = sources[secret]
            if kind != "Secret":
                problems.append(
                    f"{where}: {secret} comes from {f'{kind} {name}' if name else 'a literal'}, not a Secret"
                )
            elif name in others:
                problems.append(f"{where}: {secret} is in Secret {name}, which other pods reference too")
        issuer = env.get("DIVERT_JWT_ISSUER", "")
        discovery = env.get("DIVERT_OIDC_DISCOVERY_URL", "")
        if urlsplit(discovery).scheme != "https" or discovery != issuer.rstrip("/") + DISCOVERY_PATH:
            problems.append(
                f"{where}: DIVERT_OIDC_DISCOVERY_URL {discovery!r} is not the https discovery document of the "
                f"issuer the APIs trust ({issuer!r})"
            )
        namespaces = {
            container_env(objects, c)[0].get("DIVERT_TEMPORAL_NAMESPACE")
            for _, c, other, _ in workloads
            if other is not None and other.stateful
        } - {None}
        if env.get("DIVERT_TEMPORAL_NAMESPACE", "") not in namespaces:
            problems.append(f"{where}: DIVERT_TEMPORAL_NAMESPACE is not the workflows' namespace {sorted(namespaces)}")
        public = urlsplit(env.get("DIVERT_PUBLIC_URL", ""))
        if public.scheme != "https" or not env.get("DIVERT_OIDC_CLIENT_ID"):
            problems.append(f"{where}: no https DIVERT_PUBLIC_URL or no DIVERT_OIDC_CLIENT_ID")
        if not routes:
            continue  # the base has no front door
        labels = obj["spec"]["template"]["metadata"]["labels"]
        reaching = {
            host
            for route in routes.values()
            for rule in route["spec"]["rules"]
            for backend in rule.get("backendRefs", [])
            if _matches(services.get(backend["name"], {}).get("spec", {}).get("selector") or {"-": "-"}, labels)
            for host in route["spec"].get("hostnames", [])
        }
        if public.hostname not in reaching:
            problems.append(
                f"{where}: DIVERT_PUBLIC_URL's host {public.hostname} is not routed to it ({sorted(reaching)})"
            )
    return problems


POSTGRESQL_PORT = 5432


def _forbidden_ports(objects: Objects) -> dict[int, str]:
    """The ports of the platform's stores, read from the manifests: Kafka's bootstrap servers, the
    Temporal frontend, the databases (PostgreSQL's default port besides)."""
    ports = {POSTGRESQL_PORT: "PostgreSQL"}
    for config_map in by_kind(objects, "ConfigMap").values():
        data = config_map.get("data") or {}
        for address in str(data.get("DIVERT_KAFKA_BOOTSTRAP", "")).split(","):
            if ":" in address:
                ports[int(address.rsplit(":", 1)[1])] = "Kafka"
        if ":" in (address := str(data.get("DIVERT_TEMPORAL_ADDRESS", ""))):
            ports[int(address.rsplit(":", 1)[1])] = "Temporal"
    for secret in by_kind(objects, "Secret").values():
        for key, value in (secret.get("stringData") or {}).items():
            if key.endswith("DATABASE_URL") and (port := urlsplit(value).port):
                ports[port] = "a database"
    return ports


def network_policy_problems(objects: Objects, service_clis, tools) -> list[str]:
    """The console's pods are isolated both ways: egress only on listed ports, to the four APIs' pods
    on their http ports (each API reachable), https outside the cluster's private ranges (the
    identity provider) and namespaces' services on ports that are no database's, Kafka's or
    Temporal's; ingress only from named sources to its http and metrics ports."""
    problems = []
    policies = by_kind(objects, "NetworkPolicy")
    forbidden = _forbidden_ports(objects)
    apis = api_pods(objects, service_clis, tools)
    deployments = [o for o in objects if o["kind"] == "Deployment"]
    for obj, container, cli, _ in divert_workloads(objects, service_clis, tools):
        if cli is None or cli.stateful or obj["kind"] != "Deployment":
            continue
        where = f"Deployment {obj['metadata']['name']}"
        labels = obj["spec"]["template"]["metadata"]["labels"]
        selecting = [p for p in policies.values() if _matches(p["spec"]["podSelector"].get("matchLabels", {}), labels)]
        types = {t for p in selecting for t in p["spec"].get("policyTypes", [])}
        if not {"Ingress", "Egress"} <= types:
            problems.append(f"{where}: no NetworkPolicy isolates its {sorted({'Ingress', 'Egress'} - types)}")
        reached: set[tuple[str, int]] = set()
        for policy in selecting:
            name = f"NetworkPolicy {policy['metadata']['name']}"
            for rule in policy["spec"].get("egress", []):
                ports = rule.get("ports")
                if not ports or not rule.get("to"):
                    problems.append(f"{name}: an egress rule without ports or peers allows everything")
                    continue
                numbers = {p.get("port") for p in ports}
                if any("endPort" in p or not isinstance(p.get("port"), int) for p in ports):
                    problems.append(f"{name}: egress ports must be single numbers ({ports})")
                problems += [f"{name}: egress to {forbidden[n]}'s port {n}" for n in sorted(numbers & set(forbidden))]
                for peer in rule["to"]:
                    if "ipBlock" in peer:
                        if numbers != {443}:
                            problems.append(
                                f"{name}: egress to {peer['ipBlock']['cidr']} beyond https ({sorted(numbers)})"
                            )
                        continue
                    if "namespaceSelector" in peer:
                        continue  # other namespaces' services (DNS, the collector), on the ports checked above
                    selector = peer.get("podSelector", {}).get("matchLabels", {})
                    selected = [
                        d for d in deployments if _matches(selector, d["spec"]["template"]["metadata"]["labels"])
                    ]
                    for deployment in selected:
                        api = next(
                            (
                                (script, http)
                                for script, (api_labels, http) in apis.items()
                                if _matches(api_labels, deployment["spec"]["template"]["metadata"]["labels"])
                            ),
                            None,
                        )
                        if api is None:
                            problems.append(f"{name}: egress to {deployment['metadata']['name']}, which is no API")
                        elif numbers != {api[1]}:
                            problems.append(f"{name}: egress to {api[0]}'s API on {sorted(numbers)}, not its http port")
                        else:
                            reached.add(api)
            http_ports = {p for p in _ports(container).items() if p[0] in ("http", "metrics")}
            allowed = {n for pair in http_ports for n in pair}
            for rule in policy["spec"].get("ingress", []):
                if not rule.get("from") or not rule.get("ports"):
                    problems.append(f"{name}: an ingress rule without sources or ports admits everyone")
                elif any(p.get("port") not in allowed for p in rule["ports"]):
                    problems.append(f"{name}: admits {rule['ports']}, not only its http and metrics ports")
        problems += [
            f"{where}: may not reach {script}'s API on {http}"
            for script, (_, http) in apis.items()
            if (script, http) not in reached
        ]
    return problems


def process_secret_problems(objects: Objects, service_clis, tools) -> list[str]:
    """Each of PROCESS_SECRETS (assessment's evaluation key) reaches the Deployment that uses it as a
    required secretKeyRef to a Secret no other pod references, and no other container at all: never
    a literal in the pod spec, never a ConfigMap (readable by whoever may read configuration)."""
    problems = []
    config_maps = by_kind(objects, "ConfigMap")
    for secret, (script, role) in PROCESS_SECRETS.items():
        problems += [
            f"ConfigMap {name}: holds {secret}, readable in clear"
            for name, config_map in config_maps.items()
            if secret in (config_map.get("data") or {})
        ]
        owners = 0
        for obj in objects:
            for container in tools.containers(obj):
                where = f"{obj['kind']} {obj['metadata']['name']}"
                owner = obj["kind"] == "Deployment" and (container.get("command") or [])[:2] == [script, role]
                owners += owner
                sources = _env_sources(objects, container)
                if secret not in sources:
                    if owner:
                        problems.append(f"{where}: no {secret}")
                    continue
                if not owner:
                    problems.append(f"{where}: is given {secret}, which only `{script} {role}` uses")
                    continue
                refs = [
                    item["valueFrom"]["secretKeyRef"]
                    for item in container.get("env", [])
                    if item["name"] == secret and "secretKeyRef" in item.get("valueFrom", {})
                ]
                kind, name = sources[secret]
                if not refs or (kind, name) != ("Secret", refs[-1]["name"]):
                    origin = f"{kind} {name}" if name else "a literal"
                    problems.append(f"{where}: {secret} comes from {origin}, not a secretKeyRef")
                    continue
                if refs[-1].get("optional"):
                    problems.append(f"{where}: {secret} is optional: a missing Secret would turn its use off silently")
                others = {
                    referenced
                    for other in objects
                    if other is not obj and tools.pod_spec(other)
                    for referenced in _secret_names(other, tools)
                }
                if name in others:
                    problems.append(f"{where}: {secret} is in Secret {name}, which other pods reference too")
        if not owners:
            problems.append(f"no Deployment runs `{script} {role}`, which needs {secret}")
    return problems


# ---------------------------------------------------------------- the committed manifests


def test_every_command_is_a_real_service_command_and_every_role_runs(k8s_production, service_clis, tools):
    assert command_problems(k8s_production, service_clis, tools) == []


def test_every_variable_is_a_setting_and_production_accepts_the_environment(k8s_production, service_clis, tools):
    assert environment_problems(k8s_production, service_clis, tools) == []


def test_ports_probes_and_services_agree(k8s_production, service_clis, tools):
    assert port_problems(k8s_production, service_clis, tools) == []


def test_autoscalers_and_disruption_budgets_fit(k8s_production, service_clis, tools):
    assert scaling_problems(k8s_production, service_clis, tools) == []


def test_pods_are_hardened_and_images_pinned(k8s_production, tools):
    assert hardening_problems(k8s_production, tools) == []


def test_the_base_is_the_same_system_without_platform_specifics(k8s_base, k8s_production, service_clis, tools):
    # The base alone lacks only the overlay's Secrets and its front door (the gateway is specific to
    # the cluster's Gateway API implementation); everything else already holds there.
    assert command_problems(k8s_base, service_clis, tools) == []
    assert scaling_problems(k8s_base, service_clis, tools) == []
    assert hardening_problems(k8s_base, tools) == []
    assert network_policy_problems(k8s_base, service_clis, tools) == []
    assert process_secret_problems(k8s_base, service_clis, tools) == []
    names = {(o["kind"], o["metadata"]["name"]) for o in k8s_base}
    added = {(o["kind"], o["metadata"]["name"]) for o in k8s_production} - names
    front_door = {"Gateway", "HTTPRoute", "HTTPRouteFilter", "ClientTrafficPolicy", "BackendTrafficPolicy"}
    assert {kind for kind, _ in added} == {"Secret", "Namespace"} | front_door


def test_the_overlay_names_the_image_namespace_and_secrets(k8s_production, tools):
    images = {c["image"] for obj in k8s_production for c in tools.containers(obj)}
    assert not [image for image in images if image.startswith("divert:")], "the overlay must point at a registry"
    assert {obj["metadata"].get("namespace") for obj in k8s_production if obj["kind"] != "Namespace"} == {"divert"}
    secrets_dir = K8S_DIR / "overlays" / "production" / "secrets"
    examples = sorted(secrets_dir.glob("*.example"))
    assert examples
    for example in examples:
        assert tools.git_ignores(example.with_name(example.name.removesuffix(".example"))), example


def test_only_the_migration_jobs_sign_in_as_the_database_owner(k8s_production, service_clis, tools):
    assert database_role_problems(k8s_production, service_clis, tools) == []


def test_topics_job_creates_the_checked_topics_then_the_generated_acls(k8s_production, tools):
    assert topics_job_problems(k8s_production, tools) == []


def test_each_service_signs_in_to_kafka_as_its_own_principal(k8s_production, service_clis, tools):
    assert kafka_problems(k8s_production, service_clis, tools) == []


def test_intake_reaches_temporal_over_mutual_tls_with_its_own_certificate(k8s_production, service_clis, tools):
    assert temporal_problems(k8s_production, service_clis, tools) == []


def test_the_console_holds_only_its_own_secrets_and_signs_in_at_the_apis_identity_provider(
    k8s_production, service_clis, tools
):
    assert front_end_problems(k8s_production, service_clis, tools) == []


def test_secrets_of_one_process_reach_that_process_alone_by_secret_key_ref(k8s_production, service_clis, tools):
    assert process_secret_problems(k8s_production, service_clis, tools) == []


def test_the_console_may_reach_the_apis_and_the_identity_provider_only(k8s_production, service_clis, tools):
    assert network_policy_problems(k8s_production, service_clis, tools) == []
    # (and test_every_variable_is_a_setting_... holds intake's settings to accepting that environment)


# ---------------------------------------------------------------- the checks can fail


def _find(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def _container(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    return _find(objects, kind, name)["spec"]["template"]["spec"]["containers"][0]


def _volume(objects: Objects, kind: str, name: str, volume: str) -> dict[str, Any]:
    return next(v for v in _find(objects, kind, name)["spec"]["template"]["spec"]["volumes"] if v["name"] == volume)


def _unmount(objects: Objects, kind: str, name: str, volume: str) -> None:
    mounts = _container(objects, kind, name)["volumeMounts"]
    mounts.remove(next(m for m in mounts if m["name"] == volume))


def _give_intakes_temporal_secret(objects: Objects, kind: str, name: str) -> None:
    spec = _find(objects, kind, name)["spec"]["template"]["spec"]
    spec["volumes"].append({"name": "temporal-tls", "secret": {"secretName": TEMPORAL_SECRET}})
    spec["containers"][0]["volumeMounts"].append(
        {"name": "temporal-tls", "mountPath": "/etc/divert/temporal", "readOnly": True}
    )


EVALUATION_KEY_REF = {
    "name": "DIVERT_EVALUATION_KEY",
    "valueFrom": {"secretKeyRef": {"name": "divert-assessment-evaluation", "key": "DIVERT_EVALUATION_KEY"}},
}
"""How assessment's API takes the evaluation key (base/assessment/api.yaml)."""


def _env_item(objects: Objects, kind: str, name: str, variable: str) -> dict[str, Any]:
    return next(item for item in _container(objects, kind, name)["env"] if item["name"] == variable)


def _take_the_evaluation_secret_whole(objects: Objects) -> None:
    """assessment-api with the evaluation Secret as envFrom instead of key by key."""
    container = _container(objects, "Deployment", "assessment-api")
    container["env"].remove(_env_item(objects, "Deployment", "assessment-api", "DIVERT_EVALUATION_KEY"))
    container["envFrom"].append({"secretRef": {"name": "divert-assessment-evaluation"}})


def _write_the_evaluation_key_in(objects: Objects) -> None:
    """assessment-api with the evaluation key as a literal of its pod spec."""
    item = _env_item(objects, "Deployment", "assessment-api", "DIVERT_EVALUATION_KEY")
    del item["valueFrom"]
    item["value"] = "EXAMPLE-ONLY-HN2hCvfDK02JAW7cU8teZQ1dBOLnK2yYCDEdPvzGhPnE3g1f"


MUTATIONS: dict[str, tuple[Callable[..., list[str]], Callable[[Objects], None]]] = {
    "an unknown role": (
        command_problems,
        lambda o: _container(o, "Deployment", "intake-worker")["command"].__setitem__(1, "workers"),
    ),
    "a role without a Deployment": (
        command_problems,
        lambda o: o.remove(_find(o, "Deployment", "warrants-relay")),
    ),
    "a service without migrations": (command_problems, lambda o: o.remove(_find(o, "Job", "directory-migrate"))),
    "a service never purged": (command_problems, lambda o: o.remove(_find(o, "CronJob", "assessment-purge"))),
    "a typo'd setting": (
        environment_problems,
        lambda o: _find(o, "ConfigMap", "divert-intake")["data"].__setitem__("DIVERT_TEMPORAL_ADRESS", "x:7233"),
    ),
    "a setting given to a service without it": (
        environment_problems,
        lambda o: _find(o, "ConfigMap", "divert-warrants")["data"].__setitem__("DIVERT_CASE_AGENCIES", "{}"),
    ),
    "a missing Secret": (environment_problems, lambda o: o.remove(_find(o, "Secret", "divert-auth"))),
    "the callback keys given to the consumer": (
        environment_problems,
        lambda o: _container(o, "Deployment", "intake-consumer")["envFrom"].append(
            {"secretRef": {"name": "divert-intake-callbacks"}}
        ),
    ),
    "a development environment": (
        environment_problems,
        lambda o: _find(o, "ConfigMap", "divert-common")["data"].__setitem__("DIVERT_ENVIRONMENT", "development"),
    ),
    "a readiness probe on /healthz": (
        port_problems,
        lambda o: _container(o, "Deployment", "assessment-api")["readinessProbe"]["httpGet"].__setitem__(
            "path", "/healthz"
        ),
    ),
    "an API port that is not DIVERT_PORT": (
        port_problems,
        lambda o: _find(o, "ConfigMap", "divert-directory")["data"].__setitem__("DIVERT_PORT", "8080"),
    ),
    "a metrics port that is not DIVERT_METRICS_PORT": (
        port_problems,
        lambda o: _container(o, "Deployment", "intake-relay")["ports"][0].__setitem__("containerPort", 9000),
    ),
    "a warrants URL on the wrong port": (
        port_problems,
        lambda o: _find(o, "ConfigMap", "divert-intake")["data"].__setitem__(
            "DIVERT_WARRANTS_URL", "http://warrants-api:80"
        ),
    ),
    "a Service selecting nothing": (
        port_problems,
        lambda o: _find(o, "Service", "warrants-api")["spec"]["selector"].__setitem__(
            "app.kubernetes.io/name", "warrant"
        ),
    ),
    "consumers beyond their partitions": (
        scaling_problems,
        lambda o: _find(o, "HorizontalPodAutoscaler", "directory-consumer")["spec"].__setitem__("maxReplicas", 12),
    ),
    "an API without an autoscaler": (
        scaling_problems,
        lambda o: o.remove(_find(o, "HorizontalPodAutoscaler", "assessment-api")),
    ),
    "a Deployment without a budget": (
        scaling_problems,
        lambda o: o.remove(_find(o, "PodDisruptionBudget", "intake-worker")),
    ),
    "a budget that blocks drains": (
        scaling_problems,
        lambda o: _find(o, "PodDisruptionBudget", "warrants-relay")["spec"].__setitem__("minAvailable", 2),
    ),
    "a writable root": (
        hardening_problems,
        lambda o: _container(o, "Deployment", "intake-api")["securityContext"].__setitem__(
            "readOnlyRootFilesystem", False
        ),
    ),
    "a root pod": (
        hardening_problems,
        lambda o: _find(o, "Job", "intake-migrate")["spec"]["template"]["spec"]["securityContext"].__setitem__(
            "runAsNonRoot", False
        ),
    ),
    "no limits": (
        hardening_problems,
        lambda o: _container(o, "Deployment", "directory-consumer")["resources"].pop("limits"),
    ),
    "a latest image": (
        hardening_problems,
        lambda o: _container(o, "Job", "kafka-topics").__setitem__("image", "apache/kafka:latest"),
    ),
    "plaintext Kafka": (
        kafka_problems,
        lambda o: _find(o, "ConfigMap", "divert-common")["data"].update(
            DIVERT_KAFKA_SECURITY_PROTOCOL="PLAINTEXT", DIVERT_KAFKA_ALLOW_INSECURE="true"
        ),
    ),
    "a service signing in as another": (
        kafka_problems,
        lambda o: _find(o, "ConfigMap", "divert-warrants")["data"].__setitem__(
            "DIVERT_KAFKA_SASL_USERNAME", "divert-assessment"
        ),
    ),
    "a service given another's password": (
        kafka_problems,
        lambda o: _container(o, "Deployment", "warrants-consumer")["envFrom"][-1]["secretRef"].__setitem__(
            "name", "divert-assessment-kafka"
        ),
    ),
    "a pod without the CA": (
        kafka_problems,
        lambda o: _unmount(o, "Deployment", "intake-relay", "kafka-ca"),
    ),
    "Temporal without client credentials": (
        environment_problems,
        lambda o: [
            _find(o, "ConfigMap", "divert-intake")["data"].pop(key)
            for key in ("DIVERT_TEMPORAL_TLS_CERT_FILE", "DIVERT_TEMPORAL_TLS_KEY_FILE")
        ],
    ),
    "an insecure Temporal connection": (
        temporal_problems,
        lambda o: _find(o, "ConfigMap", "divert-intake")["data"].__setitem__("DIVERT_TEMPORAL_ALLOW_INSECURE", "true"),
    ),
    "a pod without intake's Temporal certificate": (
        temporal_problems,
        lambda o: _unmount(o, "Deployment", "intake-worker", "temporal-tls"),
    ),
    "a key path that is not the Secret's key": (
        temporal_problems,
        lambda o: _find(o, "ConfigMap", "divert-intake")["data"].__setitem__(
            "DIVERT_TEMPORAL_TLS_KEY_FILE", "/etc/divert/temporal/ca.crt"
        ),
    ),
    "a world-readable Temporal key": (
        temporal_problems,
        lambda o: _volume(o, "Deployment", "intake-api", "temporal-tls")["secret"].__setitem__("defaultMode", 0o644),
    ),
    "another service holding intake's Temporal key": (
        temporal_problems,
        lambda o: _give_intakes_temporal_secret(o, "Deployment", "warrants-api"),
    ),
    "intake's relay holding its Temporal key": (
        temporal_problems,
        lambda o: _give_intakes_temporal_secret(o, "Deployment", "intake-relay"),
    ),
    "a Deployment given the database owner's URL": (
        database_role_problems,
        lambda o: _container(o, "Deployment", "warrants-relay")["envFrom"].append(
            {"secretRef": {"name": "divert-warrants-migration-database"}}
        ),
    ),
    "migrations as the application role": (
        database_role_problems,
        lambda o: _container(o, "Job", "intake-migrate")["envFrom"].remove(
            {"secretRef": {"name": "divert-intake-migration-database"}}
        ),
    ),
    "processes signing in as the owner": (
        database_role_problems,
        lambda o: _find(o, "Secret", "divert-directory-database")["stringData"].__setitem__(
            "DIVERT_DATABASE_URL",
            _find(o, "Secret", "divert-directory-migration-database")["stringData"]["DIVERT_MIGRATION_DATABASE_URL"],
        ),
    ),
    "a topics Job without ACLs": (
        topics_job_problems,
        lambda o: _container(o, "Job", "kafka-topics").__setitem__("command", ["/bin/sh", "/scripts/create-topics.sh"]),
    ),
    "a stale ACL script": (
        topics_job_problems,
        lambda o: _find(o, "ConfigMap", "divert-kafka-topics")["data"].__setitem__(
            "create-acls.sh", dataplane.acl_script() + "allow User:divert-intake topic divert.cases Read\n"
        ),
    ),
    "an optional admin config": (
        topics_job_problems,
        lambda o: _find(o, "Job", "kafka-topics")["spec"]["template"]["spec"]["volumes"][1]["secret"].__setitem__(
            "optional", True
        ),
    ),
    # the console
    "a console role that does not exist": (
        command_problems,
        lambda o: _container(o, "Deployment", "console")["command"].__setitem__(1, "serve"),
    ),
    "a console without an autoscaler": (
        scaling_problems,
        lambda o: o.remove(_find(o, "HorizontalPodAutoscaler", "console")),
    ),
    "a console readiness probe on /healthz": (
        port_problems,
        lambda o: _container(o, "Deployment", "console")["readinessProbe"]["httpGet"].__setitem__("path", "/healthz"),
    ),
    "a console without an API's URL": (
        port_problems,
        lambda o: _find(o, "ConfigMap", "divert-console")["data"].pop("DIVERT_DIRECTORY_URL"),
    ),
    "a console calling a metrics port": (
        port_problems,
        lambda o: _find(o, "ConfigMap", "divert-console")["data"].__setitem__(
            "DIVERT_INTAKE_URL", "http://intake-metrics:9464"
        ),
    ),
    "a console calling another service's API": (
        port_problems,
        lambda o: _find(o, "ConfigMap", "divert-console")["data"].__setitem__(
            "DIVERT_WARRANTS_URL", "http://assessment-api:8002"
        ),
    ),
    "a console holding a database URL": (
        front_end_problems,
        lambda o: _container(o, "Deployment", "console")["envFrom"].append(
            {"secretRef": {"name": "divert-warrants-database"}}
        ),
    ),
    "a console mounting the Kafka CA": (
        front_end_problems,
        lambda o: _find(o, "Deployment", "console")["spec"]["template"]["spec"]["volumes"].append(
            {"name": "kafka-ca", "secret": {"secretName": "divert-kafka-ca"}}
        ),
    ),
    "a session key in a ConfigMap": (
        front_end_problems,
        lambda o: _find(o, "ConfigMap", "divert-console")["data"].__setitem__(
            "DIVERT_SESSION_KEY", _find(o, "Secret", "divert-console")["stringData"]["DIVERT_SESSION_KEY"]
        ),
    ),
    "a session key written into the pod spec": (
        front_end_problems,
        lambda o: _container(o, "Deployment", "console")["env"].append(
            {"name": "DIVERT_SESSION_KEY", "value": "cmVwbGFjZS10aGlzLXNlc3Npb24ta2V5LXBsZWFzZSE="}
        ),
    ),
    "the console's Secret given to another pod": (
        front_end_problems,
        lambda o: _container(o, "Deployment", "warrants-api")["envFrom"].append(
            {"secretRef": {"name": "divert-console"}}
        ),
    ),
    "a discovery document of another identity provider": (
        front_end_problems,
        lambda o: _find(o, "ConfigMap", "divert-console")["data"].__setitem__(
            "DIVERT_OIDC_DISCOVERY_URL", "https://other.example.org" + DISCOVERY_PATH
        ),
    ),
    "links to another Temporal namespace": (
        front_end_problems,
        lambda o: _find(o, "ConfigMap", "divert-console")["data"].__setitem__("DIVERT_TEMPORAL_NAMESPACE", "default"),
    ),
    "a public URL the gateway does not route to the console": (
        front_end_problems,
        lambda o: _find(o, "ConfigMap", "divert-console")["data"].__setitem__(
            "DIVERT_PUBLIC_URL", "https://intake.divert.example.org"
        ),
    ),
    "no NetworkPolicy": (network_policy_problems, lambda o: o.remove(_find(o, "NetworkPolicy", "console"))),
    "egress on every port": (
        network_policy_problems,
        lambda o: _find(o, "NetworkPolicy", "console")["spec"]["egress"][4].pop("ports"),
    ),
    "egress to PostgreSQL": (
        network_policy_problems,
        lambda o: _find(o, "NetworkPolicy", "console")["spec"]["egress"].append(
            {"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 5432, "protocol": "TCP"}]}
        ),
    ),
    "egress to Kafka's namespace": (
        network_policy_problems,
        lambda o: _find(o, "NetworkPolicy", "console")["spec"]["egress"].append(
            {
                "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kafka"}}}],
                "ports": [{"port": 9092, "protocol": "TCP"}],
            }
        ),
    ),
    "egress to a relay": (
        network_policy_problems,
        lambda o: _find(o, "NetworkPolicy", "console")["spec"]["egress"][0]["to"][0]["podSelector"][
            "matchLabels"
        ].__setitem__("app.kubernetes.io/component", "relay"),
    ),
    "an API it cannot reach": (
        network_policy_problems,
        lambda o: _find(o, "NetworkPolicy", "console")["spec"]["egress"].pop(3),
    ),
    "ingress from anywhere": (
        network_policy_problems,
        lambda o: _find(o, "NetworkPolicy", "console")["spec"]["ingress"][0].pop("from"),
    ),
    # assessment's evaluation key: its API alone, from its own Secret, key by key
    "an assessment API without the evaluation key": (
        process_secret_problems,
        lambda o: _container(o, "Deployment", "assessment-api")["env"].remove(EVALUATION_KEY_REF),
    ),
    "the evaluation key given to assessment's relay": (
        process_secret_problems,
        lambda o: (
            _container(o, "Deployment", "assessment-relay")
            .setdefault("env", [])
            .append(copy.deepcopy(EVALUATION_KEY_REF))
        ),
    ),
    "the evaluation Secret given whole to the purge": (
        process_secret_problems,
        lambda o: _find(o, "CronJob", "assessment-purge")["spec"]["jobTemplate"]["spec"]["template"]["spec"][
            "containers"
        ][0]["envFrom"].append({"secretRef": {"name": "divert-assessment-evaluation"}}),
    ),
    "the evaluation key in assessment's ConfigMap": (
        process_secret_problems,
        lambda o: _find(o, "ConfigMap", "divert-assessment")["data"].__setitem__(
            "DIVERT_EVALUATION_KEY", "EXAMPLE-ONLY-HN2hCvfDK02JAW7cU8teZQ1dBOLnK2yYCDEdPvzGhPnE3g1f"
        ),
    ),
    "the evaluation key written into the pod spec": (process_secret_problems, _write_the_evaluation_key_in),
    "the evaluation Secret as envFrom": (process_secret_problems, _take_the_evaluation_secret_whole),
    "an optional evaluation key": (
        process_secret_problems,
        lambda o: _env_item(o, "Deployment", "assessment-api", "DIVERT_EVALUATION_KEY")["valueFrom"][
            "secretKeyRef"
        ].__setitem__("optional", True),
    ),
    "a placeholder evaluation key": (
        environment_problems,
        lambda o: _find(o, "Secret", "divert-assessment-evaluation")["stringData"].__setitem__(
            "DIVERT_EVALUATION_KEY", "changeme"
        ),
    ),
    "an evaluation key shorter than 32 characters": (
        environment_problems,
        lambda o: _find(o, "Secret", "divert-assessment-evaluation")["stringData"].__setitem__(
            "DIVERT_EVALUATION_KEY",
            "EXAMPLE-ONLY-HN2hCvfDK02JAW7cU8",  # 31 characters
        ),
    ),
    "a key the evaluation Secret does not hold": (
        environment_problems,
        lambda o: _env_item(o, "Deployment", "assessment-api", "DIVERT_EVALUATION_KEY")["valueFrom"][
            "secretKeyRef"
        ].__setitem__("key", "EVALUATION_KEY"),
    ),
}


def test_the_checks_catch_broken_manifests(k8s_production, service_clis, tools):
    for what, (check, mutate) in MUTATIONS.items():
        objects = copy.deepcopy(k8s_production)
        mutate(objects)
        args = (
            (objects, tools) if check in (hardening_problems, topics_job_problems) else (objects, service_clis, tools)
        )
        assert check(*args), f"{check.__name__} missed {what}"


def test_the_resolver_applies_patches_images_and_generators(tools):
    # The tests above are only as good as the kustomize subset that builds what they check.
    overlay = tools.kustomize_build(K8S_DIR / "overlays" / "production")
    base = tools.kustomize_build(K8S_DIR / "base")
    assert _find(overlay, "HorizontalPodAutoscaler", "intake-api")["spec"]["maxReplicas"] == 20
    assert _find(base, "HorizontalPodAutoscaler", "intake-api")["spec"]["maxReplicas"] == 10
    assert _container(overlay, "Deployment", "intake-api")["image"] == "registry.example.org/divert/divert:0.1.0"
    assert "DIVERT_DATABASE_URL" in _find(overlay, "Secret", "divert-intake-database")["stringData"]
    merged = tools.strategic_merge(
        {"containers": [{"name": "a", "image": "x:1", "env": [{"name": "A", "value": "1"}]}]},
        {"containers": [{"name": "a", "env": [{"name": "B", "value": "2"}]}]},
    )
    assert merged == {
        "containers": [{"name": "a", "image": "x:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}]
    }
