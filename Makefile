# The two commands that matter: `make demo` and `make test`. Everything else is a step they depend on.
SHELL := /bin/bash
export ONNXRUNTIME_NODE_INSTALL := skip
NODE := node
TSX := $(NODE) --import tsx
SHARED ?= ../shared
DATA ?= $(SHARED)/datasets/mlama
TINY := checkpoints/tiny
BASE := checkpoints/base-shaped

.PHONY: demo test install build typecheck sample tokenizer bench bench-tiny bench-prompts clean browser python-deps python-env parity parity-golden bench-exported

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: node_modules/.installed

dist/.built: node_modules/.installed $(shell find src -name '*.ts') tsconfig.json
	npx tsc -p tsconfig.json
	touch $@

build: dist/.built

typecheck: install
	npx tsc -p tsconfig.json --noEmit

# Runs every test file; fails when the runner finds no tests at all (node --test reports 0 and exits 0).
# Debian's chromium lets the HTML report's chart be checked in a real browser; installed when missing and possible.
browser:
	@command -v chromium > /dev/null || { command -v apt-get > /dev/null && [ "$$(id -u)" = 0 ] && { apt-get install -y -qq chromium > /dev/null 2>&1 || { apt-get update -qq > /dev/null && apt-get install -y -qq chromium > /dev/null; }; }; } || echo "note: chromium not installed; the browser check of the HTML report is skipped"

# The Python environment: Debian's python3-torch/python3-onnx (CPU only, small) under a virtualenv that adds the
# pinned transformers, sentencepiece and onnxruntime from PyPI (tools/requirements.txt). Needs root for apt once.
VENV := .venv
PYTHON := $(VENV)/bin/python
APT_PY := python3-torch python3-onnx python3-venv
python-deps:
	@/usr/bin/python3 -c 'import torch, onnx, ensurepip' 2> /dev/null || { command -v apt-get > /dev/null && [ "$$(id -u)" = 0 ] && { apt-get install -y -qq $(APT_PY) > /dev/null 2>&1 || { apt-get update -qq > /dev/null && apt-get install -y -qq $(APT_PY) > /dev/null; }; }; } || { echo "error: Debian's $(APT_PY) are needed (apt-get install $(APT_PY), as root)"; exit 1; }

$(VENV)/.installed: tools/requirements.txt | python-deps
	rm -rf $(VENV)
	/usr/bin/python3 -m venv --system-site-packages $(VENV)
	$(PYTHON) -m pip install -q --disable-pip-version-check -r tools/requirements.txt
	$(PYTHON) -c 'import torch, transformers, onnx, onnxruntime, sentencepiece'
	touch $@

python-env: $(VENV)/.installed

test: build browser python-env
	@set -o pipefail; $(TSX) --test --test-reporter=tap --test-concurrency=1 test/*.test.ts | tee results/.test-output.tap | grep -E '^(not ok|# (tests|pass|fail|skipped))' ; \
	status=$$?; n=$$(grep -E '^# tests' results/.test-output.tap | awk '{print $$3}'); \
	if [ "$${n:-0}" -eq 0 ]; then echo "no tests ran"; exit 1; fi; \
	fails=$$(grep -E '^# fail' results/.test-output.tap | awk '{print $$3}'); \
	if [ "$${fails:-1}" -ne 0 ]; then exit 1; fi
	@$(MAKE) --no-print-directory parity

# The harness against transformers' own classes on the CPU (tools/parity/parity.py): fixtures built once into
# checkpoints/parity (random weights), inputs and scores compared; the last line sums up, a failed threshold exits 1.
parity: build python-env
	nice -n 10 $(PYTHON) -W ignore tools/parity/parity.py --data $(DATA) --work checkpoints/parity

# Rewrites the committed golden fixtures (test/fixtures/parity) that test/parity.test.ts checks without Python.
parity-golden: build python-env
	$(PYTHON) -W ignore tools/parity/golden.py

MLAMA := $(NODE) bin/mlama.js
DEMO_DB := results/demo.sqlite

# The embedded default: a tiny random checkpoint, the bundled sample, both prompt styles, the report.
demo: build
	$(MLAMA) make-checkpoint --preset tiny --seed 1 --out $(TINY)
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	$(MLAMA) run --model $(TINY) --data datasets/mlama-sample --styles word,entity --name demo-seed1 --db $(DEMO_DB)
	$(MLAMA) report --run demo-seed1 --db $(DEMO_DB) --format html --out results/report.html
	$(MLAMA) make-checkpoint --preset tiny --seed 2 --out $(TINY)-seed2
	$(MLAMA) run --model $(TINY)-seed2 --data datasets/mlama-sample --styles word,entity --name demo-seed2 --db $(DEMO_DB) > /dev/null
	$(MLAMA) compare demo-seed1 demo-seed2 --db $(DEMO_DB) --fail-on-drop 100
	@echo "The checkpoint has RANDOM weights: these numbers demonstrate the harness, not a model's knowledge."

# Benchmarks print ratios measured side by side in one run; they are not part of `make test`.
# The base-shaped checkpoint (2 GiB of random weights, mLUKE-base sizes) is generated once, outside git.
$(BASE)/mlama-checkpoint.json: | build
	$(MLAMA) make-checkpoint --preset base-shaped --seed 1 --data $(DATA) --out $(BASE)

bench: build $(BASE)/mlama-checkpoint.json
	$(MLAMA) bench scoring --model $(BASE) --data $(DATA) --languages en,ja,ar --per-language 30 --rounds 3

# The exporter on a random mLUKE-base-sized LukeForMaskedLM (past protobuf's 2 GB limit), then the shipped scorer's
# MFU on the exported graph beside the generated base-shaped graph's, same sample, same tokenizer and entities.
EXPORTED := checkpoints/exported-base
BENCH_EXPORTED := --data $(DATA) --languages en,ja,ar --per-language 10 --rounds 2 --patterns shipped
$(EXPORTED)/mlama-checkpoint.json: $(BASE)/mlama-checkpoint.json tools/export_mluke.py tools/parity/base_export.py | python-env
	nice -n 10 $(PYTHON) -W ignore tools/parity/base_export.py --like $(BASE) --out $(EXPORTED)

bench-exported: build $(EXPORTED)/mlama-checkpoint.json
	@set -o pipefail; nice -n 10 $(MLAMA) bench scoring --model $(EXPORTED) $(BENCH_EXPORTED) | tee results/.bench-exported.txt
	@set -o pipefail; nice -n 10 $(MLAMA) bench scoring --model $(BASE) $(BENCH_EXPORTED) | tee results/.bench-generated.txt
	@e=$$(grep -o 'mfu=[0-9.]*' results/.bench-exported.txt | cut -d= -f2); g=$$(grep -o 'mfu=[0-9.]*' results/.bench-generated.txt | cut -d= -f2); \
	echo "exported mfu=$$e generated base-shaped mfu=$$g ratio=$$(awk -v e=$$e -v g=$$g 'BEGIN { printf "%.3f", e / g }')"

bench-tiny: build
	$(MLAMA) make-checkpoint --preset tiny --seed 1 --data $(DATA) --out $(TINY)-shared
	$(MLAMA) bench scoring --model $(TINY)-shared --data $(DATA) --languages en,ja,ar --per-language 300 --rounds 3

bench-prompts: build
	$(MLAMA) make-checkpoint --preset tiny --seed 1 --data $(DATA) --out $(TINY)-shared
	$(MLAMA) bench prompts --model $(TINY)-shared --data $(DATA) --language en

tokenizer: install
	$(TSX) tools/train-tokenizer.ts $(DATA) datasets/tokenizer/unigram-8k.tokenizer.json

sample: install
	$(TSX) tools/make-sample.ts $(DATA) datasets/mlama-sample

clean:
	rm -rf dist checkpoints results/*.sqlite* results/report.html
