# hzsr: `make run` (demo daemon on a local spool) and `make test` (all tests).
# Both install the Debian packages they need when they are missing.
# `make train` trains the fusion network (Training/, PyTorch), with packages of its own.

SWIFT        ?= swift
DEBIAN_DEPS  := libjpeg62-turbo-dev libinotifytools0-dev libsystemd-dev libdnnl-dev pkg-config systemd libjpeg-turbo-progs librsvg2-bin fonts-dejavu-core python3-numpy prometheus prometheus-node-exporter slurm-wlm munge
TRAIN_DEPS   := python3-torch python3-numpy
REAL_DEPS    := python3-pil python3-numpy
PYTHON       := /usr/bin/python3
RELEASE_BIN  := .build/release
DEMO         := demo
PREFIX       ?= /usr/local

.PHONY: run test lint format real deps deb deb-test fuzz chaos sanitize train-deps build release photos journald bench eval gate flow tune train train-smoke install clean

## Runs hzsrd on demo/ with Config/hzsrd.yaml and feeds it pairs made from a real photo.
## RUN_FOR=<seconds> stops it by itself; otherwise Ctrl-C stops it.
run: deps release photos journald
	Scripts/demo "$(RELEASE_BIN)" "$(DEMO)" "$(RUN_FOR)"

## Formatting and lint rules (.swift-format), then unit tests and integration tests against the
## real daemon and a real journald. (All tests are XCTest; Swift Testing is off so the run ends
## on XCTest's count.)
test: deps journald lint
	$(SWIFT) build
	$(SWIFT) test --disable-swift-testing

## 10 minutes of the mutation fuzzer over the JPEG walk and decoder, the EXIF reader and the
## config reader (make test runs 60 s of it); HZSR_FUZZ_SEED=N repeats a run.
fuzz: deps
	HZSR_FUZZ_SECONDS=$${HZSR_FUZZ_SECONDS:-600} $(SWIFT) test --disable-swift-testing --filter FuzzTests

## The reliability suite against the release daemon, at full scale: a kill storm (300 pairs, 20
## SIGKILLs), 20 inotify overflows in bursts of new folders, bad input of every kind, a full disk,
## a lost spool, a poison pair, the memory budget; one line per check (make test runs it small).
CHAOS_CHECKS := ChaosTests|DaemonTests.testLinksFIFOs|DaemonTests.testAFullOutputDisk|DaemonTests.testBadInput|DaemonTests.testFramesThatCannotBeDecoded|DaemonTests.testAPairTheDaemonKeepsDying|DaemonTests.testPairsWaitInTheSpool|FolderProblemTests.testASpoolRemoved
chaos: deps journald release
	$(SWIFT) build --build-tests
	HZSR_CHAOS=full HZSR_BIN_DIR=$(CURDIR)/$(RELEASE_BIN) $(SWIFT) test --disable-swift-testing --skip-build \
	  --filter '$(CHAOS_CHECKS)' >.build/chaos.log 2>&1; status=$$?; \
	  grep -E '^chaos:|error:' .build/chaos.log; \
	  echo "$$(grep -c ': ok$$' .build/chaos.log) of $$(grep -c '^chaos:' .build/chaos.log) checks held (log: .build/chaos.log)"; exit $$status

## The integration tests (the real daemon and commands) built with AddressSanitizer, or with
## SANITIZER=thread ThreadSanitizer, in a build folder of their own.
SANITIZER ?= address
sanitize: deps journald
	$(SWIFT) build --build-tests --sanitize=$(SANITIZER) --scratch-path .build/sanitize-$(SANITIZER)
	HZSR_SANITIZED=$(if $(filter thread,$(SANITIZER)),10,3) HZSR_BIN_DIR=$(CURDIR)/.build/sanitize-$(SANITIZER)/debug LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/lsan.supp:print_suppressions=0 \
	  $(SWIFT) test --disable-swift-testing \
	  --sanitize=$(SANITIZER) --scratch-path .build/sanitize-$(SANITIZER) --filter IntegrationTests

## Fails on any file `swift format` would change or any lint rule it breaks; `make format` fixes
## what can be fixed.
lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

format:
	$(SWIFT) format format --in-place --recursive Sources Tests Package.swift

# Installs those of the Debian packages $(1) that are not installed yet.
install-missing = \
	missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi

## Installs the Debian packages that are not installed yet.
deps:
	@$(call install-missing,$(DEBIAN_DEPS))

## The training packages (PyTorch for the system python3), only for `make train*`.
train-deps:
	@$(call install-missing,$(TRAIN_DEPS))

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release

photos:
	Scripts/fetch-photos >/dev/null

## Starts systemd-journald as a plain process where systemd is not PID 1 (containers, CI).
journald:
	Scripts/start-journald

## Per-stage timings against the JPEG floor and spool-to-published latency of 12 MP pairs.
bench: deps release photos
	$(RELEASE_BIN)/hzsr bench --runs 5 --daemon $(RELEASE_BIN)/hzsrd --json Results/bench.json

EVAL_SET := .cache/sets/eval
CLASSIC_SET := .cache/sets/eval-classic

## The evaluation set (20 captures from the evaluation photos) and its scores, in Results/eval;
## the same photos through the first, kinder simulator (--rig classic) in Results/eval-classic.
eval: deps release photos
	rm -rf $(EVAL_SET) && $(RELEASE_BIN)/hzsr simulate --set 20 --split eval --out $(EVAL_SET) >/dev/null
	$(RELEASE_BIN)/hzsr eval $(EVAL_SET) --out Results/eval
	rm -rf $(CLASSIC_SET) && $(RELEASE_BIN)/hzsr simulate --set 20 --split eval --rig classic --out $(CLASSIC_SET) >/dev/null
	$(RELEASE_BIN)/hzsr eval $(CLASSIC_SET) --out Results/eval-classic

TUNE_SET := .cache/sets/tune-train
# Each constant chosen on data, swept on captures of the training photos (hzsr tune).
TUNE_SWEEPS := flow.stride:3,4,5 flow.gauss-newton-steps:1,2,4 flow.refinement-alpha:300,1000,3000 \
	occlusion.scale:0.5,0.75,1 blend.noise-floor:0.2,0.25,0.3,0.35 defocus.sharp-above:1,1.1,1.2,1.25,1.3 \
	defocus.sharp-quantile:0.5,0.75,0.9 defocus-parallax.gamma:16,64,144,400 defocus-parallax.flat-region:0,0.1,0.25,1 \
	uncertainty.limit:2,4.5,9 rejection.tolerance:0.002,0.003,0.005 classical.band-split:1,1.5,2

## The sweeps behind every constant chosen on data, on 20 captures of the training photos, in
## Results/tuning.md.
tune: deps release photos
	[ -f $(TUNE_SET)/set.json ] || { rm -rf $(TUNE_SET) && $(RELEASE_BIN)/hzsr simulate --set 20 --split train --out $(TUNE_SET) >/dev/null; }
	{ echo "# Tuning sweeps on the training split"; echo; \
	  for sweep in $(TUNE_SWEEPS); do $(RELEASE_BIN)/hzsr tune $(TUNE_SET) --param $${sweep%%:*} --values $${sweep#*:} || exit 1; echo; done; \
	} > Results/tuning.md
	cat Results/tuning.md

REAL_SET := .cache/sets/real

## Real two-view pairs from Debian's opencv-doc (Data/real-pairs.tsv) made into W/T captures at
## r = 2 and scored by the reduced-resolution protocol: the table in Results/real/, a contact
## sheet per capture in .cache/sets/real/eval-real/.
real: deps release
	@$(call install-missing,$(REAL_DEPS))
	rm -rf $(REAL_SET) && $(PYTHON) Scripts/make-real-set $(REAL_SET)
	$(RELEASE_BIN)/hzsr eval-real $(REAL_SET) --config Data/real-pairs.yaml
	mkdir -p Results/real && cp $(REAL_SET)/eval-real/report.json $(REAL_SET)/eval-real/report.md Results/real/

NIGHT_PHOTOS := eval-night-bridge.jpg,eval-night-indoor-dog.jpg

## The gate down two exposure ladders (bright day to ISO 6400 night): one over the evaluation
## photos, one over the real night photographs only; in Results/gate.md.
gate: deps release photos
	rm -rf .cache/sets/ladder .cache/sets/ladder-night
	$(RELEASE_BIN)/hzsr simulate --set 16 --split eval --exposure ladder --out .cache/sets/ladder >/dev/null
	$(RELEASE_BIN)/hzsr simulate --set 8 --split eval --exposure ladder --only $(NIGHT_PHOTOS) --out .cache/sets/ladder-night >/dev/null
	{ echo "# Gate decisions"; echo; echo "## Exposure ladder over the evaluation photos"; echo; \
	  $(RELEASE_BIN)/hzsr gate .cache/sets/ladder; echo; echo "## Exposure ladder over real night photographs"; echo; \
	  $(RELEASE_BIN)/hzsr gate .cache/sets/ladder-night; } > Results/gate.md
	cat Results/gate.md

## Alignment on the evaluation set, and our dense flow beside OpenCV's DIS (MEDIUM) on the
## same inputs (installs Debian's python3-opencv when missing). Run `make eval` first.
flow: deps release
	$(RELEASE_BIN)/hzsr flow $(EVAL_SET) > Results/flow.md
	@$(call install-missing,python3-opencv python3-numpy)
	/usr/bin/python3 Scripts/compare-flow.py $(EVAL_SET)/flow >> Results/flow.md
	cat Results/flow.md

TRAIN_SET   := .cache/sets/train
# Captures of the training photos with seeds of their own: the training set's first 20 are
# the tuning set's (both start at seed 1), so validating there would score the training data.
VALIDATE_SET := .cache/sets/train-validate
SMOKE_SET   := .cache/sets/train-smoke
TRAIN_OUT   := .cache/training/full
SMOKE_OUT   := .cache/training/smoke
MODEL       := Sources/HZFusionNet/Resources/fusion-unet.safetensors
# The tethered retrain's settings (Results/training-tethered): about an hour on a shared 2-core Xeon,
# one core. The shipped model (Results/training) had 30 000 steps on captures of --rig classic.
TRAIN_ARGS  ?= --steps 20000 --batch 8 --crop 256 --lr 5e-4 --warmup 500 --seed 1 --threads 1 --validate-every 5000

# Makes capture set $(1), $(2) captures of the $(3) photos (more `hzsr simulate` options in $(4)),
# unless it is complete, then its fusion inputs unless they are all there.
ensure-set = \
	[ -f $(1)/set.json ] || { rm -rf $(1) && $(RELEASE_BIN)/hzsr simulate --set $(2) --split $(3) $(4) --out $(1) >/dev/null; }; \
	[ "$$(ls $(1)/*/fusion_inputs.npy 2>/dev/null | wc -l)" = $(2) ] || $(RELEASE_BIN)/hzsr fusion-inputs $(1)

## Trains the fusion network on the training set (made if missing), validating on other captures
## of the training photos (the evaluation set stays unseen), resuming from $(TRAIN_OUT) if stopped; ships it as $(MODEL)
## with the activation ranges its 8-bit runs need (measured on the training set), curves in Results/training/.
train: train-deps release photos
	@$(call ensure-set,$(TRAIN_SET),56,train)
	@$(call ensure-set,$(VALIDATE_SET),12,train,--seed 2001)
	$(PYTHON) Training/train.py --sets $(TRAIN_SET) --validate $(VALIDATE_SET) --out $(TRAIN_OUT) $(TRAIN_ARGS)
	$(PYTHON) Training/export.py $(TRAIN_OUT)/checkpoint.pt $(MODEL)
	$(PYTHON) Training/calibrate.py $(MODEL) $(TRAIN_SET)
	mkdir -p Results/training && cp $(TRAIN_OUT)/log.csv $(TRAIN_OUT)/validation.csv $(TRAIN_OUT)/curves.svg Results/training/

## A minute's training on 4 small captures, into $(SMOKE_OUT): fails unless the loss went down.
train-smoke: train-deps release photos
	@$(call ensure-set,$(SMOKE_SET),4,train,--max-width 512)
	cd Training && $(PYTHON) -m unittest -q test_training
	rm -rf $(SMOKE_OUT)
	$(PYTHON) Training/train.py --sets $(SMOKE_SET) --out $(SMOKE_OUT) --steps 200 --batch 8 --crop 128 --warmup 50 --log-every 25 --require-decrease
	$(PYTHON) Training/export.py $(SMOKE_OUT)/checkpoint.pt $(SMOKE_OUT)/fusion-unet.safetensors
	$(PYTHON) Training/calibrate.py $(SMOKE_OUT)/fusion-unet.safetensors $(SMOKE_SET)

install: release
	install -D -m 755 $(RELEASE_BIN)/hzsrd $(DESTDIR)$(PREFIX)/bin/hzsrd
	install -D -m 755 $(RELEASE_BIN)/hzsr $(DESTDIR)$(PREFIX)/bin/hzsr
	for unit in hzsrd.service hzsrd@.service; do \
	  mkdir -p $(DESTDIR)/etc/systemd/system && \
	  sed -e 's|/usr/local/bin/|$(PREFIX)/bin/|g' -e 's|/usr/local/share/|$(PREFIX)/share/|g' Systemd/$$unit > $(DESTDIR)/etc/systemd/system/$$unit; done
	# The config is the admin's once it is there: a reinstall keeps it.
	[ -e $(DESTDIR)/etc/hzsr/hzsrd.yaml ] || install -D -m 644 Config/hzsrd.yaml $(DESTDIR)/etc/hzsr/hzsrd.yaml
	install -D -m 644 README.md $(DESTDIR)$(PREFIX)/share/doc/hzsr/README.md
	install -D -m 644 Deploy/prometheus/hzsrd.rules.yml $(DESTDIR)$(PREFIX)/share/hzsr/prometheus/hzsrd.rules.yml

## The Debian package, .build/hzsr_<version>_<arch>.deb (debian/, with debhelper): both programs
## with the Swift runtime linked in, the units, the config as a conffile, the hzsr user, man
## pages and shell completions.
deb: deps
	@$(call install-missing,debhelper)
	rm -f .build/hzsr_*.deb
	DEB_RULES_REQUIRES_ROOT=no debian/rules clean && DEB_RULES_REQUIRES_ROOT=no debian/rules binary
	ls -l .build/hzsr_*.deb

## Installs the package on this machine, checks it, removes and purges it (CI; changes the system).
deb-test: deb
	Scripts/deb-test .build/hzsr_*.deb

clean:
	rm -rf .build $(DEMO)
