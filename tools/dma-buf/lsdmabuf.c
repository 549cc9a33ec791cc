// SPDX-License-Identifier: GPL-2.0-only
/*
 * lsdmabuf: which dma-bufs exist, what they are, and who holds them.
 *
 * For every buffer: its inode number and device, size, exporter, name,
 * the devices attached to it, and the processes that hold it, by file
 * descriptor or by mapping; then, per process, its command, how many
 * buffers it holds and how many bytes they make. Everything comes from
 * files the kernel already provides:
 *
 *   /proc/<pid>/fd/<n>      a descriptor whose link reads "/dmabuf:..."
 *                           is a buffer's if fstatfs() finds it on the
 *                           dmabuf file system (DMA_BUF_MAGIC); fstat()
 *                           gives its device, inode number and size
 *   /proc/<pid>/fdinfo/<n>  size, exp_name and name of the buffer
 *   /proc/<pid>/maps        mappings, read a whole line at a time and
 *                           parsed field by field: a mapping is a
 *                           buffer's if its device field is the dmabuf
 *                           file system's and its path "/dmabuf:<name>"
 *   /proc/<pid>/map_files   (root) the dmabuf file system's device, when
 *                           no process holds a buffer by descriptor
 *   /proc/<pid>/comm        the command
 *   debugfs dma_buf/bufinfo every buffer, with its attached devices (root,
 *                           debugfs mounted); without it, buffers only
 *                           the kernel holds are not listed and devices
 *                           show as unknown
 *
 * A buffer is known by its device and inode number together, as stat()
 * tells files apart: fstat() of a descriptor and the fields of a maps
 * line give both, and the inode numbers of fdinfo and bufinfo are taken
 * on the dmabuf file system's device. Nothing a process chooses (a file
 * path, a file named "/dmabuf:..." on another file system, an inode
 * number of another device) makes it a buffer's holder. Only where the
 * device cannot be learnt (not root, and no buffer descriptor in sight)
 * is a mapping taken for a buffer's on its path and an anonymous device
 * (major 0) alone, unless a descriptor showed that device to be another
 * file system's, and still keyed by its own device; the text listing
 * then says so.
 *
 * Names and commands are any bytes (a buffer's name: 0x20-0x7e and
 * 0x80-0xff; a command: anything but NUL), printed so that they cannot
 * act on a terminal or be mistaken for other output, and exactly,
 * leading and trailing spaces included:
 *
 * - text, as ls -b: a backslash as \\, \a \b \t \n \v \f \r, and every
 *   other byte outside 0x20-0x7e as three octal digits, \ooo (no locale:
 *   UTF-8 shows as its bytes). A buffer's name is quoted, with " as \";
 *   a command or an exporter is a bare word, with a space as "\ ".
 *
 * - -j, JSON (RFC 8259), ASCII only: one object with "buffers" and
 *   "processes" arrays, one buffer or process per line. Strings are byte
 *   strings: " and \ are written \" and \\, and every byte below 0x20 or
 *   from 0x7f up as \u00XX, so that each character of a decoded string is
 *   one byte, U+0000-U+00FF: the exact bytes are the characters taken as
 *   bytes (in Python, s.encode("latin-1")), and a UTF-8 name is those
 *   bytes decoded as UTF-8. Valid UTF-8 is not passed through as is: it
 *   would decode to the same characters as other bytes (the bytes C3 A9
 *   written raw and the byte E9 written \u00e9 both decode to U+00E9).
 *   "dev" is the buffer's device as "major:minor", null for a buffer
 *   only debugfs lists while no buffer's file showed the device; an
 *   unknown size is -1, an unknown exporter, name or command null (in
 *   text, ?).
 *
 * Usage: lsdmabuf [-j].
 *
 * Build: make -C tools/dma-buf (a static program).
 */

#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

#include <linux/magic.h>

#ifndef DMA_BUF_MAGIC
#define DMA_BUF_MAGIC	0x444d4142
#endif

#define BUFINFO		"/sys/kernel/debug/dma_buf/bufinfo"
#define LINK_PREFIX	"/dmabuf:"
#define MAX_FDS		16	/* listed per holder; more are counted */

#define NO_BUFINFO	" (only buffers a process holds: no debugfs listing)"
#define BY_PATH		" (mappings recognised by path: no buffer's device seen)"

/* A buffer's identity: its device (if known) and inode number. */
struct key {
	bool dev_known;
	dev_t dev;
	unsigned long long ino;
};

struct holder {
	int pid;
	unsigned int n_fds, n_maps;
	int fds[MAX_FDS];
	struct holder *next;
};

struct buffer {
	struct key key;
	long long size;		/* -1: unknown */
	char *exporter;		/* NULL: unknown */
	char *name;		/* NULL: unknown */
	bool devices_known;	/* from bufinfo */
	char **devices;
	unsigned int n_devices;
	struct holder *holders;	/* by pid, ascending */
	struct buffer *next;	/* by inode number, then device */
};

struct process {
	int pid;
	char *comm;
	unsigned int n_buffers;
	long long bytes;
	bool size_unknown;
	struct process *next;
};

/* A maps line whose path is "/dmabuf:<name>": perhaps a buffer's. */
struct candidate {
	int pid;
	unsigned long long start, end;
	dev_t dev;
	unsigned long long ino;
	char *name;
	int verdict;		/* of its file: see dmabuf_mapping() */
};

static struct buffer *buffers;
static struct process *processes;
static bool have_bufinfo;

/* The dmabuf file system's device, once a buffer's file showed it. */
static bool fs_dev_known;
static dev_t fs_dev;
/* Mappings taken for buffers' on their path alone (see above). */
static bool by_path;
/* Devices of files named "/dmabuf:..." found on another file system. */
static dev_t *other_devs;
static size_t n_other_devs;

static struct candidate *cands;
static size_t n_cands;

static void out_of_memory(void)
{
	perror("lsdmabuf");
	exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p)
		out_of_memory();
	return p;
}

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p)
		out_of_memory();
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		out_of_memory();
	return p;
}

/* Order of the listing: by inode number, then device (unknown first). */
static int key_cmp(const struct key *a, const struct key *b)
{
	if (a->ino != b->ino)
		return a->ino < b->ino ? -1 : 1;
	if (a->dev_known != b->dev_known)
		return a->dev_known ? 1 : -1;
	if (a->dev_known && a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	return 0;
}

static struct buffer *find_buffer(const struct key *key)
{
	struct buffer **pp, *b;
	int cmp = 1;

	for (pp = &buffers; *pp; pp = &(*pp)->next) {
		cmp = key_cmp(&(*pp)->key, key);
		if (cmp >= 0)
			break;
	}
	if (*pp && !cmp)
		return *pp;
	b = xcalloc(1, sizeof(*b));
	b->key = *key;
	b->size = -1;
	b->next = *pp;
	*pp = b;
	return b;
}

/* A buffer of the dmabuf file system known by its inode number only. */
static struct buffer *find_fs_buffer(unsigned long long ino)
{
	struct key key = {
		.dev_known = fs_dev_known,
		.dev = fs_dev_known ? fs_dev : 0,
		.ino = ino,
	};

	return find_buffer(&key);
}

static struct holder *find_holder(struct buffer *b, int pid)
{
	struct holder **pp, *h;

	for (pp = &b->holders; *pp && (*pp)->pid < pid; pp = &(*pp)->next)
		;
	if (*pp && (*pp)->pid == pid)
		return *pp;
	h = xcalloc(1, sizeof(*h));
	h->pid = pid;
	h->next = *pp;
	*pp = h;
	return h;
}

static void set_field(char **field, const char *value)
{
	if (!*field)
		*field = xstrdup(value);
}

/* getline() without its newline; false at the end of the file. */
static bool read_line(FILE *f, char **line, size_t *size)
{
	ssize_t n = getline(line, size, f);

	if (n < 0)
		return false;
	if (n && (*line)[n - 1] == '\n')
		(*line)[n - 1] = '\0';
	return true;
}

/* A decimal number filling @s, but for the padding spaces after it. */
static bool parse_number(const char *s, unsigned long long *val)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	*val = strtoull(s, &end, 10);
	if (errno)
		return false;
	while (*end == ' ')
		end++;
	return !*end;
}

/*
 * bufinfo: "size\tflags\tcount\texp_name\tino\tname" per buffer, the
 * first five fields padded with spaces, the name as it is, then
 * "\tattached: <driver> <device>" lines. Names hold no tab nor newline
 * (DMA_BUF_SET_NAME refuses bytes below 0x20).
 */
static void read_bufinfo(void)
{
	unsigned long long size, ino;
	struct buffer *b = NULL;
	char *line = NULL, *field[6], *p;
	size_t line_size = 0, n;
	unsigned int i;
	FILE *f = fopen(BUFINFO, "re");

	if (!f)
		return;
	have_bufinfo = true;
	while (read_line(f, &line, &line_size)) {
		if (line[0] == '\t') {
			if (b && !strncmp(line, "\tattached: ", 11)) {
				b->devices = xrealloc(b->devices,
						      (b->n_devices + 1) *
						      sizeof(char *));
				b->devices[b->n_devices++] = xstrdup(line + 11);
			}
			continue;
		}
		b = NULL;
		p = line;
		for (i = 0; i < 6 && p; i++) {
			field[i] = p;
			p = i < 5 ? strchr(p, '\t') : NULL;
			if (p)
				*p++ = '\0';
		}
		if (i < 6 || !parse_number(field[0], &size) ||
		    !parse_number(field[4], &ino))
			continue;
		b = find_fs_buffer(ino);
		b->devices_known = true;
		if (b->size < 0)
			b->size = size;
		if (!b->exporter) {
			/* The padding is not the exporter's. */
			n = strlen(field[3]);
			while (n && field[3][n - 1] == ' ')
				field[3][--n] = '\0';
			b->exporter = xstrdup(field[3]);
		}
		set_field(&b->name, field[5]);
	}
	free(line);
	fclose(f);
}

/*
 * The buffer's fdinfo, if the descriptor still is the file of inode
 * @ino: size, exporter and name (none if the line is absent: no name).
 */
static void read_fdinfo(int pid, int fd, unsigned long long ino,
			struct buffer *b)
{
	char path[64], *line = NULL, *exporter = NULL, *name = NULL;
	unsigned long long val, size = 0;
	bool same = false, have_size = false;
	size_t line_size = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	f = fopen(path, "re");
	if (!f)
		return;
	while (read_line(f, &line, &line_size)) {
		if (!strncmp(line, "ino:\t", 5)) {
			same = parse_number(line + 5, &val) && val == ino;
		} else if (!strncmp(line, "size:\t", 6)) {
			have_size = parse_number(line + 6, &size);
		} else if (!strncmp(line, "exp_name:\t", 10)) {
			free(exporter);
			exporter = xstrdup(line + 10);
		} else if (!strncmp(line, "name:\t", 6)) {
			free(name);
			name = xstrdup(line + 6);
		}
	}
	free(line);
	fclose(f);
	if (same && exporter) {
		if (have_size && b->size < 0)
			b->size = size;
		set_field(&b->exporter, exporter);
		set_field(&b->name, name ? name : "");
	}
	free(exporter);
	free(name);
}

/*
 * Is the file that @path opens a buffer's? Then its key, size and 1;
 * 0 if it is not, -1 if that cannot be told. The file is opened once
 * (O_PATH: nothing of it runs) and asked twice, so that both answers
 * are of the same file even if the descriptor or mapping changes.
 */
static int dmabuf_file(const char *path, struct key *key, long long *size)
{
	struct statfs sfs;
	struct stat st;
	int fd, ret = -1;

	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (!fstatfs(fd, &sfs) && !fstat(fd, &st)) {
		ret = sfs.f_type == DMA_BUF_MAGIC;
		key->dev_known = true;
		key->dev = st.st_dev;
		key->ino = st.st_ino;
		*size = st.st_size;
	}
	close(fd);
	return ret;
}

static bool is_other_dev(dev_t dev)
{
	size_t i;

	for (i = 0; i < n_other_devs; i++)
		if (other_devs[i] == dev)
			return true;
	return false;
}

static void note_other_dev(dev_t dev)
{
	if (is_other_dev(dev))
		return;
	/* Grows at each power of two. */
	if (!(n_other_devs & (n_other_devs - 1)))
		other_devs = xrealloc(other_devs, (n_other_devs ?
						   2 * n_other_devs : 1) *
				      sizeof(*other_devs));
	other_devs[n_other_devs++] = dev;
}

static void scan_fds(int pid)
{
	char path[64], target[sizeof(LINK_PREFIX)];
	struct holder *h;
	struct buffer *b;
	struct dirent *d;
	long long size;
	struct key key;
	ssize_t n;
	DIR *dir;
	int fd, ret;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		fd = atoi(d->d_name);
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
		/* Only a first look: any file may be named so. */
		n = readlink(path, target, sizeof(target) - 1);
		if (n != sizeof(target) - 1)
			continue;
		target[n] = '\0';
		if (strcmp(target, LINK_PREFIX))
			continue;
		ret = dmabuf_file(path, &key, &size);
		if (!ret)
			note_other_dev(key.dev);
		if (ret != 1)
			continue;
		if (!fs_dev_known) {
			fs_dev_known = true;
			fs_dev = key.dev;
		}
		b = find_buffer(&key);
		if (b->size < 0)
			b->size = size;
		if (!b->exporter || !b->name)
			read_fdinfo(pid, fd, key.ino, b);
		h = find_holder(b, pid);
		if (h->n_fds < MAX_FDS)
			h->fds[h->n_fds] = fd;
		h->n_fds++;
	}
	closedir(dir);
}

/* Hexadecimal digits at *@s (at most @max), moving past them. */
static bool parse_hex(const char **s, unsigned int max,
		      unsigned long long *val)
{
	const char *p = *s;
	unsigned int n = 0;

	*val = 0;
	for (; isxdigit((unsigned char)*p); p++, n++) {
		if (n == max)
			return false;
		*val = *val << 4 |
		       (isdigit((unsigned char)*p) ? *p - '0' :
			(tolower((unsigned char)*p) - 'a' + 10));
	}
	*s = p;
	return n > 0;
}

static bool parse_char(const char **s, char c)
{
	if (**s != c)
		return false;
	(*s)++;
	return true;
}

/*
 * A whole line of /proc/<pid>/maps, as the kernel writes it:
 * "start-end perms offset major:minor inode", then, if the mapping has
 * a name, spaces (padding to a column) and the name to the end of the
 * line: a file's path, "/dmabuf:<name>" for a buffer. A path can hold
 * any byte but a newline (the kernel writes it as \012) and cannot
 * change the fields before it. Is it a mapping of "/dmabuf:..."? Then
 * its fields into @c and its buffer's name at *@name.
 */
static bool parse_maps_line(const char *line, struct candidate *c,
			    const char **name)
{
	unsigned long long major, minor, val;
	static const char perms[] = "r-w-x-sp";
	const char *p = line;
	char *end;
	int i;

	if (!parse_hex(&p, 16, &c->start) || !parse_char(&p, '-') ||
	    !parse_hex(&p, 16, &c->end) || !parse_char(&p, ' '))
		return false;
	for (i = 0; i < 4; i++, p++)
		if (*p != perms[2 * i] && *p != perms[2 * i + 1])
			return false;
	if (!parse_char(&p, ' ') || !parse_hex(&p, 16, &val) ||
	    !parse_char(&p, ' ') || !parse_hex(&p, 8, &major) ||
	    !parse_char(&p, ':') || !parse_hex(&p, 8, &minor) ||
	    !parse_char(&p, ' ') || !isdigit((unsigned char)*p))
		return false;
	errno = 0;
	c->ino = strtoull(p, &end, 10);
	p = end;
	if (errno || !parse_char(&p, ' '))
		return false;
	while (*p == ' ')
		p++;
	if (strncmp(p, LINK_PREFIX, strlen(LINK_PREFIX)))
		return false;
	c->dev = makedev(major, minor);
	*name = p + strlen(LINK_PREFIX);
	return true;
}

static void scan_maps(int pid)
{
	char path[64], *line = NULL;
	size_t line_size = 0;
	struct candidate c;
	const char *name;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (read_line(f, &line, &line_size)) {
		if (!parse_maps_line(line, &c, &name))
			continue;
		c.pid = pid;
		c.name = xstrdup(name);
		c.verdict = -1;
		/* Grows at each power of two. */
		if (!(n_cands & (n_cands - 1)))
			cands = xrealloc(cands, (n_cands ? 2 * n_cands : 1) *
					 sizeof(*cands));
		cands[n_cands++] = c;
	}
	free(line);
	fclose(f);
}

/*
 * Is the mapping of @c a buffer's? 1 or 0 as its file tells through
 * /proc/<pid>/map_files (root only), -1 if it cannot be asked.
 */
static int dmabuf_mapping(const struct candidate *c)
{
	char path[96];
	long long size;
	struct key key;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", c->pid,
		 c->start, c->end);
	ret = dmabuf_file(path, &key, &size);
	/* Another file by now: the line says nothing about this one. */
	if (ret >= 0 && (key.dev != c->dev || key.ino != c->ino))
		return -1;
	return ret;
}

/* No descriptor told the dmabuf file system's device: a mapping may. */
static void learn_fs_dev(void)
{
	size_t i;

	for (i = 0; i < n_cands && !fs_dev_known; i++) {
		cands[i].verdict = dmabuf_mapping(&cands[i]);
		if (cands[i].verdict == 1) {
			fs_dev_known = true;
			fs_dev = cands[i].dev;
		}
	}
}

/*
 * The mappings of buffers among the maps lines of "/dmabuf:..." paths:
 * those on the dmabuf file system's device. If it is unknown, those
 * whose file could not be asked (not root) on an anonymous device
 * (every pseudo file system's, major 0) that no descriptor showed to be
 * another file system's, each under its own device.
 */
static void add_mappings(void)
{
	struct candidate *c;
	struct buffer *b;
	struct key key;
	size_t i;

	for (i = 0; i < n_cands; i++) {
		c = &cands[i];
		if (fs_dev_known ? c->dev != fs_dev :
		    c->verdict >= 0 || major(c->dev) || is_other_dev(c->dev))
			continue;
		if (!fs_dev_known)
			by_path = true;
		key.dev_known = true;
		key.dev = c->dev;
		key.ino = c->ino;
		b = find_buffer(&key);
		set_field(&b->name, c->name);
		find_holder(b, c->pid)->n_maps++;
	}
}

/* /proc/<pid>/comm holds the command and a newline. */
static char *comm_of(int pid)
{
	char path[64], comm[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	if (comm[n - 1] == '\n')
		n--;
	comm[n] = '\0';
	return xstrdup(comm);
}

/* The holders of the buffers, by process. */
static void tally(void)
{
	struct process **pp, *p;
	struct buffer *b;
	struct holder *h;

	for (b = buffers; b; b = b->next)
		for (h = b->holders; h; h = h->next) {
			for (pp = &processes; *pp && (*pp)->pid < h->pid;
			     pp = &(*pp)->next)
				;
			p = *pp;
			if (!p || p->pid != h->pid) {
				p = xcalloc(1, sizeof(*p));
				p->pid = h->pid;
				p->comm = comm_of(p->pid);
				p->next = *pp;
				*pp = p;
			}
			p->n_buffers++;
			if (b->size < 0)
				p->size_unknown = true;
			else
				p->bytes += b->size;
		}
}

/* The letter of @c's C escape (\a ... \r), or 0. */
static char c_escape(unsigned char c)
{
	switch (c) {
	case '\a':
		return 'a';
	case '\b':
		return 'b';
	case '\t':
		return 't';
	case '\n':
		return 'n';
	case '\v':
		return 'v';
	case '\f':
		return 'f';
	case '\r':
		return 'r';
	default:
		return 0;
	}
}

/*
 * Print @s for text output as ls -b writes names (see the top), "?" if
 * it is unknown; @special is escaped too: '"' in a quoted name, ' ' in
 * a bare word. Return the number of characters printed.
 */
static size_t put_escaped(const char *s, char special)
{
	unsigned char c;
	size_t n = 0;

	if (!s) {
		putchar('?');
		return 1;
	}
	for (; *s; s++) {
		c = *s;
		if (c == '\\' || (special && c == special)) {
			n += printf("\\%c", c);
		} else if (c_escape(c)) {
			n += printf("\\%c", c_escape(c));
		} else if (c < 0x20 || c > 0x7e) {
			n += printf("\\%03o", c);
		} else {
			putchar(c);
			n++;
		}
	}
	return n;
}

/* A JSON string of bytes, ASCII only (see the top), or null. */
static void json_string(const char *s)
{
	unsigned char c;

	if (!s) {
		printf("null");
		return;
	}
	putchar('"');
	for (; *s; s++) {
		c = *s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_json(void)
{
	struct process *p;
	struct buffer *b;
	struct holder *h;
	unsigned int i;

	printf("{\"buffers\":[\n");
	for (b = buffers; b; b = b->next) {
		printf("{\"inode\":%llu,\"dev\":", b->key.ino);
		if (b->key.dev_known)
			printf("\"%u:%u\"", major(b->key.dev),
			       minor(b->key.dev));
		else
			printf("null");
		printf(",\"size\":%lld,\"exporter\":", b->size);
		json_string(b->exporter);
		printf(",\"name\":");
		json_string(b->name);
		printf(",\"devices\":");
		if (!b->devices_known) {
			printf("null");
		} else {
			putchar('[');
			for (i = 0; i < b->n_devices; i++) {
				if (i)
					putchar(',');
				json_string(b->devices[i]);
			}
			putchar(']');
		}
		printf(",\"holders\":[");
		for (h = b->holders; h; h = h->next) {
			printf("{\"pid\":%d,\"fds\":[", h->pid);
			for (i = 0; i < h->n_fds && i < MAX_FDS; i++)
				printf("%s%d", i ? "," : "", h->fds[i]);
			printf("],\"mappings\":%u}%s", h->n_maps,
			       h->next ? "," : "");
		}
		printf("]}%s\n", b->next ? "," : "");
	}
	printf("],\"processes\":[\n");
	for (p = processes; p; p = p->next) {
		printf("{\"pid\":%d,\"command\":", p->pid);
		json_string(p->comm);
		printf(",\"buffers\":%u,\"bytes\":%lld}%s\n", p->n_buffers,
		       p->size_unknown ? -1LL : p->bytes, p->next ? "," : "");
	}
	printf("]}\n");
}

static void print_text(void)
{
	long long total = 0;
	unsigned int n = 0, i;
	struct process *p;
	struct buffer *b;
	struct holder *h;
	char size[32];
	size_t width;

	for (b = buffers; b; b = b->next) {
		printf("inode %llu (dev ", b->key.ino);
		if (b->key.dev_known)
			printf("%u:%u", major(b->key.dev), minor(b->key.dev));
		else
			printf("?");
		if (b->size < 0)
			printf("): ? bytes");
		else
			printf("): %lld bytes", b->size);
		printf(", exporter ");
		put_escaped(b->exporter, ' ');
		if (b->name) {
			printf(", name \"");
			put_escaped(b->name, '"');
			printf("\"\n");
		} else {
			printf(", name ?\n");
		}
		if (!b->devices_known)
			printf("  attached: unknown (needs %s)\n", BUFINFO);
		for (i = 0; i < b->n_devices; i++) {
			printf("  attached: ");
			put_escaped(b->devices[i], 0);
			printf("\n");
		}
		if (!b->holders)
			printf("  held by: no process (the kernel holds it)\n");
		for (h = b->holders; h; h = h->next) {
			printf("  held by: pid %d", h->pid);
			for (i = 0; i < h->n_fds && i < MAX_FDS; i++)
				printf("%s%d", i ? "," : ", fd ", h->fds[i]);
			if (h->n_fds > MAX_FDS)
				printf(" (%u fds)", h->n_fds);
			if (h->n_maps)
				printf(", %u mapping%s", h->n_maps,
				       h->n_maps == 1 ? "" : "s");
			printf("\n");
		}
		if (b->size > 0)
			total += b->size;
		n++;
	}
	if (!n)
		printf("no buffers\n");
	printf("\n%-8s %-16s %8s %12s\n", "PID", "COMMAND", "BUFFERS", "BYTES");
	for (p = processes; p; p = p->next) {
		if (p->size_unknown)
			snprintf(size, sizeof(size), "?");
		else
			snprintf(size, sizeof(size), "%lld", p->bytes);
		printf("%-8d ", p->pid);
		width = put_escaped(p->comm, ' ');
		printf("%*s %8u %12s\n", width < 16 ? (int)(16 - width) : 0, "",
		       p->n_buffers, size);
	}
	printf("total: %u buffer%s, %lld bytes%s%s\n", n, n == 1 ? "" : "s",
	       total, have_bufinfo ? "" : NO_BUFINFO, by_path ? BY_PATH : "");
}

static void print_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [-j]\n"
		"List dma-bufs, their devices and the processes that hold them.\n"
		"  -j  JSON, ASCII only: strings are byte strings, with \\\" \\\\ and\n"
		"      \\u00XX for each byte below 0x20 or from 0x7f up, so that\n"
		"      each decoded character is one byte (U+0000-U+00FF)\n"
		"Text escapes names and commands as ls -b: \\\\ \\a \\b \\t \\n \\v \\f \\r,\n"
		"\\ooo for other bytes outside 0x20-0x7e; a name is quoted (\\\"),\n"
		"a command's spaces are \"\\ \".\n", prog);
}

int main(int argc, char **argv)
{
	int opt, *pids = NULL;
	size_t n_pids = 0, i;
	bool json = false;
	struct dirent *d;
	DIR *proc;

	while ((opt = getopt(argc, argv, "jh")) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'h':
			print_usage(stdout, argv[0]);
			return 0;
		default:
			print_usage(stderr, argv[0]);
			return 2;
		}
	}

	proc = opendir("/proc");
	if (!proc) {
		perror("lsdmabuf: /proc");
		return 1;
	}
	while ((d = readdir(proc))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		/* Grows at each power of two. */
		if (!(n_pids & (n_pids - 1)))
			pids = xrealloc(pids, (n_pids ? 2 * n_pids : 1) *
					sizeof(*pids));
		pids[n_pids++] = atoi(d->d_name);
	}
	closedir(proc);

	/* Descriptors first: they tell the dmabuf file system's device. */
	for (i = 0; i < n_pids; i++)
		scan_fds(pids[i]);
	for (i = 0; i < n_pids; i++)
		scan_maps(pids[i]);
	free(pids);
	learn_fs_dev();
	read_bufinfo();
	add_mappings();

	tally();
	if (json)
		print_json();
	else
		print_text();
	return 0;
}
