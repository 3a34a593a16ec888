#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <sodium.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "age.h"
#include "archiver.h"
#include "clock.h"
#include "fsutil.h"
#include "hashes.h"
#include "json.h"
#include "log.h"
#include "swap.h"
#include "zsink.h"

#define READ_CHUNK (1u << 20)
#define PROGRESS_STEP (8u << 20)

struct entry {
	char *rel;
	struct stat st;
	long link_to;          /* index of the first path of a hard-link group */
};

struct walk {
	struct entry *v;
	size_t n, cap;
	char *const *exclude;
	size_t n_exclude;
	uint64_t bytes;
	uint64_t skipped;
	/* (dev, ino) → first entry, for files with several links */
	long *links;
	size_t links_cap;
	/* Symbolic links that resolve outside the data directory. */
	int rootfd;                     /* the data directory */
	char root_real[PATH_MAX];       /* its real path */
	int keep_outside;               /* archive them as links, warning */
	json_t *warnings;               /* strings, for the metadata */
	struct err *e;
};

/* A symbolic link at rel (below the data directory): when it resolves to
 * a directory outside the data directory (geth/chaindata -> /elsewhere),
 * that tree would be missing from the archive. Then fail naming it, or
 * (keep_outside) record a warning and archive the link itself. A link
 * inside, one to a file (a key mounted from a Secret, say), or one that
 * resolves to nothing is archived as a link. */
static int
check_link(struct walk *w, const char *rel)
{
	char via[PATH_MAX + 64], real[PATH_MAX], msg[PATH_MAX * 2 + 200];
	struct stat st;
	size_t n = strlen(w->root_real);

	/* The link as the kernel resolves it from the open data directory. */
	snprintf(via, sizeof via, "/proc/self/fd/%d/%s", w->rootfd, rel);
	if (!realpath(via, real) || stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;   /* dangling, a loop, or not a directory */
	if (strncmp(real, w->root_real, n) == 0 &&
	    (real[n] == '\0' || real[n] == '/' || n == 1))
		return 0;
	snprintf(msg, sizeof msg, "%s is a symbolic link to the directory %s, "
	    "outside the data directory: its content is not in the backup", rel,
	    real);
	if (!w->keep_outside)
		return err_set(w->e, ERR_FAILED, "%s (set [archive] outside_links "
		    "= keep to archive the link itself)", msg);
	log_warn("archive_outside_link", "path=%s target=%s", logq(rel),
	    logq(real));
	json_array_append_new(w->warnings, json_string(msg));
	return 0;
}

static void
walk_free(struct walk *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i].rel);
	free(w->v);
	free(w->links);
	json_decref(w->warnings);
}

static int
excluded(const struct walk *w, const char *rel)
{
	if (strcmp(rel, DATADIR_AGENT) == 0)
		return 1;
	for (size_t i = 0; i < w->n_exclude; i++)
		if (fnmatch(w->exclude[i], rel, FNM_PATHNAME) == 0)
			return 1;
	return 0;
}

static long
link_lookup(struct walk *w, const struct stat *st, long idx)
{
	size_t mask, h;

	if (w->links_cap == 0 || (w->links_cap * 3) / 4 <= w->n) {
		/* Grow and rehash every earlier multi-link file. */
		size_t cap = w->links_cap ? w->links_cap * 2 : 1024;
		while ((cap * 3) / 4 <= w->n)
			cap *= 2;
		long *nl = malloc(cap * sizeof *nl);
		if (!nl)
			return -2;
		for (size_t i = 0; i < cap; i++)
			nl[i] = -1;
		for (size_t i = 0; i < w->links_cap; i++) {
			long j = w->links[i];
			if (j < 0)
				continue;
			const struct stat *s = &w->v[j].st;
			h = ((size_t)s->st_ino * 0x9E3779B97F4A7C15ull ^
			    (size_t)s->st_dev) & (cap - 1);
			while (nl[h] >= 0)
				h = (h + 1) & (cap - 1);
			nl[h] = j;
		}
		free(w->links);
		w->links = nl;
		w->links_cap = cap;
	}
	mask = w->links_cap - 1;
	h = ((size_t)st->st_ino * 0x9E3779B97F4A7C15ull ^ (size_t)st->st_dev) &
	    mask;
	while (w->links[h] >= 0) {
		const struct stat *s = &w->v[w->links[h]].st;
		if (s->st_ino == st->st_ino && s->st_dev == st->st_dev)
			return w->links[h];
		h = (h + 1) & mask;
	}
	w->links[h] = idx;
	return -1;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
walk_dir(struct walk *w, int dirfd, const char *prefix)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = fdopendir(dirfd);
	int rc = -1;

	if (!d) {
		close(dirfd);
		return err_sys(w->e, ERR_FAILED, "open directory %s",
		    prefix[0] ? prefix : ".");
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof *nn);
			if (!nn)
				goto oom;
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name)))
			goto oom;
		n++;
	}
	if (n > 1)   /* a stable archive order */
		qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct entry ent;
		size_t plen = strlen(prefix);
		char *rel = malloc(plen + strlen(names[i]) + 2);

		if (!rel)
			goto oom;
		sprintf(rel, "%s%s%s", prefix, plen ? "/" : "", names[i]);
		if (excluded(w, rel)) {
			free(rel);
			continue;
		}
		memset(&ent, 0, sizeof ent);
		ent.rel = rel;
		ent.link_to = -1;
		if (fstatat(dirfd, names[i], &ent.st, AT_SYMLINK_NOFOLLOW) < 0) {
			err_sys(w->e, ERR_FAILED, "stat %s", rel);
			free(rel);
			goto out;
		}
		if (S_ISLNK(ent.st.st_mode) && check_link(w, rel) < 0) {
			free(rel);
			goto out;
		}
		if (!S_ISREG(ent.st.st_mode) && !S_ISDIR(ent.st.st_mode) &&
		    !S_ISLNK(ent.st.st_mode)) {
			log_warn("archive_skip", "path=%s reason=%s", logq(rel),
			    S_ISSOCK(ent.st.st_mode) ? "socket" :
			    S_ISFIFO(ent.st.st_mode) ? "fifo" : "device");
			w->skipped++;
			free(rel);
			continue;
		}
		if (w->n == w->cap) {
			size_t ncap = w->cap ? w->cap * 2 : 1024;
			struct entry *nv = realloc(w->v, ncap * sizeof *nv);
			if (!nv) {
				free(rel);
				goto oom;
			}
			w->v = nv;
			w->cap = ncap;
		}
		if (S_ISREG(ent.st.st_mode) && ent.st.st_nlink > 1) {
			long first = link_lookup(w, &ent.st, (long)w->n);
			if (first == -2) {
				free(rel);
				goto oom;
			}
			ent.link_to = first;
		}
		if (S_ISREG(ent.st.st_mode) && ent.link_to < 0)
			w->bytes += (uint64_t)ent.st.st_size;
		w->v[w->n++] = ent;
		if (S_ISDIR(ent.st.st_mode)) {
			int sub = openat(dirfd, names[i], O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				err_sys(w->e, ERR_FAILED, "open directory %s", rel);
				goto out;
			}
			if (walk_dir(w, sub, rel) < 0)
				goto out;
		}
	}
	rc = 0;
	goto out;
oom:
	err_set(w->e, ERR_FAILED, "out of memory while listing %s",
	    prefix[0] ? prefix : ".");
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

/* libarchive's output, straight into the zstd sink. */
struct out_ctx {
	struct zsink *z;
	struct err *e;
	int failed;
};

static la_ssize_t
write_cb(struct archive *a, void *ctx, const void *buf, size_t len)
{
	struct out_ctx *oc = ctx;

	if (oc->failed || zsink_write(oc->z, buf, len, oc->e) < 0) {
		oc->failed = 1;
		archive_set_error(a, EIO, "%s", oc->e->msg);
		return -1;
	}
	return (la_ssize_t)len;
}

static int
changed(const struct stat *a, const struct stat *b)
{
	return a->st_size != b->st_size || a->st_ino != b->st_ino ||
	    a->st_mtim.tv_sec != b->st_mtim.tv_sec ||
	    a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

static int
changed_error(struct err *e, const char *rel, const char *how)
{
	return err_set(e, ERR_FAILED, "%s %s while it was read: is the node "
	    "stopped?", rel, how);
}

/* JSON needs UTF-8: other names are kept as hex in "path_hex". */
static int
json_set_path(json_t *obj, const char *key, const char *path)
{
	json_t *s = json_string(path);
	char keyhex[32];

	if (s)
		return json_object_set_new(obj, key, s);
	size_t n = strlen(path);
	char *hex = malloc(2 * n + 1);
	if (!hex)
		return -1;
	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)path[i]);
	snprintf(keyhex, sizeof keyhex, "%s_hex", key);
	int rc = json_object_set_new(obj, keyhex, json_string(hex));
	free(hex);
	return rc;
}

struct writer {
	const struct archive_opts *o;
	const struct walk *wk;
	struct archive *a;
	struct archive_entry *ae;
	struct filehash *fh;
	struct sha256 *keysha;
	char *buf;
	int rootfd;
	struct progress prog;
	uint64_t next_report;
	json_t *entries;
	json_t *node_key;
	/* The entry whose data is the node key's content: the key itself,
	 * or the first name of its hard-link group; -1: none. */
	long key_src;
	int keyed;                      /* encrypted: keyed per-file hashes */
	unsigned char hash_key[FILEHASH_KEY_SIZE];
	struct err *e;
};

static void
report(struct writer *w, int force)
{
	if (!w->o->progress)
		return;
	if (!force && w->prog.bytes_done < w->next_report)
		return;
	w->next_report = w->prog.bytes_done + PROGRESS_STEP;
	w->o->progress(&w->prog, w->o->progress_arg);
}

static int
archive_fail(struct writer *w, const char *what, const char *rel)
{
	if (w->e->code != ERR_OK && w->e->msg[0])
		return -1;   /* the sink already said why */
	return err_set(w->e, ERR_FAILED, "%s %s: %s", what, rel,
	    archive_error_string(w->a) ? archive_error_string(w->a) : "error");
}

static int
write_file_data(struct writer *w, const struct entry *ent, json_t *je)
{
	struct stat st;
	uint64_t left = (uint64_t)ent->st.st_size;
	int is_key = w->key_src >= 0 && ent == &w->wk->v[w->key_src];
	char hash[FILEHASH_STR_LEN + 1];
	int fd;

	/* O_NONBLOCK: a FIFO put in the file's place since the walk must not
	 * block; the fstat below sees that it is no longer the file. */
	fd = openat(w->rootfd, ent->rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(w->rootfd, ent->rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
		    O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return changed_error(w->e, ent->rel, "disappeared");
		return err_sys(w->e, ERR_FAILED, "open %s", ent->rel);
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    changed(&st, &ent->st)) {
		close(fd);
		return changed_error(w->e, ent->rel, "changed");
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	filehash_reset(w->fh);
	for (;;) {
		size_t want = left < READ_CHUNK ? (size_t)left : READ_CHUNK;
		ssize_t n;

		if (want == 0)
			want = 1;   /* expect end of file */
		n = read(fd, w->buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_sys(w->e, ERR_FAILED, "read %s", ent->rel);
			close(fd);
			return -1;
		}
		if (n == 0) {
			if (left != 0) {
				close(fd);
				return changed_error(w->e, ent->rel, "shrank");
			}
			break;
		}
		if ((uint64_t)n > left) {
			close(fd);
			return changed_error(w->e, ent->rel, "grew");
		}
		filehash_update(w->fh, w->buf, (size_t)n);
		if (is_key)
			sha256_update(w->keysha, w->buf, (size_t)n);
		if (archive_write_data(w->a, w->buf, (size_t)n) != n) {
			close(fd);
			return archive_fail(w, "write data of", ent->rel);
		}
		left -= (uint64_t)n;
		w->prog.bytes_done += (uint64_t)n;
		report(w, 0);
		if (w->o->cancel && *w->o->cancel) {
			close(fd);
			return err_set(w->e, ERR_FAILED, "cancelled");
		}
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    changed(&st, &ent->st)) {
		close(fd);
		return changed_error(w->e, ent->rel, "changed");
	}
	close(fd);
	filehash_final(w->fh, hash);
	if (w->keyed) {
		char keyed[KEYED_HASH_STR_LEN + 1];
		if (filehash_keyed(w->hash_key, hash, keyed) < 0)
			return err_set(w->e, ERR_FAILED, "HMAC-SHA-256 failed");
		json_object_set_new(je, "hash", json_string(keyed));
	} else {
		json_object_set_new(je, "hash", json_string(hash));
	}
	if (is_key) {
		char hex[SHA256_HEX_LEN + 1];
		sha256_final_hex(w->keysha, hex);
		w->node_key = json_pack("{s:s, s:s}", "path", w->o->node_key,
		    "sha256", hex);
	}
	return 0;
}

static int
write_entry(struct writer *w, const struct walk *wk, const struct entry *ent)
{
	const struct stat *st = &ent->st;
	json_t *je = json_object();
	const char *type;
	int r;

	if (!je)
		return err_set(w->e, ERR_FAILED, "out of memory");
	archive_entry_clear(w->ae);
	archive_entry_copy_pathname(w->ae, ent->rel);
	archive_entry_set_perm(w->ae, st->st_mode & 07777);
	archive_entry_set_uid(w->ae, st->st_uid);
	archive_entry_set_gid(w->ae, st->st_gid);
	archive_entry_set_mtime(w->ae, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	json_set_path(je, "path", ent->rel);
	if (S_ISDIR(st->st_mode)) {
		type = "dir";
		archive_entry_set_filetype(w->ae, AE_IFDIR);
		archive_entry_set_size(w->ae, 0);
	} else if (S_ISLNK(st->st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(w->rootfd, ent->rel, target,
		    sizeof target - 1);
		if (n < 0) {
			json_decref(je);
			if (errno == ENOENT)
				return changed_error(w->e, ent->rel, "disappeared");
			return err_sys(w->e, ERR_FAILED, "readlink %s", ent->rel);
		}
		target[n] = '\0';
		type = "symlink";
		archive_entry_set_filetype(w->ae, AE_IFLNK);
		archive_entry_set_size(w->ae, 0);
		archive_entry_copy_symlink(w->ae, target);
		json_set_path(je, "target", target);
	} else if (ent->link_to >= 0) {
		type = "hardlink";
		archive_entry_set_filetype(w->ae, AE_IFREG);
		archive_entry_set_size(w->ae, 0);
		archive_entry_copy_hardlink(w->ae, wk->v[ent->link_to].rel);
		json_set_path(je, "target", wk->v[ent->link_to].rel);
	} else {
		type = "file";
		archive_entry_set_filetype(w->ae, AE_IFREG);
		archive_entry_set_size(w->ae, st->st_size);
		json_object_set_new(je, "size", json_integer(st->st_size));
	}
	json_object_set_new(je, "type", json_string(type));
	json_object_set_new(je, "mode", json_integer(st->st_mode & 07777));
	r = archive_write_header(w->a, w->ae);
	if (r < ARCHIVE_WARN) {
		json_decref(je);
		return archive_fail(w, "write header of", ent->rel);
	}
	if (r == ARCHIVE_WARN)
		log_warn("archive_header", "path=%s warning=%s", logq(ent->rel),
		    logq(archive_error_string(w->a)));
	if (strcmp(type, "file") == 0 && write_file_data(w, ent, je) < 0) {
		json_decref(je);
		return -1;
	}
	if (archive_write_finish_entry(w->a) < ARCHIVE_WARN) {
		json_decref(je);
		return archive_fail(w, "finish", ent->rel);
	}
	json_array_append_new(w->entries, je);
	w->prog.files_done++;
	report(w, 0);
	return 0;
}

/* Space needed on the backup volume: the content at the ratio of the last
 * backup plus 10 %, or the content itself (zstd never grows data by more
 * than a few bytes per block) when there is no earlier backup. */
static uint64_t
space_needed(const struct store *s, uint64_t bytes, uint64_t files)
{
	struct backup_info last;
	struct err ignored;
	uint64_t need = bytes + bytes / 100;

	if (store_find(s, "latest", &last, &ignored) == 0 && !last.legacy &&
	    last.bytes > 0) {
		double ratio = (double)last.size / (double)last.bytes;
		if (ratio < 1.0)
			need = (uint64_t)((double)bytes * ratio * 1.10);
	}
	return need + files * 512 + (1u << 20);
}

/* The tree below rootfd into wk, then the room for its archive on the
 * backup volume. 0, or -1 with e. */
static int
walk_tree(const struct archive_opts *o, struct walk *wk, int rootfd,
    struct err *e)
{
	uint64_t free_bytes, need;
	int dupfd;

	wk->exclude = o->exclude;
	wk->n_exclude = o->n_exclude;
	wk->e = e;
	wk->rootfd = rootfd;
	wk->keep_outside = o->keep_outside_links;
	if (!(wk->warnings = json_array()))
		return err_set(e, ERR_FAILED, "out of memory");
	if (!realpath(o->data_dir, wk->root_real))
		return err_sys(e, ERR_FAILED, "data directory %s", o->data_dir);
	if ((dupfd = dup(rootfd)) < 0)
		return err_sys(e, ERR_FAILED, "dup");
	if (walk_dir(wk, dupfd, "") < 0)
		return -1;
	if (fs_free_bytes(o->store->dir, &free_bytes, e) < 0)
		return -1;
	need = space_needed(o->store, wk->bytes, wk->n);
	if (free_bytes < need)
		return err_set(e, ERR_NO_SPACE, "backup volume %s has %llu bytes "
		    "free, the archive needs about %llu", o->store->dir,
		    (unsigned long long)free_bytes, (unsigned long long)need);
	return 0;
}

/* The writer over the zstd sink on fd: pax, no blocking. 0, or -1 with e
 * (what was made is freed by writer_free). */
static int
writer_open(struct writer *w, struct out_ctx *oc,
    const struct archive_opts *o, const struct walk *wk, int rootfd, int fd,
    struct err *e)
{
	oc->e = e;
	if (!(oc->z = zsink_new(fd, o->level, o->threads, o->recipients,
	    o->n_recipients, e)))
		return -1;
	if (o->n_recipients > 0) {
		w->keyed = 1;
		randombytes_buf(w->hash_key, sizeof w->hash_key);
	}
	w->buf = malloc(READ_CHUNK);
	w->fh = filehash_new();
	w->keysha = sha256_new();
	w->entries = json_array();
	w->ae = archive_entry_new();
	w->a = archive_write_new();
	if (!w->buf || !w->fh || !w->keysha || !w->entries || !w->ae || !w->a)
		return err_set(e, ERR_FAILED, "out of memory");
	w->o = o;
	w->wk = wk;
	w->e = e;
	w->rootfd = rootfd;
	w->key_src = -1;
	for (size_t i = 0; o->node_key && o->node_key[0] && i < wk->n; i++)
		if (S_ISREG(wk->v[i].st.st_mode) &&
		    strcmp(wk->v[i].rel, o->node_key) == 0)
			w->key_src = wk->v[i].link_to >= 0 ? wk->v[i].link_to :
			    (long)i;
	w->prog.bytes_total = wk->bytes;
	w->prog.files_total = wk->n;
	if (archive_write_set_format_pax(w->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(w->a, 0) != ARCHIVE_OK ||
	    archive_write_open2(w->a, oc, NULL, write_cb, NULL, NULL) !=
	    ARCHIVE_OK)
		return err_set(e, ERR_FAILED, "libarchive: %s",
		    archive_error_string(w->a));
	return 0;
}

/* The manifest of a keyed backup, the archive's first entry: the key of
 * its per-file hashes. 0, or -1 with e. */
static int
write_manifest(struct writer *w, const char *id)
{
	char hex[2 * FILEHASH_KEY_SIZE + 1], text[ARCHIVE_MANIFEST_MAX];
	int n;

	sodium_bin2hex(hex, sizeof hex, w->hash_key, sizeof w->hash_key);
	n = snprintf(text, sizeof text, "{\"format\": 1, \"backup\": \"%s\", "
	    "\"hash_key\": \"%s\"}\n", id, hex);
	sodium_memzero(hex, sizeof hex);
	archive_entry_clear(w->ae);
	archive_entry_copy_pathname(w->ae, ARCHIVE_MANIFEST);
	archive_entry_set_filetype(w->ae, AE_IFREG);
	archive_entry_set_perm(w->ae, 0600);
	archive_entry_set_mtime(w->ae, time(NULL), 0);
	archive_entry_set_size(w->ae, n);
	if (archive_write_header(w->a, w->ae) < ARCHIVE_WARN ||
	    archive_write_data(w->a, text, (size_t)n) != n ||
	    archive_write_finish_entry(w->a) < ARCHIVE_WARN) {
		sodium_memzero(text, sizeof text);
		return archive_fail(w, "write", ARCHIVE_MANIFEST);
	}
	sodium_memzero(text, sizeof text);
	return 0;
}

/* The manifest (keyed backups), every entry the walk found, then the tar
 * trailer and the end of the zstd stream: r's sha256 and size. 0, or -1
 * with e. */
static int
write_entries(struct writer *w, struct out_ctx *oc, struct walk *wk,
    struct archive_result *r, struct err *e)
{
	report(w, 1);
	if (w->keyed && write_manifest(w, r->id) < 0)
		return -1;
	for (size_t i = 0; i < wk->n; i++) {
		if (w->o->cancel && *w->o->cancel)
			return err_set(e, ERR_FAILED, "cancelled");
		if (write_entry(w, wk, &wk->v[i]) < 0)
			return -1;
	}
	if (archive_write_close(w->a) != ARCHIVE_OK)
		return archive_fail(w, "close", "archive");
	return zsink_finish(oc->z, r->sha256, &r->size, e);
}

/* The names of one archive in member<N>/: while partial_name is not "",
 * a failure removes that file. */
struct archive_names {
	char partial_name[STORE_ID_MAX + 32], final_name[STORE_ID_MAX + 32];
	char partial_path[4352], final_path[4352];
};

/* The partial archive on fd made durable under its final name; from then
 * on, until the metadata is written, a failure removes the archive. fd is
 * closed (*fd = -1) whatever happens. 0, or -1 with e. */
static int
archive_publish(const struct store *s, int *fd, struct archive_names *an,
    struct err *e)
{
	int rc;

	swap_crashpoint("archive-written");
	if (fsync(*fd) < 0) {
		err_sys(e, ERR_FAILED, "fsync %s", an->partial_path);
		return -1;
	}
	rc = close(*fd);
	*fd = -1;
	if (rc < 0)
		return err_sys(e, ERR_FAILED, "close %s", an->partial_path);
	if (renameat(s->dirfd, an->partial_name, s->dirfd, an->final_name) < 0)
		return err_sys(e, ERR_FAILED, "rename %s", an->partial_path);
	snprintf(an->partial_path, sizeof an->partial_path, "%s",
	    an->final_path);
	snprintf(an->partial_name, sizeof an->partial_name, "%s",
	    an->final_name);
	if (fsync(s->dirfd) < 0)
		return err_sys(e, ERR_FAILED, "fsync %s", s->dir);
	swap_crashpoint("archive-renamed");
	return 0;
}

/* <ID>.json, written last: what makes the backup complete. The node key
 * moves from w into it. 0, or -1 with e. */
static int
write_metadata(const struct archive_opts *o, const struct archive_result *r,
    struct writer *w, const struct walk *wk, time_t start, struct err *e)
{
	char created[32], finished[32], name[STORE_ID_MAX + 32];
	char meta_path[4352];
	json_t *meta, *fps;
	int rc;

	store_format_time(start, created, sizeof created);
	store_format_time(time(NULL), finished, sizeof finished);
	snprintf(name, sizeof name, "%s.tar.zst%s", r->id,
	    r->encrypted ? ".age" : "");
	meta = json_pack("{s:i, s:s, s:I, s:s, s:s, s:f, s:{s:s, s:I, s:s, "
	    "s:s, s:s, s:i}, s:I, s:I, s:I, s:s, s:s}",
	    "format", 1, "id", r->id, "member", (json_int_t)o->store->member,
	    "created", created, "finished", finished,
	    "duration_seconds", r->seconds,
	    "archive", "file", name, "size", (json_int_t)r->size,
	    "sha256", r->sha256, "format", "pax", "compression", "zstd",
	    "level", o->level,
	    "bytes", (json_int_t)r->bytes, "files", (json_int_t)r->files,
	    "skipped", (json_int_t)r->skipped, "file_hash",
	    w->keyed ? FILE_HASH_KEYED_ALGO : FILE_HASH_ALGO,
	    "agent_version", PACKAGE_VERSION);
	if (!meta)
		return err_set(e, ERR_FAILED, "cannot build metadata");
	/* Stanzas do not name their recipient: the fingerprints do. */
	json_object_set_new(meta, "encrypted", json_boolean(r->encrypted));
	if (r->encrypted) {
		fps = json_array();
		for (size_t i = 0; i < o->n_recipients; i++) {
			char fp[AGE_FINGERPRINT_LEN + 1];
			age_recipient_fingerprint(&o->recipients[i], fp);
			json_array_append_new(fps, json_string(fp));
		}
		json_object_set_new(meta, "encryption", json_pack("{s:s, s:o}",
		    "format", "age-encryption.org/v1", "recipients", fps));
		json_object_set_new(json_object_get(meta, "archive"),
		    "encryption", json_string("age"));
	}
	json_object_set(meta, "node", o->node_facts ? o->node_facts :
	    json_null());
	json_object_set_new(meta, "node_key", w->node_key ? w->node_key :
	    json_null());
	w->node_key = NULL;
	json_object_set(meta, "warnings", wk->warnings);
	json_object_set(meta, "entries", w->entries);
	snprintf(name, sizeof name, "%s.json", r->id);
	fs_join(meta_path, sizeof meta_path, o->store->dir, name);
	rc = json_write_fileat(o->store->dirfd, name, meta_path, meta, 0600, e);
	json_decref(meta);
	return rc;
}

/* What the writer holds. failed: the archive is abandoned. Free the
 * writer before closing its fd: freeing an unclosed writer writes the tar
 * trailer, which a failed sink must swallow. */
static void
writer_free(struct writer *w, struct out_ctx *oc, int failed)
{
	if (failed)
		oc->failed = 1;
	if (w->a) {
		/* libarchive 3.6 frees its output buffer in close, and its
		 * free skips the close once a write failed (FATAL state):
		 * close explicitly, which it allows in that state. */
		if (failed)
			archive_write_close(w->a);
		archive_write_free(w->a);
	}
	archive_entry_free(w->ae);
	json_decref(w->entries);
	json_decref(w->node_key);
	sodium_memzero(w->hash_key, sizeof w->hash_key);
	filehash_free(w->fh);
	sha256_free(w->keysha);
	free(w->buf);
}

int
archive_create(const struct archive_opts *o, struct archive_result *r,
    struct err *e)
{
	struct walk wk;
	struct writer w;
	struct out_ctx oc;
	struct archive_names an;
	double t0 = qb_mono_now();
	time_t start = time(NULL);
	int fd = -1, rc = -1, rootfd;

	memset(r, 0, sizeof *r);
	memset(&wk, 0, sizeof wk);
	memset(&w, 0, sizeof w);
	memset(&oc, 0, sizeof oc);
	memset(&an, 0, sizeof an);
	rootfd = open(o->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return err_sys(e, ERR_FAILED, "data directory %s", o->data_dir);
	if (walk_tree(o, &wk, rootfd, e) < 0)
		goto out;
	if ((fd = store_reserve(o->store, start, r->id, sizeof r->id, e)) < 0)
		goto out;
	snprintf(an.partial_name, sizeof an.partial_name, "%s.tar.zst%s",
	    r->id, FS_PARTIAL_SUFFIX);
	fs_join(an.partial_path, sizeof an.partial_path, o->store->dir,
	    an.partial_name);
	r->encrypted = o->n_recipients > 0;
	snprintf(an.final_name, sizeof an.final_name, "%s.tar.zst%s", r->id,
	    r->encrypted ? ".age" : "");
	fs_join(an.final_path, sizeof an.final_path, o->store->dir,
	    an.final_name);
	log_info("archive_start", "id=%s data_dir=%s files=%zu bytes=%llu "
	    "level=%d threads=%d encrypted=%s", r->id, logq(o->data_dir), wk.n,
	    (unsigned long long)wk.bytes, o->level, o->threads,
	    r->encrypted ? "true" : "false");
	if (writer_open(&w, &oc, o, &wk, rootfd, fd, e) < 0 ||
	    write_entries(&w, &oc, &wk, r, e) < 0 ||
	    archive_publish(o->store, &fd, &an, e) < 0)
		goto out;
	r->bytes = wk.bytes;
	r->files = wk.n;
	r->skipped = wk.skipped;
	r->warnings = json_incref(wk.warnings);
	r->seconds = qb_mono_now() - t0;
	snprintf(r->archive_path, sizeof r->archive_path, "%s", an.final_path);
	if (write_metadata(o, r, &w, &wk, start, e) < 0)
		goto out;
	an.partial_name[0] = '\0';   /* complete: nothing to remove */
	swap_crashpoint("archive-complete");
	w.prog.bytes_done = w.prog.bytes_total;
	report(&w, 1);
	log_info("archive_done", "id=%s files=%llu bytes=%llu size=%llu "
	    "seconds=%.3f sha256=%s", r->id, (unsigned long long)r->files,
	    (unsigned long long)r->bytes, (unsigned long long)r->size,
	    r->seconds, r->sha256);
	rc = 0;
out:
	writer_free(&w, &oc, rc < 0);
	if (fd >= 0)
		close(fd);
	if (rc < 0 && an.partial_name[0]) {
		/* Interrupted or failed: leave nothing that looks like a backup. */
		unlinkat(o->store->dirfd, an.partial_name, 0);
		fsync(o->store->dirfd);
	}
	zsink_free(oc.z);
	walk_free(&wk);
	close(rootfd);
	return rc;
}
