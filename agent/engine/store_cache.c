/* store_cache: the summaries of a member directory's metadata files,
 * read once and kept while the files do not change, and the names the
 * store skipped (see store.h and store_int.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "json.h"
#include "log.h"
#include "store.h"
#include "store_int.h"

/* ---- the summary cache ----------------------------------------------
 * One entry per file name of a member directory that the store looked at:
 * a metadata file's summary, or a name it skipped (not a regular file), so
 * that the warning is logged once per name and inode. Every listing marks
 * the names it saw and drops that directory's other entries, and those of
 * an earlier directory at the same path (all of them when the path is
 * gone): the cache holds no more than the directories hold. memo_mu
 * (store_cache_lock) is held for a whole listing, find or summary (the
 * reads of changed metadata included), so that no two threads read the
 * same file or drop each other's entries. */

struct file_key {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
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

void
store_note_skipped(const struct store *s, const struct dir_id *dir,
    unsigned long gen, const char *name, const struct stat *st)
{
	struct memo *m = *memo_slot(dir, name);

	if (m && m->kind == MEMO_SKIPPED && m->key.dev == st->st_dev &&
	    m->key.ino == st->st_ino) {
		m->seen = gen;
		return;
	}
	log_warn("backup_file_skipped", "dir=%s name=%s kind=%s reason=%s",
	    logq(s->dir), logq(name), logq(store_file_kind(st)), logq("only regular "
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

int
store_summary_get(const struct store *s, int dfd, const struct dir_id *dir,
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


void
store_cache_lock(void)
{
	pthread_mutex_lock(&memo_mu);
}

void
store_cache_unlock(void)
{
	pthread_mutex_unlock(&memo_mu);
}

unsigned long
store_cache_listing(int next)
{
	return next ? ++memo_generation : memo_generation;
}

void
store_cache_sweep(const struct dir_id *dir, unsigned long gen)
{
	memo_sweep(dir, dir->path, gen);
}

void
store_cache_forget(const char *path)
{
	pthread_mutex_lock(&memo_mu);
	memo_sweep(NULL, hash_str(HASH_START, path), 0);
	pthread_mutex_unlock(&memo_mu);
}

int
store_dir_identity(const struct store *s, int dfd, struct dir_id *dir,
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
