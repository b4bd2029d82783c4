# syntax=docker/dockerfile:1
# One image for every Divert process. The command picks the service and its role:
#   divert-intake api | relay | consumer | worker | migrate | replay
#   divert-assessment api | relay | consumer | migrate | replay
#   divert-directory api | relay | consumer | migrate | seed | import | replay
#   divert-warrants api | relay | consumer | migrate | replay
#   divert-console api                  (the program console: no database, Kafka or Temporal)
# Build from the repository root: `docker build -t divert:0.1.0 .`
# Validated by tests/deploy (no Docker engine in CI): COPY sources, non-root user, pinned base.

# Python 3.11 because constraints.txt is resolved (and CI runs) on 3.11: every pinned wheel exists for it.
# Pin the digest too once your registry mirror has the image, so a re-pushed tag cannot change a build:
#   ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm@sha256:<digest of your mirror's copy>
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# PIP_CONSTRAINT also reaches pip's isolated build environments, so setuptools is pinned as well.
ENV PIP_CONSTRAINT=/src/constraints.txt \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY constraints.txt ./
COPY contracts contracts
COPY libs/platform libs/platform
COPY services/intake services/intake
COPY services/assessment services/assessment
COPY services/services-directory services/services-directory
COPY services/warrants services/warrants
COPY services/console services/console
# Non-editable installs into a venv that the runtime stage copies whole (same path, same Python).
# No extras: divert-platform[embedded] (the embedded broker and Temporal dev server) is for development only.
RUN python -m venv /opt/divert \
 && /opt/divert/bin/pip install \
      ./contracts ./libs/platform \
      ./services/intake ./services/assessment ./services/services-directory ./services/warrants \
      ./services/console \
 && /opt/divert/bin/pip check

FROM ${PYTHON_IMAGE} AS runtime
# A fixed numeric uid/gid: Kubernetes' runAsNonRoot can only verify a numeric USER.
RUN groupadd --system --gid 10001 divert \
 && useradd --system --uid 10001 --gid divert --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin divert
COPY --from=build /opt/divert /opt/divert
# Safe defaults: production refuses to start without a database URL and real token keys, and no
# process writes below / (the root filesystem can be mounted read-only; /tmp is the only scratch).
ENV PATH=/opt/divert/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DIVERT_ENVIRONMENT=production \
    DIVERT_HOST=0.0.0.0 \
    DIVERT_METRICS_HOST=0.0.0.0 \
    DIVERT_METRICS_PORT=9464 \
    DIVERT_DATA_DIR=/tmp/divert
WORKDIR /tmp
USER 10001:10001
# API ports are 8001-8004 and the console's 8005 (DIVERT_PORT); every process serves Prometheus metrics on 9464.
EXPOSE 8001 8002 8003 8004 8005 9464
CMD ["divert-intake", "api"]
