/* store: one member's backups on the backup volume (see store.h; the
 * summary cache is in store_cache.c). */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "json.h"
#include "log.h"
#include "store.h"
#include "store_int.h"

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

time_t
store_id_time(const char *id)
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

/* ---- the member directory ------------------------------------------- */

/* member<N>/ for one call: the store's own descriptor while it holds the
 * lock, else opened here (*opened set: the caller closes it with
 * dir_done). ERR_NOT_FOUND when it does not exist; a link or anything but
 * a directory is refused. */
static int
dir_use(const struct store *s, int *opened, struct err *e)
{
	*opened = 0;
	if (s->lock_fd >= 0 && s->dirfd >= 0)
		return s->dirfd;
	*opened = 1;
	return fs_opendirat(AT_FDCWD, s->dir, s->dir, 0, e);
}

static void
dir_done(int dfd, int opened)
{
	if (opened && dfd >= 0)
		close(dfd);
}

/* A second descriptor of the directory for readdir, with its own offset
 * (a dup would share it with dfd and with every other reader). */
static DIR *
dir_read(const struct store *s, int dfd, struct err *e)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;

	if (fd < 0) {
		err_sys(e, ERR_FAILED, "open directory %s", s->dir);
		return NULL;
	}
	if (!(d = fdopendir(fd))) {
		err_sys(e, ERR_FAILED, "open directory %s", s->dir);
		close(fd);
	}
	return d;
}

void
store_member_name(long long member, char *buf, size_t size)
{
	snprintf(buf, size, "member%lld", member);
}

int
store_open(struct store *s, const char *backup_dir, long long member,
    int create, struct err *e)
{
	char name[64];
	struct stat st;
	int dfd;

	memset(s, 0, sizeof *s);
	s->lock_fd = -1;
	s->dirfd = -1;
	s->member = member;
	if (member <= 0)
		return err_set(e, ERR_CONFIG, "member is not set (use --member N "
		    "or 'member = N' in [agent])");
	store_member_name(member, name, sizeof name);
	if (fs_join(s->dir, sizeof s->dir, backup_dir, name) < 0)
		return err_set(e, ERR_CONFIG, "backup_dir is too long");
	if (!create)
		return 0;
	/* backup_dir is the operator's: it may be reached through links.
	 * member<N> below it may be written by others: it must not be one. */
	if (stat(backup_dir, &st) < 0)
		return err_sys(e, ERR_FAILED, "backup directory %s", backup_dir);
	if ((dfd = fs_opendirat(AT_FDCWD, s->dir, s->dir, 1, e)) < 0)
		return -1;
	if (fchmod(dfd, 0700) < 0)
		log_warn("store_mode", "dir=%s error=%s", logq(s->dir),
		    logq(strerror(errno)));
	close(dfd);
	return 0;
}

int
store_lock(struct store *s, struct err *e)
{
	char shown[4352];
	int dfd, fd;

	if (fs_join(shown, sizeof shown, s->dir, ".lock") < 0)
		return err_set(e, ERR_FAILED, "path too long");
	if ((dfd = fs_opendirat(AT_FDCWD, s->dir, s->dir, 0, e)) < 0)
		return -1;
	fd = fs_openat_regular(dfd, ".lock", shown, O_RDWR | O_CREAT, NULL, e);
	if (fd < 0) {
		close(dfd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			err_set(e, ERR_BUSY, "another operation on this member's "
			    "backups is in progress (%s is locked by another "
			    "process)", shown);
		else
			err_sys(e, ERR_FAILED, "flock %s", shown);
		close(fd);
		close(dfd);
		return -1;
	}
	s->lock_fd = fd;
	s->dirfd = dfd;
	return 0;
}

void
store_close(struct store *s)
{
	if (s->lock_fd >= 0) {
		close(s->lock_fd);
		if (s->dirfd >= 0)
			close(s->dirfd);
	}
	s->lock_fd = -1;
	s->dirfd = -1;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

const char *
store_file_kind(const struct stat *st)
{
	if (S_ISLNK(st->st_mode))
		return "a symbolic link";
	if (S_ISDIR(st->st_mode))
		return "a directory";
	if (S_ISFIFO(st->st_mode))
		return "a FIFO";
	if (S_ISSOCK(st->st_mode))
		return "a socket";
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		return "a device";
	return "not a regular file";
}

/* ---- listing and finding --------------------------------------------- */

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

void
store_sort_newest_first(struct backup_info *list, size_t n)
{
	if (n > 1)
		qsort(list, n, sizeof *list, cmp_newest_first);
}

/* The regular file name in dfd: 0 with *st; -1 with ERR_NOT_FOUND when it
 * is missing or is something else (noted as skipped). */
static int
regular_at(const struct store *s, int dfd, const struct dir_id *dir,
    unsigned long gen, const char *id, const char *name, struct stat *st,
    struct err *e)
{
	if (fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return err_set(e, ERR_NOT_FOUND, "backup %s of member %lld "
			    "not found in %s", id, s->member, s->dir);
		return err_sys(e, ERR_FAILED, "backup %s of member %lld: stat "
		    "%s/%s", id, s->member, s->dir, name);
	}
	if (!S_ISREG(st->st_mode)) {
		store_note_skipped(s, dir, gen, name, st);
		return err_set(e, ERR_NOT_FOUND, "backup %s of member %lld: "
		    "%s/%s is %s: refused (the agent follows no link and opens "
		    "no special file on the backup volume)", id, s->member,
		    s->dir, name, store_file_kind(st));
	}
	return 0;
}

/* Which archive backup id has: "<ID>.tar.zst", or "<ID>.tar.zst.age"
 * (encrypted). Both at once is refused: one of them was put there by
 * someone else. */
static int
archive_name_at(const struct store *s, int dfd, const char *id,
    struct backup_info *b, struct err *e)
{
	char plain[STORE_ID_MAX + 16], enc[STORE_ID_MAX + 16];
	struct stat st;
	int has_plain, has_enc;

	snprintf(plain, sizeof plain, "%s.tar.zst", id);
	snprintf(enc, sizeof enc, "%s.tar.zst.age", id);
	has_plain = fstatat(dfd, plain, &st, AT_SYMLINK_NOFOLLOW) == 0;
	has_enc = fstatat(dfd, enc, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (has_plain && has_enc)
		return err_set(e, ERR_NOT_FOUND, "backup %s of member %lld: both "
		    "%s and %s are in %s: refused (a backup has one archive)", id,
		    s->member, plain, enc, s->dir);
	b->encrypted = has_enc;
	snprintf(b->archive_name, sizeof b->archive_name, "%s",
	    has_enc ? enc : plain);
	return 0;
}

/* Backup id (a legacy name when legacy) in dfd, with the cache locked: 0 when
 * it is complete and made of regular files, -1 otherwise (ERR_NOT_FOUND
 * when it is not there or is refused). */
static int
backup_at(const struct store *s, int dfd, const struct dir_id *dir,
    unsigned long gen, const char *id, int legacy, struct backup_info *b,
    struct err *e)
{
	struct stat ast, mst;
	struct err ignored;

	memset(b, 0, sizeof *b);
	b->bytes = b->files = -1;
	snprintf(b->id, sizeof b->id, "%s", id);
	b->legacy = legacy;
	if (legacy) {
		snprintf(b->archive_name, sizeof b->archive_name, "%s", id);
	} else {
		snprintf(b->meta_name, sizeof b->meta_name, "%s.json", id);
		/* The metadata first: its presence means complete. */
		if (regular_at(s, dfd, dir, gen, id, b->meta_name, &mst, e) < 0)
			return -1;
		if (archive_name_at(s, dfd, id, b, e) < 0)
			return -1;
	}
	if (regular_at(s, dfd, dir, gen, id, b->archive_name, &ast, e) < 0)
		return -1;
	if (fs_join(b->archive_path, sizeof b->archive_path, s->dir,
	    b->archive_name) < 0 || (!legacy && fs_join(b->meta_path,
	    sizeof b->meta_path, s->dir, b->meta_name) < 0))
		return err_set(e, ERR_FAILED, "path too long: %s", s->dir);
	b->size = (uint64_t)ast.st_size;
	if (legacy) {
		b->created = ast.st_mtime;
		return 0;
	}
	b->created = store_id_time(id);
	/* Unreadable metadata: listed all the same, counts unknown. */
	store_summary_get(s, dfd, dir, gen, b->meta_name, &mst, &b->bytes, &b->files,
	    NULL, &ignored);
	return 0;
}

/* Every backup in dfd, with the cache locked. */
static int
list_at(const struct store *s, int dfd, struct backup_info **out, size_t *n,
    struct err *e)
{
	struct backup_info *list = NULL;
	size_t count = 0, cap = 0;
	unsigned long gen = store_cache_listing(1);
	struct dir_id dir;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*n = 0;
	if (store_dir_identity(s, dfd, &dir, e) < 0 || !(d = dir_read(s, dfd, e)))
		return -1;
	while ((de = readdir(d)) != NULL) {
		struct backup_info b;
		struct err ignored;
		char id[STORE_ID_MAX];
		size_t len = strlen(de->d_name);
		int found;

		if (ends_with(de->d_name, ".json") && len - 5 < sizeof id) {
			memcpy(id, de->d_name, len - 5);
			id[len - 5] = '\0';
			if (!store_id_valid(id))
				continue;
			found = backup_at(s, dfd, &dir, gen, id, 0, &b, &ignored);
		} else if (store_legacy_name_valid(de->d_name)) {
			found = backup_at(s, dfd, &dir, gen, de->d_name, 1, &b,
			    &ignored);
		} else {
			continue;
		}
		if (found < 0)
			continue;
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
	store_cache_sweep(&dir, gen);
	store_sort_newest_first(list, count);
	*out = list;
	*n = count;
	return 0;
}

int
store_list(const struct store *s, struct backup_info **out, size_t *n,
    struct err *e)
{
	int opened, rc, dfd = dir_use(s, &opened, e);

	*out = NULL;
	*n = 0;
	if (dfd < 0) {
		if (e && e->code == ERR_NOT_FOUND) {
			err_clear(e);
			store_cache_forget(s->dir);
			return 0;
		}
		return -1;
	}
	store_cache_lock();
	rc = list_at(s, dfd, out, n, e);
	store_cache_unlock();
	dir_done(dfd, opened);
	return rc;
}

static int
find_at(const struct store *s, int dfd, const char *id,
    struct backup_info *out, struct err *e)
{
	struct backup_info *list;
	struct dir_id dir;
	size_t n;

	if (strcmp(id, "latest") != 0) {
		if (store_dir_identity(s, dfd, &dir, e) < 0)
			return -1;
		return backup_at(s, dfd, &dir, store_cache_listing(0), id,
		    !store_id_valid(id), out, e);
	}
	if (list_at(s, dfd, &list, &n, e) < 0)
		return -1;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++)
			if (pass == 1 || !list[i].legacy) {
				*out = list[i];
				free(list);
				return 0;
			}
	free(list);
	return err_set(e, ERR_NOT_FOUND, "member %lld has no complete backup "
	    "in %s", s->member, s->dir);
}

int
store_find(const struct store *s, const char *id, struct backup_info *out,
    struct err *e)
{
	int latest = strcmp(id, "latest") == 0;
	int opened, rc, dfd;

	if (!latest && !store_id_valid(id) && !store_legacy_name_valid(id))
		return err_set(e, ERR_BAD_REQUEST, "'%s' is not a backup id "
		    "(YYYYMMDDTHHMMSSZ, a legacy .tar.gz name, or latest)", id);
	if ((dfd = dir_use(s, &opened, e)) < 0) {
		if (!e || e->code != ERR_NOT_FOUND)
			return -1;
		if (latest)
			return err_set(e, ERR_NOT_FOUND, "member %lld has no "
			    "complete backup in %s", s->member, s->dir);
		return err_set(e, ERR_NOT_FOUND, "backup %s of member %lld not "
		    "found in %s", id, s->member, s->dir);
	}
	store_cache_lock();
	rc = find_at(s, dfd, id, out, e);
	store_cache_unlock();
	dir_done(dfd, opened);
	return rc;
}

json_t *
store_summary(const struct store *s, const struct backup_info *b,
    struct err *e)
{
	struct dir_id dir;
	struct stat st;
	char *text = NULL;
	long long bytes, files;
	json_t *j = NULL;
	int opened, rc = -1, dfd;

	err_clear(e);
	if (b->legacy)
		return NULL;
	if ((dfd = dir_use(s, &opened, e)) < 0)
		return NULL;
	store_cache_lock();
	if (store_dir_identity(s, dfd, &dir, e) == 0 &&
	    regular_at(s, dfd, &dir, store_cache_listing(0), b->id,
	    b->meta_name, &st, e) == 0)
		rc = store_summary_get(s, dfd, &dir, store_cache_listing(0),
		    b->meta_name, &st, &bytes, &files, &text, e);
	store_cache_unlock();
	dir_done(dfd, opened);
	if (rc < 0)
		return NULL;
	if (!(j = json_loads(text, 0, NULL)))
		err_set(e, ERR_FAILED, "out of memory");
	free(text);
	return j;
}

/* The directory of b's files, from its archive path and name. */
static int
member_dir_of(const struct backup_info *b, char *out, size_t size)
{
	size_t lp = strlen(b->archive_path), ln = strlen(b->archive_name);

	if (ln == 0 || lp <= ln + 1 || b->archive_path[lp - ln - 1] != '/' ||
	    strcmp(b->archive_path + lp - ln, b->archive_name) != 0 ||
	    lp - ln >= size)
		return -1;
	memcpy(out, b->archive_path, lp - ln - 1);
	out[lp - ln - 1] = '\0';
	return 0;
}

/* Whatever a hostile file holds, one full parse at a time. */
static pthread_mutex_t parse_mu = PTHREAD_MUTEX_INITIALIZER;

json_t *
store_load_meta(const struct backup_info *b, struct err *e)
{
	char dir[4352];
	json_t *j;
	int dfd;

	err_clear(e);
	if (b->legacy)
		return NULL;
	pthread_mutex_lock(&parse_mu);
	if (!b->meta_name[0] || member_dir_of(b, dir, sizeof dir) < 0) {
		/* An archive named by its path on the command line. */
		j = json_load_path(b->meta_path, META_MAX, e);
	} else if ((dfd = fs_opendirat(AT_FDCWD, dir, dir, 0, e)) < 0) {
		j = NULL;
	} else {
		j = json_load_at(dfd, b->meta_name, b->meta_path, META_MAX, e);
		close(dfd);
	}
	pthread_mutex_unlock(&parse_mu);
	return j;
}

int
store_open_file(const struct store *s, const struct backup_info *b,
    int metadata, struct stat *st, struct err *e)
{
	const char *name = metadata ? b->meta_name : b->archive_name;
	const char *shown = metadata ? b->meta_path : b->archive_path;
	int opened, fd, dfd;

	char dir[4352];

	if (!s && !b->archive_name[0]) {
		/* An archive named by its path on the command line. */
		if (metadata && !b->meta_path[0])
			return err_set(e, ERR_NOT_FOUND, "backup %s has no "
			    "metadata file", b->id);
		return fs_open_regular(shown, O_RDONLY, st, e);
	}
	if (!name[0])
		return err_set(e, ERR_NOT_FOUND, "backup %s has no %s file", b->id,
		    metadata ? "metadata" : "archive");
	if (s) {
		dfd = dir_use(s, &opened, e);
	} else if (member_dir_of(b, dir, sizeof dir) < 0) {
		return err_set(e, ERR_FAILED, "%s: not a file of the store", shown);
	} else {
		opened = 1;
		dfd = fs_opendirat(AT_FDCWD, dir, dir, 0, e);
	}
	if (dfd < 0)
		return -1;
	fd = fs_openat_regular(dfd, name, shown, O_RDONLY, st, e);
	dir_done(dfd, opened);
	return fd;
}

/* ---- reserving, cleaning up, deleting ------------------------------- */

/* The highest suffix among files whose id has this base (1 for the bare
 * base, 0 for none), so that a new id always sorts after every earlier
 * one of the same second, even when some of those were deleted. */
static int
highest_suffix(const struct store *s, int dfd, const char *base)
{
	size_t blen = strlen(base);
	struct dirent *de;
	struct err ignored;
	int best = 0;
	DIR *d = dir_read(s, dfd, &ignored);

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
	int first, opened, dfd;

	if ((dfd = dir_use(s, &opened, e)) < 0)
		return -1;
	gmtime_r(&t, &tm);
	strftime(base, sizeof base, "%Y%m%dT%H%M%SZ", &tm);
	first = highest_suffix(s, dfd, base) + 1;
	for (int k = first; k < first + 1000; k++) {
		char name[STORE_ID_MAX + 32];
		int fd;

		if (k == 1)
			snprintf(id, idsize, "%s", base);
		else
			snprintf(id, idsize, "%s-%d", base, k);
		snprintf(name, sizeof name, "%s.tar.zst%s", id, FS_PARTIAL_SUFFIX);
		/* O_EXCL: a link or anything else at that name is never
		 * followed or reused. */
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
		if (fd >= 0) {
			dir_done(dfd, opened);
			return fd;
		}
		if (errno != EEXIST) {
			err_sys(e, ERR_FAILED, "create %s/%s", s->dir, name);
			dir_done(dfd, opened);
			return -1;
		}
	}
	dir_done(dfd, opened);
	return err_set(e, ERR_FAILED, "no free backup id for %s in %s", base,
	    s->dir);
}

/* Whether name in dfd is left by an interrupted operation. */
static int
leftover(int dfd, const char *name)
{
	char id[STORE_ID_MAX], meta[STORE_ID_MAX + 8];
	size_t len = strlen(name), ext = ends_with(name, ".tar.zst") ? 8 :
	    ends_with(name, ".tar.zst.age") ? 12 : 0;
	struct stat st;

	if (ends_with(name, FS_PARTIAL_SUFFIX))
		return 1;
	if (!ext || len - ext >= STORE_ID_MAX)
		return 0;
	snprintf(id, sizeof id, "%.*s", (int)(len - ext), name);
	if (!store_id_valid(id))
		return 0;   /* not ours: leave it alone */
	snprintf(meta, sizeof meta, "%s.json", id);
	return fstatat(dfd, meta, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
	    errno == ENOENT;
}

int
store_cleanup(struct store *s, struct err *e)
{
	struct dirent *de;
	int removed = 0, rc = -1, opened, dfd;
	DIR *d = NULL;

	if ((dfd = dir_use(s, &opened, e)) < 0) {
		if (e && e->code == ERR_NOT_FOUND) {
			err_clear(e);
			return 0;
		}
		return -1;
	}
	if (!(d = dir_read(s, dfd, e)))
		goto out;
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (!leftover(dfd, de->d_name))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		/* A link or a FIFO goes as itself (its target is not touched);
		 * a directory is not ours to empty. */
		if (S_ISDIR(st.st_mode)) {
			log_warn("leftover_kept", "dir=%s name=%s reason=%s",
			    logq(s->dir), logq(de->d_name), logq("a directory"));
			continue;
		}
		if (unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT) {
			err_sys(e, ERR_FAILED, "remove leftover %s/%s", s->dir,
			    de->d_name);
			goto out;
		}
		log_info("leftover_removed", "dir=%s name=%s", logq(s->dir),
		    logq(de->d_name));
		removed++;
	}
	if (removed && fsync(dfd) < 0) {
		err_sys(e, ERR_FAILED, "fsync directory %s", s->dir);
		goto out;
	}
	rc = removed;
out:
	if (d)
		closedir(d);
	dir_done(dfd, opened);
	return rc;
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
	int rc = -1, opened, dfd;

	if ((dfd = dir_use(s, &opened, e)) < 0)
		return -1;
	if (!b->legacy) {
		/* Metadata first: from then on the backup is not complete. */
		if (unlinkat(dfd, b->meta_name, 0) < 0 && errno != ENOENT) {
			err_sys(e, ERR_FAILED, "remove %s", b->meta_path);
			goto out;
		}
		if (fsync(dfd) < 0) {
			err_sys(e, ERR_FAILED, "fsync directory %s", s->dir);
			goto out;
		}
	}
	if (unlinkat(dfd, b->archive_name, 0) < 0 && errno != ENOENT) {
		err_sys(e, ERR_FAILED, "remove %s", b->archive_path);
		goto out;
	}
	if (fsync(dfd) < 0) {
		err_sys(e, ERR_FAILED, "fsync directory %s", s->dir);
		goto out;
	}
	rc = 0;
out:
	dir_done(dfd, opened);
	return rc;
}
