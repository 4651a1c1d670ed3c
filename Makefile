# The two commands that matter: `make demo` and `make test`. Everything else is a step they depend on.
SHELL := /bin/bash
export ONNXRUNTIME_NODE_INSTALL := skip
NODE := node
TSX := $(NODE) --import tsx
SHARED ?= ../shared
DATA ?= $(SHARED)/datasets/mlama
TINY := checkpoints/tiny
BASE := checkpoints/base-shaped

.PHONY: demo demo-random known-answer openblas gate-demo protocols protocols-env protocols-mlama test test-python run-tests quickstart install build typecheck sample tokenizer bench bench-tiny bench-prompts bench-peer peer-env clean browser python-deps python-env slurm-deps test-slurm check test-fast tokenizer-wordpiece parity parity-golden bench-exported test-under-load

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

# The Python checks' tools (ruff, pytest) on their own stamp: a change to them does not rebuild the environment.
$(VENV)/.dev-installed: tools/requirements-dev.txt | $(VENV)/.installed
	$(PYTHON) -m pip install -q --disable-pip-version-check -r tools/requirements-dev.txt
	touch $@

python-env: $(VENV)/.installed $(VENV)/.dev-installed

# Debian's slurm-wlm and munge let the Slurm example run on a real single-node cluster (test/slurm.test.ts starts
# and stops its own daemons in a temporary folder); installed when missing and possible, like chromium.
SLURM_PKGS := slurm-wlm munge
slurm-deps:
	@command -v slurmctld > /dev/null && command -v munged > /dev/null || { command -v apt-get > /dev/null && [ "$$(id -u)" = 0 ] && { apt-get install -y -qq $(SLURM_PKGS) > /dev/null 2>&1 || { apt-get update -qq > /dev/null && apt-get install -y -qq $(SLURM_PKGS) > /dev/null; }; }; } || echo "note: $(SLURM_PKGS) not installed; the Slurm cluster test is skipped (make test-slurm needs them, as root)"

# The real-cluster test alone; fails (never skips) without Slurm, and ends with the test's summary line.
SLURM_SUMMARY := results/.slurm-summary
test-slurm: build slurm-deps
	@rm -f $(SLURM_SUMMARY)
	MLAMA_REQUIRE_SLURM=1 MLAMA_SLURM_SUMMARY=$(SLURM_SUMMARY) $(TSX) --test --test-reporter=spec test/slurm.test.ts
	@cat $(SLURM_SUMMARY)

test: build browser python-env slurm-deps
	@$(MAKE) --no-print-directory run-tests
	@$(MAKE) --no-print-directory test-python
	@$(MAKE) --no-print-directory quickstart
	@$(MAKE) --no-print-directory parity

# The runner alone (what `test` runs once its prerequisites are there): the spec reporter prints each test as it
# finishes and every failure with its reason at the end; TAP goes to $(TAP) for tools. TESTS and TAP can be set.
TESTS ?= test/*.test.ts
TAP ?= results/.test-output.tap
run-tests:
	@mkdir -p $(dir $(TAP)); rm -f $(TAP); $(TSX) --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout --test-reporter=tap --test-reporter-destination=$(TAP) $(TESTS); \
	status=$$?; n=$$(grep -E '^# tests' $(TAP) | awk '{print $$3}'); \
	if [ "$${n:-0}" -eq 0 ]; then echo "no tests ran"; exit 1; fi; \
	fails=$$(grep -E '^# fail' $(TAP) | awk '{print $$3}'); \
	echo "$$n tests, $${fails:-?} failed (TAP in $(TAP))"; \
	if [ "$${fails:-1}" -ne 0 ] || [ $$status -ne 0 ]; then exit 1; fi

# The fast tier: every test file whose first line is not a `// tier: full (needs ...)` marker, i.e. every test that
# needs no ../shared, no Python, no Chromium and no Slurm (they generate tiny checkpoints from the bundled sample in
# temporary folders), then the Python unit tests of tools/. A test file that needs one of those starts with the
# marker (test/tiers.test.ts checks it). The shared data is pointed at a missing folder and a skipped test fails the
# tier, so a test that quietly needs it cannot pass here.
FAST_TESTS := $(shell awk 'FNR == 1 { if (!/^\/\/ tier: full/) print FILENAME; nextfile }' test/*.test.ts)
FAST_TAP := results/.test-fast.tap
test-fast: build
	@mkdir -p $(dir $(FAST_TAP)); set -o pipefail; MLAMA_SHARED_DATA=/nonexistent/mlama-fast-tier $(TSX) --test --test-reporter=tap --test-concurrency=1 $(FAST_TESTS) | tee $(FAST_TAP) | grep -E '^(not ok|# (tests|pass|fail|skipped|duration_ms))'; \
	n=$$(grep -E '^# tests' $(FAST_TAP) | awk '{print $$3}'); if [ "$${n:-0}" -eq 0 ]; then echo "no tests ran"; exit 1; fi; \
	skipped=$$(grep -E '^# skipped' $(FAST_TAP) | awk '{print $$3}'); if [ "$${skipped:-0}" -ne 0 ]; then echo "the fast tier skipped $$skipped tests: mark their files '// tier: full (needs ...)'"; exit 1; fi; \
	fails=$$(grep -E '^# fail' $(FAST_TAP) | awk '{print $$3}'); [ "$${fails:-1}" -eq 0 ]
	@$(MAKE) --no-print-directory test-python

# The Python unit tests of tools/ (tools/tests: pure functions, no model downloads, seconds).
test-python: python-env
	$(PYTHON) -m pytest -q -p no:cacheprovider tools/tests

# `make test` RUNS times in a row (default 3) while `nproc` busy loops keep every core busy; stops at the first
# failure and ends with one summary line (tools/test-under-load.sh; TEST_TARGET and HOG can be set).
test-under-load:
	@tools/test-under-load.sh

# Formatter and linter (Biome, biome.json), the type check, and the Python's formatter and linter (ruff, ruff.toml);
# CI runs it before the tests.
check: install python-env
	npx biome check .
	npx tsc -p tsconfig.json --noEmit
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .


# The README's quickstart run verbatim (tools/quickstart.ts) on tiny RANDOM hub-style models written by transformers'
# save_pretrained and the official mLAMA 1.1 layout rebuilt from the sample, in a temporary folder, with `mlama` on
# PATH; the last line sums it up. QUICKSTART_ARGS=--fill writes the real outputs into the README's output blocks.
quickstart: build python-env
	$(TSX) tools/quickstart.ts $(QUICKSTART_ARGS)

# The harness against transformers' own classes on the CPU (tools/parity/parity.py): fixtures built once into
# checkpoints/parity (random weights), inputs and scores compared; the last line sums up, a failed threshold exits 1.
# PARITY_SEED picks the fixtures' seed (each seed's fixtures in their own folder); near ties are counted, not failed.
# Not niced: it is make test's last step, and under a busy machine (make test-under-load) a niced step gets a tenth
# of a core and takes most of an hour.
PARITY_SEED ?= 1
parity: build python-env
	$(PYTHON) -W ignore tools/parity/parity.py --data $(DATA) --seed $(PARITY_SEED) --work checkpoints/parity$(if $(filter-out 1,$(PARITY_SEED)),-seed$(PARITY_SEED))

# Rewrites the committed golden fixtures (test/fixtures/parity) that test/parity.test.ts checks without Python.
parity-golden: build python-env
	$(PYTHON) -W ignore tools/parity/golden.py

MLAMA := $(NODE) bin/mlama.js
# The default results file, so that a plain `mlama report` or `mlama runs` after the demo shows it. The user's
# earlier runs there are kept: each demo adds runs under new names.
DEMO_DB ?= results/mlama.sqlite
DEMO_TAG := $(shell date -u +%Y%m%d-%H%M%S)
DEMO_A := demo-$(DEMO_TAG)-seed1
DEMO_B := demo-$(DEMO_TAG)-seed2
DEMO_K := demo-$(DEMO_TAG)-known

KNOWN := datasets/known-answer
SAMPLE := datasets/mlama-sample

# The embedded default: the known-answer checkpoint (a small LUKE model trained here by `make known-answer`, committed),
# the bundled sample, both prompt styles, the report, and what the model recovers of the facts it was and was not
# trained on. The last line is the known-answer summary.
demo: build
	@echo "checkpoint $(KNOWN): a small LUKE-architecture model trained here by 'make known-answer' on $$(wc -l < $(KNOWN)/training-facts.jsonl) (language, fact) pairs of the sample ($(KNOWN)/training-facts.jsonl). It is NOT mLUKE."
	$(MLAMA) run --model $(KNOWN) --data $(SAMPLE) --styles word,entity --name $(DEMO_K) --label 'known-answer checkpoint (trained here, not mLUKE)' --db $(DEMO_DB)
	$(MLAMA) report --run $(DEMO_K) --db $(DEMO_DB) --format html --out results/report.html
	$(MLAMA) known-answer --run $(DEMO_K) --facts $(KNOWN)/training-facts.jsonl --data $(SAMPLE) --db $(DEMO_DB) --check

# The earlier demo: a tiny RANDOM checkpoint, two seeds and their comparison.
demo-random: build
	$(MLAMA) make-checkpoint --preset tiny --seed 1 --out $(TINY)
	$(MLAMA) run --model $(TINY) --data $(SAMPLE) --styles word,entity --name $(DEMO_A) --db $(DEMO_DB)
	$(MLAMA) report --run $(DEMO_A) --db $(DEMO_DB) --format html --out results/report.html
	$(MLAMA) make-checkpoint --preset tiny --seed 2 --out $(TINY)-seed2
	$(MLAMA) run --model $(TINY)-seed2 --data $(SAMPLE) --styles word,entity --name $(DEMO_B) --db $(DEMO_DB) > /dev/null
	$(MLAMA) compare $(DEMO_A) $(DEMO_B) --db $(DEMO_DB) --fail-on-drop 100
	@echo "The checkpoint has RANDOM weights: these numbers demonstrate the harness, not a model's knowledge."
	@echo "Stored in $(DEMO_DB) (runs $(DEMO_A), $(DEMO_B)): mlama report shows the latest, mlama runs lists them."

# Rebuilds the committed known-answer checkpoint from the sample, deterministically (seeded, one torch thread).
# Debian's python3-torch links the reference BLAS (about 10x slower); Debian's OpenBLAS, serial build, is used for
# this process only through LD_LIBRARY_PATH, so every rebuild runs the same kernels.
OPENBLAS := /usr/lib/x86_64-linux-gnu/openblas-serial
# Debian's serial OpenBLAS, installed when missing and possible (as root), used through LD_LIBRARY_PATH only.
openblas:
	@[ -e $(OPENBLAS)/libblas.so.3 ] || { command -v apt-get > /dev/null && [ "$$(id -u)" = 0 ] && { apt-get install -y -qq libopenblas0-serial > /dev/null 2>&1 || { apt-get update -qq > /dev/null && apt-get install -y -qq libopenblas0-serial > /dev/null; }; }; } || { echo "error: Debian's libopenblas0-serial is needed (apt-get install libopenblas0-serial, as root)"; exit 1; }

known-answer: python-env openblas
	LD_LIBRARY_PATH=$(OPENBLAS) nice -n 10 $(PYTHON) tools/known_answer.py --data $(SAMPLE) --out $(KNOWN)

# The regression gate on checkpoints trained here (docs/GATE.md): the known-answer checkpoint as baseline, a clean
# retrain with another seed and a retrain with Japanese facts taught wrong, written once under checkpoints/gate-demo
# (about 90 s of CPU each), gated on the sample of examples/ci/gate.json; runs go to a new file under results/.
# Last line: gate: planted=ja caught=yes false_alarms=0/<cells> clean_retrain=pass inconclusive_at_n=<n> fwer=<x> ...
GATE_CK := checkpoints/gate-demo
GATE_TRAIN = LD_LIBRARY_PATH=$(OPENBLAS) nice -n 10 $(PYTHON) tools/known_answer.py --data $(SAMPLE) --seed 18 --split-seed 17
$(GATE_CK)/clean/mlama-checkpoint.json: | python-env openblas
	$(GATE_TRAIN) --out $(GATE_CK)/clean --work $(GATE_CK)/clean-build
$(GATE_CK)/planted/mlama-checkpoint.json: | python-env openblas
	$(GATE_TRAIN) --corrupt ja --out $(GATE_CK)/planted --work $(GATE_CK)/planted-build
gate-demo: build $(GATE_CK)/clean/mlama-checkpoint.json $(GATE_CK)/planted/mlama-checkpoint.json
	@mkdir -p results
	$(TSX) tools/gate-demo.ts --baseline $(KNOWN) --clean $(GATE_CK)/clean --planted $(GATE_CK)/planted --planted-language ja \
		--data $(SAMPLE) --gate examples/ci/gate.json --small 5 --db results/gate-demo-$(DEMO_TAG).sqlite

# The protocol presets' effects on the known-answer checkpoint, choice by choice (docs/PROTOCOLS.md's tables), then
# the public scripts themselves against the presets (tools/protocols/check.ts): the mLUKE authors' evaluate.py
# (studio-ousia/luke add_mlama, from LUKE_GIT) on the known-answer model retrained here with its transformers
# directory (about 65 s once; both sides read that one, so the check holds on any CPU), and mLAMA's original
# scripts (norakassner/mlama, from MLAMA_ORIGINAL_SRC) on a small random BERT. Their code is extracted under
# checkpoints/protocols at run time, never committed. Ends with the `protocols:` line.
PROTO := checkpoints/protocols
LUKE_GIT ?= /work/.mirror/studio-ousia+luke/repo
$(PROTO)/known-answer/mlama-checkpoint.json: | python-env openblas
	LD_LIBRARY_PATH=$(OPENBLAS) nice -n 10 $(PYTHON) tools/known_answer.py --data $(SAMPLE) --out $(PROTO)/known-answer --work $(PROTO)/known-answer-hf
protocols: build protocols-env $(PROTO)/known-answer/mlama-checkpoint.json
	$(TSX) tools/protocol-effects.ts $(SAMPLE) $(KNOWN)
	LUKE_GIT=$(LUKE_GIT) $(TSX) tools/protocols/check.ts --model $(PROTO)/known-answer --hf $(PROTO)/known-answer-hf --data $(SAMPLE) --work $(PROTO)/authors

# The original scripts' Python packages (tools/requirements-protocols.txt, pinned, --no-deps) into .venv, on their
# own stamp beside python-env's.
$(VENV)/.protocols-installed: tools/requirements-protocols.txt | $(VENV)/.installed
	$(PYTHON) -m pip install -q --disable-pip-version-check --no-deps -r tools/requirements-protocols.txt
	$(PYTHON) -c 'import pytorch_pretrained_bert, boto3, termcolor, joblib, marisa_trie, ujson'
	touch $@

protocols-env: $(VENV)/.protocols-installed

# mLAMA's original ranked evaluation (norakassner/mlama, read from MLAMA_ORIGINAL_SRC, extracted at run time under
# checkpoints/protocols/mlama) against `mlama run --protocol mlama` on a small random BERT, per triple; last line
# `mlama top1_equal=<n>/<m>` (docs/PROTOCOLS.md, "Running mLAMA's original scripts here").
protocols-mlama: build protocols-env
	$(TSX) tools/protocols/mlama-original.ts --data $(SAMPLE) --work checkpoints/protocols/mlama

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

# The peer benchmark (issue 20): a RANDOM mLUKE-base-sized LukeForMaskedLM in transformers' layout (2.2 GB, outside
# git), its export by tools/export_mluke.py (marked random in the manifest), and int8 copies of its graphs (make quantize).
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

$(PEER)/mlama-checkpoint.json: $(PEER_HF)/config.json tools/export_mluke.py
	$(PYTHON) tools/export_mluke.py $(PEER_HF) $(PEER)
	$(PYTHON) -c 'import json, sys; p = sys.argv[1]; m = json.load(open(p)); m["random_weights"] = True; json.dump(m, open(p, "w"), indent=2)' $@

# The quantiser rewrites the manifest last: the graph is touched after it, so that it stays newer than its prerequisite.
# An int8 graph made before the manifest recorded it is remade: the script is a prerequisite.
$(PEER)/model.int8.onnx: $(PEER)/mlama-checkpoint.json tools/quantize_int8.py | python-env
	$(PYTHON) tools/quantize_int8.py $(PEER)
	touch $@

bench-peer: build peer-env $(PEER)/model.int8.onnx
	$(MLAMA) bench peer --model $(PEER) --peer-model $(PEER_HF) --python $(PYTHON),$(VENV_PEER)/bin/python --data $(DATA) --precisions float32,int8 --languages en,ja,ar --per-language 30 --rounds 5 --cost-languages en,ja,ar

# int8 copies of a checkpoint's scoring graphs (onnxruntime's dynamic quantisation), recorded in its manifest for
# `mlama run --precision int8`: make quantize CHECKPOINT=dir. Re-running replaces them.
.PHONY: quantize int8-check
quantize: python-env
	@[ -n "$(CHECKPOINT)" ] || { echo "error: make quantize needs CHECKPOINT=<checkpoint directory>"; exit 2; }
	$(PYTHON) tools/quantize_int8.py $(CHECKPOINT)

# int8 against float32 on the known-answer checkpoint (a quantised copy under checkpoints/), both styles on the sample;
# the runs are added to $(INT8_DB) under new names. The last line: int8: p1_float32= p1_int8= p1_diff= top1_agreement=.
INT8_CK := checkpoints/known-answer-int8
INT8_DB ?= results/int8-check.sqlite
INT8_TAG := int8-check-$(DEMO_TAG)
int8-check: build python-env
	rm -rf $(INT8_CK); mkdir -p checkpoints; cp -r $(KNOWN) $(INT8_CK)
	$(PYTHON) tools/quantize_int8.py $(INT8_CK)
	$(MLAMA) run --model $(INT8_CK) --data $(SAMPLE) --styles word,entity --name $(INT8_TAG)-float32 --db $(INT8_DB) > /dev/null
	$(MLAMA) run --model $(INT8_CK) --data $(SAMPLE) --styles word,entity --precision int8 --name $(INT8_TAG)-int8 --db $(INT8_DB)
	$(TSX) tools/int8-check.ts --db $(INT8_DB) --float32 $(INT8_TAG)-float32 --int8 $(INT8_TAG)-int8

tokenizer: install
	$(TSX) tools/train-tokenizer.ts $(DATA) datasets/tokenizer/unigram-8k.tokenizer.json

# The WordPiece tokenizer of generated BERT checkpoints, laid out as multilingual BERT's (needs make python-env).
tokenizer-wordpiece: install python-env
	$(TSX) tools/train-wordpiece.ts $(DATA) datasets/tokenizer/wordpiece-12k.tokenizer.json

sample: install
	$(TSX) tools/make-sample.ts $(DATA) datasets/mlama-sample

clean:
	rm -rf dist checkpoints results/*.sqlite* results/report.html
