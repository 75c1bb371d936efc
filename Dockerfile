# dutybot: one process, SQLite under /data by default; set DATABASE_URL for PostgreSQL.
# The steps mirror the README's install: a venv with the project installed from pyproject.toml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/data \
    DUTIES_FILE=/app/duties.yaml \
    TZ=Asia/Shanghai

# antiword: `dutybot import-list` reads Word 97-2003 (.doc/.wps) lists through it.
RUN apt-get update -q && apt-get install -y -q --no-install-recommends antiword \
    && rm -rf /var/lib/apt/lists/*

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
CMD ["dutybot", "run"]
