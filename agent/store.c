#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "json.h"
#include "locks.h"
#include "log.h"
#include "store.h"

#define META_MAX (256u << 20)

int
store_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n < 16)
		return 0;
	for (size_t i = 0; i < 16; i++) {
		if (i == 8) {
			if (id[i] != 'T')
				return 0;
		} else if (i == 15) {
			if (id[i] != 'Z')
				return 0;
		} else if (!isdigit((unsigned char)id[i])) {
			return 0;
		}
	}
	if (n == 16)
		return 1;
	if (id[16] != '-' || n == 17 || n > 26)
		return 0;
	for (size_t i = 17; i < n; i++)
		if (!isdigit((unsigned char)id[i]))
			return 0;
	return 1;
}

int
store_legacy_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n <= 7 || n >= STORE_ID_MAX || strcmp(name + n - 7, ".tar.gz") != 0 ||
	    name[0] == '.')
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p == '/' || *p < ' ' || *p == 0x7f)
			return 0;
	return 1;
}

static time_t
id_time(const char *id)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	if (sscanf(id, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

void
store_format_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
store_open(struct store *s, const char *backup_dir, long long member,
    int create, struct err *e)
{
	char name[64];
	struct stat st;

	memset(s, 0, sizeof *s);
	s->lock_fd = -1;
	s->member = member;
	if (member <= 0)
		return err_set(e, ERR_CONFIG, "member is not set (use --member N "
		    "or 'member = N' in [agent])");
	snprintf(name, sizeof name, "member%lld", member);
	if (fs_join(s->dir, sizeof s->dir, backup_dir, name) < 0)
		return err_set(e, ERR_CONFIG, "backup_dir is too long");
	if (!create)
		return 0;
	if (stat(backup_dir, &st) < 0)
		return err_sys(e, ERR_FAILED, "backup directory %s", backup_dir);
	if (mkdir(s->dir, 0700) < 0 && errno != EEXIST)
		return err_sys(e, ERR_FAILED, "mkdir %s", s->dir);
	if (chmod(s->dir, 0700) < 0)
		log_warn("store_mode", "dir=%s error=%s", logq(s->dir),
		    logq(strerror(errno)));
	return 0;
}

int
store_lock(struct store *s, struct err *e)
{
	char path[4352];

	if (fs_join(path, sizeof path, s->dir, ".lock") < 0)
		return err_set(e, ERR_FAILED, "path too long");
	s->lock_fd = lock_exclusive(path, "another operation on this member's "
	    "backups", e);
	return s->lock_fd < 0 ? -1 : 0;
}

void
store_close(struct store *s)
{
	lock_release(s->lock_fd);
	s->lock_fd = -1;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int
fill_paths(const struct store *s, struct backup_info *b, const char *archive,
    const char *meta)
{
	if (fs_join(b->archive_path, sizeof b->archive_path, s->dir, archive) < 0)
		return -1;
	if (meta && fs_join(b->meta_path, sizeof b->meta_path, s->dir, meta) < 0)
		return -1;
	return 0;
}

static int
cmp_newest_first(const void *pa, const void *pb)
{
	const struct backup_info *a = pa, *b = pb;

	if (a->created != b->created)
		return a->created < b->created ? 1 : -1;
	/* Same second: "-10" after "-9", then by name. */
	size_t la = strlen(a->id), lb = strlen(b->id);
	if (la != lb)
		return la < lb ? 1 : -1;
	return -strcmp(a->id, b->id);
}

int
store_list(const struct store *s, struct backup_info **out, size_t *n,
    struct err *e)
{
	struct backup_info *list = NULL;
	size_t count = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*n = 0;
	d = opendir(s->dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return err_sys(e, ERR_FAILED, "open %s", s->dir);
	}
	while ((de = readdir(d)) != NULL) {
		struct backup_info b;
		struct stat st;
		char id[STORE_ID_MAX], archive[STORE_ID_MAX + 16];
		size_t len = strlen(de->d_name);

		memset(&b, 0, sizeof b);
		b.bytes = b.files = -1;
		if (ends_with(de->d_name, ".json") && len - 5 < sizeof id) {
			memcpy(id, de->d_name, len - 5);
			id[len - 5] = '\0';
			if (!store_id_valid(id))
				continue;
			snprintf(archive, sizeof archive, "%s.tar.zst", id);
			if (fill_paths(s, &b, archive, de->d_name) < 0 ||
			    stat(b.archive_path, &st) < 0 || !S_ISREG(st.st_mode))
				continue;   /* metadata without archive: not listed */
			snprintf(b.id, sizeof b.id, "%s", id);
			b.created = id_time(id);
			b.size = (uint64_t)st.st_size;
			struct err ignored;
			json_t *m = json_load_path(b.meta_path, META_MAX, &ignored);
			if (m) {
				b.bytes = json_get_u(m, "bytes");
				b.files = json_get_u(m, "files");
				json_decref(m);
			}
		} else if (store_legacy_name_valid(de->d_name)) {
			if (fill_paths(s, &b, de->d_name, NULL) < 0 ||
			    stat(b.archive_path, &st) < 0 || !S_ISREG(st.st_mode))
				continue;
			snprintf(b.id, sizeof b.id, "%s", de->d_name);
			b.legacy = 1;
			b.created = st.st_mtime;
			b.size = (uint64_t)st.st_size;
		} else {
			continue;
		}
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct backup_info *nl = realloc(list, ncap * sizeof *nl);
			if (!nl) {
				free(list);
				closedir(d);
				return err_set(e, ERR_FAILED, "out of memory");
			}
			list = nl;
			cap = ncap;
		}
		list[count++] = b;
	}
	closedir(d);
	if (count > 1)
		qsort(list, count, sizeof *list, cmp_newest_first);
	*out = list;
	*n = count;
	return 0;
}

int
store_find(const struct store *s, const char *id, struct backup_info *out,
    struct err *e)
{
	struct backup_info *list;
	size_t n;
	int latest = strcmp(id, "latest") == 0;

	if (!latest && !store_id_valid(id) && !store_legacy_name_valid(id))
		return err_set(e, ERR_BAD_REQUEST, "'%s' is not a backup id "
		    "(YYYYMMDDTHHMMSSZ, a legacy .tar.gz name, or latest)", id);
	if (store_list(s, &list, &n, e) < 0)
		return -1;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			int match = latest ? (pass == 1 || !list[i].legacy)
			    : strcmp(list[i].id, id) == 0;
			if (match) {
				*out = list[i];
				free(list);
				return 0;
			}
		}
	free(list);
	if (latest)
		return err_set(e, ERR_NOT_FOUND, "member %lld has no complete "
		    "backup in %s", s->member, s->dir);
	return err_set(e, ERR_NOT_FOUND, "backup %s of member %lld not found "
	    "in %s", id, s->member, s->dir);
}

json_t *
store_load_meta(const struct backup_info *b, struct err *e)
{
	err_clear(e);
	if (b->legacy)
		return NULL;
	return json_load_path(b->meta_path, META_MAX, e);
}

/* The highest suffix among files whose id has this base (1 for the bare
 * base, 0 for none), so that a new id always sorts after every earlier
 * one of the same second, even when some of those were deleted. */
static int
highest_suffix(const struct store *s, const char *base)
{
	size_t blen = strlen(base);
	struct dirent *de;
	int best = 0;
	DIR *d = opendir(s->dir);

	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		const char *rest = de->d_name + blen;
		int k = 1;
		if (strncmp(de->d_name, base, blen) != 0)
			continue;
		if (*rest == '-') {
			char *end;
			long v = strtol(rest + 1, &end, 10);
			if (end == rest + 1 || *end != '.' || v < 2 || v > 100000)
				continue;
			k = (int)v;
		} else if (*rest != '.') {
			continue;
		}
		if (k > best)
			best = k;
	}
	closedir(d);
	return best;
}

int
store_reserve(struct store *s, time_t t, char *id, size_t idsize,
    struct err *e)
{
	struct tm tm;
	char base[32];
	int first;

	gmtime_r(&t, &tm);
	strftime(base, sizeof base, "%Y%m%dT%H%M%SZ", &tm);
	first = highest_suffix(s, base) + 1;
	for (int k = first; k < first + 1000; k++) {
		char name[STORE_ID_MAX + 32], path[4352];
		int fd;

		if (k == 1)
			snprintf(id, idsize, "%s", base);
		else
			snprintf(id, idsize, "%s-%d", base, k);
		snprintf(name, sizeof name, "%s.tar.zst%s", id, FS_PARTIAL_SUFFIX);
		fs_join(path, sizeof path, s->dir, name);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return err_sys(e, ERR_FAILED, "create %s", path);
	}
	return err_set(e, ERR_FAILED, "no free backup id for %s in %s", base,
	    s->dir);
}

int
store_cleanup(struct store *s, struct err *e)
{
	struct dirent *de;
	int removed = 0;
	DIR *d = opendir(s->dir);

	if (!d)
		return errno == ENOENT ? 0 : err_sys(e, ERR_FAILED, "open %s",
		    s->dir);
	while ((de = readdir(d)) != NULL) {
		char path[4352], meta[STORE_ID_MAX + 8];
		int stale = 0;
		size_t len = strlen(de->d_name);

		if (ends_with(de->d_name, FS_PARTIAL_SUFFIX)) {
			stale = 1;
		} else if (ends_with(de->d_name, ".tar.zst") &&
		    len - 8 < STORE_ID_MAX) {
			struct stat st;
			char mp[4352], id[STORE_ID_MAX];
			snprintf(id, sizeof id, "%.*s", (int)(len - 8), de->d_name);
			if (!store_id_valid(id))
				continue;   /* not ours: leave it alone */
			snprintf(meta, sizeof meta, "%s.json", id);
			fs_join(mp, sizeof mp, s->dir, meta);
			stale = lstat(mp, &st) < 0 && errno == ENOENT;
		}
		if (!stale)
			continue;
		fs_join(path, sizeof path, s->dir, de->d_name);
		if (unlink(path) < 0 && errno != ENOENT) {
			err_sys(e, ERR_FAILED, "remove leftover %s", path);
			closedir(d);
			return -1;
		}
		log_info("leftover_removed", "path=%s", logq(path));
		removed++;
	}
	closedir(d);
	if (removed && fs_fsync_dir(s->dir, e) < 0)
		return -1;
	return removed;
}

void
store_retention_plan(const struct backup_info *list, size_t n,
    long long keep_last, long long keep_days, time_t now, int *del)
{
	long long rank = 0;
	int newest_seen = 0;

	for (size_t i = 0; i < n; i++) {
		int keep;

		del[i] = 0;
		if (list[i].legacy)
			continue;
		rank++;
		if (!newest_seen) {
			newest_seen = 1;   /* the newest complete backup stays */
			continue;
		}
		if (keep_last == 0 && keep_days == 0)
			continue;          /* retention off */
		keep = (keep_last > 0 && rank <= keep_last) ||
		    (keep_days > 0 && list[i].created > now - keep_days * 86400);
		del[i] = !keep;
	}
}

int
store_delete(struct store *s, const struct backup_info *b, struct err *e)
{
	(void)s;
	if (b->legacy) {
		if (unlink(b->archive_path) < 0 && errno != ENOENT)
			return err_sys(e, ERR_FAILED, "remove %s", b->archive_path);
	} else {
		/* Metadata first: from then on the backup is not complete. */
		if (unlink(b->meta_path) < 0 && errno != ENOENT)
			return err_sys(e, ERR_FAILED, "remove %s", b->meta_path);
		if (fs_fsync_parent(b->meta_path, e) < 0)
			return -1;
		if (unlink(b->archive_path) < 0 && errno != ENOENT)
			return err_sys(e, ERR_FAILED, "remove %s", b->archive_path);
	}
	return fs_fsync_parent(b->archive_path, e);
}
