# One image for web, Celery worker and Celery beat (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Runtime dependencies only: the development tools (requirements/dev.txt) stay out of the image.
COPY requirements/base.txt requirements/base.txt
RUN pip install --no-cache-dir -r requirements/base.txt

COPY . .
RUN useradd --system --uid 1000 esc && mkdir -p /app/var && chown -R esc /app/var
# collectstatic needs settings that accept production mode; a throwaway key is enough here.
RUN DJANGO_DEBUG=False DJANGO_SECRET_KEY=collectstatic-only-key-not-used-at-runtime-0123456789abcdef \
    python manage.py collectstatic --noinput
USER esc
EXPOSE 8000
CMD ["python", "-m", "esc_platform.serve", "--port", "8000", "--proxy-headers"]
