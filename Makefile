# relaymail: a plain GNU Makefile.
#
#   make            the libraries (build/lib) and programs (build/bin)
#   make deps       install what the build and the tests need (Debian 12)
#   make demo       send a test message (see README.md)
#   make check      run every test; ends with "N passed, N failed"
#   make install    PREFIX=/usr/local DESTDIR=
#   make uninstall

VERSION   := 0.1.0
SOVERSION := 0
PREFIX    ?= /usr/local
LIBDIR    ?= $(PREFIX)/lib
INCDIR    ?= $(PREFIX)/include
BINDIR    ?= $(PREFIX)/bin
PCDIR     ?= $(LIBDIR)/pkgconfig
MANDIR    ?= $(PREFIX)/share/man
CMAKEDIR  ?= $(LIBDIR)/cmake/relaymail
PYTHON    ?= /usr/bin/python3

CC        ?= cc
OPT       ?= -O2 -g
CFLAGS    ?= $(OPT)
WARN      := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
             -Wmissing-prototypes -Wformat=2
CPPFLAGS  += -D_GNU_SOURCE -Iinclude
PC_DEPS   := libcurl libcjson libidn2
DEPS_FOUND := $(shell pkg-config --exists $(PC_DEPS) && echo yes)
DEP_CFLAGS := $(shell pkg-config --cflags $(PC_DEPS) 2>/dev/null)
DEP_LIBS   := $(shell pkg-config --libs $(PC_DEPS) 2>/dev/null) \
              -lmbedtls -lmbedx509 -lmbedcrypto
# DKIM: Ed25519 signatures (RFC 8463) come from libsodium when present.
PC_SODIUM :=
ifeq ($(shell pkg-config --exists libsodium && echo yes),yes)
PC_SODIUM := libsodium
CPPFLAGS  += -DRM_HAVE_SODIUM
DEP_CFLAGS += $(shell pkg-config --cflags libsodium)
DEP_LIBS  += $(shell pkg-config --libs libsodium)
endif
SAN       ?=
ALL_CFLAGS = $(WARN) $(CFLAGS) $(SAN) $(DEP_CFLAGS)

B         := build
LIB_SRC   := $(sort $(wildcard lib/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(B)/obj/%.o)
LIB_PIC   := $(LIB_SRC:%.c=$(B)/pic/%.o)
SO_NAME   := librelaymail.so.$(SOVERSION)
SO_FILE   := $(B)/lib/librelaymail.so.$(VERSION)
A_FILE    := $(B)/lib/librelaymail.a

PROG_SRC  := $(sort $(wildcard examples/relaymail-*.c))
PROGS     := $(PROG_SRC:examples/%.c=$(B)/bin/%)
SAMPLE_SRC := $(sort $(wildcard examples/sample-*.c))
SAMPLES   := $(SAMPLE_SRC:examples/%.c=$(B)/bin/%)

# Man pages: docs/api/rm_*.md (section 3) and docs/man/NAME.8.md (the
# programs), turned into troff by scripts/md2man.py.
MAN3      := $(patsubst docs/api/%.md,$(B)/man/man3/%.3,\
             $(sort $(wildcard docs/api/rm_*.md)))
MAN8      := $(patsubst docs/man/%.8.md,$(B)/man/man8/%.8,\
             $(sort $(wildcard docs/man/*.8.md)))
CMAKE_FILES := relaymail-config.cmake relaymail-config-version.cmake

UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TEST_SUPPORT := $(sort $(wildcard tests/support/*.c))

.PHONY: all deps demo check unit install uninstall clean bench headertest \
        man need-deps

all: $(SO_FILE) $(B)/lib/librelaymail.so $(A_FILE) $(PROGS) $(SAMPLES) \
     $(B)/relaymail.pc

# Without the libraries, one clear line instead of a compiler error.
need-deps:
ifneq ($(DEPS_FOUND),yes)
	@echo "relaymail: pkg-config cannot find $(PC_DEPS):" \
	  "run 'make deps' first (Debian 12)" >&2
	@exit 1
endif

$(B)/obj/%.o: %.c include/relaymail.h $(wildcard lib/*.h) | need-deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -fvisibility=hidden -c $< -o $@

$(B)/pic/%.o: %.c include/relaymail.h $(wildcard lib/*.h) | need-deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

$(SO_FILE): $(LIB_PIC) lib/exports.map
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,$(SO_NAME) \
	  -Wl,--version-script=lib/exports.map $(SAN) \
	  -o $@ $(LIB_PIC) $(DEP_LIBS)

$(B)/lib/librelaymail.so: $(SO_FILE)
	ln -sf librelaymail.so.$(VERSION) $(B)/lib/$(SO_NAME)
	ln -sf $(SO_NAME) $@

$(A_FILE): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# Programs link the static library so they run from the build tree.
$(B)/bin/%: examples/%.c $(A_FILE) include/relaymail.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(A_FILE) $(DEP_LIBS) -lpthread

$(B)/relaymail.pc: pkgconfig/relaymail.pc.in Makefile
	@mkdir -p $(dir $@)
	$(PC_SED) $< > $@

# Unit tests see the internal header and link the static library, so
# they can reach internal functions as well as the public API.
$(B)/tests/%: tests/unit/%.c $(TEST_SUPPORT) $(A_FILE) $(wildcard tests/support/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Ilib -Itests/support $(ALL_CFLAGS) -o $@ $< \
	  $(TEST_SUPPORT) $(A_FILE) $(DEP_LIBS) -lcmocka -lpthread

unit: $(UNIT_BIN)

deps:
	scripts/deps.sh

# Built by a second make, which reads pkg-config again: in `make deps
# demo` the first one read it before deps had installed anything.
demo:
	$(MAKE) all
	scripts/demo.sh

check: all unit
	tests/run.sh

# Benchmarks against the tools people use instead; writes
# docs/benchmarks.md (BENCH_QUICK=1 for a short run).
bench: all
	bench/run.sh

headertest:
	@mkdir -p $(B)
	printf '#include <relaymail.h>\nint main(void){return 0;}\n' \
	  > $(B)/headertest.c
	$(CC) -std=c99 -Wall -Wextra -pedantic -Werror -Iinclude \
	  -o $(B)/headertest $(B)/headertest.c

# ---------------------------------------------------------------------
# Man pages and the CMake package file

man: $(MAN3) $(MAN8)

$(B)/man/man3/%.3: docs/api/%.md scripts/md2man.py
	@mkdir -p $(dir $@)
	$(PYTHON) scripts/md2man.py $< $(VERSION) > $@

$(B)/man/man8/%.8: docs/man/%.8.md scripts/md2man.py
	@mkdir -p $(dir $@)
	$(PYTHON) scripts/md2man.py $< $(VERSION) > $@

# The files that hold install folders are written by "make install"
# itself, from the PREFIX it is given. The CMake config file finds the
# library from its own place (LIBDIR/cmake/relaymail), so it needs only
# INCDIR relative to LIBDIR.
PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCDIR@|$(INCDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@SODIUM@|$(PC_SODIUM)|'
CMAKE_SED = sed -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|@SOVERSION@|$(SOVERSION)|g' \
	    -e 's|@MAJOR@|$(word 1,$(subst ., ,$(VERSION)))|g' \
	    -e 's|@MINOR@|$(word 2,$(subst ., ,$(VERSION)))|g' \
	    -e "s|@INC_FROM_LIB@|$$(realpath -m --relative-to=$(LIBDIR) \
	        $(INCDIR))|g" \
	    -e "s|@SIZEOF_VOID_P@|$$(echo __SIZEOF_POINTER__ | \
	        $(CC) -E -P - | tail -n 1)|g"

install: all man
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) \
	  $(DESTDIR)$(BINDIR) $(DESTDIR)$(PCDIR) $(DESTDIR)$(CMAKEDIR) \
	  $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man8
	$(foreach f,$(CMAKE_FILES),$(CMAKE_SED) cmake/$(f).in \
	  > $(DESTDIR)$(CMAKEDIR)/$(f) &&) true
	$(if $(MAN3),install -m 644 $(MAN3) $(DESTDIR)$(MANDIR)/man3/)
	$(if $(MAN8),install -m 644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/)
	install -m 644 include/relaymail.h $(DESTDIR)$(INCDIR)/
	install -m 755 $(SO_FILE) $(DESTDIR)$(LIBDIR)/
	ln -sf librelaymail.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SO_NAME)
	ln -sf $(SO_NAME) $(DESTDIR)$(LIBDIR)/librelaymail.so
	install -m 644 $(A_FILE) $(DESTDIR)$(LIBDIR)/
	$(PC_SED) pkgconfig/relaymail.pc.in > $(DESTDIR)$(PCDIR)/relaymail.pc
	install -m 755 $(PROGS) $(DESTDIR)$(BINDIR)/
	@# A real install (no DESTDIR) by root refreshes the loader's cache,
	@# so programs find librelaymail.so.$(SOVERSION) at once.
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
	  ldconfig 2>/dev/null || true; fi

uninstall:
	rm -f $(DESTDIR)$(INCDIR)/relaymail.h \
	  $(DESTDIR)$(LIBDIR)/librelaymail.so.$(VERSION) \
	  $(DESTDIR)$(LIBDIR)/$(SO_NAME) $(DESTDIR)$(LIBDIR)/librelaymail.so \
	  $(DESTDIR)$(LIBDIR)/librelaymail.a $(DESTDIR)$(PCDIR)/relaymail.pc \
	  $(PROGS:$(B)/bin/%=$(DESTDIR)$(BINDIR)/%) \
	  $(CMAKE_FILES:%=$(DESTDIR)$(CMAKEDIR)/%) \
	  $(MAN3:$(B)/man/%=$(DESTDIR)$(MANDIR)/%) \
	  $(MAN8:$(B)/man/%=$(DESTDIR)$(MANDIR)/%)
	@# The folders install made go too, each only when nothing else is
	@# left in it; the loader's cache forgets the library.
	@for d in $(CMAKEDIR) $(LIBDIR)/cmake $(PCDIR) $(MANDIR)/man3 \
	  $(MANDIR)/man8; do rmdir "$(DESTDIR)$$d" 2>/dev/null || true; done
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
	  ldconfig 2>/dev/null || true; fi

clean:
	rm -rf $(B)

# ----------------------------------------------------------------------
# Hardening: fuzzing, sanitizers, valgrind (docs/security.md)
#
#   make fuzz            libFuzzer targets of tests/fuzz/ (clang) in
#                        build-fuzz/, each linking the library built with
#                        the same sanitizers
#   make fuzz-ci         each target for FUZZ_TIME seconds (default 20),
#                        seeds and regression inputs first; a crash fails
#   make check-asan      the unit tests built in build-asan/ with
#                        AddressSanitizer and UBSan, and run there
#   make check-valgrind  the programs and some unit tests under valgrind
# ----------------------------------------------------------------------
FUZZ_B       := build-fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_NAMES   := $(sort $(patsubst tests/fuzz/fuzz_%.c,%,\
                  $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_B)/fuzz_%)
FUZZ_TIME    ?= 20
ASAN_B       := build-asan
ASAN_SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer

.PHONY: fuzz fuzz-lib fuzz-ci check-asan check-valgrind

fuzz-lib:
	$(MAKE) B=$(FUZZ_B) CC=clang OPT="-O1 -g" \
	  SAN="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" \
	  $(FUZZ_B)/lib/librelaymail.a

fuzz: fuzz-lib
	$(MAKE) $(FUZZ_BINS)

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) \
                  $(FUZZ_B)/lib/librelaymail.a
	clang $(CPPFLAGS) -Ilib $(WARN) -O1 -g -fsanitize=fuzzer $(FUZZ_SAN) \
	  $(DEP_CFLAGS) -o $@ $< $(FUZZ_B)/lib/librelaymail.a $(DEP_LIBS) \
	  -lpthread

fuzz-ci: fuzz
	FUZZ_TIME=$(FUZZ_TIME) tests/fuzz/run.sh $(FUZZ_NAMES)

check-asan:
	$(MAKE) B=$(ASAN_B) OPT="-O1 -g" SAN="$(ASAN_SAN)" unit
	tests/hardening/run_asan.sh $(ASAN_B)

check-valgrind: all unit
	tests/hardening/run_valgrind.sh
