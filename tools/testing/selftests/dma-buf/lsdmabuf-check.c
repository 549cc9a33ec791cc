// SPDX-License-Identifier: GPL-2.0-only
/*
 * tools/dma-buf/lsdmabuf against buffers this test creates and knows:
 * their sizes, exporter, names, attached device, and which process holds
 * each by descriptor or by mapping. Then against what any process can
 * put before it: a file path longer than a read, with what looks like a
 * buffer's maps line inside; a command made of terminal escapes and
 * control bytes; a buffer's name with bytes 0x80-0xff and trailing
 * spaces; files named "/dmabuf:..." on other devices, at the same inode
 * number. Needs lsdmabuf on PATH (the guest's /usr/bin) and root (the
 * debugfs listing, other processes' /proc, mounts).
 */

#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "dmabuf-util.h"

#define NOBODY		65534
#define TMP_TEMPLATE	"/tmp/lsdmabuf-XXXXXX"
/* Where a reader of 512-byte pieces (fgets() into char[512]) cuts a line. */
#define CUT_AT		511

/*
 * lsdmabuf's whole output (malloc'd, NUL-terminated: the tool writes no
 * NUL), with -j if @json, run as @uid unless it is -1; NULL if it failed.
 */
static char *run_tool_as(uid_t uid, bool json)
{
	size_t len = 0, size = 1 << 16;
	char *out = malloc(size), *more;
	int pipefd[2], status;
	ssize_t n;
	pid_t pid;

	if (!out || pipe2(pipefd, O_CLOEXEC)) {
		free(out);
		return NULL;
	}
	pid = fork();
	if (!pid) {
		if (dup2(pipefd[1], 1) != 1)
			_exit(127);
		if (uid != (uid_t)-1 &&
		    (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
		     setresuid(uid, uid, uid)))
			_exit(127);
		execlp("lsdmabuf", "lsdmabuf", json ? "-j" : NULL, NULL);
		_exit(127);
	}
	close(pipefd[1]);
	while (pid > 0) {
		if (len + 1 == size) {
			more = realloc(out, 2 * size);
			if (!more)
				break;
			out = more;
			size *= 2;
		}
		n = read(pipefd[0], out + len, size - len - 1);
		if (n <= 0)
			break;
		len += n;
	}
	close(pipefd[0]);
	out[len] = '\0';
	if (pid < 0 || waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status) || WEXITSTATUS(status)) {
		free(out);
		return NULL;
	}
	return out;
}

static char *run_tool(bool json)
{
	return run_tool_as((uid_t)-1, json);
}

static unsigned long ino_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/* How lsdmabuf names a buffer: -j's line starts so, the text's so. */
static void json_key(int fd, char *buf, size_t size)
{
	struct stat st = {};

	fstat(fd, &st);
	snprintf(buf, size, "{\"inode\":%llu,\"dev\":\"%u:%u\"",
		 (unsigned long long)st.st_ino, major(st.st_dev),
		 minor(st.st_dev));
}

static void text_key(int fd, char *buf, size_t size)
{
	struct stat st = {};

	fstat(fd, &st);
	snprintf(buf, size, "inode %llu (dev %u:%u)",
		 (unsigned long long)st.st_ino, major(st.st_dev),
		 minor(st.st_dev));
}

/* The first byte of @text a terminal could act on (not printable ASCII
 * nor a newline), or NULL.
 */
static const char *unprintable(const char *text)
{
	for (; *text; text++)
		if (*text != '\n' && (*text < 0x20 || *text > 0x7e))
			return text;
	return NULL;
}

/* @text for the log (malloc'd): other bytes than unprintable()'s as \ooo. */
static char *shown(const char *text)
{
	char *out = malloc(4 * strlen(text) + 1), *o = out;

	if (!out)
		return "(no memory)";
	for (; *text; text++) {
		if (unprintable(text) == text)
			o += sprintf(o, "\\%03o", (unsigned char)*text);
		else
			*o++ = *text;
	}
	*o = '\0';
	return out;
}

/* The line of @out that starts with @start (without its newline), or NULL. */
static char *line_of(const char *out, const char *start)
{
	char *needle, *at, *line = NULL;

	if (asprintf(&needle, "\n%s", start) < 0)
		return NULL;
	at = strstr(out, needle);
	free(needle);
	if (at)
		line = strndup(at + 1, strcspn(at + 1, "\n"));
	return line;
}

/*
 * A strict reader of JSON (RFC 8259), for lsdmabuf -j: anything else
 * than JSON fails, raw bytes must be well-formed UTF-8, and strings
 * decode to their characters.
 */
struct json {
	const unsigned char *p;
	unsigned int depth;
};

static void json_space(struct json *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' ||
	       *j->p == '\r')
		j->p++;
}

static long json_hex4(const unsigned char *p)
{
	long v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		if (!isxdigit(p[i]))
			return -1;
		v = v << 4 | (isdigit(p[i]) ? p[i] - '0' :
			      tolower(p[i]) - 'a' + 10);
	}
	return v;
}

/* A \u escape, with its second half if it is a surrogate pair; or -1. */
static long json_u_escape(struct json *j)
{
	long c = json_hex4(j->p + 2), low;

	if (c < 0 || (c >= 0xdc00 && c <= 0xdfff))
		return -1;
	j->p += 6;
	if (c < 0xd800 || c > 0xdbff)
		return c;
	if (j->p[0] != '\\' || j->p[1] != 'u')
		return -1;
	low = json_hex4(j->p + 2);
	if (low < 0xdc00 || low > 0xdfff)
		return -1;
	j->p += 6;
	return 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
}

/* One character of a string, escaped or in UTF-8; -1 if invalid. */
static long json_char(struct json *j)
{
	static const char escapes[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	const unsigned char *p = j->p;
	long c = *p;
	int i, len;

	if (c < 0x20)
		return -1;
	if (c == '\\') {
		if (p[1] == 'u')
			return json_u_escape(j);
		for (i = 0; escapes[i]; i += 2)
			if (p[1] == escapes[i]) {
				j->p += 2;
				return escapes[i + 1];
			}
		return -1;
	}
	if (c < 0x80) {
		j->p++;
		return c;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 1;
	else if (c >= 0xe0 && c <= 0xef)
		len = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 3;
	else
		return -1;
	c &= 0x3f >> len;
	for (i = 1; i <= len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		c = c << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF. */
	if ((len == 2 && c < 0x800) || (len == 3 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return -1;
	j->p += len + 1;
	return c;
}

/* A string; its characters into @s (at most @max, *@n of them) if @s. */
static bool json_string(struct json *j, long *s, size_t max, size_t *n)
{
	size_t k = 0;
	long c;

	if (*j->p != '"')
		return false;
	j->p++;
	while (*j->p != '"') {
		c = json_char(j);
		if (c < 0)
			return false;
		if (s) {
			if (k == max)
				return false;
			s[k] = c;
		}
		k++;
	}
	j->p++;
	if (n)
		*n = k;
	return true;
}

static bool json_digits(struct json *j)
{
	if (!isdigit(*j->p))
		return false;
	while (isdigit(*j->p))
		j->p++;
	return true;
}

static bool json_number(struct json *j)
{
	if (*j->p == '-')
		j->p++;
	if (*j->p == '0')
		j->p++;
	else if (!json_digits(j))
		return false;
	if (*j->p == '.') {
		j->p++;
		if (!json_digits(j))
			return false;
	}
	if (*j->p == 'e' || *j->p == 'E') {
		j->p++;
		if (*j->p == '+' || *j->p == '-')
			j->p++;
		if (!json_digits(j))
			return false;
	}
	return true;
}

static bool json_word(struct json *j, const char *word)
{
	size_t n = strlen(word);

	if (strncmp((const char *)j->p, word, n))
		return false;
	j->p += n;
	return true;
}

static bool json_value(struct json *j);

/* An object's members (with keys) or an array's, up to @close. */
static bool json_members(struct json *j, char close, bool keys)
{
	j->p++;
	json_space(j);
	if (*j->p == close) {
		j->p++;
		return true;
	}
	for (;;) {
		if (keys) {
			if (!json_string(j, NULL, 0, NULL))
				return false;
			json_space(j);
			if (*j->p != ':')
				return false;
			j->p++;
		}
		if (!json_value(j))
			return false;
		if (*j->p == close) {
			j->p++;
			return true;
		}
		if (*j->p != ',')
			return false;
		j->p++;
		json_space(j);
	}
}

/* A value and the white space around it. */
static bool json_value(struct json *j)
{
	bool ok;

	json_space(j);
	if (++j->depth > 64)
		return false;
	switch (*j->p) {
	case '{':
		ok = json_members(j, '}', true);
		break;
	case '[':
		ok = json_members(j, ']', false);
		break;
	case '"':
		ok = json_string(j, NULL, 0, NULL);
		break;
	case 't':
		ok = json_word(j, "true");
		break;
	case 'f':
		ok = json_word(j, "false");
		break;
	case 'n':
		ok = json_word(j, "null");
		break;
	default:
		ok = json_number(j);
		break;
	}
	j->depth--;
	json_space(j);
	return ok;
}

/* Is @text one JSON value, and nothing else? */
static bool json_valid(const char *text)
{
	struct json j = { .p = (const unsigned char *)text };

	return json_value(&j) && !*j.p;
}

/*
 * The string member @key of the object @text, decoded into @s (at most
 * @max characters, *@n of them); false if it has none.
 */
static bool json_member(const char *text, const char *key, long *s,
			size_t max, size_t *n)
{
	struct json j = { .p = (const unsigned char *)text };
	size_t len, i;
	long name[64];

	if (!text || *j.p != '{')
		return false;
	j.p++;
	for (;;) {
		json_space(&j);
		if (!json_string(&j, name, 64, &len))
			return false;
		json_space(&j);
		if (*j.p != ':')
			return false;
		j.p++;
		json_space(&j);
		for (i = 0; i < len && key[i] && name[i] == key[i]; i++)
			;
		if (i == len && !key[i])
			return json_string(&j, s, max, n);
		if (!json_value(&j) || *j.p != ',')
			return false;
		j.p++;
	}
}

/* Are the characters @s, each taken as a byte, exactly @bytes? */
static bool chars_are_bytes(const long *s, size_t n, const char *bytes)
{
	size_t i;

	if (n != strlen(bytes))
		return false;
	for (i = 0; i < n; i++)
		if (s[i] != (unsigned char)bytes[i])
			return false;
	return true;
}

/* Does a line of /proc/@pid/maps contain @needle? */
static bool maps_has(pid_t pid, const char *needle)
{
	char path[64], *line = NULL;
	size_t size = 0;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && getline(&line, &size, f) > 0)
		found = strstr(line, needle);
	free(line);
	fclose(f);
	return found;
}

/* This process's maps line of the mapping at @addr (malloc'd), or NULL. */
static char *maps_line(const void *addr)
{
	char start[32], *line = NULL;
	size_t size = 0;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return NULL;
	snprintf(start, sizeof(start), "%08lx-", (unsigned long)addr);
	while (getline(&line, &size, f) > 0)
		if (!strncmp(line, start, strlen(start))) {
			fclose(f);
			return line;
		}
	free(line);
	fclose(f);
	return NULL;
}

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void remove_tree(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * Directories below @base that make @len bytes of path (each "/" and
 * a name of @fill bytes, at most 200): the deepest (malloc'd), or NULL.
 */
static char *pad_dirs(const char *base, size_t len, char fill)
{
	size_t at = strlen(base), k;
	char *dir = malloc(at + len + 1);

	if (!dir || len < 2)
		goto fail;
	memcpy(dir, base, at + 1);
	while (len) {
		k = len > 202 ? 200 : len - 1;
		dir[at++] = '/';
		memset(dir + at, fill, k);
		at += k;
		dir[at] = '\0';
		if (mkdir(dir, 0755))
			goto fail;
		len -= k + 1;
	}
	return dir;
fail:
	free(dir);
	return NULL;
}

/*
 * Map a page of a plain file under @base, named @file in a directory
 * named @fake, then move that directory so that "@fake/@file" starts at
 * byte CUT_AT of this process's maps line of the mapping: a reader of
 * 512-byte pieces takes it for a line of its own.
 */
static void *map_long_path(struct __test_metadata *_metadata,
			   const char *base, const char *fake,
			   const char *file, char fill)
{
	char from[PATH_MAX / 2], to[PATH_MAX], *line, *at, *dir;
	long page = sysconf(_SC_PAGESIZE), len;
	void *m;
	int fd;

	snprintf(from, sizeof(from), "%s/stage-%c", base, fill);
	ASSERT_EQ(0, mkdir(from, 0755));
	snprintf(from, sizeof(from), "%s/stage-%c/%s", base, fill, fake);
	ASSERT_EQ(0, mkdir(from, 0755));
	len = snprintf(to, sizeof(to), "%s/%s", from, file);
	ASSERT_GT((long)sizeof(to), len);
	fd = open(to, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, page));
	m = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	ASSERT_TRUE(m != MAP_FAILED);

	/* Where the path starts: after the fields and their padding. */
	line = maps_line(m);
	ASSERT_NE(NULL, line);
	at = strstr(line, base);
	ASSERT_NE(NULL, at);
	len = CUT_AT - (at - line) - (long)strlen(base) - 1;
	free(line);
	ASSERT_LE(2, len);
	dir = pad_dirs(base, len, fill);
	ASSERT_NE(NULL, dir);
	snprintf(to, sizeof(to), "%s/%s", dir, fake);
	free(dir);
	ASSERT_EQ(0, rename(from, to));
	snprintf(from, sizeof(from), "%s/stage-%c", base, fill);
	ASSERT_EQ(0, rmdir(from));

	line = maps_line(m);
	ASSERT_NE(NULL, line);
	ASSERT_LT(CUT_AT, strlen(line));
	snprintf(to, sizeof(to), "%s/%s\n", fake, file);
	EXPECT_STREQ(to, line + CUT_AT);
	free(line);
	return m;
}

/* In a child: tell the parent it is ready, wait until @go closes, exit. */
static void child_wait(int ready, int go)
{
	char c = 0;

	if (write(ready, &c, 1) != 1)
		_exit(1);
	_exit(read(go, &c, 1) < 0);
}

FIXTURE(lsdmabuf) {
	int heap;
};

FIXTURE_SETUP(lsdmabuf)
{
	self->heap = open(SYSTEM_HEAP, O_RDONLY | O_CLOEXEC);
	if (self->heap < 0)
		SKIP(return, "%s: %s (needs CONFIG_DMABUF_HEAPS_SYSTEM)",
		     SYSTEM_HEAP, strerror(errno));
	if (system("command -v lsdmabuf >/dev/null"))
		SKIP(return, "lsdmabuf is not on PATH (tools/dma-buf, installed by the harness)");
	if (access(BUFINFO, R_OK))
		SKIP(return, "%s: %s (needs debugfs and root)", BUFINFO,
		     strerror(errno));
}

FIXTURE_TEARDOWN(lsdmabuf)
{
	if (self->heap >= 0)
		close(self->heap);
}

/*
 * Buffer A (3 pages, "lsd-a"): two descriptors in this process, and a
 * mapping without a descriptor in a child. Buffer B (5 pages, "lsd-b"):
 * one descriptor here, attached to the 32-bit edu device when present.
 * The JSON lines and the text name exactly that, and the per-process
 * totals add the sizes up; once everything is closed, neither is listed.
 */
TEST_F(lsdmabuf, holders_sizes_names_devices)
{
	long page = sysconf(_SC_PAGESIZE);
	int a, a2, b, edu, ready[2], go[2], status;
	char expect[512], devices[64] = "[]", key[128], *out;
	unsigned long ino_a, ino_b;
	pid_t pid, child;
	char c = 0;
	void *m;

	a = heap_alloc(self->heap, 3 * page, O_RDWR | O_CLOEXEC);
	b = heap_alloc(self->heap, 5 * page, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, ioctl(a, DMA_BUF_SET_NAME, "lsd-a"));
	ASSERT_EQ(0, ioctl(b, DMA_BUF_SET_NAME, "lsd-b"));
	ino_a = ino_of(a);
	ino_b = ino_of(b);
	edu = open(EDU32, O_RDWR | O_CLOEXEC);
	if (edu >= 0) {
		ASSERT_EQ(0, edu_attach(edu, b, true));
		snprintf(devices, sizeof(devices),
			 "[\"edu_dmabuf %s\"]", EDU32_SLOT);
	} else {
		TH_LOG("no %s: buffer B has no device attached", EDU32);
	}

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		m = mmap(NULL, 3 * page, PROT_READ, MAP_SHARED, a, 0);
		close(a);
		close(b);
		if (edu >= 0)
			close(edu);
		if (m == MAP_FAILED || write(ready[1], &c, 1) != 1)
			_exit(1);
		_exit(read(go[0], &c, 1) == 1 ? 0 : 1);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	/* Close-on-exec, as every descriptor here: the tool must not inherit it. */
	a2 = fcntl(a, F_DUPFD_CLOEXEC, a + 1);
	ASSERT_LT(a, a2);
	pid = getpid();

	out = run_tool(true);
	ASSERT_NE(NULL, out);
	json_key(a, key, sizeof(key));
	snprintf(expect, sizeof(expect),
		 "\n%s,\"size\":%ld,\"exporter\":\"system\",\"name\":\"lsd-a\",\"devices\":[],\"holders\":[{\"pid\":%d,\"fds\":[%d,%d],\"mappings\":0},{\"pid\":%d,\"fds\":[],\"mappings\":1}]}",
		 key, 3 * page, pid, a, a2, child);
	EXPECT_NE(NULL, strstr(out, expect))
		TH_LOG("no line %s in:\n%s", expect + (expect[0] == '\n'), out);
	json_key(b, key, sizeof(key));
	snprintf(expect, sizeof(expect),
		 "\n%s,\"size\":%ld,\"exporter\":\"system\",\"name\":\"lsd-b\",\"devices\":%s,\"holders\":[{\"pid\":%d,\"fds\":[%d],\"mappings\":0}]}",
		 key, 5 * page, devices, pid, b);
	EXPECT_NE(NULL, strstr(out, expect))
		TH_LOG("no line %s in:\n%s", expect + (expect[0] == '\n'), out);
	snprintf(expect, sizeof(expect),
		 "\n{\"pid\":%d,\"command\":\"lsdmabuf-check\",\"buffers\":2,\"bytes\":%ld}",
		 pid, 8 * page);
	EXPECT_NE(NULL, strstr(out, expect))
		TH_LOG("no line %s in:\n%s", expect + (expect[0] == '\n'), out);
	snprintf(expect, sizeof(expect),
		 "\n{\"pid\":%d,\"command\":\"lsdmabuf-check\",\"buffers\":1,\"bytes\":%ld}",
		 child, 3 * page);
	EXPECT_NE(NULL, strstr(out, expect))
		TH_LOG("no line %s in:\n%s", expect + (expect[0] == '\n'), out);
	free(out);

	out = run_tool(false);
	ASSERT_NE(NULL, out);
	text_key(a, key, sizeof(key));
	snprintf(expect, sizeof(expect),
		 "%s: %ld bytes, exporter system, name \"lsd-a\"\n  attached: ",
		 key, 3 * page);
	/* No device line for A: the next line is a holder. */
	EXPECT_EQ(NULL, strstr(out, expect));
	snprintf(expect, sizeof(expect),
		 "%s: %ld bytes, exporter system, name \"lsd-a\"\n  held by: pid %d, fd %d,%d\n  held by: pid %d, 1 mapping\n",
		 key, 3 * page, pid, a, a2, child);
	EXPECT_NE(NULL, strstr(out, expect))
		TH_LOG("no line %s in:\n%s", expect + (expect[0] == '\n'), out);
	free(out);

	ASSERT_EQ(1, write(go[1], &c, 1));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	if (edu >= 0) {
		EXPECT_EQ(0, edu_attach(edu, b, false));
		close(edu);
	}
	close(a);
	close(a2);
	close(b);

	out = run_tool(true);
	ASSERT_NE(NULL, out);
	snprintf(expect, sizeof(expect), "\n{\"inode\":%lu,", ino_a);
	EXPECT_EQ(NULL, strstr(out, expect));
	snprintf(expect, sizeof(expect), "\n{\"inode\":%lu,", ino_b);
	EXPECT_EQ(NULL, strstr(out, expect));
	free(out);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

/*
 * A process that maps nothing but two plain files, whose paths are
 * longer than 512 bytes and hold, from byte 511 of their maps lines on,
 * what reads as a mapping of a buffer: of a real one (its device and
 * inode number, "/dmabuf:lsd-spoof") and of one that does not exist
 * ("/dmabuf:lsd-phantom"). It holds no buffer: it is not listed, no
 * buffer is added, the real one keeps its one holder.
 */
TEST_F(lsdmabuf, long_path_is_no_mapping)
{
	long page = sysconf(_SC_PAGESIZE);
	char base[] = TMP_TEMPLATE, fake[2][128], key[128], expect[512];
	int real, ready[2], go[2], status;
	char c = 0, *out;
	struct stat st;
	pid_t child;
	void *m[2];

	real = heap_alloc(self->heap, page, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, real);
	ASSERT_EQ(0, ioctl(real, DMA_BUF_SET_NAME, "lsd-real"));
	ASSERT_EQ(0, fstat(real, &st));
	ASSERT_NE(NULL, mkdtemp(base));

	/* As the kernel writes a buffer's mapping, on the buffers' device. */
	snprintf(fake[0], sizeof(fake[0]),
		 "7f0000000000-7f0000001000 rw-s 00000000 %02x:%02x %llu   ",
		 major(st.st_dev), minor(st.st_dev),
		 (unsigned long long)st.st_ino);
	snprintf(fake[1], sizeof(fake[1]),
		 "7f0000000000-7f0000001000 rw-s 00000000 %02x:%02x %llu   ",
		 major(st.st_dev), minor(st.st_dev), 4000000001ULL);
	m[0] = map_long_path(_metadata, base, fake[0], "dmabuf:lsd-spoof",
			     'a');
	m[1] = map_long_path(_metadata, base, fake[1], "dmabuf:lsd-phantom",
			     'b');

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		close(go[1]);
		close(real);
		child_wait(ready[1], go[0]);
	}
	close(go[0]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	/* Only the child maps them now. */
	munmap(m[0], page);
	munmap(m[1], page);

	out = run_tool(true);
	ASSERT_NE(NULL, out);
	EXPECT_TRUE(json_valid(out))
		TH_LOG("not JSON:\n%s", shown(out));
	snprintf(expect, sizeof(expect), "{\"pid\":%d,", child);
	EXPECT_EQ(NULL, strstr(out, expect))
		TH_LOG("pid %d, which holds no buffer, listed:\n%s", child,
		       shown(out));
	EXPECT_EQ(NULL, strstr(out, "lsd-phantom"));
	EXPECT_EQ(NULL, strstr(out, "lsd-spoof"));
	EXPECT_EQ(NULL, strstr(out, "\n{\"inode\":4000000001,"));
	json_key(real, key, sizeof(key));
	snprintf(expect, sizeof(expect),
		 "\n%s,\"size\":%ld,\"exporter\":\"system\",\"name\":\"lsd-real\",\"devices\":[],\"holders\":[{\"pid\":%d,\"fds\":[%d],\"mappings\":0}]}",
		 key, page, getpid(), real);
	EXPECT_NE(NULL, strstr(out, expect))
		TH_LOG("no line %s in:\n%s", expect + 1, shown(out));
	free(out);

	out = run_tool(false);
	ASSERT_NE(NULL, out);
	snprintf(expect, sizeof(expect), "pid %d,", child);
	EXPECT_EQ(NULL, strstr(out, expect))
		TH_LOG("pid %d, which holds no buffer, listed:\n%s", child,
		       shown(out));
	snprintf(expect, sizeof(expect), "\n%-8d ", child);
	EXPECT_EQ(NULL, strstr(out, expect));
	EXPECT_EQ(NULL, strstr(out, "lsd-phantom"));
	free(out);

	close(go[1]);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	close(ready[0]);
	close(ready[1]);
	close(real);
	remove_tree(base);
}

/*
 * A holder whose command (PR_SET_NAME: any 15 bytes) holds terminal
 * escape sequences, a bell, a newline, a backslash, a C1 control, a
 * delete and a trailing space. The text listing shows it escaped as
 * ls -b would, nothing in it but printable ASCII and line ends; -j is
 * valid JSON whose "command" decodes to the exact bytes.
 */
TEST_F(lsdmabuf, command_is_escaped)
{
	static const char comm[] = "x\x1b[2J\x1b]0;\a\n\\\x9b\x7f ";
	static const char comm_text[] = "x\\033[2J\\033]0;\\a\\n\\\\\\233\\177\\ ";
	long page = sysconf(_SC_PAGESIZE);
	char path[64], got[32], expect[256], *out, *line, c = 0;
	int buf, ready[2], go[2], status, fd;
	long chars[64];
	pid_t child;
	size_t n;

	ASSERT_EQ(15, strlen(comm));
	buf = heap_alloc(self->heap, page, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, buf);
	ASSERT_EQ(0, ioctl(buf, DMA_BUF_SET_NAME, "lsd-comm"));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		close(go[1]);
		if (prctl(PR_SET_NAME, comm))
			_exit(1);
		child_wait(ready[1], go[0]);
	}
	close(go[0]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	snprintf(path, sizeof(path), "/proc/%d/comm", child);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(16, read(fd, got, sizeof(got)));
	close(fd);
	ASSERT_EQ(0, memcmp(got, comm, 15));

	out = run_tool(false);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(NULL, unprintable(out))
		TH_LOG("a byte for the terminal at offset %ld:\n%s",
		       unprintable(out) - out, shown(out));
	snprintf(expect, sizeof(expect), "\n%-8d %s ", child, comm_text);
	EXPECT_NE(NULL, strstr(out, expect))
		TH_LOG("no line %s in:\n%s", expect + 1, shown(out));
	snprintf(expect, sizeof(expect), "  held by: pid %d, fd %d\n", child,
		 buf);
	EXPECT_NE(NULL, strstr(out, expect))
		TH_LOG("no line %s in:\n%s", expect, shown(out));
	free(out);

	out = run_tool(true);
	ASSERT_NE(NULL, out);
	EXPECT_TRUE(json_valid(out))
		TH_LOG("not JSON:\n%s", shown(out));
	snprintf(expect, sizeof(expect), "{\"pid\":%d,\"command\":", child);
	line = line_of(out, expect);
	EXPECT_TRUE(json_member(line, "command", chars, 64, &n) &&
		    chars_are_bytes(chars, n, comm))
		TH_LOG("command not the exact bytes: %s", shown(out));
	free(line);
	free(out);

	close(go[1]);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	close(ready[0]);
	close(ready[1]);
	close(buf);
}

/*
 * A buffer named (DMA_BUF_SET_NAME takes any byte from 0x20 up but 0x7f)
 * with leading and trailing spaces, UTF-8, bytes that are no UTF-8, a
 * quote and a backslash. -j: valid JSON whose "name" decodes to the
 * exact bytes, one character a byte. Text: the name quoted, escaped as
 * ls -b would, its spaces kept.
 */
TEST_F(lsdmabuf, name_bytes_exact)
{
	static const char name[] = "  lsd\xc3\xa9\x80\xfe\xff\"\\,}  ";
	static const char name_text[] = "  lsd\\303\\251\\200\\376\\377\\\"\\\\,}  ";
	long page = sysconf(_SC_PAGESIZE);
	char expect[256], *out, *line;
	long chars[64];
	size_t n;
	int buf;

	buf = heap_alloc(self->heap, page, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, buf);
	ASSERT_EQ(0, ioctl(buf, DMA_BUF_SET_NAME, name));

	out = run_tool(true);
	ASSERT_NE(NULL, out);
	EXPECT_TRUE(json_valid(out))
		TH_LOG("not JSON:\n%s", shown(out));
	snprintf(expect, sizeof(expect), "{\"inode\":%lu,", ino_of(buf));
	line = line_of(out, expect);
	EXPECT_TRUE(json_member(line, "name", chars, 64, &n) &&
		    chars_are_bytes(chars, n, name))
		TH_LOG("name not the exact bytes: %s", shown(out));
	free(line);
	free(out);

	out = run_tool(false);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(NULL, unprintable(out))
		TH_LOG("a byte for the terminal at offset %ld:\n%s",
		       unprintable(out) - out, shown(out));
	snprintf(expect, sizeof(expect), " bytes, exporter system, name \"%s\"\n",
		 name_text);
	EXPECT_NE(NULL, strstr(out, expect))
		TH_LOG("no line ...%s in:\n%s", expect, shown(out));
	free(out);
	close(buf);
}

/*
 * Two files named "dmabuf:lsd-twin", at the root of two new tmpfs
 * mounts, so at the same inode number on two devices, detached so that
 * /proc shows them as "/dmabuf:lsd-twin"; a child holds each, the first
 * by descriptor and mapping, the second by mapping alone. A buffer is
 * its device and inode number: whatever lsdmabuf makes of the twins, as
 * root (which can tell their file system) or as nobody (which cannot
 * from a mapping), no buffer is listed with both, a buffer listed with
 * one has that one's device, and the real buffer keeps its one holder.
 */
TEST_F(lsdmabuf, key_is_device_and_inode)
{
	long page = sysconf(_SC_PAGESIZE);
	char dirs[2][32] = { TMP_TEMPLATE, TMP_TEMPLATE }, path[128];
	char holder[2][48], dev[2][48], key[128], expect[512];
	int real, fds[2], ready[2], go[2], status, i, k;
	char c = 0, *out, *line, *end;
	bool held[2];
	struct stat st[2];
	pid_t child[2];
	void *m;

	real = heap_alloc(self->heap, page, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, real);
	ASSERT_EQ(0, ioctl(real, DMA_BUF_SET_NAME, "lsd-key"));
	for (i = 0; i < 2; i++) {
		ASSERT_NE(NULL, mkdtemp(dirs[i]));
		if (mount("lsdmabuf", dirs[i], "tmpfs", 0, "size=64k"))
			SKIP(return, "mount tmpfs: %s", strerror(errno));
		ASSERT_GT(sizeof(path),
			  (size_t)snprintf(path, sizeof(path),
					   "%s/dmabuf:lsd-twin", dirs[i]));
		fds[i] = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, ftruncate(fds[i], page));
		ASSERT_EQ(0, fstat(fds[i], &st[i]));
		snprintf(dev[i], sizeof(dev[i]), "\"dev\":\"%u:%u\"",
			 major(st[i].st_dev), minor(st[i].st_dev));
	}
	ASSERT_EQ(st[0].st_ino, st[1].st_ino);
	ASSERT_NE(st[0].st_dev, st[1].st_dev);

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	for (i = 0; i < 2; i++) {
		child[i] = fork();
		ASSERT_LE(0, child[i]);
		if (child[i])
			continue;
		close(go[1]);
		close(real);
		close(fds[!i]);
		m = mmap(NULL, page, PROT_READ, MAP_SHARED, fds[i], 0);
		if (i)
			close(fds[i]);
		/* Readable by lsdmabuf as nobody too. */
		if (m == MAP_FAILED || setgroups(0, NULL) ||
		    setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY) ||
		    prctl(PR_SET_DUMPABLE, 1))
			_exit(1);
		child_wait(ready[1], go[0]);
	}
	close(go[0]);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(1, read(ready[0], &c, 1));
		close(fds[i]);
		EXPECT_EQ(0, umount2(dirs[i], MNT_DETACH));
		rmdir(dirs[i]);
		snprintf(holder[i], sizeof(holder[i]), "{\"pid\":%d,\"fds\":",
			 child[i]);
		snprintf(expect, sizeof(expect), "%02x:%02x %llu",
			 major(st[i].st_dev), minor(st[i].st_dev),
			 (unsigned long long)st[i].st_ino);
		EXPECT_TRUE(maps_has(child[i], expect) &&
			    maps_has(child[i], " /dmabuf:lsd-twin\n"));
	}

	for (k = 0; k < 2; k++) {
		out = run_tool_as(k ? NOBODY : (uid_t)-1, true);
		ASSERT_NE(NULL, out);
		EXPECT_TRUE(json_valid(out))
			TH_LOG("not JSON:\n%s", shown(out));
		if (!k) {
			json_key(real, key, sizeof(key));
			snprintf(expect, sizeof(expect),
				 "\n%s,\"size\":%ld,\"exporter\":\"system\",\"name\":\"lsd-key\",\"devices\":[],\"holders\":[{\"pid\":%d,\"fds\":[%d],\"mappings\":0}]}",
				 key, page, getpid(), real);
			EXPECT_NE(NULL, strstr(out, expect))
				TH_LOG("no line %s in:\n%s", expect + 1,
				       shown(out));
		}
		for (line = out; line; line = end) {
			end = strchr(line, '\n');
			if (end)
				*end++ = '\0';
			for (i = 0; i < 2; i++) {
				held[i] = strstr(line, holder[i]);
				EXPECT_TRUE(!held[i] || strstr(line, dev[i]))
					TH_LOG("pid %d's file on another device: %s",
					       child[i], shown(line));
			}
			EXPECT_FALSE(held[0] && held[1])
				TH_LOG("%s: two files, one buffer: %s",
				       k ? "as nobody" : "as root", shown(line));
		}
		free(out);
	}

	close(go[1]);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(child[i], waitpid(child[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	}
	close(ready[0]);
	close(ready[1]);
	close(real);
}

TEST_HARNESS_MAIN
