# A small image with the reconciler CLI as its entrypoint, run as an unprivileged user.
#   docker build -t scim-reconciler .
#   docker run --rm -e RECONCILER_TOKEN -v "$PWD/directory:/work:ro" scim-reconciler plan /work
#
# It runs with a read-only root filesystem (docker run --read-only --tmpfs /tmp -e
# HOME=/tmp; the Kubernetes example does the same): the tool writes only where it is
# told to (--out, a sandbox:PATH), and nothing needs the home directory.
#
# Pin the base image by digest for a build you can repeat:
#   docker buildx imagetools inspect python:3.11-slim     # prints "Digest: sha256:…"
#   docker build --build-arg PYTHON_IMAGE=python:3.11-slim@sha256:<that digest> .
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY reconciler ./reconciler
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM ${PYTHON_IMAGE}
RUN groupadd --gid 10001 reconciler \
 && useradd --uid 10001 --gid 10001 --create-home --no-log-init reconciler
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
# pip compiled the bytecode above; at run time nothing tries to write any.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# Numeric, so that Kubernetes can check runAsNonRoot without a name lookup.
USER 10001:10001
WORKDIR /home/reconciler
ENTRYPOINT ["reconciler"]
CMD ["--help"]
