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

from .conftest import EMBEDDED_ONLY_COMMANDS

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
    services = by_kind(objects, "Service")
    for _, container, _, _ in divert_workloads(objects, service_clis, tools):
        env, _ = container_env(objects, container)
        if url := env.get("DIVERT_WARRANTS_URL"):
            parsed = urlsplit(url)
            service = services.get(parsed.hostname or "")
            if service is None or parsed.port not in [p["port"] for p in service["spec"]["ports"]]:
                problems.append(f"DIVERT_WARRANTS_URL {url} is no Service port")
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
        if cli is None:
            continue
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
    workloads = [(o, c, cli, cmd) for o, c, cli, cmd in divert_workloads(objects, service_clis, tools) if cli]
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
    names = {(o["kind"], o["metadata"]["name"]) for o in k8s_base}
    added = {(o["kind"], o["metadata"]["name"]) for o in k8s_production} - names
    front_door = {"Gateway", "HTTPRoute", "ClientTrafficPolicy", "BackendTrafficPolicy"}
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
