# hzsr: `make run` (demo daemon on a local spool) and `make test` (all tests).
# Both install the Debian packages they need when they are missing.

SWIFT        ?= swift
DEBIAN_DEPS  := libturbojpeg0-dev libinotifytools0-dev libsystemd-dev libdnnl-dev pkg-config systemd libjpeg-turbo-progs librsvg2-bin fonts-dejavu-core python3-numpy
RELEASE_BIN  := .build/release
DEMO         := demo
PREFIX       ?= /usr/local

.PHONY: run test deps build release photos journald bench eval gate flow install clean

## Runs hzsrd on demo/ with Config/hzsrd.yaml and feeds it pairs made from a real photo.
## RUN_FOR=<seconds> stops it by itself; otherwise Ctrl-C stops it.
run: deps release photos journald
	Scripts/demo "$(RELEASE_BIN)" "$(DEMO)" "$(RUN_FOR)"

## Unit tests and integration tests against the real daemon and a real journald.
## (All tests are XCTest; Swift Testing is off so the run ends on XCTest's count.)
test: deps journald
	$(SWIFT) build
	$(SWIFT) test --disable-swift-testing

## Installs the Debian packages that are not installed yet.
deps:
	@missing=$$(for p in $(DEBIAN_DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi

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

## The evaluation set (20 captures from the evaluation photos) and its scores, in Results/.
eval: deps release photos
	rm -rf $(EVAL_SET) && $(RELEASE_BIN)/hzsr simulate --set 20 --split eval --out $(EVAL_SET) >/dev/null
	$(RELEASE_BIN)/hzsr eval $(EVAL_SET) --out Results/eval

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
## same inputs (installs opencv-python-headless from PyPI when missing). Run `make eval` first.
flow: deps release
	$(RELEASE_BIN)/hzsr flow $(EVAL_SET) > Results/flow.md
	python3 -c 'import cv2' 2>/dev/null || python3 -m pip install -q opencv-python-headless
	python3 Scripts/compare-flow.py $(EVAL_SET)/flow >> Results/flow.md
	cat Results/flow.md

install: release
	install -D -m 755 $(RELEASE_BIN)/hzsrd $(DESTDIR)$(PREFIX)/bin/hzsrd
	install -D -m 755 $(RELEASE_BIN)/hzsr $(DESTDIR)$(PREFIX)/bin/hzsr
	install -D -m 644 Systemd/hzsrd.service $(DESTDIR)/etc/systemd/system/hzsrd.service
	install -D -m 644 Systemd/hzsrd@.service $(DESTDIR)/etc/systemd/system/hzsrd@.service
	install -D -m 644 Config/hzsrd.yaml $(DESTDIR)/etc/hzsr/hzsrd.yaml
	install -D -m 644 README.md $(DESTDIR)$(PREFIX)/share/doc/hzsr/README.md

clean:
	rm -rf .build $(DEMO)
