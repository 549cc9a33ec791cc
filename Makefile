# SPDX-License-Identifier: GPL-2.0-only
#
# Build, boot and test harness of the dma-buf project. See README.md.
#
#   make deps       install missing Debian packages (root, apt-get)
#   make run        build the guest kernel and initramfs, boot, run GUEST_CMD
#   make shell      the same guest, with an interactive shell
#   make kunit      every KUnit suite of the project, in a KUnit kernel (kunit.py)
#   make test       the guest selftests on every DMA path, and the KUnit
#                   suites in the guest kernel: one summary line
#   make stress     random operations of several processes on the debug guest;
#                   KCSAN=1: the racing selftests, then the same, on KCSAN
#   make fuzz       Debian's trinity as an unprivileged user in the debug
#                   guest, aimed at the project's device nodes
#   make check      make check-rebuild, make check-code, make check-patches
#   make check-code checkpatch --strict, kernel-doc -Wall, sparse + W=1,
#                   every exported symbol of the core in the API pages
#   make check-rebuild  a second build of either guest kernel makes nothing
#   make patches    the project as a patch series against the base tree
#   make check-patches  the series applies, checkpatch passes on each patch,
#                   every prefix builds, the result is make test's tree
#   make docs       the project's documentation as HTML (build/docs/html)
#   make coverage   gcov line coverage of the core under KUnit and selftests
#   make bench      the same benchmark on the base tree's dma-buf and ours,
#                   under QEMU -icount: one table (see harness/bench.sh)
#   make v4l2-anchor  record what the base tree's own kernel fails of
#                   v4l2-compliance (harness/v4l2-anchor.txt)
#   make clean      remove the project's objects from the build trees
#   make distclean  remove build/ entirely
#
# Variables: ARCH=x86_64|i386|arm64, DEBUG=1, KCSAN=1 (make stress, x86_64),
# COVERAGE=1 (make fuzz), KERNEL_SRC=/path/to/6.12-tree, GUEST_CMD,
# GUEST_FILES, GUEST_TIMEOUT (seconds), KUNIT_ARGS (make kunit), JOBS,
# DURATION (make stress, make fuzz), WORKERS (make stress), BENCH_RUNS,
# BENCH_ITERS and BENCH_LIVE (make bench).

ARCH		?= x86_64
KCSAN		?= 0
COVERAGE	?= 0
# make stress and make fuzz run on the debug kernel unless told DEBUG=0,
# KCSAN=1 or COVERAGE=1 (each a kernel of its own).
ifneq ($(filter stress fuzz,$(MAKECMDGOALS)),)
ifeq ($(KCSAN)$(COVERAGE),00)
DEBUG		?= 1
endif
endif
DEBUG		?= 0
ifeq ($(KCSAN),1)
ifneq ($(ARCH)$(DEBUG)$(COVERAGE),x86_6400)
$(error KCSAN=1: x86_64 only, and not with DEBUG=1 (KCSAN cannot share a kernel with KASAN) or COVERAGE=1)
endif
ifneq ($(filter-out stress,$(MAKECMDGOALS)),)
$(error KCSAN=1 is for make stress alone)
endif
endif
ifeq ($(COVERAGE)$(DEBUG),11)
$(error COVERAGE=1 and DEBUG=1 are two kernels: choose one)
endif
DURATION	?= 60
WORKERS		?= 4
# The guest passes of make test, one per DMA path (see harness/qemu.sh).
# The debug kernels skip iommu-pt: its DMA path is plain's (dma-direct,
# physical addresses), so their checks see the same code there; the
# normal kernels run it.
ifeq ($(ARCH),arm64)
GUEST_PASSES	?= plain swiotlb hugetlb
else ifeq ($(DEBUG),1)
GUEST_PASSES	?= plain swiotlb iommu hugetlb
else
GUEST_PASSES	?= plain swiotlb iommu iommu-pt hugetlb
endif
export GUEST_PASSES
JOBS		?= $(shell nproc)
KERNEL_SRC	?=
GUEST_CMD	?= dmabuf-demo
GUEST_FILES	?=
KUNIT_ARGS	?=

ifeq ($(filter $(ARCH),x86_64 i386 arm64),)
$(error ARCH=$(ARCH): the test bed supports x86_64, i386 and arm64)
endif

PROJECT		:= $(CURDIR)
BUILD		:= $(PROJECT)/build
ifneq ($(KERNEL_SRC),)
KERNEL_SRC_ABS	:= $(abspath $(KERNEL_SRC))
TREE		:= $(BUILD)/ksrc-$(shell echo '$(KERNEL_SRC_ABS)' | md5sum | cut -c1-8)
else
TREE		:= $(BUILD)
endif
SRC		:= $(TREE)/src
FLAVOUR		:= $(ARCH)$(if $(filter 1,$(DEBUG)),-debug)$(if $(filter 1,$(COVERAGE)),-coverage)$(if $(filter 1,$(KCSAN)),-kcsan)
OUT		:= $(TREE)/$(FLAVOUR)
KOBJ		:= $(OUT)/guest
KUNIT_DIR	:= $(OUT)/kunit
ifeq ($(ARCH),arm64)
KERNEL		:= $(KOBJ)/arch/arm64/boot/Image
CROSS_COMPILE	:= aarch64-linux-gnu-
else
KERNEL		:= $(KOBJ)/arch/x86/boot/bzImage
CROSS_COMPILE	:=
endif
INITRD		:= $(OUT)/initrd.cpio

ARCH_FRAGS	:= configs/$(ARCH).config
ifneq ($(filter stress fuzz,$(MAKECMDGOALS)),)
GUEST_TIMEOUT	?= $(shell echo $$(($(DURATION) + 900)))
endif
ifeq ($(DEBUG),1)
ARCH_FRAGS	+= configs/debug.config $(wildcard configs/debug-$(ARCH).config)
GUEST_TIMEOUT	?= 1200
else ifeq ($(KCSAN),1)
ARCH_FRAGS	+= configs/kcsan.config
GUEST_TIMEOUT	?= 1200
else ifeq ($(COVERAGE),1)
ARCH_FRAGS	+= configs/coverage.config
GUEST_TIMEOUT	?= 900
else
GUEST_TIMEOUT	?= 600
endif
GUEST_FRAGS	:= configs/guest.config configs/guest-media.config \
		   $(if $(filter $(ARCH),x86_64 i386),configs/guest-x86.config) \
		   $(wildcard configs/guest-$(ARCH).config) $(ARCH_FRAGS)
KUNIT_FRAGS	:= $(addprefix $(PROJECT)/,$(ARCH_FRAGS))

ifeq ($(ARCH),x86_64)
BUSYBOX		:= /bin/busybox
else
BUSYBOX		:= $(BUILD)/deps/$(ARCH)/bin/busybox
endif

KMAKE		= $(MAKE) -C $(SRC) O=$(KOBJ) ARCH=$(ARCH) \
		  CROSS_COMPILE=$(CROSS_COMPILE) -j$(JOBS)
export GUEST_TIMEOUT JOBS ARCH

.PHONY: all deps src kernel selftests-build initramfs run shell kunit test \
	test-clock v4l2-anchor \
	stress fuzz check check-code check-rebuild patches check-patches docs \
	coverage bench clean \
	distclean help

all: run

help:
	@sed -n '3,35p' Makefile | sed 's/^# \{0,1\}//'

deps:
	@harness/deps.sh $(ARCH) $(BUILD)

src: deps
	@harness/prepare-src.sh $(PROJECT) $(SRC) $(KERNEL_SRC_ABS)

kernel: src
	@CROSS_COMPILE=$(CROSS_COMPILE) harness/kconfig.sh $(SRC) $(KOBJ) $(ARCH) $(GUEST_FRAGS)
	@echo "build: guest kernel ($(FLAVOUR)) on base tree $$(cat $(SRC)/.base-version)"
	@[ -e $(KERNEL) ] || echo "build: first build of this kernel, about 5 minutes on 2 cores (later ones are incremental)"
	@+$(KMAKE) -s $(notdir $(KERNEL)) modules
	@rm -rf $(OUT)/modroot
	@+$(KMAKE) -s INSTALL_MOD_PATH=$(OUT)/modroot INSTALL_MOD_STRIP=1 \
		DEPMOD=/sbin/depmod modules_install >/dev/null
	@+$(KMAKE) -s headers

selftests-build: kernel
	@harness/build-selftests.sh $(SRC) $(KOBJ)/usr/include $(OUT)/selftests $(ARCH)
	@mkdir -p $(OUT)/bench-module
	@cp -u tools/dma-buf/bench/* $(OUT)/bench-module/
	@+$(KMAKE) -s M=$(OUT)/bench-module BENCH_API=project modules
	@cp $(OUT)/bench-module/dmabuf_bench.ko $(OUT)/selftests/

# GUEST_CMD and GUEST_FILES reach the guest verbatim: make writes their
# unexpanded values to files ($(value), $(file)), so that neither make nor
# the shell interprets a '$' or a quote in them.
MKINITRD	= harness/mkinitramfs.sh $(OUT) $(BUSYBOX) $(OUT)/modroot \
		  $(OUT)/selftests "$$(cat $(SRC)/.base-version)"

run: selftests-build
	$(file >$(OUT)/guest-cmd,$(value GUEST_CMD))
	$(file >$(OUT)/guest-files,$(value GUEST_FILES))
	@RUN_CMD_FILE=$(OUT)/guest-cmd RUN_FILES_FILE=$(OUT)/guest-files $(MKINITRD)
	@QEMU_QUIET=1 harness/qemu.sh batch $(KERNEL) $(INITRD) $(OUT)/run; status=$$?; \
	python3 harness/results.py hostcheck $(OUT)/run/results.log \
		$(OUT)/run/ivshmem.bin || status=1; \
	exit $$status

shell: selftests-build
	$(file >$(OUT)/guest-files,$(value GUEST_FILES))
	@RUN_INTERACTIVE=1 RUN_FILES_FILE=$(OUT)/guest-files $(MKINITRD)
	@harness/qemu.sh interactive $(KERNEL) $(INITRD) $(OUT)/shell

kunit: src
	@harness/kunit.sh $(SRC) $(PROJECT) $(KUNIT_DIR) $(ARCH) \
		$(OUT)/kunit.out $(KUNIT_FRAGS) -- $(KUNIT_ARGS)

# The stamp first: test.sh reports how long the builds took.
test: test-clock selftests-build
	$(file >$(OUT)/guest-cmd,run-selftests)
	@RUN_CMD_FILE=$(OUT)/guest-cmd $(MKINITRD)
	@PROJECT=$(PROJECT) SRC=$(SRC) OUT=$(OUT) \
		ARCH=$(ARCH) KERNEL=$(KERNEL) INITRD=$(INITRD) DEBUG=$(DEBUG) \
		DEBUG_LABEL="$(if $(filter 1,$(DEBUG)),$(comma) DEBUG=1)" \
		harness/test.sh

comma := ,

test-clock:
	@mkdir -p $(OUT) && date +%s > $(OUT)/.test-start

# The stress program alone, on the debug guest by default; its last line
# and the kernel reports of the run make the verdict. With KCSAN=1 the
# selftests that race on both CPUs run first: the move selftests (writers
# on both CPUs while the storage moves) and dmabuf-mm's kernel CPU
# accesses on three threads racing with moves.
SELFTESTS_DIR	:= /usr/lib/dma-buf-selftests
STRESS_CMD	:= STRESS_SECONDS=$(DURATION) STRESS_WORKERS=$(WORKERS) $(SELFTESTS_DIR)/dmabuf-stress
ifeq ($(KCSAN),1)
STRESS_CMD	:= $(SELFTESTS_DIR)/dmabuf-move; \
		   $(SELFTESTS_DIR)/dmabuf-mm -t kernel_accesses_race_moves; $(STRESS_CMD)
endif

stress: selftests-build
	$(file >$(OUT)/guest-cmd,$(STRESS_CMD))
	@RUN_CMD_FILE=$(OUT)/guest-cmd $(MKINITRD)
	@QEMU_SCAN=0 harness/qemu.sh batch $(KERNEL) $(INITRD) $(OUT)/stress >/dev/null; \
	python3 harness/results.py stress $(OUT)/stress/console.log \
		$(if $(filter 1,$(KCSAN)),3,1)

# Debian's trinity, unchanged, for DURATION seconds as uid 1000, its
# victims copies of the project's nodes, while dmabuf-fuzz-feeder churns
# buffers of every exporter (see guest/fuzz-run); kernel reports fail it.
# COVERAGE=1 runs it on the gcov kernel instead (no kprobe events there:
# nothing is counted) and reports the core's line coverage; x86_64 only
# (trinity is the host's binary).
fuzz: selftests-build
	@[ "$(ARCH)" = x86_64 ] || { echo "make fuzz: x86_64 only" >&2; exit 2; }
	$(file >$(OUT)/guest-cmd,$(if $(filter 1,$(COVERAGE)),dump-gcov boot; )fuzz-run $(DURATION)$(if $(filter 1,$(COVERAGE)),; dump-gcov fuzz))
	@RUN_CMD_FILE=$(OUT)/guest-cmd RUN_FUZZ=1 $(MKINITRD)
	@QEMU_SCAN=0 harness/qemu.sh batch $(KERNEL) $(INITRD) $(OUT)/fuzz >/dev/null; \
	python3 harness/results.py fuzz $(OUT)/fuzz/console.log; status=$$?; \
	$(if $(filter 1,$(COVERAGE)),python3 harness/coverage.py $(OUT)/fuzz/results.log \
		$(SRC) $(KOBJ) dma-buf.c dma-buf-pages.c dma-heap.c udmabuf.c;) \
	exit $$status

# A gcov-instrumented guest kernel (its own build directory) runs the
# KUnit suites at boot, then the guest selftests; the counters come back
# on the results channel after each, and gcov reports on the host.
coverage:
	@$(MAKE) --no-print-directory COVERAGE=1 coverage-run

coverage-run: selftests-build
	$(file >$(OUT)/guest-cmd,dump-gcov kunit; run-selftests >/dev/null; dump-gcov kunit+selftests)
	@RUN_CMD_FILE=$(OUT)/guest-cmd $(MKINITRD)
	@GUEST_APPEND=kunit.enable=1 harness/qemu.sh batch $(KERNEL) $(INITRD) \
		$(OUT)/coverage >/dev/null || true
	@python3 harness/coverage.py $(OUT)/coverage/results.log $(SRC) $(KOBJ) \
		dma-buf.c dma-buf-pages.c dma-heap.c

# What the base tree's own kernel, with the same configuration and the
# same v4l-utils, fails of v4l2-compliance: the anchor of guest/v4l2-checks,
# written to harness/v4l2-anchor.txt (committed; x86_64 only).
v4l2-anchor: selftests-build
	@[ "$(ARCH)" = x86_64 ] && [ "$(DEBUG)" = 0 ] || \
		{ echo "make v4l2-anchor: x86_64 without DEBUG only" >&2; exit 2; }
	@harness/anchor-kernel.sh $(PROJECT) $(BUILD) $(JOBS)
	$(file >$(OUT)/guest-cmd,v4l2-checks --record > /dev/results)
	@RUN_CMD_FILE=$(OUT)/guest-cmd $(MKINITRD)
	@QEMU_SCAN=0 harness/qemu.sh batch $(BUILD)/bench/upstream-obj/arch/x86/boot/bzImage \
		$(INITRD) $(OUT)/anchor >/dev/null
	@harness/v4l2-anchor.sh $(OUT)/anchor/results.log $(SRC) harness/v4l2-anchor.txt

# Both kernels from the same configuration, x86_64, not the debug one.
bench: selftests-build
	@[ "$(ARCH)" = x86_64 ] && [ "$(DEBUG)" = 0 ] || \
		{ echo "make bench: x86_64 without DEBUG only" >&2; exit 2; }
	@harness/bench.sh $(PROJECT) $(BUILD) $(KOBJ) $(OUT)/modroot \
		$(OUT)/selftests/bin/dmabuf-bench $(JOBS)

# make check-rebuild first (before check-code's W=1 build changes the
# debug kernel's flags), then make check-code and make check-patches.
check: check-rebuild check-code check-patches

# On the debug guest kernel, which builds every file of the project (the
# debug checks, the KUnit suites, every exporter and importer); make test
# DEBUG=1 has built it already when make check follows it.
# Its C=2 W=1 build compiles the project's objects, and kbuild's own
# prepare objects, with W=1's flags: the next debug build compiles them
# again with the kernel's.
check-code: src
	@$(MAKE) --no-print-directory DEBUG=1 kernel
	@harness/check.sh $(PROJECT) $(SRC) $(TREE)/$(ARCH)-debug/guest $(ARCH)
	@python3 harness/doc-coverage.py $(PROJECT)

# With nothing changed, a second build of either guest kernel makes
# nothing (harness/no-rebuild.sh).
check-rebuild: src
	@harness/no-rebuild.sh $(PROJECT) $(TREE) $(ARCH)

docs: src
	@harness/docs.sh $(SRC) $(PROJECT) $(BUILD)/docs

patches: deps
	@python3 harness/patches.py $(PROJECT) $(BUILD) $(BUILD)/patches

# The x86_64 guest kernel first: check-patches compiles each prefix as far
# as that build says an error can appear, and checks the whole series is
# its tree.
check-patches: patches
	@$(MAKE) --no-print-directory ARCH=x86_64 DEBUG=0 COVERAGE=0 kernel
	@harness/check-patches.sh $(PROJECT) $(BUILD) $(BUILD)/patches $(JOBS)

clean:
	@for d in $(wildcard $(TREE)/*/guest $(TREE)/*/kunit); do \
		if [ -d $(SRC)/drivers/dma-buf ]; then \
			$(MAKE) -s -C $(SRC) O=$$d M=drivers/dma-buf clean || exit 1; \
		fi; \
	done
	@rm -rf $(wildcard $(TREE)/*/selftests $(TREE)/*/initramfs $(TREE)/*/*.cpio \
		$(TREE)/*/modroot $(TREE)/*/results)

distclean:
	@rm -rf $(BUILD)
