# The two commands that matter: `make demo` and `make test`. Everything else is a step they depend on.
SHELL := /bin/bash
export ONNXRUNTIME_NODE_INSTALL := skip
NODE := node
TSX := $(NODE) --import tsx
SHARED ?= ../shared
DATA ?= $(SHARED)/datasets/mlama
TINY := checkpoints/tiny
BASE := checkpoints/base-shaped

.PHONY: demo test install build typecheck sample tokenizer bench bench-tiny bench-prompts bench-peer peer-env clean browser python-deps python-env

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

bench-tiny: build
	$(MLAMA) make-checkpoint --preset tiny --seed 1 --data $(DATA) --out $(TINY)-shared
	$(MLAMA) bench scoring --model $(TINY)-shared --data $(DATA) --languages en,ja,ar --per-language 300 --rounds 3

bench-prompts: build
	$(MLAMA) make-checkpoint --preset tiny --seed 1 --data $(DATA) --out $(TINY)-shared
	$(MLAMA) bench prompts --model $(TINY)-shared --data $(DATA) --language en

# The peer benchmark (issue 20): a RANDOM mLUKE-base-sized LukeForMaskedLM in transformers' layout (2.2 GB, outside
# git), its export by tools/export_mluke.py (marked random in the manifest), and an int8 copy of the gathered graph.
# The peer runs under Debian's torch (.venv) and PyPI's (.venv-peer); the faster MatMul is used.
PEER_HF := checkpoints/peer-hf
PEER := checkpoints/peer-onnx
VENV_PEER := .venv-peer

$(VENV_PEER)/.installed: tools/requirements-peer.txt
	rm -rf $(VENV_PEER)
	/usr/bin/python3 -m venv $(VENV_PEER)
	$(VENV_PEER)/bin/pip install -q --disable-pip-version-check --no-deps -r tools/requirements-peer.txt
	$(VENV_PEER)/bin/python -c 'import torch, transformers; assert not torch.cuda.is_available(); x = torch.randn(64, 768); print("torch", torch.__version__, "runs on CPU without CUDA packages:", tuple((x @ x.T).shape))'
	@du -sh $(VENV_PEER) | awk '{print "disk: " $$1 " for " $$2}'
	touch $@

peer-env: $(VENV_PEER)/.installed

$(PEER_HF)/config.json: | python-env
	$(PYTHON) tools/make_peer_model.py $(DATA) $(PEER_HF)

$(PEER)/mlama-checkpoint.json: $(PEER_HF)/config.json
	$(PYTHON) tools/export_mluke.py $(PEER_HF) $(PEER)
	$(PYTHON) -c 'import json, sys; p = sys.argv[1]; m = json.load(open(p)); m["random_weights"] = True; json.dump(m, open(p, "w"), indent=2)' $@

$(PEER)/model.int8.onnx: $(PEER)/mlama-checkpoint.json | peer-env
	$(VENV_PEER)/bin/python tools/quantize_int8.py $(PEER)

bench-peer: build peer-env $(PEER)/model.int8.onnx
	$(MLAMA) bench peer --model $(PEER) --peer-model $(PEER_HF) --python $(PYTHON),$(VENV_PEER)/bin/python --data $(DATA) --precisions float32,int8 --languages en,ja,ar --per-language 4 --rounds 3 --cost-languages en,ja,ar

tokenizer: install
	$(TSX) tools/train-tokenizer.ts $(DATA) datasets/tokenizer/unigram-8k.tokenizer.json

sample: install
	$(TSX) tools/make-sample.ts $(DATA) datasets/mlama-sample

clean:
	rm -rf dist checkpoints results/*.sqlite* results/report.html
