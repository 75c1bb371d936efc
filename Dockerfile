# dutybot: one process, SQLite under /data by default; set DATABASE_URL for PostgreSQL.
# The steps mirror the README's install: a venv with the project installed from pyproject.toml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/data \
    DUTIES_FILE=/app/duties.yaml \
    TZ=Asia/Shanghai \
    WEB_LISTEN=0.0.0.0:8080

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY schedules ./schedules
COPY duties.yaml ./duties.yaml
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --upgrade pip \
    && /opt/venv/bin/pip install --no-cache-dir '.[postgres]' \
    && useradd --create-home --uid 10001 dutybot \
    && mkdir -p /data && chown dutybot:dutybot /data

ENV PATH=/opt/venv/bin:$PATH
USER dutybot
VOLUME ["/data"]
# The web console (安委办工作台); set WEB_BASE_URL to the address people open (behind a proxy: https).
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"
CMD ["dutybot", "run"]
