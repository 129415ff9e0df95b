# tuoyu — the two commands of the README: `make run` and `make test`.
# Both first install what the machine lacks (Debian packages) when run as
# root, or print the apt-get line to run.

GO        ?= go
BIN       := bin/tuoyu
# Fuzz budget per fuzz target in `make test`, in executions: a time bound
# (e.g. 10s) sometimes ended a run that was still minimising a new input
# with "context deadline exceeded", failing CI for nothing. Raise it for a
# longer hunt (or pass FUZZTIME=5m for a timed one by hand).
FUZZTIME  ?= 50000x
# Two packages at a time fits the 2-core machines CI runs on; each
# package's tests get their own database, so more would only queue.
TEST_P    ?= 2
TEST_TIMEOUT ?= 15m

# Debian packages and, for machines without dpkg, a command each provides.
#   postgresql          server binaries for the embedded default database
#   fonts-lxgw-wenkai   the CJK TrueType font of the certificates
#   poppler-utils, qpdf, zbar-tools  certificate PDF tests (render, check, read the QR)
#   chromium            browser tests in e2e/
#   wrk                 bench/http.sh
DEB_PACKAGES := postgresql:pg_ctl fonts-lxgw-wenkai:/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf \
	poppler-utils:pdftoppm qpdf:qpdf zbar-tools:zbarimg chromium:chromium wrk:wrk

.PHONY: run test deps build vet unit fuzz bench bench-scale clean

run: deps build
	@echo
	@echo "tuoyu: $${TUOYU_BASE_URL:-http://localhost:8080} (data in $${TUOYU_DATA_DIR:-./var})"
	@echo "demo logins, password Tuoyu@2026:"
	@echo "  admin          系统管理员"
	@echo "  college1       院校 (武汉)        college2      院校 (宜昌)"
	@echo "  provider1      培训机构 (武汉)    provider2     培训机构 (宜昌)"
	@echo "  hr_reviewer1   人社审核员 (武汉)  hr_reviewer2  人社审核员 (宜昌)"
	@echo "  hr_approver1   人社审批员 (武汉)  hr_approver2  人社审批员 (武汉)"
	@echo "  regulator1     卫健监管员 (湖北省)  regulator2    卫健监管员 (武汉)"
	@echo "  institution1   托育机构 (禁入查询)"
	@echo "  worker1        学员"
	@echo
	./$(BIN) serve --demo

build:
	$(GO) build -o $(BIN) ./cmd/tuoyu

test: deps vet unit fuzz

vet:
	$(GO) vet ./...
	cd third_party/gofpdf && $(GO) vet .

unit:
	@if [ -n "$$TEST_DATABASE_URL" ]; then echo "test database: a fresh database per package on TEST_DATABASE_URL's server"; \
	else echo "test database: the embedded test cluster (set TEST_DATABASE_URL to use a server)"; fi
	$(GO) test -count=1 -p $(TEST_P) -timeout $(TEST_TIMEOUT) ./...
	cd third_party/gofpdf && $(GO) test -count=1 .

# One bounded run per fuzz target, found by grep so new ones join by
# themselves (go test -fuzz takes one package and one target at a time).
# Minimising a new input may take 60 s by default; 1 s keeps runs short.
# A run's chatter is shown only when it fails.
fuzz:
	@set -e; log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	targets=$$(grep -rE --include='*_test.go' --exclude-dir=.git --exclude-dir=var --exclude-dir=bin \
		-o '^func Fuzz[A-Za-z0-9_]*\(' . | sed -e 's/(.*//' -e 's/:func /:/' | sort -u); \
	for t in $$targets; do \
		dir=$$(dirname "$${t%%:*}"); name=$${t##*:}; \
		if $(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=1s "$$dir" >"$$log" 2>&1; then \
			echo "ok  	fuzz $$name $$dir ($(FUZZTIME))"; \
		else \
			cat "$$log"; echo "FAIL	fuzz $$name $$dir"; exit 1; \
		fi; \
	done

# Installs missing Debian packages when root, else prints what to install.
# Never fails for want of apt: the tests then say what is missing.
deps:
	@missing=""; \
	for entry in $(DEB_PACKAGES); do \
		pkg=$${entry%%:*}; probe=$${entry#*:}; \
		if dpkg-query -W -f='$${Status}' "$$pkg" 2>/dev/null | grep -q 'ok installed'; then continue; fi; \
		case "$$probe" in \
			/*) [ -e "$$probe" ] && continue ;; \
			*) command -v "$$probe" >/dev/null 2>&1 && continue ;; \
		esac; \
		if [ "$$pkg" = postgresql ] && ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then continue; fi; \
		missing="$$missing $$pkg"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "deps: installing$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
			|| echo "deps: apt-get failed; install by hand:$$missing"; \
	elif command -v apt-get >/dev/null 2>&1; then \
		echo "deps: missing Debian packages; run:"; \
		echo "  sudo apt-get install -y --no-install-recommends$$missing"; \
	else \
		echo "deps: missing (no apt-get here, install them another way):$$missing"; \
	fi

bench: build
	@for s in bench/*.sh; do [ -f "$$s" ] || continue; echo "== $$s"; bash "$$s" || exit 1; done

# The province-size world (issue 14) and every list measured on it; takes
# long (BENCH_WORKERS=1000000 by default), so it is not part of bench or test.
BENCH_WORKERS ?= 1000000
bench-scale: deps
	BENCH_WORKERS=$(BENCH_WORKERS) bash bench/scale/world.sh
	bash bench/load.sh

clean:
	rm -rf bin
