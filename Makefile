# Mijn Stem. Every target installs what is missing first.
PY := .venv/bin/python
export RASA_TELEMETRY_ENABLED := false

.PHONY: install train run test test-fast bench chat lint validate

install:  ## build .venv (app) and .venv-rasa (Rasa), both Python 3.10, from the lock files
	@scripts/install

train: install  ## train a Rasa model unless data/, config.yml and domain/ are unchanged
	@$(PY) -m bot train

run: install train  ## start Rasa, the action server, the web app (and Telegram) on loopback
	@$(PY) -m bot run

test: install  ## the whole suite: unit, consistency, Rasa validation and stories, end to end
	@scripts/test-services
	@$(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS)

test-fast: install  ## unit and consistency tests only
	@$(PY) -m pytest -p no:cacheprovider -m "not e2e" $(PYTEST_ARGS)

bench: install train  ## speed, memory and accuracy figures
	@$(PY) -m scripts.bench

chat: install  ## chat with the running stack (start it with `make run` first)
	@$(PY) -m bot chat

lint: install
	@.venv/bin/ruff check bot actions tests scripts
	@.venv/bin/mypy
