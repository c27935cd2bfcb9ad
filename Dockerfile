# A small image with the reconciler CLI as its entrypoint, run as an unprivileged user.
#   docker build -t scim-reconciler .
#   docker run --rm -e RECONCILER_TOKEN -v "$PWD/directory:/work:ro" scim-reconciler plan /work
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY reconciler ./reconciler
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 reconciler
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER reconciler
WORKDIR /home/reconciler
ENTRYPOINT ["reconciler"]
CMD ["--help"]
