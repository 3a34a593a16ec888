#include "config.h"

#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "age.h"
#include "clock.h"
#include "fsutil.h"
#include "json.h"
#include "locks.h"
#include "log.h"
#include "extract.h"
#include "hashes.h"
#include "ops.h"
#include "ops_int.h"
#include "swap.h"
#include "sysinfo.h"

/* "<data_dir>/.quorum-backup/NAME", for messages. */
static const char *
agent_shown(const struct agent_conf *cf, const char *name, char *out,
    size_t size)
{
	snprintf(out, size, "%s/%s/%s", cf->data_dir, DATADIR_AGENT, name);
	return out;
}

/* Locks held by a mutating operation. */
struct held {
	struct datadir dd;       /* the data directory and .quorum-backup/ */
	int mutation_fd;
	struct store store;
	struct lockset nodes;
	struct lockset staged;   /* lock files of the tree about to go live */
};

static void
held_init(struct held *h)
{
	memset(h, 0, sizeof *h);
	h->dd.data = h->dd.agent = -1;
	h->mutation_fd = -1;
	h->store.lock_fd = -1;
}

/* Open the data directory and .quorum-backup/ (once for the whole
 * operation: a link put there is refused, never followed) and take the
 * mutation lock in it. */
static int
take_mutation_lock(const struct agent_conf *cf, struct held *h, struct err *e)
{
	char shown[4300];

	if (datadir_open(&h->dd, cf->data_dir, 1, e) < 0)
		return -1;
	h->mutation_fd = lock_exclusiveat(h->dd.agent, "lock",
	    agent_shown(cf, "lock", shown, sizeof shown), "another operation "
	    "on this data directory", e);
	return h->mutation_fd < 0 ? -1 : 0;
}

static int
take_store(const struct agent_conf *cf, struct held *h, struct err *e)
{
	if (store_open(&h->store, cf->backup_dir, cf->member, 1, e) < 0 ||
	    store_lock(&h->store, e) < 0 || store_cleanup(&h->store, e) < 0)
		return -1;
	return 0;
}

/* The start of every operation that changes the data directory: the
 * mutation lock, the node's locks (the node must be stopped), then recovery
 * of an interrupted swap. *state says what recovery found. */
static int
begin_data_op(const struct agent_conf *cf, struct held *h,
    enum swap_state *state, char *backup, size_t size, struct err *e)
{
	if (take_mutation_lock(cf, h, e) < 0)
		return -1;
	if (lockset_acquireat(&h->nodes, h->dd.data, cf->data_dir,
	    cf->lock_files.v, cf->lock_files.n, e) < 0)
		return -1;
	return swap_recover(&h->dd, state, backup, size, e);
}

static void
release(struct held *h)
{
	lockset_release(&h->staged);
	lockset_release(&h->nodes);
	store_close(&h->store);
	lock_release(h->mutation_fd);
	h->mutation_fd = -1;
	datadir_close(&h->dd);
}

/* "./a/b/" → "a/b" */
static char *
normalize_pattern(const char *p)
{
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	while (*p == '/')
		p++;
	char *s = strdup(p);
	if (s) {
		size_t n = strlen(s);
		while (n > 0 && s[n - 1] == '/')
			s[--n] = '\0';
	}
	return s;
}

/* The store's directory relative to data_dir when it lies inside it. */
static char *
store_inside_data(const char *data_dir, const char *store_dir)
{
	char d[PATH_MAX], s[PATH_MAX];
	size_t n;

	if (!realpath(data_dir, d) || !realpath(store_dir, s))
		return NULL;
	n = strlen(d);
	if (strncmp(d, s, n) != 0 || s[n] != '/')
		return NULL;
	return strdup(s + n + 1);
}

static int
apply_retention(const struct agent_conf *cf, struct store *s, int dry_run,
    json_t *ids, size_t *kept, struct err *e)
{
	struct backup_info *list;
	size_t n;
	int *del;

	if (store_list(s, &list, &n, e) < 0)
		return -1;
	del = calloc(n ? n : 1, sizeof *del);
	if (!del) {
		free(list);
		return err_set(e, ERR_FAILED, "out of memory");
	}
	store_retention_plan(list, n, cf->keep_last, cf->keep_days, time(NULL),
	    del);
	*kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (!del[i]) {
			(*kept)++;
			continue;
		}
		if (!dry_run) {
			if (store_delete(s, &list[i], e) < 0) {
				free(del);
				free(list);
				return -1;
			}
			log_info("backup_deleted", "id=%s reason=retention",
			    list[i].id);
		}
		json_array_append_new(ids, json_string(list[i].id));
	}
	free(del);
	free(list);
	return 0;
}

int
op_archive(const struct agent_conf *cf, const struct op_hooks *h,
    struct archive_result *r, json_t **pruned, struct err *e)
{
	struct age_recipient *rs = NULL;
	size_t n_rs = 0;
	struct archive_opts o;
	struct held held;
	char **excl = NULL;
	size_t nexcl = 0, kept;
	int rc = -1;

	enum swap_state state;
	char pending[STORE_ID_MAX];

	held_init(&held);
	if (pruned)
		*pruned = NULL;
	if (begin_data_op(cf, &held, &state, pending, sizeof pending, e) < 0)
		goto out;
	if (state == SWAP_IN_PLACE_INCOMPLETE) {
		err_set(e, ERR_INCOMPLETE, "the data directory holds an unfinished "
		    "in-place restore of %s: run unpack again before archiving",
		    pending);
		goto out;
	}
	if (take_store(cf, &held, e) < 0)
		goto out;
	/* Read again for each backup: a ConfigMap may have changed it. A
	 * recipients file that cannot be read fails the backup; it never
	 * falls back to the clear. */
	if (op_recipients(cf, &rs, &n_rs, e) < 0)
		goto out;

	excl = calloc(cf->exclude.n + 1, sizeof *excl);
	if (!excl) {
		err_set(e, ERR_FAILED, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < cf->exclude.n; i++)
		if ((excl[nexcl] = normalize_pattern(cf->exclude.v[i])) &&
		    excl[nexcl][0])
			nexcl++;
		else
			free(excl[nexcl]);
	if ((excl[nexcl] = store_inside_data(cf->data_dir, held.store.dir))) {
		log_warn("backup_dir_inside_data", "excluded=%s reason=%s",
		    logq(excl[nexcl]), logq("the backup directory lies inside "
		    "the data directory; it is left out of the archive"));
		nexcl++;
	}

	memset(&o, 0, sizeof o);
	o.data_dir = cf->data_dir;
	o.store = &held.store;
	o.level = (int)cf->level;
	o.threads = cf->threads > 0 ? (int)cf->threads : sysinfo_usable_cpus();
	o.exclude = excl;
	o.n_exclude = nexcl;
	o.node_key = cf->node_key;
	o.keep_outside_links = strcmp(cf->outside_links, "keep") == 0;
	o.recipients = rs;
	o.n_recipients = n_rs;
	if (h) {
		o.node_facts = h->node_facts;
		o.progress = h->progress;
		o.progress_arg = h->progress_arg;
		o.cancel = h->cancel;
	}
	if (archive_create(&o, r, e) < 0)
		goto out;
	rc = 0;

	/* The backup is complete; retention problems are reported, not fatal. */
	json_t *ids = json_array();
	struct err re;
	if (apply_retention(cf, &held.store, 0, ids, &kept, &re) < 0)
		log_warn("retention_failed", "error=%s", logq(re.msg));
	if (pruned)
		*pruned = ids;
	else
		json_decref(ids);
out:
	for (size_t i = 0; i < nexcl; i++)
		free(excl[i]);
	free(excl);
	free(rs);
	release(&held);
	return rc;
}

static int
backup_from_path(const char *path, struct backup_info *b, struct err *e)
{
	size_t n = strlen(path);
	struct stat st;

	memset(b, 0, sizeof *b);
	b->bytes = b->files = -1;
	if (stat(path, &st) < 0)
		return err_sys(e, errno == ENOENT ? ERR_NOT_FOUND : ERR_FAILED,
		    "%s", path);
	if (snprintf(b->archive_path, sizeof b->archive_path, "%s", path) >=
	    (int)sizeof b->archive_path)
		return err_set(e, ERR_BAD_REQUEST, "path too long");
	const char *base = strrchr(path, '/');
	snprintf(b->id, sizeof b->id, "%s", base ? base + 1 : path);
	b->size = (uint64_t)st.st_size;
	b->created = st.st_mtime;
	if (n > 8 && strcmp(path + n - 8, ".tar.zst") == 0) {
		snprintf(b->meta_path, sizeof b->meta_path, "%.*s.json",
		    (int)(n - 8), path);
		b->id[strlen(b->id) - 8] = '\0';
		return 0;
	}
	if (n > 7 && strcmp(path + n - 7, ".tar.gz") == 0) {
		b->legacy = 1;
		return 0;
	}
	if (n > 12 && strcmp(path + n - 12, ".tar.zst.age") == 0) {
		/* tar | zstd | age: its metadata, if any, beside it. */
		b->encrypted = 1;
		b->id[strlen(b->id) - 12] = '\0';
		snprintf(b->meta_path, sizeof b->meta_path, "%.*s.json",
		    (int)(n - 12), path);
		if (stat(b->meta_path, &st) < 0 && errno == ENOENT)
			b->meta_path[0] = '\0';
		return 0;
	}
	return err_set(e, ERR_BAD_REQUEST, "%s: not a .tar.zst, .tar.zst.age "
	    "or .tar.gz archive", path);
}

/* The backup `what` names: an id, "latest", or an archive's path. */
static int
find_backup(const struct agent_conf *cf, const char *what,
    struct backup_info *b, struct err *e)
{
	struct store s;

	if (strchr(what, '/'))
		return backup_from_path(what, b, e);
	if (store_open(&s, cf->backup_dir, cf->member, 0, e) < 0 ||
	    store_find(&s, what, b, e) < 0)
		return -1;
	return 0;
}

int
op_verify(const struct agent_conf *cf, const char *what, int stored,
    const struct op_hooks *h, struct backup_info *b,
    struct verify_result *res, struct err *e)
{
	struct backup_info found;

	if (find_backup(cf, what, &found, e) < 0)
		return -1;
	if (stored) {
		*b = found;
		return verify_stored(b, h ? h->progress : NULL,
		    h ? h->progress_arg : NULL, h ? h->cancel : NULL, res, e);
	}
	return op_verify_given(cf, &found, h, b, res, e);
}

int
op_verify_given(const struct agent_conf *cf, const struct backup_info *given,
    const struct op_hooks *h, struct backup_info *b,
    struct verify_result *res, struct err *e)
{
	struct age_identity *ids = NULL;
	size_t n_ids = 0;
	int rc;

	*b = *given;
	if (ops_load_identities(cf, b, &ids, &n_ids, e) < 0)
		return -1;
	rc = verify_backup(b, h ? h->progress : NULL,
	    h ? h->progress_arg : NULL, h ? h->cancel : NULL, res, e);
	b->ids = NULL;
	b->n_ids = 0;
	age_identities_free(ids, n_ids);
	return rc;
}

json_t *
op_list(const struct agent_conf *cf, struct err *e)
{
	struct backup_info *list;
	struct store s;
	size_t n;
	json_t *out;

	if (store_open(&s, cf->backup_dir, cf->member, 0, e) < 0 ||
	    store_list(&s, &list, &n, e) < 0)
		return NULL;
	out = json_array();
	for (size_t i = 0; i < n; i++) {
		char created[32];
		json_t *o, *meta;
		struct err ignored;

		store_format_time(list[i].created, created, sizeof created);
		o = json_pack("{s:s, s:s, s:I, s:b, s:b}", "id", list[i].id,
		    "created", created, "size", (json_int_t)list[i].size,
		    "legacy", list[i].legacy, "encrypted", list[i].encrypted);
		if (!o)
			continue;
		json_object_set_new(o, "files", list[i].files >= 0 ?
		    json_integer(list[i].files) : json_null());
		json_object_set_new(o, "bytes", list[i].bytes >= 0 ?
		    json_integer(list[i].bytes) : json_null());
		/* The cached summary: the entry lists are not read. */
		meta = store_summary(&s, &list[i], &ignored);
		if (meta) {
			json_t *node = json_object_get(meta, "node");
			json_object_set(o, "node", node ? node : json_null());
			json_object_set(o, "sha256", json_object_get(
			    json_object_get(meta, "archive"), "sha256"));
			json_object_set(o, "node_key", json_object_get(meta,
			    "node_key"));
			json_t *fps = json_object_get(json_object_get(meta,
			    "encryption"), "recipients");
			json_object_set_new(o, "recipients", fps ?
			    json_incref(fps) : json_array());
			json_decref(meta);
		} else {
			json_object_set_new(o, "node", json_null());
		}
		json_object_set_new(o, "archive", json_string(list[i].archive_path));
		json_array_append_new(out, o);
	}
	free(list);
	return out;
}

int
op_prune(const struct agent_conf *cf, int dry_run, json_t **ids,
    size_t *kept, struct err *e)
{
	struct held held;
	int rc = -1;

	held_init(&held);
	*ids = json_array();
	if (dry_run) {
		if (store_open(&held.store, cf->backup_dir, cf->member, 0, e) < 0)
			goto out;
	} else if (take_store(cf, &held, e) < 0) {
		goto out;
	}
	rc = apply_retention(cf, &held.store, dry_run, *ids, kept, e);
out:
	release(&held);
	return rc;
}

/* SHA-256 of rel below the directory dirfd (dir names it): 1 when found,
 * 0 when missing, -1 on error (a link or a special file included). */
static int
node_key_hash(int dirfd, const char *dir, const char *rel,
    char hex[SHA256_HEX_LEN + 1], struct err *e)
{
	char path[4400], *buf;
	size_t len;
	struct sha256 *h;

	if (!rel || !rel[0] || fs_join(path, sizeof path, dir, rel) < 0)
		return 0;
	if (fs_read_fileat(dirfd, rel, path, 1u << 20, &buf, &len, e) < 0) {
		if (e->code == ERR_NOT_FOUND) {
			err_clear(e);
			return 0;
		}
		return -1;
	}
	if (!(h = sha256_new())) {
		free(buf);
		return err_set(e, ERR_FAILED, "out of memory");
	}
	sha256_update(h, buf, len);
	sha256_final_hex(h, hex);
	sha256_free(h);
	free(buf);
	return 1;
}

static int
node_key_refuse(const char *node_key, const char *live, const char *backup,
    struct err *e)
{
	return err_set(e, ERR_NODE_KEY, "the backup's %s (sha256 %.16s...) is "
	    "not this node's (sha256 %.16s...): restoring another member's data "
	    "duplicates its identity; use --force if that is what you want",
	    node_key, backup, live);
}

/* While verifying before an in-place restore: the archive's node key. */
struct key_catch {
	const char *rel;
	int in_key;
	int found;
	struct sha256 *h;
	char hex[SHA256_HEX_LEN + 1];
};

static int
key_begin(void *ctx, struct archive_entry *ae, struct err *e)
{
	struct key_catch *k = ctx;
	char rel[4096];

	(void)e;
	k->in_key = 0;
	if (extract_clean_path(archive_entry_pathname(ae), rel, sizeof rel,
	    NULL) == 0 && strcmp(rel, k->rel) == 0 &&
	    archive_entry_filetype(ae) == AE_IFREG) {
		k->in_key = 1;
		k->found = 1;
	}
	return 0;
}

static int
key_data(void *ctx, const void *buf, size_t len, int64_t off, struct err *e)
{
	struct key_catch *k = ctx;

	(void)off;
	(void)e;
	if (k->in_key)
		sha256_update(k->h, buf, len);
	return 0;
}

static int
key_end(void *ctx, struct archive_entry *ae, struct err *e)
{
	struct key_catch *k = ctx;

	(void)ae;
	(void)e;
	if (k->in_key)
		sha256_final_hex(k->h, k->hex);
	k->in_key = 0;
	return 0;
}

static uint64_t
free_on(const char *dir)
{
	uint64_t f = 0;
	struct err ignored;

	fs_free_bytes(dir, &f, &ignored);
	return f;
}

/* One unpack: what both strategies need. */
struct unpack {
	const struct agent_conf *cf;
	const struct unpack_opts *u;
	struct unpack_result *r;
	struct held held;
	enum swap_state state;
	json_t *meta;                 /* the summary; NULL for legacy */
	const char *backup_key;       /* the node key it records, or NULL */
	char live_key[SHA256_HEX_LEN + 1];
	int have_live_key;
	struct extract_opts xo;
	char staging[4300], previous[4300];
	struct age_identity *ids;     /* an encrypted backup's identities */
	size_t n_ids;
};

/* The backup found and locked, the live node key read and checked against
 * the one the backup records. 0, or -1 with e. */
static int
unpack_prepare(struct unpack *up, struct err *e)
{
	const struct agent_conf *cf = up->cf;
	char pending[STORE_ID_MAX];

	if (begin_data_op(cf, &up->held, &up->state, pending, sizeof pending,
	    e) < 0)
		return -1;
	up->r->recovered = up->state == SWAP_RECOVERED;
	agent_shown(cf, SWAP_STAGING, up->staging, sizeof up->staging);
	agent_shown(cf, SWAP_PREVIOUS, up->previous, sizeof up->previous);
	if (store_open(&up->held.store, cf->backup_dir, cf->member, 1, e) < 0 ||
	    store_lock(&up->held.store, e) < 0)
		return -1;
	if (up->u->given) {
		/* From elsewhere (a bucket): its metadata, without the entry
		 * list, as the summary. */
		up->r->backup = *up->u->given;
		if (!up->r->backup.source || !up->r->backup.source->meta ||
		    !(up->meta = json_copy(up->r->backup.source->meta)))
			return err_set(e, ERR_FAILED, "backup %s: no metadata",
			    up->r->backup.id);
		json_object_del(up->meta, "entries");
		up->backup_key = json_get_str(json_object_get(up->meta,
		    "node_key"), "sha256");
	} else if (store_find(&up->held.store, up->u->id, &up->r->backup,
	    e) < 0) {
		return -1;
	} else if (!up->r->backup.legacy) {
		/* The node key and the sizes: the summary is enough (the
		 * verify that extraction runs parses the entry list). */
		if (!(up->meta = store_summary(&up->held.store, &up->r->backup,
		    e)))
			return -1;
		up->backup_key = json_get_str(json_object_get(up->meta,
		    "node_key"), "sha256");
	}
	/* An encrypted backup: an identity that opens it, or nothing
	 * changes. */
	int listed;
	if (ops_load_identities(cf, &up->r->backup, &up->ids, &up->n_ids, e) < 0 ||
	    backup_identity_check(&up->r->backup, up->meta, &listed, e) < 0)
		return -1;
	/* Identity: the node key recorded in the backup against the live one
	 * (an unfinished in-place restore has no trustworthy live key). */
	up->have_live_key = up->state == SWAP_IN_PLACE_INCOMPLETE ? 0 :
	    node_key_hash(up->held.dd.data, cf->data_dir, cf->node_key,
	    up->live_key, e);
	if (up->have_live_key < 0)
		return -1;
	if (up->have_live_key && up->backup_key && !up->u->force &&
	    strcmp(up->backup_key, up->live_key) != 0)
		return node_key_refuse(cf->node_key, up->live_key, up->backup_key,
		    e);
	return 0;
}

/* A backup without a recorded node key: the key it holds, hashed on a
 * full read, against the live one. 0, or -1 with e. */
static int
in_place_check(struct unpack *up, struct err *e)
{
	struct key_catch kc;
	struct entry_visitor v = { key_begin, key_data, key_end, &kc };
	struct verify_result pre;
	int rc;

	memset(&kc, 0, sizeof kc);
	kc.rel = up->cf->node_key ? up->cf->node_key : "";
	if (!(kc.h = sha256_new()))
		return err_set(e, ERR_FAILED, "out of memory");
	log_info("unpack_verify", "id=%s mode=in_place", up->r->backup.id);
	rc = backup_walk(&up->r->backup, &v, up->xo.progress,
	    up->xo.progress_arg, up->xo.cancel, &pre, e);
	sha256_free(kc.h);
	if (rc < 0)
		return -1;
	if (up->have_live_key && !up->backup_key && kc.found &&
	    !up->u->force && strcmp(kc.hex, up->live_key) != 0)
		return node_key_refuse(up->cf->node_key, up->live_key, kc.hex, e);
	return 0;
}

/* In place: verify, delete the live tree, extract onto the data
 * directory. A failure after the deletion leaves the journal saying so:
 * unpack must run again. 0, or -1 with e. */
static int
unpack_in_place(struct unpack *up, struct err *e)
{
	const struct agent_conf *cf = up->cf;
	struct held *held = &up->held;
	const char *id = up->r->backup.id;

	if (in_place_check(up, e) < 0)
		return -1;
	/* No second tree: an older previous tree goes too. */
	if (swap_journal_in_place(&held->dd, id, "deleting", e) < 0)
		return -1;
	swap_crashpoint("in-place-journal");
	if (fs_remove_treeat(held->dd.agent, SWAP_PREVIOUS, up->previous,
	    e) < 0 || swap_delete_live(&held->dd, e) < 0 ||
	    swap_journal_in_place(&held->dd, id, "extracting", e) < 0)
		goto failed;
	swap_crashpoint("in-place-deleted");
	up->xo.target = cf->data_dir;
	up->xo.target_fd = held->dd.data;
	up->xo.cap_bytes = free_on(cf->data_dir);
	up->xo.cap_code = ERR_NO_SPACE;
	if (up->meta && (uint64_t)json_get_u(up->meta, "bytes") <
	    up->xo.cap_bytes) {
		up->xo.cap_bytes = (uint64_t)json_get_u(up->meta, "bytes");
		up->xo.cap_code = ERR_VERIFY;
	}
	if (extract_backup(&up->r->backup, &up->xo, &up->r->v, e) < 0 ||
	    extract_sync_treeat(held->dd.data, cf->data_dir, e) < 0 ||
	    swap_journal_clear(&held->dd, e) < 0)
		goto failed;
	return 0;
failed:
	log_error("in_place_incomplete", "id=%s error=%s reason=%s", id,
	    logq(e->msg), logq("the data directory is incomplete; run unpack "
	    "again"));
	err_prefix(e, "in-place restore of %s failed, the data directory is "
	    "incomplete (state in_place_incomplete; run unpack again)", id);
	return -1;
}

/* Staged: the size cap of the second tree, or ERR_NO_SPACE when the
 * volume cannot hold it beside the live one. */
static int
staged_room(struct unpack *up, struct err *e)
{
	uint64_t avail = free_on(up->cf->data_dir);
	long long bytes = up->meta ? json_get_u(up->meta, "bytes") : -1;
	/* Leave the node room to run: 1 % of what is free. */
	uint64_t margin = avail / 100;

	if (bytes >= 0 && (uint64_t)bytes + margin > avail)
		return err_set(e, ERR_NO_SPACE, "the data volume has %llu bytes "
		    "free; unpacking %s beside the live tree needs %lld (use "
		    "--in-place on a volume too small for two trees)",
		    (unsigned long long)avail, up->r->backup.id, bytes);
	up->xo.cap_bytes = avail - margin;
	up->xo.cap_code = ERR_NO_SPACE;
	if (bytes >= 0) {
		up->xo.cap_bytes = (uint64_t)bytes;
		up->xo.cap_code = ERR_VERIFY;
	}
	return 0;
}

/* The staged tree in sfd extracted, its node key checked (when the backup
 * records none), made durable and its lock files held. 0, or -1 with e:
 * the caller discards the staging tree. */
static int
stage_tree(struct unpack *up, int sfd, struct err *e)
{
	const struct agent_conf *cf = up->cf;

	up->xo.target = up->staging;
	up->xo.target_fd = sfd;
	log_info("unpack_start", "id=%s staging=%s", up->r->backup.id,
	    logq(up->staging));
	if (extract_backup(&up->r->backup, &up->xo, &up->r->v, e) < 0)
		return -1;
	if (!up->backup_key && up->have_live_key && !up->u->force) {
		char staged_key[SHA256_HEX_LEN + 1];
		int found = node_key_hash(sfd, up->staging, cf->node_key,
		    staged_key, e);
		if (found < 0)
			return -1;
		if (found && strcmp(staged_key, up->live_key) != 0)
			return node_key_refuse(cf->node_key, up->live_key,
			    staged_key, e);
	}
	if (extract_sync_treeat(sfd, up->staging, e) < 0)
		return -1;
	/* Keep the new tree's lock files held too, once they are live. */
	if (lockset_acquireat(&up->held.staged, sfd, up->staging,
	    cf->lock_files.v, cf->lock_files.n, e) < 0)
		return -1;
	swap_crashpoint("unpack-staged");
	return fs_remove_treeat(up->held.dd.agent, SWAP_PREVIOUS, up->previous,
	    e);
}

/* Staged: a second tree on the same volume, then the swap. 0, or -1 with
 * e. */
static int
unpack_staged(struct unpack *up, struct err *e)
{
	struct held *held = &up->held;
	struct err ignored;
	int sfd, rc;

	if (staged_room(up, e) < 0)
		return -1;
	if (mkdirat(held->dd.agent, SWAP_STAGING, 0700) < 0)
		return err_sys(e, ERR_FAILED, "mkdir %s", up->staging);
	sfd = datadir_sub(&held->dd, SWAP_STAGING, 0, e);
	rc = sfd < 0 ? -1 : stage_tree(up, sfd, e);
	if (sfd >= 0)
		close(sfd);
	if (rc < 0) {
		if (fs_remove_treeat(held->dd.agent, SWAP_STAGING, up->staging,
		    &ignored) < 0)
			log_error("staging_left", "path=%s error=%s",
			    logq(up->staging), logq(ignored.msg));
		return -1;
	}
	if (swap_run(&held->dd, "unpack", up->r->backup.id, e) < 0)
		return -1;   /* the journal is in place: recovery finishes it */
	if (up->u->discard_previous || up->state == SWAP_IN_PLACE_INCOMPLETE) {
		/* After an unfinished in-place restore the old tree was debris. */
		return fs_remove_treeat(held->dd.agent, SWAP_PREVIOUS,
		    up->previous, e);
	}
	up->r->previous_kept = 1;
	return 0;
}

int
op_unpack(const struct agent_conf *cf, const struct unpack_opts *u,
    const struct op_hooks *h, struct unpack_result *r, struct err *e)
{
	struct unpack unpack, *up = &unpack;
	double t0 = qb_mono_now();
	int rc = -1;

	memset(r, 0, sizeof *r);
	memset(up, 0, sizeof *up);
	up->cf = cf;
	up->u = u;
	up->r = r;
	held_init(&up->held);
	if (h) {
		up->xo.progress = h->progress;
		up->xo.progress_arg = h->progress_arg;
		up->xo.cancel = h->cancel;
	}
	if (unpack_prepare(up, e) == 0 &&
	    (u->in_place ? unpack_in_place(up, e) : unpack_staged(up, e)) == 0) {
		r->seconds = qb_mono_now() - t0;
		log_info("unpack_done", "id=%s files=%llu bytes=%llu in_place=%d "
		    "seconds=%.3f", r->backup.id, (unsigned long long)r->v.files,
		    (unsigned long long)r->v.bytes, u->in_place, r->seconds);
		rc = 0;
	}
	json_decref(up->meta);
	release(&up->held);
	r->backup.ids = NULL;
	r->backup.n_ids = 0;
	age_identities_free(up->ids, up->n_ids);
	return rc;
}

/* Whether the directory dirfd holds anything (dirfd is not closed). */
static int
dir_has_entries(int dirfd)
{
	int fd = dirfd >= 0 ? dup(dirfd) : -1;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int any = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	rewinddir(d);
	while (!any && (de = readdir(d)) != NULL)
		any = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return any;
}

int
op_rollback(const struct agent_conf *cf, struct err *e)
{
	char previous[4300];
	char pending[STORE_ID_MAX];
	struct held held;
	enum swap_state state;
	int pfd = -1, rc = -1;

	held_init(&held);
	if (begin_data_op(cf, &held, &state, pending, sizeof pending, e) < 0)
		goto out;
	if (state == SWAP_IN_PLACE_INCOMPLETE) {
		err_set(e, ERR_INCOMPLETE, "the data directory holds an unfinished "
		    "in-place restore of %s and no previous tree: run unpack again",
		    pending);
		goto out;
	}
	agent_shown(cf, SWAP_PREVIOUS, previous, sizeof previous);
	pfd = datadir_sub(&held.dd, SWAP_PREVIOUS, 0, e);
	if (pfd < 0 && e->code != ERR_NOT_FOUND)
		goto out;
	if (!dir_has_entries(pfd)) {
		err_set(e, ERR_NOT_FOUND, "there is no previous tree to roll back "
		    "to in %s", previous);
		goto out;
	}
	if (lockset_acquireat(&held.staged, pfd, previous, cf->lock_files.v,
	    cf->lock_files.n, e) < 0)
		goto out;
	if (swap_run(&held.dd, "rollback", NULL, e) < 0)
		goto out;
	log_info("rollback_done", "data_dir=%s", logq(cf->data_dir));
	rc = 0;
out:
	if (pfd >= 0)
		close(pfd);
	release(&held);
	return rc;
}

int
op_recover(const struct agent_conf *cf, int *recovered, struct err *e)
{
	char pending[STORE_ID_MAX];
	struct held held;
	enum swap_state state;
	int rc = -1;

	held_init(&held);
	*recovered = 0;
	if (begin_data_op(cf, &held, &state, pending, sizeof pending, e) < 0)
		goto out;
	if (state == SWAP_IN_PLACE_INCOMPLETE) {
		err_set(e, ERR_INCOMPLETE, "the data directory holds an unfinished "
		    "in-place restore of %s: the node must not start on it; run "
		    "unpack again", pending);
		goto out;
	}
	*recovered = state == SWAP_RECOVERED;
	rc = 0;
out:
	release(&held);
	return rc;
}

int
op_discard_previous(const struct agent_conf *cf, int *removed, struct err *e)
{
	char previous[4300];
	struct held held;
	int pfd, rc = -1;

	held_init(&held);
	*removed = 0;
	if (take_mutation_lock(cf, &held, e) < 0)
		goto out;
	if (swap_pending(&held.dd)) {
		err_set(e, ERR_BUSY, "a restore journal is pending in %s/%s: run "
		    "unpack or rollback (with the node stopped) to finish it first",
		    cf->data_dir, DATADIR_AGENT);
		goto out;
	}
	agent_shown(cf, SWAP_PREVIOUS, previous, sizeof previous);
	pfd = datadir_sub(&held.dd, SWAP_PREVIOUS, 0, e);
	if (pfd < 0 && e->code != ERR_NOT_FOUND)
		goto out;
	*removed = dir_has_entries(pfd);
	if (pfd >= 0)
		close(pfd);
	if (fs_remove_treeat(held.dd.agent, SWAP_PREVIOUS, previous, e) < 0)
		goto out;
	if (*removed)
		log_info("previous_discarded", "path=%s", logq(previous));
	rc = 0;
out:
	release(&held);
	return rc;
}
