# The token server in a container: `docker build -t accesstoken2 .` then
# `docker run -p 8080:8080 -e AGORA_APP_ID=... -e AGORA_APP_CERTIFICATE_FILE=/run/secrets/cert ... accesstoken2`.
# See docs/deployment.md.  Stage 1 builds the wheels (C compiler included); stage 2 installs them, no compiler.

FROM python:3.12 AS build
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md LICENSE CHANGELOG.md ./
COPY accesstoken2 ./accesstoken2
COPY src_c ./src_c
# ACCESSTOKEN2_REQUIRE_C=1: a failed compile fails the build instead of shipping pure Python
RUN ACCESSTOKEN2_REQUIRE_C=1 pip wheel --no-cache-dir --wheel-dir /wheels ".[server]" "uvicorn[standard]>=0.23"

FROM python:3.12-slim
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin accesstoken2
COPY --from=build /wheels /wheels
# exactly the wheels stage 1 resolved and built (accesstoken2, the server extra, uvicorn's standard extras)
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels
ENV PORT=8080 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001
EXPOSE 8080
# /ping answers {"message": "pong"} without credentials; the port is the one the server listens on
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/ping' % os.environ.get('PORT', '8080'), timeout=4)"]
# 0.0.0.0: reachable from outside the container; the port comes from PORT (or SERVER_PORT), as in agora-token-service
CMD ["accesstoken2", "serve", "--host", "0.0.0.0"]
