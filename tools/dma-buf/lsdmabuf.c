// SPDX-License-Identifier: GPL-2.0-only
/*
 * lsdmabuf: which dma-bufs exist, what they are, and who holds them.
 *
 * For every buffer: its inode number, size, exporter, name, the devices
 * attached to it, and the processes that hold it, by file descriptor or
 * by mapping; then, per process, how many buffers it holds and how many
 * bytes they make. Everything comes from files the kernel already
 * provides:
 *
 *   /proc/<pid>/fd/<n>      the link reads "/dmabuf:<name>" for a buffer;
 *                           stat() gives its inode number and size
 *   /proc/<pid>/fdinfo/<n>  size, exp_name and name of the buffer
 *   /proc/<pid>/maps        mappings of "/dmabuf:<name>", by inode
 *   debugfs dma_buf/bufinfo every buffer, with its attached devices (root,
 *                           debugfs mounted); without it, buffers only
 *                           the kernel holds are not listed and devices
 *                           show as unknown
 *
 * Usage: lsdmabuf [-j]. -j prints JSON: one object with "buffers" and
 * "processes" arrays, one buffer or process per line.
 *
 * Build: make -C tools/dma-buf (a static program).
 */

#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUFINFO		"/sys/kernel/debug/dma_buf/bufinfo"
#define LINK_PREFIX	"/dmabuf:"
#define MAX_FDS		16	/* listed per holder; more are counted */

struct holder {
	int pid;
	unsigned int n_fds, n_maps;
	int fds[MAX_FDS];
	struct holder *next;
};

struct buffer {
	unsigned long ino;
	long long size;		/* -1: unknown */
	char exporter[64];
	char name[64];
	bool devices_known;	/* from bufinfo */
	char **devices;
	unsigned int n_devices;
	struct holder *holders;	/* by pid, ascending */
	struct buffer *next;
};

struct process {
	int pid;
	char comm[32];
	unsigned int n_buffers;
	long long bytes;
	bool size_unknown;
	struct process *next;
};

static struct buffer *buffers;
static bool have_bufinfo;

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p) {
		perror("lsdmabuf");
		exit(1);
	}
	return p;
}

static struct buffer *find_buffer(unsigned long ino, bool create)
{
	struct buffer **pp, *b;

	for (pp = &buffers; *pp && (*pp)->ino < ino; pp = &(*pp)->next)
		;
	if (*pp && (*pp)->ino == ino)
		return *pp;
	if (!create)
		return NULL;
	b = xcalloc(1, sizeof(*b));
	b->ino = ino;
	b->size = -1;
	b->next = *pp;
	*pp = b;
	return b;
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

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

static void copy_field(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
	trim(dst);
}

/*
 * bufinfo: "size\tflags\tcount\texp_name\tino\tname" per buffer, fields
 * padded with spaces, then "\tattached: <driver> <device>" lines.
 */
static void read_bufinfo(void)
{
	char line[512], *field[6], *p;
	struct buffer *b = NULL;
	unsigned int i;
	FILE *f = fopen(BUFINFO, "r");

	if (!f)
		return;
	have_bufinfo = true;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\t') {
			if (b && !strncmp(line, "\tattached: ", 11)) {
				b->devices = realloc(b->devices,
						     (b->n_devices + 1) * sizeof(char *));
				if (!b->devices)
					exit(1);
				b->devices[b->n_devices++] = strdup(line + 11);
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
		if (i < 6 || !isdigit((unsigned char)field[0][0]))
			continue;
		b = find_buffer(strtoul(field[4], NULL, 10), true);
		b->size = strtoll(field[0], NULL, 10);
		copy_field(b->exporter, sizeof(b->exporter), field[3]);
		copy_field(b->name, sizeof(b->name), field[5]);
		b->devices_known = true;
	}
	fclose(f);
}

static void read_fdinfo(int pid, int fd, struct buffer *b)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "size:\t", 6))
			b->size = strtoll(line + 6, NULL, 10);
		else if (!strncmp(line, "exp_name:\t", 10))
			copy_field(b->exporter, sizeof(b->exporter), line + 10);
		else if (!strncmp(line, "name:\t", 6))
			copy_field(b->name, sizeof(b->name), line + 6);
	}
	fclose(f);
}

static void scan_fds(int pid)
{
	char path[64], target[128];
	struct holder *h;
	struct buffer *b;
	struct dirent *d;
	struct stat st;
	ssize_t n;
	DIR *dir;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		fd = atoi(d->d_name);
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, LINK_PREFIX, strlen(LINK_PREFIX)) ||
		    stat(path, &st))
			continue;
		b = find_buffer(st.st_ino, true);
		if (b->size < 0)
			b->size = st.st_size;
		if (!b->exporter[0])
			read_fdinfo(pid, fd, b);
		h = find_holder(b, pid);
		if (h->n_fds < MAX_FDS)
			h->fds[h->n_fds] = fd;
		h->n_fds++;
	}
	closedir(dir);
}

/* "start-end perms offset dev inode /dmabuf:name" */
static void scan_maps(int pid)
{
	unsigned long long start, end;
	char path[64], line[512];
	unsigned long ino;
	struct buffer *b;
	int pos;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		pos = 0;
		if (sscanf(line, "%llx-%llx %*s %*s %*s %lu %n", &start, &end,
			   &ino, &pos) < 3 || !pos ||
		    strncmp(line + pos, LINK_PREFIX, strlen(LINK_PREFIX)))
			continue;
		b = find_buffer(ino, true);
		if (!b->name[0]) {
			copy_field(b->name, sizeof(b->name),
				   line + pos + strlen(LINK_PREFIX));
		}
		find_holder(b, pid)->n_maps++;
	}
	fclose(f);
}

static void comm_of(int pid, char *comm, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	snprintf(comm, size, "?");
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(comm, size, f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
}

static struct process *tally(void)
{
	struct process *procs = NULL, **pp, *p;
	struct buffer *b;
	struct holder *h;

	for (b = buffers; b; b = b->next)
		for (h = b->holders; h; h = h->next) {
			for (pp = &procs; *pp && (*pp)->pid < h->pid;
			     pp = &(*pp)->next)
				;
			p = *pp;
			if (!p || p->pid != h->pid) {
				p = xcalloc(1, sizeof(*p));
				p->pid = h->pid;
				comm_of(p->pid, p->comm, sizeof(p->comm));
				p->next = *pp;
				*pp = p;
			}
			p->n_buffers++;
			if (b->size < 0)
				p->size_unknown = true;
			else
				p->bytes += b->size;
		}
	return procs;
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void print_json(struct process *procs)
{
	struct process *p;
	struct buffer *b;
	struct holder *h;
	unsigned int i;

	printf("{\"buffers\":[\n");
	for (b = buffers; b; b = b->next) {
		printf("{\"inode\":%lu,\"size\":%lld,\"exporter\":", b->ino,
		       b->size);
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
	for (p = procs; p; p = p->next) {
		printf("{\"pid\":%d,\"command\":", p->pid);
		json_string(p->comm);
		printf(",\"buffers\":%u,\"bytes\":%lld}%s\n", p->n_buffers,
		       p->size_unknown ? -1LL : p->bytes, p->next ? "," : "");
	}
	printf("]}\n");
}

static void print_text(struct process *procs)
{
	long long total = 0;
	unsigned int n = 0, i;
	struct process *p;
	struct buffer *b;
	struct holder *h;
	char size[32];

	for (b = buffers; b; b = b->next) {
		if (b->size < 0)
			snprintf(size, sizeof(size), "? bytes");
		else
			snprintf(size, sizeof(size), "%lld bytes", b->size);
		printf("inode %lu: %s, exporter %s, name \"%s\"\n", b->ino, size,
		       b->exporter[0] ? b->exporter : "?", b->name);
		if (!b->devices_known)
			printf("  attached: unknown (needs %s)\n", BUFINFO);
		for (i = 0; i < b->n_devices; i++)
			printf("  attached: %s\n", b->devices[i]);
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
	for (p = procs; p; p = p->next) {
		if (p->size_unknown)
			snprintf(size, sizeof(size), "?");
		else
			snprintf(size, sizeof(size), "%lld", p->bytes);
		printf("%-8d %-16s %8u %12s\n", p->pid, p->comm, p->n_buffers,
		       size);
	}
	printf("total: %u buffer%s, %lld bytes%s\n", n, n == 1 ? "" : "s",
	       total, have_bufinfo ? "" :
	       " (only buffers a process holds: no debugfs listing)");
}

int main(int argc, char **argv)
{
	bool json = false;
	struct dirent *d;
	DIR *proc;
	int opt;

	while ((opt = getopt(argc, argv, "jh")) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-j]\n", argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}

	read_bufinfo();
	proc = opendir("/proc");
	if (!proc) {
		perror("lsdmabuf: /proc");
		return 1;
	}
	while ((d = readdir(proc))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		scan_fds(atoi(d->d_name));
		scan_maps(atoi(d->d_name));
	}
	closedir(proc);

	if (json)
		print_json(tally());
	else
		print_text(tally());
	return 0;
}
