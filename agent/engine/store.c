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

/* What st is, for messages. */
static const char *
file_kind(const struct stat *st)
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

/* ---- the summary cache ----------------------------------------------
 * One entry per file name of a member directory that the store looked at:
 * a metadata file's summary, or a name it skipped (not a regular file), so
 * that the warning is logged once per name and inode. Every listing marks
 * the names it saw and drops that directory's other entries, and those of
 * an earlier directory at the same path (all of them when the path is
 * gone): the cache holds no more than the directories hold. memo_mu is held for a whole
 * listing, find or summary (the reads of changed metadata included), so
 * that no two threads read the same file or drop each other's entries. */

struct file_key {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

struct dir_id {
	dev_t dev;
	ino_t ino;
	uint64_t path;           /* hash of the store's path */
};

enum memo_kind { MEMO_SUMMARY, MEMO_SKIPPED };

struct memo {
	struct memo *next;
	enum memo_kind kind;
	struct dir_id dir;
	struct file_key key;     /* MEMO_SKIPPED: dev and ino */
	int racy;                /* changed too lately for the key to be trusted */
	char *text;              /* the summary, compact JSON; NULL: unreadable */
	enum err_code code;      /* why it is unreadable */
	char *msg;
	long long bytes, files;
	unsigned long seen;      /* the listing that last saw the name */
	char name[];
};

#define MEMO_BUCKETS 1024
/* Summaries kept in all: beyond, they are read for each call, not kept. */
#define MEMO_TEXT_MAX (16u << 20)

static pthread_mutex_t memo_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t parse_mu = PTHREAD_MUTEX_INITIALIZER;
static struct memo *memo_bucket[MEMO_BUCKETS];
static size_t memo_count, memo_text_bytes;
static unsigned long memo_generation;

static void
key_of(const struct stat *st, struct file_key *k)
{
	k->dev = st->st_dev;
	k->ino = st->st_ino;
	k->size = st->st_size;
	k->mtime = st->st_mtim;
	k->ctime = st->st_ctim;
}

static int
ts_eq(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static int
key_eq(const struct file_key *a, const struct file_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    ts_eq(&a->mtime, &b->mtime) && ts_eq(&a->ctime, &b->ctime);
}

/* File times are coarse (a clock tick, a second on some file systems): a
 * file changed within a second before it was read may change again with
 * the same times. Such an entry is read again until it is older. */
static int
key_recent(const struct file_key *k, const struct timespec *read_at)
{
	const struct timespec *t[2] = { &k->mtime, &k->ctime };

	for (int i = 0; i < 2; i++)
		if (t[i]->tv_sec > read_at->tv_sec - 1 ||
		    (t[i]->tv_sec == read_at->tv_sec - 1 &&
		    t[i]->tv_nsec >= read_at->tv_nsec))
			return 1;
	return 0;
}

/* FNV-1a */
static uint64_t
hash_str(uint64_t h, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return h;
}

#define HASH_START 1469598103934665603ull

static size_t
memo_hash(const struct dir_id *dir, const char *name)
{
	return (size_t)(hash_str(HASH_START ^ (uint64_t)dir->ino, name) %
	    MEMO_BUCKETS);
}

static struct memo **
memo_slot(const struct dir_id *dir, const char *name)
{
	struct memo **pp = &memo_bucket[memo_hash(dir, name)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->dir.dev == dir->dev && (*pp)->dir.ino == dir->ino &&
		    strcmp((*pp)->name, name) == 0)
			break;
	return pp;
}

static void
memo_free(struct memo *m)
{
	if (!m)
		return;
	if (m->text)
		memo_text_bytes -= strlen(m->text) + 1;
	memo_count--;
	free(m->text);
	free(m->msg);
	free(m);
}

/* A new entry for dir/name in place of the old one (NULL when out of
 * memory: the old one is dropped all the same). */
static struct memo *
memo_put(const struct dir_id *dir, const char *name, enum memo_kind kind)
{
	struct memo **pp = memo_slot(dir, name);
	struct memo *old = *pp, *m;
	size_t len = strlen(name);

	if (old) {
		*pp = old->next;
		memo_free(old);
	}
	if (!(m = calloc(1, sizeof *m + len + 1)))
		return NULL;
	m->kind = kind;
	m->dir = *dir;
	m->bytes = m->files = -1;
	memcpy(m->name, name, len + 1);
	m->next = memo_bucket[memo_hash(dir, name)];
	memo_bucket[memo_hash(dir, name)] = m;
	memo_count++;
	return m;
}

/* Drop dir's entries that the listing gen did not see, and those of
 * another directory once at the same path (dir NULL: the path is gone). */
static void
memo_sweep(const struct dir_id *dir, uint64_t path, unsigned long gen)
{
	for (size_t i = 0; i < MEMO_BUCKETS; i++)
		for (struct memo **pp = &memo_bucket[i]; *pp; ) {
			struct memo *m = *pp;
			int same = dir && m->dir.dev == dir->dev &&
			    m->dir.ino == dir->ino;
			if ((same && m->seen != gen) ||
			    (!same && m->dir.path == path)) {
				*pp = m->next;
				memo_free(m);
			} else {
				pp = &m->next;
			}
		}
}

void
store_cache_stats(size_t *entries, size_t *bytes)
{
	pthread_mutex_lock(&memo_mu);
	if (entries)
		*entries = memo_count;
	if (bytes)
		*bytes = memo_text_bytes;
	pthread_mutex_unlock(&memo_mu);
}

/* name in s's directory is not a regular file: warn, once per name and
 * inode. */
static void
note_skipped(const struct store *s, const struct dir_id *dir,
    unsigned long gen, const char *name, const struct stat *st)
{
	struct memo *m = *memo_slot(dir, name);

	if (m && m->kind == MEMO_SKIPPED && m->key.dev == st->st_dev &&
	    m->key.ino == st->st_ino) {
		m->seen = gen;
		return;
	}
	log_warn("backup_file_skipped", "dir=%s name=%s kind=%s reason=%s",
	    logq(s->dir), logq(name), logq(file_kind(st)), logq("only regular "
	    "files are backups: the agent follows no link and opens no special "
	    "file on the backup volume"));
	if ((m = memo_put(dir, name, MEMO_SKIPPED))) {
		m->key.dev = st->st_dev;
		m->key.ino = st->st_ino;
		m->seen = gen;
	}
}

/* ---- reading a summary ------------------------------------------------
 * The metadata file is streamed through a scanner that copies it, except
 * the value of the top-level "entries" member (written as null), into a
 * buffer of at most STORE_SUMMARY_MAX bytes, which jansson then parses.
 * The scanner follows strings and brackets only; the full parse of a
 * verify or an unpack checks the entry list itself. */

#define SCAN_DEPTH_MAX 2048     /* jansson's own nesting limit */
#define SCAN_CHUNK (64u << 10)

struct scan {
	char *out;
	size_t len;
	int over;                /* larger than STORE_SUMMARY_MAX */
	int bad;                 /* brackets that do not match, or too deep */
	size_t depth;
	unsigned char stack[SCAN_DEPTH_MAX];   /* '{' or '[' per level */
	int in_string, escape;
	int expect_key;          /* in the top-level object, a name comes */
	int in_key;              /* reading a top-level member's name */
	char key[8];
	size_t key_len;          /* sizeof key: too long, or escaped */
	int key_entries;         /* the name just read is "entries" */
	int skipping;            /* inside the value of "entries" */
};

static void
scan_emit(struct scan *sc, const char *p, size_t n)
{
	if (sc->len + n > STORE_SUMMARY_MAX) {
		sc->over = 1;
		return;
	}
	memcpy(sc->out + sc->len, p, n);
	sc->len += n;
}

static void
scan_string_byte(struct scan *sc, unsigned char c)
{
	if (sc->escape) {
		sc->escape = 0;
	} else if (c == '\\') {
		sc->escape = 1;
		if (sc->in_key)
			sc->key_len = sizeof sc->key;   /* not a plain "entries" */
	} else if (c == '"') {
		sc->in_string = 0;
		if (sc->in_key) {
			sc->in_key = 0;
			sc->key_entries = sc->key_len == 7 &&
			    memcmp(sc->key, "entries", 7) == 0;
		}
	} else if (sc->in_key && sc->key_len < sizeof sc->key) {
		sc->key[sc->key_len++] = (char)c;
	}
}

static void
scan_chunk(struct scan *sc, const char *p, size_t n)
{
	for (size_t i = 0; i < n && !sc->bad && !sc->over; i++) {
		unsigned char c = (unsigned char)p[i];
		int emit = !sc->skipping;

		if (sc->in_string) {
			scan_string_byte(sc, c);
		} else if (c == '"') {
			sc->in_string = 1;
			if (sc->depth == 1 && sc->expect_key) {
				sc->in_key = 1;
				sc->key_len = 0;
			}
			sc->expect_key = 0;
		} else if (c == '{' || c == '[') {
			if (sc->depth == SCAN_DEPTH_MAX) {
				sc->bad = 1;
				break;
			}
			sc->stack[sc->depth++] = c;
			sc->expect_key = c == '{' && sc->depth == 1;
		} else if (c == '}' || c == ']') {
			if (sc->depth == 0 ||
			    sc->stack[sc->depth - 1] != (c == '}' ? '{' : '[')) {
				sc->bad = 1;
				break;
			}
			if (--sc->depth == 0 && sc->skipping) {
				sc->skipping = 0;
				emit = 1;
			}
			sc->expect_key = 0;
		} else if (c == ':' && sc->depth == 1 && !sc->skipping) {
			if (sc->key_entries) {
				scan_emit(sc, ":null", 5);
				sc->skipping = 1;
				emit = 0;
			}
			sc->key_entries = 0;
		} else if (c == ',' && sc->depth == 1) {
			if (sc->skipping) {
				sc->skipping = 0;
				emit = 1;
			}
			sc->expect_key = sc->stack[0] == '{';
		}
		if (emit)
			scan_emit(sc, (const char *)&p[i], 1);
	}
}

/* Read the summary of name (a metadata file) relative to dfd: *key gets
 * the fstat of the file read, *text the summary (caller frees). */
static int
summary_read(int dfd, const char *name, const char *shown,
    struct file_key *key, char **text, long long *bytes, long long *files,
    struct err *e)
{
	struct scan *sc = NULL;
	struct stat st;
	json_error_t je;
	json_t *j = NULL;
	char *buf = NULL;
	uint64_t total = 0;
	int fd, rc = -1;

	*text = NULL;
	*bytes = *files = -1;
	if ((fd = fs_openat_regular(dfd, name, shown, O_RDONLY, &st, e)) < 0)
		return -1;
	key_of(&st, key);
	if ((uint64_t)st.st_size > META_MAX) {
		err_set(e, ERR_VERIFY, "%s: larger than %u bytes", shown, META_MAX);
		goto out;
	}
	sc = calloc(1, sizeof *sc);
	buf = malloc(SCAN_CHUNK);
	if (!sc || !buf || !(sc->out = malloc(STORE_SUMMARY_MAX))) {
		err_set(e, ERR_FAILED, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t got = read(fd, buf, SCAN_CHUNK);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err_sys(e, ERR_FAILED, "read %s", shown);
			goto out;
		}
		if (got == 0)
			break;
		total += (uint64_t)got;
		if (total > META_MAX) {
			err_set(e, ERR_VERIFY, "%s: larger than %u bytes", shown,
			    META_MAX);
			goto out;
		}
		scan_chunk(sc, buf, (size_t)got);
		if (sc->over) {
			err_set(e, ERR_VERIFY, "%s: its fields other than entries "
			    "take more than %u bytes", shown, STORE_SUMMARY_MAX);
			goto out;
		}
		if (sc->bad)
			break;
	}
	if (sc->bad || sc->depth != 0 || sc->in_string) {
		err_set(e, ERR_VERIFY, "%s: invalid JSON: brackets or quotes do "
		    "not match", shown);
		goto out;
	}
	if (!(j = json_loadb(sc->out, sc->len, JSON_REJECT_DUPLICATES, &je))) {
		err_set(e, ERR_VERIFY, "%s: invalid JSON: %s", shown, je.text);
		goto out;
	}
	if (!json_is_object(j)) {
		err_set(e, ERR_VERIFY, "%s: not a JSON object", shown);
		goto out;
	}
	json_object_del(j, "entries");
	*bytes = json_get_u(j, "bytes");
	*files = json_get_u(j, "files");
	if (!(*text = json_dumps(j, JSON_COMPACT))) {
		err_set(e, ERR_FAILED, "out of memory");
		goto out;
	}
	rc = 0;
out:
	json_decref(j);
	if (sc)
		free(sc->out);
	free(sc);
	free(buf);
	close(fd);
	return rc;
}

/* The summary of metadata file name (st: its fstatat) from the cache, or
 * read now and kept. With memo_mu held. text (if not NULL) gets a copy. */
static int
summary_get(const struct store *s, int dfd, const struct dir_id *dir,
    unsigned long gen, const char *name, const struct stat *st,
    long long *bytes, long long *files, char **text, struct err *e)
{
	struct memo *m = *memo_slot(dir, name);
	struct file_key key, cur;
	struct timespec now;
	char shown[4352], *t;
	long long b, f;
	int rc, known;

	key_of(st, &cur);
	if (text)
		*text = NULL;
	if (!(m && m->kind == MEMO_SUMMARY && !m->racy &&
	    key_eq(&m->key, &cur))) {
		struct err re;

		/* Logged once per change: not again while a racy entry is read
		 * again with the same key. */
		known = m && m->kind == MEMO_SUMMARY && key_eq(&m->key, &cur);
		if (fs_join(shown, sizeof shown, s->dir, name) < 0)
			snprintf(shown, sizeof shown, "%s", name);
		clock_gettime(CLOCK_REALTIME, &now);
		err_clear(&re);
		key = cur;   /* the file read, once it is open */
		rc = summary_read(dfd, name, shown, &key, &t, &b, &f, &re);
		if (rc < 0 && !known)
			log_warn("metadata_unreadable", "path=%s error=%s",
			    logq(shown), logq(re.msg));
		if (t && memo_text_bytes + strlen(t) + 1 > MEMO_TEXT_MAX) {
			/* Not kept: the next call reads it again. */
			*bytes = b;
			*files = f;
			if (text)
				*text = t;
			else
				free(t);
			return 0;
		}
		if (!(m = memo_put(dir, name, MEMO_SUMMARY))) {
			free(t);
			return err_set(e, ERR_FAILED, "out of memory");
		}
		m->key = key;
		m->racy = key_recent(&key, &now);
		m->text = t;
		if (t)
			memo_text_bytes += strlen(t) + 1;
		m->code = rc < 0 ? re.code : ERR_OK;
		m->msg = rc < 0 ? strdup(re.msg) : NULL;
		m->bytes = b;
		m->files = f;
	}
	m->seen = gen;
	*bytes = m->bytes;
	*files = m->files;
	if (!m->text)
		return err_set(e, m->code ? m->code : ERR_VERIFY, "%s",
		    m->msg ? m->msg : "metadata unreadable");
	if (text && !(*text = strdup(m->text)))
		return err_set(e, ERR_FAILED, "out of memory");
	return 0;
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

static int
dir_identity(const struct store *s, int dfd, struct dir_id *dir,
    struct err *e)
{
	struct stat st;

	if (fstat(dfd, &st) < 0)
		return err_sys(e, ERR_FAILED, "stat %s", s->dir);
	dir->dev = st.st_dev;
	dir->ino = st.st_ino;
	dir->path = hash_str(HASH_START, s->dir);
	return 0;
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
		note_skipped(s, dir, gen, name, st);
		return err_set(e, ERR_NOT_FOUND, "backup %s of member %lld: "
		    "%s/%s is %s: refused (the agent follows no link and opens "
		    "no special file on the backup volume)", id, s->member,
		    s->dir, name, file_kind(st));
	}
	return 0;
}

/* Backup id (a legacy name when legacy) in dfd, with memo_mu held: 0 when
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
		snprintf(b->archive_name, sizeof b->archive_name, "%s.tar.zst", id);
		snprintf(b->meta_name, sizeof b->meta_name, "%s.json", id);
		/* The metadata first: its presence means complete. */
		if (regular_at(s, dfd, dir, gen, id, b->meta_name, &mst, e) < 0)
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
	b->created = id_time(id);
	/* Unreadable metadata: listed all the same, counts unknown. */
	summary_get(s, dfd, dir, gen, b->meta_name, &mst, &b->bytes, &b->files,
	    NULL, &ignored);
	return 0;
}

/* Every backup in dfd, with memo_mu held. */
static int
list_at(const struct store *s, int dfd, struct backup_info **out, size_t *n,
    struct err *e)
{
	struct backup_info *list = NULL;
	size_t count = 0, cap = 0;
	unsigned long gen = ++memo_generation;
	struct dir_id dir;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*n = 0;
	if (dir_identity(s, dfd, &dir, e) < 0 || !(d = dir_read(s, dfd, e)))
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
	memo_sweep(&dir, dir.path, gen);
	if (count > 1)
		qsort(list, count, sizeof *list, cmp_newest_first);
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
			pthread_mutex_lock(&memo_mu);
			memo_sweep(NULL, hash_str(HASH_START, s->dir), 0);
			pthread_mutex_unlock(&memo_mu);
			return 0;
		}
		return -1;
	}
	pthread_mutex_lock(&memo_mu);
	rc = list_at(s, dfd, out, n, e);
	pthread_mutex_unlock(&memo_mu);
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
		if (dir_identity(s, dfd, &dir, e) < 0)
			return -1;
		return backup_at(s, dfd, &dir, memo_generation, id,
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
	pthread_mutex_lock(&memo_mu);
	rc = find_at(s, dfd, id, out, e);
	pthread_mutex_unlock(&memo_mu);
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
	pthread_mutex_lock(&memo_mu);
	if (dir_identity(s, dfd, &dir, e) == 0 &&
	    regular_at(s, dfd, &dir, memo_generation, b->id, b->meta_name, &st,
	    e) == 0)
		rc = summary_get(s, dfd, &dir, memo_generation, b->meta_name, &st,
		    &bytes, &files, &text, e);
	pthread_mutex_unlock(&memo_mu);
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

json_t *
store_load_meta(const struct backup_info *b, struct err *e)
{
	char dir[4352];
	json_t *j;
	int dfd;

	err_clear(e);
	if (b->legacy)
		return NULL;
	/* Whatever a hostile file holds, one full parse at a time. */
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
	size_t len = strlen(name);
	struct stat st;

	if (ends_with(name, FS_PARTIAL_SUFFIX))
		return 1;
	if (!ends_with(name, ".tar.zst") || len - 8 >= STORE_ID_MAX)
		return 0;
	snprintf(id, sizeof id, "%.*s", (int)(len - 8), name);
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
