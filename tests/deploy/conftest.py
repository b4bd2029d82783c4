"""What the deployment tests compare `deploy/` and the Dockerfile with: the installed Divert packages.

No Docker engine and no kustomize here, so the files are parsed and resolved in Python: YAML (with
compose's anchors and `${VAR}` interpolation from the committed `.env.example`), kustomizations
(resources, generators, patches, images, labels, namespace: the subset Divert's manifests use; any
other field fails the build rather than being skipped), env files, and the Dockerfile. The truth
they are checked against is read from the code: console scripts from the distributions' entry
points, each Typer app's commands, each service's settings class and the topics of `contracts/`.
"""

import copy
import importlib
import importlib.metadata
import inspect
import json
import os
import re
import subprocess
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import typer
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from pydantic import AliasChoices, ValidationError

from divert_contracts.topics import ALL_TOPICS, Topic
from divert_platform.settings import ServiceSettings

REPO = Path(__file__).resolve().parents[2]
COMPOSE_DIR = REPO / "deploy" / "compose"
K8S_DIR = REPO / "deploy" / "k8s"

ONE_SHOT_COMMANDS = frozenset({"migrate", "replay", "seed", "import", "purge", "callbacks"})
"""Commands that run to completion (`purge` also on a schedule: a CronJob, or `--every` in compose;
`callbacks` is the operator's key tools, run by hand);
every other command of a service's CLI is a long-running role that production must run (a new role
without a Deployment fails the tests)."""

EMBEDDED_ONLY_COMMANDS = frozenset({"all"})
"""Commands production must not run: `all` runs every role of a service in one process, as the
embedded stack does (`make run`); production runs each role in a Deployment of its own."""

ALLOWED_FOREIGN_ENV = re.compile(r"^(OTEL_[A-Z_]+|PYTHON[A-Z_]+)$")
"""Variables a Divert process may be given besides its settings: the OpenTelemetry SDK's own."""


# ---------------------------------------------------------------- the code's truth


@dataclass(frozen=True)
class ServiceCli:
    """One service's console script, as installed."""

    script: str
    entry_point: str
    package: str
    distribution: str
    source_dir: str
    """The distribution's directory relative to the repository (from its editable install)."""
    commands: frozenset[str]
    settings: type[ServiceSettings]

    @property
    def service(self) -> str:
        """The service's name in `divert_contracts.dataplane` (its settings' `service_name`)."""
        return str(self.settings.model_fields["service_name"].default)

    @property
    def roles(self) -> frozenset[str]:
        """Long-running commands production runs: `api` and every role of `build_cli`."""
        return self.commands - ONE_SHOT_COMMANDS - EMBEDDED_ONLY_COMMANDS

    @property
    def stateful(self) -> bool:
        """Whether the service keeps state of its own: a database it migrates, and with it an outbox,
        an inbox and a Kafka principal. The console keeps none (it only calls the APIs): it has no
        `migrate`, and production gives it no database, Kafka or Temporal credentials."""
        return "migrate" in self.commands

    def env_names(self) -> frozenset[str]:
        """Every environment variable the settings class reads."""
        return settings_env_names(self.settings)


def settings_env_names(settings: type[ServiceSettings]) -> frozenset[str]:
    """`DIVERT_<FIELD>` per field, or the field's aliases where it has some."""
    prefix = settings.model_config.get("env_prefix", "")
    names = set()
    for name, field in settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(choice for choice in alias.choices if isinstance(choice, str))
        elif isinstance(alias, str):
            names.add(alias)
        else:
            names.add(f"{prefix}{name}".upper())
    return frozenset(names)


def _settings_class(package: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"{package}.config")
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, ServiceSettings) and value.__module__ == module.__name__
    ]
    assert len(found) == 1, f"{package}.config should define exactly one settings class, found {found}"
    return found[0]


def _source_dir(distribution: importlib.metadata.Distribution) -> str:
    direct_url = json.loads(distribution.read_text("direct_url.json") or "{}")
    url = direct_url.get("url", "")
    assert url.startswith("file://"), f"{distribution.metadata['Name']} is not installed from this repository"
    return Path(url.removeprefix("file://")).resolve().relative_to(REPO).as_posix()


def _load_service_clis() -> dict[str, ServiceCli]:
    clis = {}
    for entry in importlib.metadata.entry_points(group="console_scripts"):
        if not entry.value.startswith("divert_"):
            continue
        app = entry.load()
        if not isinstance(app, typer.Typer):
            continue
        commands = frozenset(typer.main.get_command(app).commands)
        if "api" not in commands:
            continue  # not a service (the embedded stack's `divert`)
        package = entry.value.split(".", 1)[0]
        clis[entry.name] = ServiceCli(
            script=entry.name,
            entry_point=entry.value,
            package=package,
            distribution=entry.dist.name if entry.dist else "",
            source_dir=_source_dir(entry.dist) if entry.dist else "",
            commands=commands,
            settings=_settings_class(package),
        )
    return clis


STATEFUL_SERVICES = frozenset({"divert-intake", "divert-assessment", "divert-directory", "divert-warrants"})
FRONT_ENDS = frozenset({"divert-console"})
"""The console: a site over the four APIs, deployed like them but with no state of its own."""


@pytest.fixture(scope="session")
def service_clis() -> dict[str, ServiceCli]:
    """Every service's console script (`divert-intake`, ..., `divert-console`), read from the
    installed entry points."""
    clis = _load_service_clis()
    assert STATEFUL_SERVICES | FRONT_ENDS <= set(clis), (
        f"not installed: {sorted(STATEFUL_SERVICES | FRONT_ENDS - set(clis))}"
    )
    assert {script for script, cli in clis.items() if cli.stateful} == STATEFUL_SERVICES
    return clis


def api_url_settings(service_clis: Mapping[str, ServiceCli]) -> dict[str, ServiceCli]:
    """`DIVERT_<SERVICE>_URL` → the stateful service whose API it addresses (what the console, and
    intake for warrants, are given)."""
    return {f"DIVERT_{cli.service.upper()}_URL": cli for cli in service_clis.values() if cli.stateful}


FRONT_END_FORBIDDEN = re.compile(
    r"^DIVERT_(DATABASE_URL|MIGRATION_DATABASE_URL|KAFKA_\w+|TEMPORAL_(ADDRESS|TLS\w*|API_KEY|ALLOW_INSECURE)"
    r"|SERVICE_TOKEN|CALLBACK_ENCRYPTION_KEYS)$"
)
"""Settings a front end must not be given: the console reaches no database, broker or Temporal
frontend (it only links to the Temporal UI: DIVERT_TEMPORAL_UI_URL and _NAMESPACE), and acts only
with the signed-in user's token (never a service token)."""

FRONT_END_SECRETS = ("DIVERT_SESSION_KEY", "DIVERT_OIDC_CLIENT_SECRET")
"""The console's own secrets: from a Secret or a git-ignored file, never a literal in a manifest."""

PROCESS_SECRETS: dict[str, tuple[str, str]] = {
    # Keys the evaluation extract's pseudonymous person keys: whoever holds it can test a guessed
    # identity against a person key. Only the API makes the extract.
    "DIVERT_EVALUATION_KEY": ("divert-assessment", "api"),
}
"""Secrets that one process alone uses, (console script, command), and alone may be given: in
compose from a git-ignored env file no other container is given, in Kubernetes as a secretKeyRef
to a Secret no other pod references; never a literal, `.env` interpolation or ConfigMap."""

DISCOVERY_PATH = "/.well-known/openid-configuration"
"""Where an OpenID provider publishes its configuration, below its issuer (OpenID Connect Discovery 1.0)."""


def consumed_topics(package: str) -> tuple[Topic, ...]:
    """The topics a service's consumer subscribes to: its `entrypoints/consumer.py`'s `TOPICS`
    (test_kafka_access holds them to `divert_contracts.dataplane`)."""
    topics = tuple(importlib.import_module(f"{package}.entrypoints.consumer").TOPICS)
    assert topics and all(isinstance(topic, Topic) for topic in topics), f"{package}'s consumer has no TOPICS"
    return topics


def temporal_roles(cli: ServiceCli) -> frozenset[str]:
    """The long-running roles of a service that connect to Temporal: those whose entrypoint module
    (`<package>.entrypoints.<role>`) uses the process's Temporal connection (`<parts>.temporal`).
    Only they get Temporal's client certificate and key; the others' settings are checked alone."""
    found = set()
    for role in cli.roles:
        try:
            module = importlib.import_module(f"{cli.package}.entrypoints.{role}")
        except ModuleNotFoundError:
            continue
        if re.search(r"\.temporal\b", inspect.getsource(module)):
            found.add(role)
    return frozenset(found)


def expected_topics() -> dict[str, int]:
    """Every topic of contracts/ and its dead-letter topic, with partitions."""
    return {t.name: t.partitions for topic in ALL_TOPICS for t in (topic, topic.dead_letter)}


def topic_script_problems(text: str) -> list[str]:
    """Differences between a create-topics script's `create <topic> <partitions>` lines and contracts/."""
    declared = dict(re.findall(r"^create (\S+) (\d+)\s*$", text, flags=re.MULTILINE))
    found = {name: int(partitions) for name, partitions in declared.items()}
    expected = expected_topics()
    problems = [f"missing topic {name} ({n} partitions)" for name, n in expected.items() if name not in found]
    problems += [f"unknown topic {name}" for name in found if name not in expected]
    problems += [
        f"{name}: {found[name]} partitions, contracts/ says {n}"
        for name, n in expected.items()
        if name in found and found[name] != n
    ]
    if not re.search(r'REPLICATION_FACTOR="\$\{REPLICATION_FACTOR:-3\}"', text):
        problems.append("the default replication factor is not 3")
    if not re.search(r'MIN_INSYNC_REPLICAS="\$\{MIN_INSYNC_REPLICAS:-2\}"', text):
        problems.append("the default min.insync.replicas is not 2")
    days = ServiceSettings.model_fields["retention_dead_letter_days"].default  # the services' .dlq retention
    dead_letters = days * 24 * 60 * 60 * 1000
    if not re.search(rf'DEAD_LETTER_RETENTION_MS="\$\{{DEAD_LETTER_RETENTION_MS:-{dead_letters}\}}"', text):
        problems.append(f"the default retention of dead letters is not the services' {dead_letters} ms")
    return problems


@contextmanager
def environment(env: Mapping[str, str]) -> Iterator[None]:
    """Run with exactly `env` as the settings-relevant environment (restored afterwards)."""
    saved = {k: v for k, v in os.environ.items() if k.startswith(("DIVERT_", "OTEL_"))}
    for key in saved:
        del os.environ[key]
    os.environ.update(env)
    try:
        yield
    finally:
        for key in env:
            os.environ.pop(key, None)
        os.environ.update(saved)


def settings_problem(settings: type[ServiceSettings], env: Mapping[str, str]) -> str | None:
    """Why `settings` refuses `env` (as a production process would at start-up), or None."""
    with environment(env):
        try:
            loaded = settings()
        except ValidationError as error:
            return str(error)
    if loaded.environment != "production":
        return f"DIVERT_ENVIRONMENT is {loaded.environment!r}, not production"
    return None


def env_name_problems(cli: ServiceCli, names: set[str] | frozenset[str], where: str) -> list[str]:
    """Variables given to a process of `cli` that nothing in it reads (a typo silently keeps a default)."""
    known = cli.env_names()
    return [
        f"{where}: {name} is not a setting of {cli.settings.__name__}"
        for name in sorted(names)
        if name not in known and not ALLOWED_FOREIGN_ENV.match(name)
    ]


# ---------------------------------------------------------------- requirements


def project_name(directory: Path) -> str:
    """The distribution a source tree builds (its pyproject.toml's `project.name`)."""
    return str(tomllib.loads((directory / "pyproject.toml").read_text())["project"]["name"])


def declared_requirements(name: str, sources: Mapping[str, Path]) -> list[Requirement]:
    """What distribution `name` requires, as `Requires-Dist` lines (an extra's requirements marked
    `extra == "..."`): from its pyproject.toml when it is built from one of `sources` (as an image
    builds it), otherwise from the installed distribution's metadata."""
    source = sources.get(canonicalize_name(name))
    if source is None:
        try:
            lines = importlib.metadata.distribution(name).requires or []
        except importlib.metadata.PackageNotFoundError as error:
            raise AssertionError(f"{name} is not installed: .venv should hold every requirement") from error
        return [Requirement(line) for line in lines]
    project = tomllib.loads((source / "pyproject.toml").read_text())["project"]
    found = [Requirement(line) for line in project.get("dependencies", [])]
    for extra, lines in project.get("optional-dependencies", {}).items():
        for line in lines:
            requirement = Requirement(line)
            condition = f'extra == "{extra}"'
            requirement.marker = Marker(f"({requirement.marker}) and {condition}" if requirement.marker else condition)
            found.append(requirement)
    return found


def requirement_closure(roots: Iterable[Requirement], sources: Mapping[str, Path]) -> dict[str, frozenset[str]]:
    """Every distribution that installing `roots` brings in, transitively, with the extras asked
    of it; `sources` maps the canonical names of those built from a source tree to that tree.
    Markers are evaluated for this interpreter (the image's Python version and platform); an
    extra's requirements are followed only where something requests that extra."""
    extras_of: dict[str, set[str]] = {}
    done: set[tuple[str, str]] = set()
    pending = list(roots)
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        extras_of.setdefault(name, set()).update(requirement.extras)
        for extra in ("", *sorted(requirement.extras)):
            if (name, extra) in done:
                continue
            done.add((name, extra))
            declared = declared_requirements(name, sources)
            pending += [dependency for dependency in declared if _applies(dependency, extra)]
    return {name: frozenset(extras) for name, extras in extras_of.items()}


def _applies(requirement: Requirement, extra: str) -> bool:
    """Whether `requirement` is needed when installing the distribution with `extra` ("" for none)."""
    if requirement.marker is None:
        return extra == ""
    return requirement.marker.evaluate({"extra": extra})


# ---------------------------------------------------------------- env files


def parse_env_file(path: Path, *, include_commented: bool = False) -> dict[str, str]:
    """`KEY=VALUE` lines (docker/kustomize env-file syntax); optionally also `# KEY=VALUE` examples."""
    values = {}
    pattern = r"^\s*(#\s*)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$"
    for line in path.read_text().splitlines():
        match = re.match(pattern, line)
        if match and (match.group(1) is None or include_commented):
            values[match.group(2)] = match.group(3)
    return values


def example_of(path: Path) -> Path:
    """The committed `<file>.example` standing for a secret file that is never committed."""
    return path.with_name(path.name + ".example")


# ---------------------------------------------------------------- compose


_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: Any, env: Mapping[str, str], missing: set[str]) -> Any:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}`, recursively; names not in `env`
    (and without a default) are collected in `missing`."""
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name, operator, argument = match.groups()
            if name in env and (env[name] or operator not in (":-", ":?")):
                return env[name]
            if operator in (":-", "-"):
                return argument
            missing.add(name)
            return ""

        return _INTERPOLATION.sub(substitute, value)
    if isinstance(value, dict):
        return {key: interpolate(item, env, missing) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env, missing) for item in value]
    return value


@dataclass
class Compose:
    """compose.yaml with anchors merged and `${VAR}` filled from `.env.example`."""

    raw: dict[str, Any]
    model: dict[str, Any]
    missing_variables: set[str]
    directory: Path

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        return self.model["services"]

    def environment(self, name: str, *, include_commented: bool = False) -> dict[str, str]:
        """A container's environment: its env files' examples, then `environment:` (which wins)."""
        service = self.services[name]
        env: dict[str, str] = {}
        for env_file in service.get("env_file", []):
            path = env_file if isinstance(env_file, str) else env_file["path"]
            example = example_of(self.directory / path)
            if example.exists():  # a missing one is reported by the environment check
                env.update(parse_env_file(example, include_commented=include_commented))
        declared = service.get("environment", {})
        if isinstance(declared, list):
            declared = dict(item.split("=", 1) for item in declared)
        env.update({key: "" if value is None else str(value) for key, value in declared.items()})
        return env


def load_compose(directory: Path = COMPOSE_DIR, text: str | None = None) -> Compose:
    """Parse `compose.yaml` (or `text` in its place, for tests that break it on purpose)."""
    raw = yaml.safe_load(text if text is not None else (directory / "compose.yaml").read_text())
    variables = parse_env_file(directory / ".env.example")
    missing: set[str] = set()
    model = interpolate(copy.deepcopy(raw), variables, missing)
    return Compose(raw=raw, model=model, missing_variables=missing, directory=directory)


@pytest.fixture(scope="session")
def compose() -> Compose:
    return load_compose()


# ---------------------------------------------------------------- kustomize


SUPPORTED_KUSTOMIZATION_FIELDS = frozenset(
    {
        "apiVersion",
        "kind",
        "resources",
        "configMapGenerator",
        "secretGenerator",
        "patches",
        "images",
        "labels",
        "namespace",
    }
)
CLUSTER_SCOPED_KINDS = frozenset({"Namespace", "ClusterRole", "ClusterRoleBinding"})


def _generate(kind: str, generator: dict[str, Any], directory: Path) -> dict[str, Any]:
    """A ConfigMap or Secret from a generator; a secret env file that is not committed is read
    from its `.example` (the names must be the same, the values are placeholders)."""
    data: dict[str, str] = {}
    for literal in generator.get("literals", []):
        key, _, value = literal.partition("=")
        data[key] = value
    for env_file in generator.get("envs", []):
        path = directory / env_file
        data.update(parse_env_file(path if path.exists() else example_of(path)))
    for file in generator.get("files", []):
        key, _, source = file.rpartition("=")
        path = directory / source
        data[key or path.name] = (path if path.exists() else example_of(path)).read_text()
    unknown = set(generator) - {"name", "literals", "envs", "files", "options"}
    assert not unknown, f"generator fields not understood by the test's resolver: {unknown}"
    return {
        "apiVersion": "v1",
        "kind": kind,
        "metadata": {"name": generator["name"]},
        "stringData" if kind == "Secret" else "data": data,
    }


def strategic_merge(target: Any, patch: Any) -> Any:
    """Strategic-merge-patch semantics for what Divert patches: maps merge, lists of named items
    merge by `name`, other lists are replaced."""
    if isinstance(target, dict) and isinstance(patch, dict):
        merged = dict(target)
        for key, value in patch.items():
            merged[key] = strategic_merge(target[key], value) if key in target else value
        return merged
    if (
        isinstance(target, list)
        and isinstance(patch, list)
        and all(isinstance(item, dict) and "name" in item for item in target + patch)
    ):
        merged_list = list(target)
        for item in patch:
            index = next((i for i, old in enumerate(merged_list) if old["name"] == item["name"]), None)
            if index is None:
                merged_list.append(item)
            else:
                merged_list[index] = strategic_merge(merged_list[index], item)
        return merged_list
    return patch


def pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The pod spec of a Deployment, Job or CronJob (None for other kinds)."""
    if obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return obj["spec"]["template"]["spec"]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(obj)
    return [] if spec is None else spec.get("initContainers", []) + spec["containers"]


def _image_name(image: str) -> str:
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return name.rsplit(":", 1)[0] if ":" in last else name


def kustomize_build(directory: Path) -> list[dict[str, Any]]:
    """`kustomize build directory`, for the fields Divert uses (others fail loudly)."""
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(spec) - SUPPORTED_KUSTOMIZATION_FIELDS
    assert not unknown, f"{directory}: kustomization fields not understood by the test's resolver: {unknown}"
    objects: list[dict[str, Any]] = []
    for entry in spec.get("resources", []):
        path = directory / entry
        assert path.exists(), f"{directory}/kustomization.yaml: resource {entry} does not exist"
        if path.is_dir():
            objects += kustomize_build(path)
        else:
            objects += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    objects += [_generate("ConfigMap", g, directory) for g in spec.get("configMapGenerator", [])]
    objects += [_generate("Secret", g, directory) for g in spec.get("secretGenerator", [])]
    for entry in spec.get("patches", []):
        assert set(entry) == {"path"}, f"{directory}: only strategic-merge patches by path are resolved here"
        patch = yaml.safe_load((directory / entry["path"]).read_text())
        matches = [
            i
            for i, obj in enumerate(objects)
            if obj["kind"] == patch["kind"] and obj["metadata"]["name"] == patch["metadata"]["name"]
        ]
        assert len(matches) == 1, f"{directory}: patch {entry['path']} matches {len(matches)} objects"
        objects[matches[0]] = strategic_merge(objects[matches[0]], patch)
    for label in spec.get("labels", []):
        for obj in objects:
            obj["metadata"].setdefault("labels", {}).update(label["pairs"])
            if label.get("includeTemplates") and pod_spec(obj) is not None:
                obj["spec"]["template"]["metadata"].setdefault("labels", {}).update(label["pairs"])
    for image in spec.get("images", []):
        for obj in objects:
            for container in containers(obj):
                if _image_name(container["image"]) != image["name"]:
                    continue
                name = image.get("newName", image["name"])
                if "digest" in image:
                    container["image"] = f"{name}@{image['digest']}"
                else:
                    tag = image.get("newTag", container["image"].split("@")[0].rsplit(":", 1)[-1])
                    container["image"] = f"{name}:{tag}"
    if namespace := spec.get("namespace"):
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED_KINDS:
                obj["metadata"]["namespace"] = namespace
    return objects


@pytest.fixture(scope="session")
def k8s_base() -> list[dict[str, Any]]:
    return kustomize_build(K8S_DIR / "base")


@pytest.fixture(scope="session")
def k8s_production() -> list[dict[str, Any]]:
    return kustomize_build(K8S_DIR / "overlays" / "production")


# ---------------------------------------------------------------- images


def image_problems(image: str) -> list[str]:
    """An image reference must be pinned: a version tag (never `latest`) or a digest."""
    if "@sha256:" in image:
        return []
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return [f"{image}: no tag (means latest)"]
    tag = last.rsplit(":", 1)[1]
    if tag in ("latest", "") or not re.search(r"\d", tag):
        return [f"{image}: tag {tag!r} is not a version"]
    return []


def git_ignores(path: Path) -> bool:
    """Whether git ignores `path` (a real secrets file must never be committable)."""
    done = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=REPO, check=False)
    return done.returncode == 0


@pytest.fixture(scope="session")
def tools() -> SimpleNamespace:
    """The helpers above, for test modules (which cannot import a conftest under importlib mode)."""
    return SimpleNamespace(
        api_url_settings=api_url_settings,
        consumed_topics=consumed_topics,
        env_name_problems=env_name_problems,
        environment=environment,
        example_of=example_of,
        git_ignores=git_ignores,
        image_problems=image_problems,
        kustomize_build=kustomize_build,
        load_compose=load_compose,
        parse_env_file=parse_env_file,
        project_name=project_name,
        requirement_closure=requirement_closure,
        settings_problem=settings_problem,
        strategic_merge=strategic_merge,
        temporal_roles=temporal_roles,
        topic_script_problems=topic_script_problems,
        containers=containers,
        pod_spec=pod_spec,
    )
