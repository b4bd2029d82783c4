"""deploy/compose/compose.yaml agrees with the code: commands, settings, ports, ordering, topics.

Each check is a function returning the problems it finds, run once against the committed files
and again against copies broken on purpose, so that a check which can no longer fail is noticed.
"""

import os
import posixpath
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from divert_contracts import dataplane

from .conftest import (
    DISCOVERY_PATH,
    EMBEDDED_ONLY_COMMANDS,
    FRONT_END_FORBIDDEN,
    FRONT_END_SECRETS,
    PROCESS_SECRETS,
)

COMPOSE_DIR = Path(__file__).resolve().parents[2] / "deploy" / "compose"
K8S_TOPICS_SCRIPT = COMPOSE_DIR.parents[0] / "k8s" / "base" / "kafka-topics" / "create-topics.sh"
OPERATOR_PROVIDED = "./certs/"
"""Mounted files the operator makes (certificates and keys): git-ignored, so absent here."""
ADMIN = "divert-admin"
BROKER = "kafka-broker"
"""The Kafka principals of the admin's and the brokers' certificates (their common names)."""
INTAKE_TEMPORAL_FILES = {
    "DIVERT_TEMPORAL_TLS_CA_FILE": f"{OPERATOR_PROVIDED}ca.crt",
    "DIVERT_TEMPORAL_TLS_CERT_FILE": f"{OPERATOR_PROVIDED}temporal-intake.crt",
    "DIVERT_TEMPORAL_TLS_KEY_FILE": f"{OPERATOR_PROVIDED}temporal-intake.key",
}
"""Intake's Temporal TLS settings, and the file of certs/ each must be (certs/README.md)."""
TEMPORAL_SERVER_FILES = {
    # the frontend: its certificate, and the CA of the client certificates it requires
    "TEMPORAL_TLS_FRONTEND_CERT": f"{OPERATOR_PROVIDED}temporal.crt",
    "TEMPORAL_TLS_FRONTEND_KEY": f"{OPERATOR_PROVIDED}temporal.key",
    "TEMPORAL_TLS_CLIENT1_CA_CERT": f"{OPERATOR_PROVIDED}ca.crt",
    # the internal services (history, matching, worker), as servers and as clients
    "TEMPORAL_TLS_SERVER_CERT": f"{OPERATOR_PROVIDED}temporal.crt",
    "TEMPORAL_TLS_SERVER_KEY": f"{OPERATOR_PROVIDED}temporal.key",
    "TEMPORAL_TLS_SERVER_CA_CERT": f"{OPERATOR_PROVIDED}ca.crt",
}
"""The temporalio/server image's TLS variables (its embedded config template) and their files."""
TEMPORAL_IMAGE_WORKDIR = "/etc/temporal"
"""Where the temporalio/server image resolves a relative DYNAMIC_CONFIG_FILE_PATH."""


def divert_containers(compose, service_clis) -> dict[str, tuple[Any, str]]:
    """Compose services running a Divert command: name → (ServiceCli, command)."""
    found = {}
    for name, service in compose.services.items():
        command = service.get("command")
        if isinstance(command, list) and command and command[0] in service_clis:
            found[name] = (service_clis[command[0]], command[1] if len(command) > 1 else "")
    return found


def long_running(compose, service_clis) -> dict[str, tuple[Any, str]]:
    return {n: (cli, cmd) for n, (cli, cmd) in divert_containers(compose, service_clis).items() if cmd in cli.roles}


def stateful_containers(compose, service_clis) -> dict[str, tuple[Any, str]]:
    """Divert containers of services with a database and a Kafka principal (not the console)."""
    return {n: (cli, cmd) for n, (cli, cmd) in divert_containers(compose, service_clis).items() if cli.stateful}


def command_problems(compose, service_clis) -> list[str]:
    """Every Divert command exists; every role of every service runs; every service is migrated
    and purged."""
    problems = []
    for name, service in compose.services.items():
        command = service.get("command")
        image = service.get("image", "")
        if image.startswith("divert:") or (isinstance(command, list) and str(command[0]).startswith("divert-")):
            if not isinstance(command, list) or command[0] not in service_clis:
                problems.append(f"{name}: {command} is not a Divert console script")
            elif len(command) < 2 or command[1] not in service_clis[command[0]].commands:
                problems.append(f"{name}: {command[0]} has no command {command[1:]}")
            elif command[1] in EMBEDDED_ONLY_COMMANDS:
                problems.append(f"{name}: `{command[0]} {command[1]}` is for the embedded stack, not production")
    running = divert_containers(compose, service_clis)
    for cli in service_clis.values():
        for role in sorted(cli.roles | ({"migrate", "purge"} if cli.stateful else set())):
            if not any(c is cli and cmd == role for c, cmd in running.values()):
                problems.append(f"no container runs `{cli.script} {role}`")
    return problems


def environment_problems(compose, service_clis, tools) -> list[str]:
    """Every variable is a setting of the service it is given to, and the settings class accepts
    the whole environment in production (with the committed example values)."""
    problems = []
    for name, (cli, command) in divert_containers(compose, service_clis).items():
        with_examples = compose.environment(name, include_commented=True)
        problems += tools.env_name_problems(cli, set(with_examples), name)
        if problem := tools.settings_problem(cli.settings, compose.environment(name)):
            problems.append(f"{name}: {cli.settings.__name__} refuses its environment: {problem}")
        env = compose.environment(name)
        if "DIVERT_SERVICE_TOKEN" in env and not (cli.script == "divert-intake" and command == "worker"):
            problems.append(f"{name}: only intake's worker needs the service token")
        holds_callback_keys = "DIVERT_CALLBACK_ENCRYPTION_KEYS" in env
        if holds_callback_keys != (cli.script == "divert-intake" and command in ("api", "relay")):
            problems.append(f"{name}: only intake's api and relay hold (and both need) the callback keys")
        for file in compose.services[name].get("env_file", []):
            if not tools.example_of(compose.directory / file).exists():
                problems.append(f"{name}: env file {file} has no committed {file}.example")
    if compose.missing_variables:
        problems.append(f"${{...}} not defined in .env.example: {sorted(compose.missing_variables)}")
    return problems


def port_problems(compose, service_clis) -> list[str]:
    """APIs listen, publish and are health-checked on DIVERT_PORT at /readyz; other processes are
    health-checked on their metrics port; Prometheus scrapes every process's metrics port."""
    problems = []
    for name, (_, command) in long_running(compose, service_clis).items():
        env = compose.environment(name)
        test = " ".join(compose.services[name].get("healthcheck", {}).get("test", []))
        checked = re.search(r"http://127\.0\.0\.1:(\d+)(/\w+)", test)
        if command == "api":
            port = env.get("DIVERT_PORT")
            published = [str(p).rsplit(":", 1)[-1] for p in compose.services[name].get("ports", [])]
            if published != [port]:
                problems.append(f"{name}: publishes {published}, listens on DIVERT_PORT {port}")
            if not checked or (checked.group(1), checked.group(2)) != (port, "/readyz"):
                problems.append(f"{name}: healthcheck does not ask /readyz on DIVERT_PORT {port}")
        else:
            port = env.get("DIVERT_METRICS_PORT")
            if not checked or (checked.group(1), checked.group(2)) != (port, "/metrics"):
                problems.append(f"{name}: healthcheck does not ask /metrics on DIVERT_METRICS_PORT {port}")
        if env.get("DIVERT_METRICS_HOST") != "0.0.0.0" or env.get("DIVERT_HOST") != "0.0.0.0":
            problems.append(f"{name}: binds to loopback only: nothing outside the container reaches it")
    scrape = yaml.safe_load((compose.directory / "prometheus" / "prometheus.yml").read_text())
    targets = {
        target for job in scrape["scrape_configs"] for group in job["static_configs"] for target in group["targets"]
    }
    for name in long_running(compose, service_clis):
        wanted = f"{name}:{compose.environment(name).get('DIVERT_METRICS_PORT')}"
        if wanted not in targets:
            problems.append(f"prometheus does not scrape {wanted}")
    for target in targets:
        if target.split(":")[0] not in compose.services:
            problems.append(f"prometheus scrapes {target}, which is no service")
    return problems


def ordering_problems(compose, service_clis) -> list[str]:
    """depends_on names real services with conditions they can meet, and every long-running Divert
    process waits for its migrations and the topics (intake's also for its Temporal namespace)."""
    problems = []
    services = compose.services
    for name, service in services.items():
        for target, spec in (service.get("depends_on") or {}).items():
            condition = spec.get("condition", "service_started")
            if target not in services:
                problems.append(f"{name} depends on {target}, which does not exist")
            elif condition == "service_healthy" and "healthcheck" not in services[target]:
                problems.append(f"{name} waits for {target} to be healthy, but it has no healthcheck")
            elif condition == "service_completed_successfully" and services[target].get("restart", "no") != "no":
                restart = services[target]["restart"]
                problems.append(f"{name} waits for {target} to complete, but it restarts ({restart})")

    def upstream(name: str, seen: set[str]) -> set[str]:
        for target in services[name].get("depends_on") or {}:
            if target in services and target not in seen:
                seen.add(target)
                upstream(target, seen)
        return seen

    running = divert_containers(compose, service_clis)
    migrations = {cli.script: n for n, (cli, cmd) in running.items() if cmd == "migrate"}
    apis = {cli.script: n for n, (cli, cmd) in running.items() if cmd == "api" and cli.stateful}
    for name, (cli, _) in long_running(compose, service_clis).items():
        before = upstream(name, set())
        if cli.stateful:
            wanted = {migrations.get(cli.script, f"{cli.script} migrate"), "kafka-topics"}
        else:  # the console: every page is a call to the APIs
            wanted = {apis.get(script, f"{script} api") for script in sorted(apis)}
        if "DIVERT_TEMPORAL_ADDRESS" in compose.environment(name):
            wanted.add("temporal-namespace")
        problems += [f"{name} may start before {w}" for w in sorted(wanted - before)]
        if name in before:
            problems.append(f"{name} depends on itself")
    return problems


def database_problems(compose, service_clis) -> list[str]:
    """Each service has its own PostgreSQL database (asyncpg), created by the init script."""
    problems = []
    init = (compose.directory / "postgres" / "init-databases.sh").read_text()
    created = set(re.findall(r"^create_database \S+ \S+ (.+)$", init, flags=re.MULTILINE))
    created = {db for line in created for db in line.split()}
    owner: dict[str, str] = {}
    for name, (cli, _) in stateful_containers(compose, service_clis).items():
        url = urlsplit(compose.environment(name).get("DIVERT_DATABASE_URL", ""))
        database = url.path.lstrip("/")
        if url.scheme != "postgresql+asyncpg" or url.hostname not in compose.services:
            problems.append(f"{name}: DIVERT_DATABASE_URL is not an asyncpg URL of a compose service")
        if database not in created:
            problems.append(f"{name}: database {database!r} is not created by the init script")
        if owner.setdefault(database, cli.script) != cli.script:
            problems.append(f"{name}: database {database!r} is also {owner[database]}'s")
    return problems


def _url_variable(value: Any) -> str | None:
    """The `.env` variable a URL's password comes from (`${NAME:?...}`), or None."""
    found = re.search(r"\$\{(\w+)", str(value or ""))
    return found.group(1) if found else None


def database_role_problems(compose, service_clis) -> list[str]:
    """Only a service's migrations sign in as its database's owner (DIVERT_MIGRATION_DATABASE_URL);
    every Divert process signs in as the service's application role, which the init script gives
    rows only (default privileges of the owner); the postgres container gets every password the
    init script reads."""
    problems = []
    init = (compose.directory / "postgres" / "init-databases.sh").read_text()
    owners = {  # database → (owner, its password variable)
        database: (role, variable)
        for role, variable, databases in re.findall(r'^create_database (\S+) "\$(\w+)" (.+)$', init, flags=re.MULTILINE)
        for database in databases.split()
    }
    apps = {  # database → (application role, its password variable, the owner it gets rows of)
        database: (role, variable, owner)
        for role, variable, database, owner in re.findall(
            r'^create_app_role (\S+) "\$(\w+)" (\S+) (\S+)$', init, flags=re.MULTILINE
        )
    }
    owner_variables = {variable for database, (_, variable) in owners.items() if database in apps}
    given = set(compose.services["postgres"].get("environment", {}))
    problems += [
        f"postgres: the init script reads {v}, which it is not given"
        for v in sorted(set(re.findall(r'"\$([A-Z][A-Z0-9_]*_PASSWORD)"', init)) - given)
    ]
    for database, (role, _, owner) in apps.items():
        if owners.get(database, ("",))[0] != owner:
            problems.append(f"init script: {role} gets the rows of {owner}, which does not own {database}")
        if role == owner:
            problems.append(f"init script: {database}'s application role is its owner")
    for name, (_, command) in stateful_containers(compose, service_clis).items():
        env = compose.environment(name)
        raw = compose.raw["services"][name].get("environment", {})
        url = urlsplit(env.get("DIVERT_DATABASE_URL", ""))
        database = url.path.lstrip("/")
        app, app_variable, _ = apps.get(database, ("", "", ""))
        if (url.username, _url_variable(raw.get("DIVERT_DATABASE_URL"))) != (app, app_variable):
            problems.append(f"{name}: DIVERT_DATABASE_URL does not sign in as {database}'s application role")
        migration = env.get("DIVERT_MIGRATION_DATABASE_URL")
        if command == "migrate":
            owner, owner_variable = owners.get(database, ("", ""))
            signs_in = urlsplit(migration or "")
            variable = _url_variable(raw.get("DIVERT_MIGRATION_DATABASE_URL"))
            if (signs_in.username, signs_in.path.lstrip("/"), variable) != (owner, database, owner_variable):
                problems.append(f"{name}: DIVERT_MIGRATION_DATABASE_URL does not sign in as {database}'s owner")
            continue
        if migration is not None:
            problems.append(f"{name}: holds DIVERT_MIGRATION_DATABASE_URL, but only migrations change the schema")
        if leaked := sorted({_url_variable(value) for value in raw.values()} & owner_variables):
            problems.append(f"{name}: is given {leaked}, a database owner's password")
    return problems


def infrastructure_problems(compose) -> list[str]:
    """Kafka: 3 KRaft brokers, RF 3, min ISR 2; traces to the collector; Temporal namespace agreed."""
    problems = []
    services = compose.services
    brokers = {
        n: s
        for n, s in services.items()
        if str(s.get("image", "")).startswith("apache/kafka") and "KAFKA_NODE_ID" in s.get("environment", {})
    }
    if len(brokers) != 3:
        problems.append(f"{len(brokers)} Kafka brokers, not 3")
    ids = {str(s["environment"]["KAFKA_NODE_ID"]) for s in brokers.values()}
    for name, broker in brokers.items():
        env = broker["environment"]
        quorum = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
        voters = {voter.split("@")[0]: voter.split("@")[1].split(":")[0] for voter in quorum}
        if set(voters) != ids or set(voters.values()) != set(brokers):
            problems.append(f"{name}: controller quorum {env['KAFKA_CONTROLLER_QUORUM_VOTERS']} is not the brokers")
        for key, value in {
            "KAFKA_DEFAULT_REPLICATION_FACTOR": "3",
            "KAFKA_MIN_INSYNC_REPLICAS": "2",
            "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "3",
            "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
            "KAFKA_PROCESS_ROLES": "broker,controller",
        }.items():
            if str(env.get(key)) != value:
                problems.append(f"{name}: {key} is {env.get(key)!r}, not {value}")
    for name, service in services.items():
        env = service.get("environment", {})
        if not isinstance(env, dict):
            continue
        if bootstrap := env.get("DIVERT_KAFKA_BOOTSTRAP"):
            hosts = {address.split(":")[0] for address in bootstrap.split(",")}
            if hosts != set(brokers):
                problems.append(f"{name}: DIVERT_KAFKA_BOOTSTRAP {bootstrap} is not the brokers")
        if endpoint := env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
            url = urlsplit(endpoint)
            if url.hostname not in services or "collector" not in str(services[url.hostname].get("image")):
                problems.append(f"{name}: OTEL_EXPORTER_OTLP_ENDPOINT {endpoint} is not the collector")
            collector = yaml.safe_load((compose.directory / "otel" / "collector.yaml").read_text())
            # Divert exports with the OTLP/HTTP exporter: the collector's http receiver, not its gRPC one.
            http_port = collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"].rsplit(":", 1)[1]
            if str(url.port) != http_port:
                problems.append(f"{name}: the collector receives OTLP/HTTP on {http_port}, not {url.port}")
        if namespace := env.get("DIVERT_TEMPORAL_NAMESPACE"):
            created = services.get("temporal-namespace", {}).get("environment", {}).get("NAMESPACE")
            if namespace != created:
                problems.append(f"{name}: Temporal namespace {namespace} is not the one created ({created})")
        if warrants := env.get("DIVERT_WARRANTS_URL"):
            url = urlsplit(warrants)
            target = services.get(url.hostname or "", {}).get("environment", {})
            if not isinstance(target, dict) or str(target.get("DIVERT_PORT")) != str(url.port):
                problems.append(f"{name}: DIVERT_WARRANTS_URL {warrants} is not the warrants API")
    collector = yaml.safe_load((compose.directory / "otel" / "collector.yaml").read_text())
    for exporter in collector["exporters"].values():
        host = urlsplit("//" + exporter["endpoint"]).hostname
        if host not in services:
            problems.append(f"the collector exports to {host}, which is no service")
    return problems


def bind_mounts(service: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(source, target, long-syntax fields) of each file or directory beside compose.yaml a service mounts."""
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
            fields: dict[str, Any] = {}
        else:
            source, target, fields = volume.get("source", ""), volume.get("target", ""), volume
        if source.startswith("."):
            yield source, target, fields


def file_problems(compose) -> list[str]:
    """Bind-mounted files exist, except the operator's certificates, which must then stop `up`
    rather than be created as empty directories; every service names its image."""
    problems = []
    for name, service in compose.services.items():
        for source, _, fields in bind_mounts(service):
            if source.startswith(OPERATOR_PROVIDED):
                if fields.get("bind", {}).get("create_host_path") is not False:
                    problems.append(f"{name}: mounts {source} without create_host_path: false")
            elif not (compose.directory / source).exists():
                problems.append(f"{name}: mounts {source}, which does not exist")
        image = service.get("image")
        if image is None:
            problems.append(f"{name}: no image")
    return problems


def brokers(compose) -> dict[str, dict[str, Any]]:
    return {
        n: s
        for n, s in compose.services.items()
        if str(s.get("image", "")).startswith("apache/kafka") and "KAFKA_NODE_ID" in s.get("environment", {})
    }


def _listeners(value: str) -> dict[str, str]:
    """`NAME://host:port,...` → {NAME: port}."""
    return {item.split("://")[0]: item.rsplit(":", 1)[-1] for item in value.split(",") if item}


def broker_problems(compose) -> list[str]:
    """Every listener is encrypted and authenticates its clients (SCRAM, or client certificates);
    the brokers deny what no ACL allows, and only the brokers and the admin are super users;
    services use the SASL_SSL listener and the topics job an SSL one."""
    problems = []
    client_ports: set[str] = set()
    certificate_ports: set[str] = set()
    for name, broker in brokers(compose).items():
        env = broker["environment"]
        protocols = dict(item.split(":") for item in env.get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "").split(","))
        listeners = _listeners(env.get("KAFKA_LISTENERS", ""))
        advertised = env.get("KAFKA_ADVERTISED_LISTENERS", "")
        for listener in sorted({*listeners, *_listeners(advertised)}):
            protocol = protocols.get(listener, listener)  # a listener named after a protocol needs no map
            if protocol not in ("SSL", "SASL_SSL"):
                problems.append(f"{name}: listener {listener} is {protocol}")
            elif protocol == "SSL":
                if env.get(f"KAFKA_LISTENER_NAME_{listener}_SSL_CLIENT_AUTH") != "required":
                    problems.append(f"{name}: {listener} does not require client certificates: anyone may connect")
                certificate_ports.add(listeners.get(listener, ""))
            else:
                jaas = env.get(f"KAFKA_LISTENER_NAME_{listener}_SCRAM___SHA___512_SASL_JAAS_CONFIG", "")
                if env.get("KAFKA_SASL_ENABLED_MECHANISMS") != "SCRAM-SHA-512" or "ScramLoginModule" not in jaas:
                    problems.append(f"{name}: {listener} does not take SCRAM-SHA-512 (and only it)")
                client_ports.add(listeners.get(listener, ""))
        if "SSL://" in advertised or "SASL_" in advertised:
            problems.append(f"{name}: a protocol-named advertised listener makes the image demand its keystore files")
        if (
            env.get("KAFKA_INTER_BROKER_LISTENER_NAME") not in protocols
            or env.get("KAFKA_CONTROLLER_LISTENER_NAMES") not in protocols
        ):
            problems.append(f"{name}: brokers or controllers talk over an unmapped (default: PLAINTEXT) listener")
        for key, value in {
            "KAFKA_AUTHORIZER_CLASS_NAME": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND": "false",
            "KAFKA_SSL_KEYSTORE_TYPE": "PEM",
            "KAFKA_SSL_TRUSTSTORE_TYPE": "PEM",
        }.items():
            if str(env.get(key)) != value:
                problems.append(f"{name}: {key} is {env.get(key)!r}, not {value}")
        supers = set(str(env.get("KAFKA_SUPER_USERS", "")).split(";"))
        if supers != {f"User:{BROKER}", f"User:{ADMIN}"}:
            problems.append(f"{name}: super users {sorted(supers)}, not the brokers' and the admin's")
        mounted = {target for _, target, _ in bind_mounts(broker)}
        for key in ("KAFKA_SSL_KEYSTORE_LOCATION", "KAFKA_SSL_TRUSTSTORE_LOCATION"):
            if env.get(key) not in mounted:
                problems.append(f"{name}: {key} {env.get(key)} is not mounted")
    for name, service in compose.services.items():
        env = service.get("environment", {})
        if not isinstance(env, dict):
            continue
        for key, wanted, what in (
            ("DIVERT_KAFKA_BOOTSTRAP", client_ports, "the SASL_SSL listener"),
            ("KAFKA_BOOTSTRAP", certificate_ports, "a listener that requires client certificates"),
        ):
            if bootstrap := env.get(key):
                ports = {address.rsplit(":", 1)[-1] for address in str(bootstrap).split(",")}
                if not ports <= wanted:
                    problems.append(f"{name}: {key} {bootstrap} is not {what}")
    return problems


def kafka_client_problems(compose, service_clis) -> list[str]:
    """Every Divert container talks SASL_SSL to the brokers and signs in as its own service's
    principal, with a password variable given to no other service, and trusts a mounted CA file."""
    problems = []
    principal_of: dict[str, str] = {}  # .env variable → the principal whose password it is
    for name, (cli, _) in stateful_containers(compose, service_clis).items():
        env = compose.environment(name)
        raw = compose.raw["services"][name].get("environment", {})
        principal = dataplane.service(cli.service).principal
        for key, value in {
            "DIVERT_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "DIVERT_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "DIVERT_KAFKA_SASL_USERNAME": principal,
        }.items():
            if env.get(key) != value:
                problems.append(f"{name}: {key} is {env.get(key)!r}, not {value}")
        if env.get("DIVERT_KAFKA_ALLOW_INSECURE", "false").lower() not in ("false", "0", "no", "off", ""):
            problems.append(f"{name}: DIVERT_KAFKA_ALLOW_INSECURE is set (closed test rigs only)")
        variable = re.fullmatch(r"\$\{(\w+)[^}]*\}", str(raw.get("DIVERT_KAFKA_SASL_PASSWORD", "")))
        if variable is None:
            problems.append(f"{name}: DIVERT_KAFKA_SASL_PASSWORD is not a variable of .env")
        elif principal_of.setdefault(variable.group(1), principal) != principal:
            problems.append(f"{name}: {principal} shares {variable.group(1)} with {principal_of[variable.group(1)]}")
        mounted = {target: source for source, target, _ in bind_mounts(compose.services[name])}
        if mounted.get(env.get("DIVERT_KAFKA_SSL_CAFILE", "")) != f"{OPERATOR_PROVIDED}ca.crt":
            problems.append(f"{name}: DIVERT_KAFKA_SSL_CAFILE is not the mounted {OPERATOR_PROVIDED}ca.crt")
    return problems


def run_topics_job(compose, tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run kafka/setup.sh as the kafka-topics job would, with `env`, against fakes of the Kafka CLI
    and of the two scripts it runs; each fake appends its arguments to `calls` in `tmp_path`."""
    fake = tmp_path / "fake.sh"
    fake.write_text('#!/bin/sh\nprintf \'%s %s\\n\' "$(basename "$0")" "$*" >> "$CALLS"\n')
    fake.chmod(0o755)
    scripts = tmp_path / "scripts"
    scripts.mkdir(exist_ok=True)
    for script in ("create-topics.sh", "create-acls.sh"):
        (scripts / script).write_text(f'printf \'{script} %s\\n\' "$KAFKA_COMMAND_CONFIG" >> "$CALLS"\n')
    (tmp_path / "kafka-configs.sh").symlink_to(fake)
    return subprocess.run(
        ["/bin/sh", str(compose.directory / "kafka" / "setup.sh")],
        env={
            "PATH": os.environ["PATH"],
            **env,
            "CALLS": str(tmp_path / "calls"),
            "SCRIPTS_DIR": str(scripts),
            "KAFKA_CONFIGS_SH": str(tmp_path / "kafka-configs.sh"),
            "KAFKA_COMMAND_CONFIG": str(tmp_path / "admin.properties"),
        },
        capture_output=True,
        text=True,
        check=False,
    )


def read_only_mounts(service: dict[str, Any]) -> dict[str, str]:
    """target → source of each file beside compose.yaml that a service mounts read-only."""
    found = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target, *mode = volume.split(":")
            if source.startswith(".") and mode == ["ro"]:
                found[target] = source
        elif str(volume.get("source", "")).startswith(".") and volume.get("read_only") is True:
            found[volume["target"]] = volume["source"]
    return found


def temporal_servers(compose) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in compose.services.items() if str(s.get("image", "")).startswith("temporalio/server")}


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("true", "1", "yes", "on")


def temporal_server_problems(compose) -> list[str]:
    """The Temporal server requires client certificates on its frontend and between its internal
    services, their membership protocol included; its certificate, key and CA are files of certs/
    mounted read-only; its internal clients verify the name on its certificate."""
    problems = []
    servers = temporal_servers(compose)
    if len(servers) != 1:
        problems.append(f"{len(servers)} Temporal servers, not 1")
    for name, server in servers.items():
        env = server.get("environment", {})
        mounted = read_only_mounts(server)
        if not _truthy(env.get("TEMPORAL_TLS_REQUIRE_CLIENT_AUTH")):
            problems.append(f"{name}: TEMPORAL_TLS_REQUIRE_CLIENT_AUTH is not true: any client may use the frontend")
        for key, source in TEMPORAL_SERVER_FILES.items():
            if mounted.get(str(env.get(key))) != source:
                problems.append(f"{name}: {key} {env.get(key)!r} is not {source}, mounted read-only")
        for role in ("INTERNODE", "FRONTEND"):
            # internal connections dial IP addresses: without the name, verification fails
            if not env.get(f"TEMPORAL_TLS_{role}_SERVER_NAME"):
                problems.append(f"{name}: no TEMPORAL_TLS_{role}_SERVER_NAME for its internal clients to verify")
            if _truthy(env.get(f"TEMPORAL_TLS_{role}_DISABLE_HOST_VERIFICATION")):
                problems.append(f"{name}: TEMPORAL_TLS_{role}_DISABLE_HOST_VERIFICATION accepts any certificate")
        path = posixpath.join(TEMPORAL_IMAGE_WORKDIR, str(env.get("DYNAMIC_CONFIG_FILE_PATH", "")))
        directory = mounted.get(posixpath.dirname(path))
        dynamic = {}
        if directory is not None and (compose.directory / directory / posixpath.basename(path)).is_file():
            dynamic = yaml.safe_load((compose.directory / directory / posixpath.basename(path)).read_text()) or {}
        if [item.get("value") for item in dynamic.get("system.enableRingpopTLS", [])] != [True]:
            problems.append(
                f"{name}: its dynamic config {path} does not set system.enableRingpopTLS: membership in plaintext"
            )
    return problems


def temporal_client_problems(compose, service_clis, tools) -> list[str]:
    """Every container of a service that talks to Temporal (intake) is set for mutual TLS, never
    with DIVERT_TEMPORAL_ALLOW_INSECURE, at the server's address and the name on its certificate;
    the processes that connect mount intake's own certificate, key and the CA read-only from certs/;
    no other container, nor intake's relay or migrations, holds intake's key."""
    problems = []
    servers = temporal_servers(compose)
    names = {s.get("environment", {}).get("TEMPORAL_TLS_FRONTEND_SERVER_NAME") for s in servers.values()}
    key = INTAKE_TEMPORAL_FILES["DIVERT_TEMPORAL_TLS_KEY_FILE"]
    clients = divert_containers(compose, service_clis)
    for name, service in compose.services.items():
        cli, command = clients.get(name, (None, ""))
        connects = cli is not None and command in tools.temporal_roles(cli)
        if not connects and key in {source for source, _, _ in bind_mounts(service)}:
            problems.append(f"{name}: mounts {key}, intake's Temporal key, but never connects to Temporal")
        if cli is None or "DIVERT_TEMPORAL_TLS_KEY_FILE" not in cli.env_names():
            continue
        env = compose.environment(name)
        if "DIVERT_TEMPORAL_ALLOW_INSECURE" in env:
            problems.append(f"{name}: sets DIVERT_TEMPORAL_ALLOW_INSECURE (only where a mesh secures Temporal)")
        if env.get("DIVERT_TEMPORAL_ADDRESS", "").rsplit(":", 1)[0] not in servers:
            problems.append(f"{name}: DIVERT_TEMPORAL_ADDRESS {env.get('DIVERT_TEMPORAL_ADDRESS')!r} is not the server")
        if env.get("DIVERT_TEMPORAL_TLS_SERVER_NAME") not in names:
            server_name = env.get("DIVERT_TEMPORAL_TLS_SERVER_NAME")
            problems.append(f"{name}: expects {server_name!r} on Temporal's certificate, which names {names}")
        for setting in INTAKE_TEMPORAL_FILES:
            if not env.get(setting):
                problems.append(f"{name}: no {setting}")
        if not connects:
            continue
        mounted = read_only_mounts(service)
        for setting, source in INTAKE_TEMPORAL_FILES.items():
            if mounted.get(env.get(setting, "")) != source:
                problems.append(f"{name}: {setting} {env.get(setting)!r} is not {source}, mounted read-only")
    return problems


def temporal_tool_problems(compose) -> list[str]:
    """The namespace job and the Web UI reach the frontend over mutual TLS too, each with its own
    client certificate from certs/ (no two kinds of client share a key), verifying the server's."""
    problems = []
    servers = temporal_servers(compose)
    names = {s.get("environment", {}).get("TEMPORAL_TLS_FRONTEND_SERVER_NAME") for s in servers.values()}
    holders: dict[str, str] = {INTAKE_TEMPORAL_FILES["DIVERT_TEMPORAL_TLS_KEY_FILE"]: "intake"}
    for name, service in compose.services.items():
        env = service.get("environment", {})
        if name in servers or not isinstance(env, dict) or "TEMPORAL_ADDRESS" not in env:
            continue
        image = str(service.get("image", "")).split(":")[0]
        mounted = read_only_mounts(service)
        if str(env["TEMPORAL_ADDRESS"]).rsplit(":", 1)[0] not in servers:
            problems.append(f"{name}: TEMPORAL_ADDRESS {env['TEMPORAL_ADDRESS']} is not the server")
        if env.get("TEMPORAL_TLS_SERVER_NAME") not in names:
            problems.append(f"{name}: expects {env.get('TEMPORAL_TLS_SERVER_NAME')!r} on Temporal's certificate")
        if mounted.get(str(env.get("TEMPORAL_TLS_CA"))) != f"{OPERATOR_PROVIDED}ca.crt":
            problems.append(f"{name}: TEMPORAL_TLS_CA is not {OPERATOR_PROVIDED}ca.crt, mounted read-only")
        for variable in ("TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY"):
            source = mounted.get(str(env.get(variable)))
            if source is None or not source.startswith(OPERATOR_PROVIDED):
                problems.append(f"{name}: {variable} is not a file of {OPERATOR_PROVIDED}, mounted read-only")
            elif variable == "TEMPORAL_TLS_KEY" and holders.setdefault(source, image) != image:
                problems.append(f"{name}: shares its Temporal key {source} with {holders[source]}")
        # the UI server's default skips verifying the server's certificate altogether
        if image == "temporalio/ui" and not _truthy(env.get("TEMPORAL_TLS_ENABLE_HOST_VERIFICATION")):
            problems.append(f"{name}: TEMPORAL_TLS_ENABLE_HOST_VERIFICATION is not true: any server will do")
    return problems


def run_namespace_job(compose, tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run temporal/create-namespace.sh as the temporal-namespace job would, with `env`, against a
    fake `temporal` CLI that appends its arguments to `calls` in `tmp_path` (its `namespace
    describe` fails: the namespace does not exist yet)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "temporal"
    fake.write_text(
        '#!/bin/sh\nprintf \'%s\\n\' "$*" >> "$CALLS"\n[ "$2 $3" = "namespace describe" ] && exit 1\nexit 0\n'
    )
    fake.chmod(0o755)
    return subprocess.run(
        ["/bin/sh", str(compose.directory / "temporal" / "create-namespace.sh")],
        env={"PATH": f"{bin_dir}:{os.environ['PATH']}", **env, "CALLS": str(tmp_path / "calls")},
        capture_output=True,
        text=True,
        check=False,
    )


def api_url_problems(compose, service_clis, tools) -> list[str]:
    """Every `DIVERT_<SERVICE>_URL` a Divert container is given is `http://<the container running
    that service's api>:<its DIVERT_PORT>`, and a front end (the console) is given every API's."""
    problems = []
    settings = tools.api_url_settings(service_clis)
    running = divert_containers(compose, service_clis)
    for name, (cli, _) in running.items():
        env = compose.environment(name)
        for setting, target_cli in settings.items():
            if setting not in env:
                if not cli.stateful:
                    problems.append(f"{name}: no {setting}: it could not reach {target_cli.script}'s API")
                continue
            url = urlsplit(env[setting])
            host = url.hostname or ""
            target = running.get(host)
            if target is None or target[0] is not target_cli or target[1] != "api":
                problems.append(
                    f"{name}: {setting} {env[setting]} is not a container running `{target_cli.script} api`"
                )
            elif url.scheme != "http" or str(url.port) != compose.environment(host).get("DIVERT_PORT"):
                problems.append(f"{name}: {setting} {env[setting]} is not http on {host}'s DIVERT_PORT")
    return problems


def front_end_problems(compose, service_clis, tools) -> list[str]:
    """The console holds no credential of a database, the broker or Temporal, and no certificate;
    its session key (and a client secret) come from .env or a git-ignored env file of its own,
    never a literal in compose.yaml; it signs people in at the identity provider whose tokens the
    APIs verify (discovery document below DIVERT_JWT_ISSUER, https), and its public URL is https."""
    problems = []
    running = divert_containers(compose, service_clis)
    for name, (cli, _) in running.items():
        if cli.stateful:
            continue
        service = compose.services[name]
        raw = compose.raw["services"][name].get("environment", {})
        env = compose.environment(name, include_commented=True)
        problems += [
            f"{name}: is given {key}, which a front end has no use for"
            for key in sorted(env)
            if FRONT_END_FORBIDDEN.match(key)
        ]
        problems += [
            f"{name}: mounts {source}" for source, _, _ in bind_mounts(service) if source.startswith(OPERATOR_PROVIDED)
        ]
        shared_files = {
            file for other, spec in compose.services.items() if other != name for file in spec.get("env_file", [])
        }
        for secret in FRONT_END_SECRETS:
            if secret in raw:
                variable = _url_variable(raw[secret])
                if variable is None or not str(raw[secret]).startswith("${"):
                    problems.append(f"{name}: {secret} is written in compose.yaml, not taken from .env")
                elif any(
                    variable == _url_variable(value)
                    for other, spec in compose.raw["services"].items()
                    if other != name and isinstance(spec.get("environment"), dict)
                    for value in spec["environment"].values()
                ):
                    problems.append(f"{name}: its {secret} variable {variable} is given to another container too")
                continue
            for file in service.get("env_file", []):
                if secret in tools.parse_env_file(tools.example_of(compose.directory / file), include_commented=True):
                    if file in shared_files:
                        problems.append(f"{name}: {secret} is in {file}, which other containers are given too")
                    if not tools.git_ignores(compose.directory / file):
                        problems.append(f"{name}: {secret} is in {file}, which git would commit")
        env = compose.environment(name)
        if "DIVERT_SESSION_KEY" not in env:
            problems.append(f"{name}: no DIVERT_SESSION_KEY")
        issuer = env.get("DIVERT_JWT_ISSUER", "")
        discovery = env.get("DIVERT_OIDC_DISCOVERY_URL", "")
        if urlsplit(discovery).scheme != "https" or discovery != issuer.rstrip("/") + DISCOVERY_PATH:
            problems.append(
                f"{name}: DIVERT_OIDC_DISCOVERY_URL {discovery!r} is not the https discovery document of the "
                f"issuer the APIs trust ({issuer!r})"
            )
        if urlsplit(env.get("DIVERT_PUBLIC_URL", "")).scheme != "https" or not env.get("DIVERT_OIDC_CLIENT_ID"):
            problems.append(f"{name}: no https DIVERT_PUBLIC_URL or no DIVERT_OIDC_CLIENT_ID")
    return problems


def _env_file_paths(service: dict[str, Any]) -> list[str]:
    """A service's env files (short syntax, or long syntax's `path`)."""
    return [file if isinstance(file, str) else file["path"] for file in service.get("env_file", [])]


def process_secret_problems(compose, service_clis, tools) -> list[str]:
    """Each of PROCESS_SECRETS (assessment's evaluation key) reaches the container that uses it, from a
    git-ignored env file given to no other container, and no other container at all: not through an
    env file (its committed example, commented lines too), nor `environment:` (a literal, or a `.env`
    variable, which is written into every container sharing the anchor as easily as into one)."""
    problems = []
    running = divert_containers(compose, service_clis)
    for secret, (script, role) in PROCESS_SECRETS.items():
        owners = [name for name, (cli, command) in running.items() if (cli.script, command) == (script, role)]
        if not owners:
            problems.append(f"no container runs `{script} {role}`, which needs {secret}")
        for name, service in compose.services.items():
            holds = secret in compose.environment(name, include_commented=True)
            if name not in owners:
                if holds:
                    problems.append(f"{name}: is given {secret}, which only `{script} {role}` uses")
                continue
            if not holds:
                problems.append(f"{name}: no {secret}")
                continue
            if secret in (service.get("environment") or {}):
                problems.append(f"{name}: {secret} is written in compose.yaml, not taken from a git-ignored env file")
            others = {
                file
                for other, spec in compose.services.items()
                if other not in owners
                for file in _env_file_paths(spec)
            }
            for file in _env_file_paths(service):
                example = tools.example_of(compose.directory / file)  # a missing one: environment_problems
                if not example.exists() or secret not in tools.parse_env_file(example, include_commented=True):
                    continue
                if file in others:
                    problems.append(f"{name}: {secret} is in {file}, which other containers are given too")
                if not tools.git_ignores(compose.directory / file):
                    problems.append(f"{name}: {secret} is in {file}, which git would commit")
    return problems


# ---------------------------------------------------------------- the committed files


def test_every_command_is_a_real_service_command_and_every_role_runs(compose, service_clis):
    assert command_problems(compose, service_clis) == []


def test_every_variable_is_a_setting_and_production_accepts_the_environment(compose, service_clis, tools):
    assert environment_problems(compose, service_clis, tools) == []


def test_ports_healthchecks_and_scrape_targets_agree(compose, service_clis):
    assert port_problems(compose, service_clis) == []


def test_start_up_order_is_expressed_and_satisfiable(compose, service_clis):
    assert ordering_problems(compose, service_clis) == []


def test_every_api_url_is_that_apis_container_and_port(compose, service_clis, tools):
    assert api_url_problems(compose, service_clis, tools) == []


def test_the_console_holds_only_its_own_secrets_and_signs_in_at_the_apis_identity_provider(
    compose, service_clis, tools
):
    assert front_end_problems(compose, service_clis, tools) == []


def test_secrets_of_one_process_reach_that_process_alone_from_an_ignored_env_file(compose, service_clis, tools):
    assert process_secret_problems(compose, service_clis, tools) == []


def test_the_environment_check_refuses_a_weak_evaluation_key_in_the_example(service_clis, tools, tmp_path):
    # The environment check loads assessment's API settings with env/assessment.env.example: a key
    # the settings refuse in production (a placeholder, or shorter than 32 characters) must fail it.
    copy = tmp_path / "compose"
    shutil.copytree(COMPOSE_DIR, copy, ignore=shutil.ignore_patterns("certs"))
    assert environment_problems(tools.load_compose(copy), service_clis, tools) == []
    example = copy / "env" / "assessment.env.example"
    text = example.read_text()
    key = tools.parse_env_file(example)["DIVERT_EVALUATION_KEY"]
    for weak in ("changeme", "short-but-random-91", key[:31]):
        example.write_text(text.replace(f"DIVERT_EVALUATION_KEY={key}", f"DIVERT_EVALUATION_KEY={weak}"))
        assert any(
            "DIVERT_EVALUATION_KEY" in p for p in environment_problems(tools.load_compose(copy), service_clis, tools)
        ), weak


def test_each_service_has_its_own_postgresql_database(compose, service_clis):
    assert database_problems(compose, service_clis) == []


def test_only_the_migrations_sign_in_as_the_database_owner(compose, service_clis):
    assert database_role_problems(compose, service_clis) == []


def test_kafka_temporal_and_telemetry_are_wired(compose):
    assert infrastructure_problems(compose) == []


def test_mounted_files_exist_and_images_are_pinned(compose, tools):
    assert file_problems(compose) == []
    for name, service in compose.services.items():
        assert tools.image_problems(service["image"]) == [], name


def test_topics_match_contracts_in_compose_and_kubernetes(tools):
    script = (COMPOSE_DIR / "kafka" / "create-topics.sh").read_text()
    assert tools.topic_script_problems(script) == []
    # One script, two places (kustomize cannot load files from outside its directory).
    assert K8S_TOPICS_SCRIPT.read_text() == script


def test_topics_are_created_before_anything_produces(compose):
    job = compose.services["kafka-topics"]
    assert job["entrypoint"] == ["/bin/sh", "/scripts/setup.sh"]
    mounted = {target: source for source, target, _ in bind_mounts(job)}
    assert {
        script: mounted.get(f"/scripts/{script}") for script in ("setup.sh", "create-topics.sh", "create-acls.sh")
    } == {script: f"./kafka/{script}" for script in ("setup.sh", "create-topics.sh", "create-acls.sh")}
    assert job["environment"]["REPLICATION_FACTOR"] == "3"
    assert job["environment"]["MIN_INSYNC_REPLICAS"] == "2"


def test_the_brokers_encrypt_authenticate_and_deny_by_default(compose):
    assert broker_problems(compose) == []


def test_each_service_signs_in_as_its_own_principal(compose, service_clis):
    assert kafka_client_problems(compose, service_clis) == []


def test_the_topics_job_sets_each_principals_password_then_creates_topics_and_acls(compose, service_clis, tmp_path):
    job = compose.raw["services"]["kafka-topics"]["environment"]
    # a distinct value per variable, so that a password given to the wrong principal shows
    env = {key: f"value-of-{key.lower().replace('_', '-')}" for key in job}
    done = run_topics_job(compose, tmp_path, env)
    assert done.returncode == 0, done.stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    config = str(tmp_path / "admin.properties")
    assert calls[-2:] == [f"create-topics.sh {config}", f"create-acls.sh {config}"]
    passwords = {}
    for call in calls[:-2]:
        found = re.fullmatch(
            rf"kafka-configs\.sh --bootstrap-server (\S+) --command-config {re.escape(config)} --alter "
            r"--entity-type users --entity-name (\S+) --add-config SCRAM-SHA-512=\[password=(\S+)\]",
            call,
        )
        assert found, call
        assert found.group(1) == env["KAFKA_BOOTSTRAP"]
        passwords[found.group(2)] = found.group(3)
    # each service's SCRAM password is the very variable its containers are given
    services = {
        dataplane.service(cli.service).principal: compose.raw["services"][name]["environment"]
        for name, (cli, _) in stateful_containers(compose, service_clis).items()
    }
    given = {
        principal: env[re.fullmatch(r"\$\{(\w+)[^}]*\}", raw["DIVERT_KAFKA_SASL_PASSWORD"]).group(1)]
        for principal, raw in services.items()
    }
    assert passwords == {ADMIN: env["KAFKA_ADMIN_PASSWORD"], **given}
    assert set(given) == {entry.principal for entry in dataplane.SERVICES}
    properties = (tmp_path / "admin.properties").read_text()
    assert "security.protocol=SSL\n" in properties
    assert f"ssl.key.password={env['KAFKA_ADMIN_KEY_PASSWORD']}\n" in properties
    # the files it names are the ones the job mounts
    mounted = {source: target for source, target, _ in bind_mounts(compose.services["kafka-topics"])}
    assert f"ssl.keystore.location={mounted['./certs/admin.pem']}\n" in properties
    assert f"ssl.truststore.location={mounted['./certs/ca.crt']}\n" in properties


def test_the_topics_job_refuses_a_password_kafka_would_misread(compose, tmp_path):
    env = {key: "url-safe" for key in compose.raw["services"]["kafka-topics"]["environment"]}
    done = run_topics_job(compose, tmp_path, {**env, "WARRANTS_KAFKA_PASSWORD": "a,b=c]"})
    assert done.returncode != 0
    assert "divert-warrants" in done.stderr
    assert "create-topics.sh" not in (tmp_path / "calls").read_text()


def test_the_temporal_server_requires_client_certificates(compose):
    assert temporal_server_problems(compose) == []


def test_intake_reaches_temporal_over_mutual_tls_with_its_own_certificate(compose, service_clis, tools):
    assert {cli.script: tools.temporal_roles(cli) for cli in service_clis.values() if tools.temporal_roles(cli)} == {
        "divert-intake": {"api", "consumer", "worker"}
    }
    assert temporal_client_problems(compose, service_clis, tools) == []
    # (and test_every_variable_is_a_setting_... holds intake's settings to accepting that environment)


def test_the_namespace_job_and_the_ui_use_their_own_client_certificates(compose):
    assert temporal_tool_problems(compose) == []


def test_the_namespace_job_presents_its_certificate_on_every_call(compose, tmp_path):
    env = {key: str(value) for key, value in compose.services["temporal-namespace"]["environment"].items()}
    done = run_namespace_job(compose, tmp_path, env)
    assert done.returncode == 0, done.stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    tls = (
        f"--address {env['TEMPORAL_ADDRESS']} --tls-ca-path {env['TEMPORAL_TLS_CA']} "
        f"--tls-cert-path {env['TEMPORAL_TLS_CERT']} --tls-key-path {env['TEMPORAL_TLS_KEY']} "
        f"--tls-server-name {env['TEMPORAL_TLS_SERVER_NAME']}"
    )
    assert calls == [
        f"operator cluster health {tls}",
        f"operator namespace describe --namespace {env['NAMESPACE']} {tls}",
        f"operator namespace create --namespace {env['NAMESPACE']} --retention {env['RETENTION']} {tls}",
    ]


def test_the_namespace_job_refuses_to_run_without_a_client_certificate(compose, tmp_path):
    env = {key: str(value) for key, value in compose.services["temporal-namespace"]["environment"].items()}
    del env["TEMPORAL_TLS_CERT"]
    done = run_namespace_job(compose, tmp_path, env)
    assert done.returncode != 0
    assert "TEMPORAL_TLS_CERT" in done.stderr
    assert not (tmp_path / "calls").exists()


def test_the_ringpop_check_reads_the_mounted_dynamic_config(tools, tmp_path):
    # The one Temporal setting that lives in a file rather than in compose.yaml.
    copy = tmp_path / "compose"
    shutil.copytree(COMPOSE_DIR, copy, ignore=shutil.ignore_patterns("certs"))
    assert temporal_server_problems(tools.load_compose(copy)) == []
    dynamic = copy / "temporal" / "dynamicconfig" / "production-sql.yaml"
    text = dynamic.read_text()
    assert "system.enableRingpopTLS:\n  - value: true\n" in text
    dynamic.write_text(text.replace("system.enableRingpopTLS:\n  - value: true\n", ""))
    assert temporal_server_problems(tools.load_compose(copy))


def test_operator_certificates_are_ignored_by_git(compose, tools):
    sources = {source for service in compose.services.values() for source, _, _ in bind_mounts(service)}
    certificates = {source for source in sources if source.startswith(OPERATOR_PROVIDED)}
    assert certificates == {
        f"{OPERATOR_PROVIDED}{name}"
        for name in (
            "ca.crt",
            "broker.pem",
            "admin.pem",
            *(
                f"{who}.{kind}"
                for who in ("temporal", "temporal-intake", "temporal-admin", "temporal-ui")
                for kind in ("crt", "key")
            ),
        )
    }
    for source in certificates:
        assert tools.git_ignores(compose.directory / source), f"{source} would be committed"
    assert not tools.git_ignores(compose.directory / "certs" / "README.md")


def test_real_secret_files_are_ignored_by_git(tools):
    for example in [COMPOSE_DIR / ".env.example", *(COMPOSE_DIR / "env").glob("*.example")]:
        real = example.with_name(example.name.removesuffix(".example"))
        assert tools.git_ignores(real), f"{real} would be committed"


# ---------------------------------------------------------------- the checks can fail


def _broken(tools, old: str, new: str):
    text = (COMPOSE_DIR / "compose.yaml").read_text()
    assert old in text, old
    return tools.load_compose(COMPOSE_DIR, text.replace(old, new, 1))


def test_the_checks_catch_a_broken_compose_file(service_clis, tools):
    cases = [
        (command_problems, '["divert-intake", "worker"]', '["divert-intake", "workers"]'),
        (command_problems, '["divert-warrants", "relay"]', '["divert-warrant", "relay"]'),
        (command_problems, '["divert-assessment", "consumer"]', '["divert-assessment", "migrate"]'),
        (command_problems, '["divert-warrants", "purge", "--every", "3600"]', '["divert-warrants", "replay"]'),
        (environment_problems, "DIVERT_TEMPORAL_NAMESPACE: divert", "DIVERT_TEMPORAL_NAMESPAC: divert"),
        (environment_problems, "DIVERT_ENVIRONMENT: production", "DIVERT_ENVIRONMENT: staging"),
        (environment_problems, "${INTAKE_DB_PASSWORD:?", "${INTAKE_DB_PASSWORD_TYPO:?"),
        (environment_problems, "      - env/intake-worker.env", "      - env/intake-worker.env\n      - env/x.env"),
        (port_problems, "      - 8001:8001", "      - 8001:8000"),
        (port_problems, "'http://127.0.0.1:8003/readyz'", "'http://127.0.0.1:8003/healthz'"),
        (port_problems, 'DIVERT_METRICS_PORT: "9464"', 'DIVERT_METRICS_PORT: "9465"'),
        (ordering_problems, "      intake-migrate:\n        condition: service_completed_successfully\n", ""),
        (ordering_problems, "      jaeger:\n        condition: service_started", "      jaegr:\n        condition: x"),
        (
            ordering_problems,
            "      temporal:\n        condition: service_healthy\n",
            "      jaeger:\n        condition: service_healthy\n",
        ),
        (database_problems, "@postgres:5432/warrants", "@postgres:5432/assessment"),
        (database_problems, "postgresql+asyncpg://intake", "postgresql://intake"),
        # a long-running process signing in as the owner, which may change the schema
        (
            database_role_problems,
            "postgresql+asyncpg://warrants_app:${WARRANTS_APP_DB_PASSWORD:?set WARRANTS_APP_DB_PASSWORD in .env}",
            "postgresql+asyncpg://warrants:${WARRANTS_DB_PASSWORD:?set WARRANTS_DB_PASSWORD in .env}",
        ),
        # the owner's URL in a container that is not the migrations
        (database_role_problems, '["divert-assessment", "migrate"]', '["divert-assessment", "replay"]'),
        # migrations as the application role, which cannot create a table
        (
            database_role_problems,
            "      DIVERT_MIGRATION_DATABASE_URL: postgresql+asyncpg://intake:",
            "      DIVERT_MIGRATION_DATABASE_URL: postgresql+asyncpg://intake_app:",
        ),
        (database_role_problems, "      DIVERT_MIGRATION_DATABASE_URL: postgresql+asyncpg://directory:", "      X: "),
        (database_role_problems, "      WARRANTS_APP_DB_PASSWORD: ${WARRANTS_APP_DB_PASSWORD:?set", "      X: ${X:-"),
        (database_problems, "postgresql+asyncpg://intake", "postgresql://intake"),
        (infrastructure_problems, 'KAFKA_MIN_INSYNC_REPLICAS: "2"', 'KAFKA_MIN_INSYNC_REPLICAS: "1"'),
        (infrastructure_problems, "http://otel-collector:4318", "http://otel-collector:4317/x"),
        (
            infrastructure_problems,
            "DIVERT_WARRANTS_URL: http://warrants-api:8004",
            "DIVERT_WARRANTS_URL: http://warrants-api:8000",
        ),
        (infrastructure_problems, "      NAMESPACE: divert", "      NAMESPACE: default"),
        (file_problems, "./temporal/setup-schema.sh:", "./temporal/setup.sh:"),
        # the admin's certificate, the job's last mount: a missing file would become an empty directory
        (file_problems, "        bind:\n          create_host_path: false\n    depends_on:", "    depends_on:"),
        (
            broker_problems,
            "CLIENT:SASL_SSL,CONTROLLER:SSL,INTERNAL:SSL",
            "CLIENT:SASL_PLAINTEXT,CONTROLLER:SSL,INTERNAL:SSL",
        ),
        (broker_problems, "CONTROLLER:SSL,INTERNAL:SSL", "CONTROLLER:SSL,INTERNAL:PLAINTEXT"),
        (broker_problems, "  KAFKA_LISTENER_NAME_INTERNAL_SSL_CLIENT_AUTH: required\n", ""),
        (
            broker_problems,
            'KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND: "false"',
            'KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND: "true"',
        ),
        (
            broker_problems,
            "  KAFKA_AUTHORIZER_CLASS_NAME: org.apache.kafka.metadata.authorizer.StandardAuthorizer\n",
            "",
        ),
        (
            broker_problems,
            "User:kafka-broker;User:divert-admin",
            "User:kafka-broker;User:divert-admin;User:divert-intake",
        ),
        (broker_problems, "CLIENT://kafka-2:9092,", "SASL_SSL://kafka-2:9092,"),
        (
            broker_problems,
            "KAFKA_BOOTSTRAP: kafka-1:9094,kafka-2:9094,kafka-3:9094",
            "KAFKA_BOOTSTRAP: kafka-1:9092,kafka-2:9092,kafka-3:9092",
        ),
        (
            kafka_client_problems,
            "  DIVERT_KAFKA_SECURITY_PROTOCOL: SASL_SSL\n",
            '  DIVERT_KAFKA_SECURITY_PROTOCOL: PLAINTEXT\n  DIVERT_KAFKA_ALLOW_INSECURE: "true"\n',
        ),
        (
            kafka_client_problems,
            "DIVERT_KAFKA_SASL_USERNAME: divert-warrants",
            "DIVERT_KAFKA_SASL_USERNAME: divert-assessment",
        ),
        (kafka_client_problems, "${WARRANTS_KAFKA_PASSWORD:?set", "${DIRECTORY_KAFKA_PASSWORD:?set"),
        (kafka_client_problems, "      target: /etc/divert/kafka/ca.crt", "      target: /etc/divert/ca.crt"),
        # intake without client credentials for Temporal: its settings refuse production
        (
            environment_problems,
            "  DIVERT_TEMPORAL_TLS_CERT_FILE: /etc/divert/temporal/tls.crt\n"
            "  DIVERT_TEMPORAL_TLS_KEY_FILE: /etc/divert/temporal/tls.key\n",
            "",
        ),
        (
            temporal_client_problems,
            "  DIVERT_TEMPORAL_TLS_SERVER_NAME: temporal\n",
            '  DIVERT_TEMPORAL_TLS_SERVER_NAME: temporal\n  DIVERT_TEMPORAL_ALLOW_INSECURE: "true"\n',
        ),
        (temporal_client_problems, "DIVERT_TEMPORAL_TLS_SERVER_NAME: temporal", "DIVERT_TEMPORAL_TLS_SERVER_NAME: x"),
        (temporal_client_problems, "    target: /etc/divert/temporal/tls.key", "    target: /etc/divert/temporal/k"),
        (temporal_client_problems, "    source: ./certs/temporal-intake.key", "    source: ./certs/temporal-ui.key"),
        (
            temporal_client_problems,
            '    command: ["divert-warrants", "consumer"]\n    environment: *warrants-env\n',
            '    command: ["divert-warrants", "consumer"]\n    environment: *warrants-env\n'
            "    volumes: *intake-volumes\n",
        ),
        (
            environment_problems,
            '    command: ["divert-intake", "relay"]\n    environment: *intake-callbacks-env\n',
            '    command: ["divert-intake", "relay"]\n    environment: *intake-env\n',
        ),
        (
            temporal_client_problems,
            '    command: ["divert-intake", "relay"]\n    environment: *intake-callbacks-env\n',
            '    command: ["divert-intake", "relay"]\n    environment: *intake-callbacks-env\n'
            "    volumes: *intake-volumes\n",
        ),
        (
            temporal_server_problems,
            'TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: "true"',
            'TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: "false"',
        ),
        (temporal_server_problems, "      TEMPORAL_TLS_CLIENT1_CA_CERT: /etc/temporal/certs/ca.crt\n", ""),
        (temporal_server_problems, "      TEMPORAL_TLS_SERVER_KEY: /etc/temporal/certs/temporal.key\n", ""),
        (temporal_server_problems, "      TEMPORAL_TLS_INTERNODE_SERVER_NAME: temporal\n", ""),
        (temporal_server_problems, "        target: /etc/temporal/certs/temporal.key", "        target: /tmp/k"),
        (
            temporal_tool_problems,
            'TEMPORAL_TLS_ENABLE_HOST_VERIFICATION: "true"',
            'TEMPORAL_TLS_ENABLE_HOST_VERIFICATION: "false"',
        ),
        (temporal_tool_problems, "      TEMPORAL_TLS_CERT: /etc/temporal/certs/temporal-admin.crt\n", ""),
        (
            temporal_tool_problems,
            "        source: ./certs/temporal-ui.key",
            "        source: ./certs/temporal-admin.key",
        ),
        (
            temporal_tool_problems,
            "      TEMPORAL_TLS_SERVER_NAME: temporal\n",
            "      TEMPORAL_TLS_SERVER_NAME: temporal.x\n",
        ),
        # the console
        (command_problems, '["divert-console", "api"]', '["divert-console", "serve"]'),
        (command_problems, '["divert-console", "api"]', '["divert-console", "all"]'),
        (port_problems, "      - 8005:8005", "      - 8005:8000"),
        (port_problems, "'http://127.0.0.1:8005/readyz'", "'http://127.0.0.1:8005/healthz'"),
        (ordering_problems, "      warrants-api:\n        condition: service_healthy\n", ""),
        (
            api_url_problems,
            "DIVERT_DIRECTORY_URL: http://directory-api:8003",
            "DIVERT_DIRECTORY_URL: http://directory-relay:8003",
        ),
        (
            api_url_problems,
            "DIVERT_ASSESSMENT_URL: http://assessment-api:8002",
            "DIVERT_ASSESSMENT_URL: http://assessment-api:8003",
        ),
        (api_url_problems, "      DIVERT_INTAKE_URL: http://intake-api:8001\n", ""),
        (front_end_problems, "    volumes: []\n", "    volumes: *intake-volumes\n"),
        (
            front_end_problems,
            '      DIVERT_PORT: "8005"\n',
            '      DIVERT_PORT: "8005"\n      DIVERT_KAFKA_SASL_PASSWORD: ${WARRANTS_KAFKA_PASSWORD:?set}\n',
        ),
        (
            front_end_problems,
            '      DIVERT_PORT: "8005"\n',
            '      DIVERT_PORT: "8005"\n      DIVERT_SESSION_KEY: cmVwbGFjZS10aGlzLXNlc3Npb24ta2V5LXBsZWFzZSE=\n',
        ),
        (
            front_end_problems,
            '      DIVERT_PORT: "8005"\n',
            '      DIVERT_PORT: "8005"\n      DIVERT_SESSION_KEY: ${CALLBACK_ENCRYPTION_KEYS:?set}\n',
        ),
        (
            front_end_problems,
            '      DIVERT_PORT: "8005"\n',
            '      DIVERT_PORT: "8005"\n      DIVERT_OIDC_DISCOVERY_URL: https://other.example.org'
            + DISCOVERY_PATH
            + "\n",
        ),
        (front_end_problems, "      - env/console.env\n", ""),
        # assessment's evaluation key: its API alone, from env/assessment.env alone
        (process_secret_problems, "      - env/assessment.env\n", ""),
        (
            process_secret_problems,
            "  - env/case-agencies.env\n\nx-directory-env",
            "  - env/case-agencies.env\n  - env/assessment.env\n\nx-directory-env",
        ),
        (
            process_secret_problems,
            '  DIVERT_PORT: "8002"\n',
            '  DIVERT_PORT: "8002"\n  DIVERT_EVALUATION_KEY: ${ASSESSMENT_EVALUATION_KEY:-x}\n',
        ),
        (
            process_secret_problems,
            '    command: ["divert-assessment", "api"]\n    environment: *assessment-env\n',
            '    command: ["divert-assessment", "api"]\n    environment:\n      <<: *assessment-env\n'
            "      DIVERT_EVALUATION_KEY: EXAMPLE-ONLY-HN2hCvfDK02JAW7cU8teZQ1dBOLnK2yYCDEdPvzGhPnE3g1f\n",
        ),
        (
            process_secret_problems,
            '    command: ["divert-assessment", "consumer"]\n    environment: *assessment-env\n'
            "    env_file: *case-agency-env-files\n",
            '    command: ["divert-assessment", "consumer"]\n    environment: *assessment-env\n'
            "    env_file: [env/divert.env, env/case-agencies.env, env/assessment.env]\n",
        ),
    ]
    for check, old, new in cases:
        broken = _broken(tools, old, new)
        args = (
            (broken, service_clis, tools)
            if check
            in (
                environment_problems,
                temporal_client_problems,
                api_url_problems,
                front_end_problems,
                process_secret_problems,
            )
            else (
                (broken,)
                if check
                in (
                    infrastructure_problems,
                    file_problems,
                    broker_problems,
                    temporal_server_problems,
                    temporal_tool_problems,
                )
                else (broken, service_clis)
            )
        )
        assert check(*args), f"{check.__name__} missed {old!r} → {new!r}"


def test_the_topic_check_catches_drift(tools):
    script = (COMPOSE_DIR / "kafka" / "create-topics.sh").read_text()
    for old, new in [
        ("create divert.cases 6", "create divert.cases 3"),
        ("create divert.warrants.dlq 1\n", ""),
        ("create divert.directory 3", "create divert.directories 3"),
        ('"${REPLICATION_FACTOR:-3}"', '"${REPLICATION_FACTOR:-1}"'),
        ('"${DEAD_LETTER_RETENTION_MS:-2592000000}"', '"${DEAD_LETTER_RETENTION_MS:-604800000}"'),
    ]:
        assert tools.topic_script_problems(script.replace(old, new)), f"missed {old!r} → {new!r}"


def test_the_image_check_catches_unpinned_images(tools):
    for image in ("postgres", "postgres:latest", "temporalio/ui:stable", "registry.example.org/x/divert"):
        assert tools.image_problems(image), image
    for image in ("postgres:17.6", "registry.example.org:5000/divert/divert:0.1.0", "x/y@sha256:" + "a" * 64):
        assert tools.image_problems(image) == [], image
