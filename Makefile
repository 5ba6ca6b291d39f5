# Everything runs inside .venv, created on first use from pyproject.toml.
PYTHON ?= python3.11
PORT ?= 8000
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test migrations-check deploy-check bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=python3"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	LOCAL_SITE_URL=http://127.0.0.1:$(PORT) $(PY) manage.py demo_admin
	@echo "  Site: http://127.0.0.1:$(PORT)/   (no Stripe key set: payments are clearly marked test payments)"
	@echo "  Emails are sent by the background worker and printed in this terminal."
	@LOCAL_SITE_URL=http://127.0.0.1:$(PORT) $(PY) manage.py run_worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  LOCAL_SITE_URL=http://127.0.0.1:$(PORT) $(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

migrations-check: install
	$(PY) manage.py makemigrations --check --dry-run

deploy-check: install
	DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	DJANGO_ALLOWED_HOSTS=example.org STRIPE_SECRET_KEY=sk_test_check STRIPE_WEBHOOK_SECRET=whsec_check \
	SITE_URL=https://example.org CONTACT_EMAIL=help@example.org DEFAULT_FROM_EMAIL=workshops@mail.example.org \
	$(PY) manage.py check --deploy --fail-level WARNING

bench: install
	bash bench/run.sh

clean:
	rm -rf $(VENV) staticfiles db.sqlite3
