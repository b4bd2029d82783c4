"""deploy/compose/compose.yaml agrees with the code: commands, settings, ports, ordering, topics.

Each check is a function returning the problems it finds, run once against the committed files
and again against copies broken on purpose, so that a check which can no longer fail is noticed.
"""

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

COMPOSE_DIR = Path(__file__).resolve().parents[2] / "deploy" / "compose"
K8S_TOPICS_SCRIPT = COMPOSE_DIR.parents[0] / "k8s" / "base" / "kafka-topics" / "create-topics.sh"


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


def command_problems(compose, service_clis) -> list[str]:
    """Every Divert command exists; every role of every service runs; every service is migrated."""
    problems = []
    for name, service in compose.services.items():
        command = service.get("command")
        image = service.get("image", "")
        if image.startswith("divert:") or (isinstance(command, list) and str(command[0]).startswith("divert-")):
            if not isinstance(command, list) or command[0] not in service_clis:
                problems.append(f"{name}: {command} is not a Divert console script")
            elif len(command) < 2 or command[1] not in service_clis[command[0]].commands:
                problems.append(f"{name}: {command[0]} has no command {command[1:]}")
    running = divert_containers(compose, service_clis)
    for cli in service_clis.values():
        for role in sorted(cli.roles | {"migrate"}):
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
    for name, (cli, _) in long_running(compose, service_clis).items():
        before = upstream(name, set())
        wanted = {migrations.get(cli.script, f"{cli.script} migrate"), "kafka-topics"}
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
    for name, (cli, _) in divert_containers(compose, service_clis).items():
        url = urlsplit(compose.environment(name).get("DIVERT_DATABASE_URL", ""))
        database = url.path.lstrip("/")
        if url.scheme != "postgresql+asyncpg" or url.hostname not in compose.services:
            problems.append(f"{name}: DIVERT_DATABASE_URL is not an asyncpg URL of a compose service")
        if database not in created:
            problems.append(f"{name}: database {database!r} is not created by the init script")
        if owner.setdefault(database, cli.script) != cli.script:
            problems.append(f"{name}: database {database!r} is also {owner[database]}'s")
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


def file_problems(compose) -> list[str]:
    """Bind-mounted files exist and every service names its image."""
    problems = []
    for name, service in compose.services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith(".") and not (compose.directory / source).exists():
                problems.append(f"{name}: mounts {source}, which does not exist")
        image = service.get("image")
        if image is None:
            problems.append(f"{name}: no image")
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


def test_each_service_has_its_own_postgresql_database(compose, service_clis):
    assert database_problems(compose, service_clis) == []


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
    assert job["volumes"][0].startswith("./kafka/create-topics.sh:")
    assert job["environment"]["REPLICATION_FACTOR"] == "3"
    assert job["environment"]["MIN_INSYNC_REPLICAS"] == "2"


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
        (infrastructure_problems, 'KAFKA_MIN_INSYNC_REPLICAS: "2"', 'KAFKA_MIN_INSYNC_REPLICAS: "1"'),
        (infrastructure_problems, "http://otel-collector:4318", "http://otel-collector:4317/x"),
        (
            infrastructure_problems,
            "DIVERT_WARRANTS_URL: http://warrants-api:8004",
            "DIVERT_WARRANTS_URL: http://warrants-api:8000",
        ),
        (infrastructure_problems, "      NAMESPACE: divert", "      NAMESPACE: default"),
        (file_problems, "./temporal/setup-schema.sh:", "./temporal/setup.sh:"),
    ]
    for check, old, new in cases:
        broken = _broken(tools, old, new)
        args = (
            (broken, service_clis, tools)
            if check is environment_problems
            else ((broken,) if check in (infrastructure_problems, file_problems) else (broken, service_clis))
        )
        assert check(*args), f"{check.__name__} missed {old!r} → {new!r}"


def test_the_topic_check_catches_drift(tools):
    script = (COMPOSE_DIR / "kafka" / "create-topics.sh").read_text()
    for old, new in [
        ("create divert.cases 6", "create divert.cases 3"),
        ("create divert.warrants.dlq 1\n", ""),
        ("create divert.directory 3", "create divert.directories 3"),
        ('"${REPLICATION_FACTOR:-3}"', '"${REPLICATION_FACTOR:-1}"'),
    ]:
        assert tools.topic_script_problems(script.replace(old, new)), f"missed {old!r} → {new!r}"


def test_the_image_check_catches_unpinned_images(tools):
    for image in ("postgres", "postgres:latest", "temporalio/ui:stable", "registry.example.org/x/divert"):
        assert tools.image_problems(image), image
    for image in ("postgres:17.6", "registry.example.org:5000/divert/divert:0.1.0", "x/y@sha256:" + "a" * 64):
        assert tools.image_problems(image) == [], image
