#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fsutil.h"
#include "json.h"
#include "locks.h"
#include "log.h"
#include "ops.h"
#include "sysinfo.h"

/* Locks held by a mutating operation. */
struct held {
	int mutation_fd;
	struct store store;
	struct lockset nodes;
};

static int
take_mutation_lock(const struct agent_conf *cf, struct held *h, struct err *e)
{
	char dir[4096], path[4200];
	struct stat st;

	h->mutation_fd = -1;
	h->store.lock_fd = -1;
	if (stat(cf->data_dir, &st) < 0)
		return err_sys(e, errno == ENOENT ? ERR_NOT_FOUND : ERR_FAILED,
		    "data directory %s", cf->data_dir);
	if (!S_ISDIR(st.st_mode))
		return err_set(e, ERR_FAILED, "data directory %s is not a "
		    "directory", cf->data_dir);
	if (fs_join(dir, sizeof dir, cf->data_dir, AGENT_DIR_NAME) < 0 ||
	    fs_join(path, sizeof path, dir, "lock") < 0)
		return err_set(e, ERR_CONFIG, "data_dir is too long");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return err_sys(e, ERR_FAILED, "mkdir %s", dir);
	h->mutation_fd = lock_exclusive(path, "another operation on this data "
	    "directory", e);
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

static void
release(struct held *h)
{
	lockset_release(&h->nodes);
	store_close(&h->store);
	lock_release(h->mutation_fd);
	h->mutation_fd = -1;
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
	struct archive_opts o;
	struct held held;
	char **excl = NULL;
	size_t nexcl = 0, kept;
	int rc = -1;

	memset(&held, 0, sizeof held);
	if (pruned)
		*pruned = NULL;
	if (take_mutation_lock(cf, &held, e) < 0 || take_store(cf, &held, e) < 0)
		goto out;
	if (lockset_acquire(&held.nodes, cf->data_dir, cf->lock_files.v,
	    cf->lock_files.n, e) < 0)
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
	return err_set(e, ERR_BAD_REQUEST, "%s: not a .tar.zst or .tar.gz "
	    "archive", path);
}

int
op_verify(const struct agent_conf *cf, const char *what,
    const struct op_hooks *h, struct backup_info *b,
    struct verify_result *res, struct err *e)
{
	struct store s;

	if (strchr(what, '/')) {
		if (backup_from_path(what, b, e) < 0)
			return -1;
	} else {
		if (store_open(&s, cf->backup_dir, cf->member, 0, e) < 0 ||
		    store_find(&s, what, b, e) < 0)
			return -1;
	}
	return verify_backup(b, h ? h->progress : NULL,
	    h ? h->progress_arg : NULL, h ? h->cancel : NULL, res, e);
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
		o = json_pack("{s:s, s:s, s:I, s:b}", "id", list[i].id,
		    "created", created, "size", (json_int_t)list[i].size,
		    "legacy", list[i].legacy);
		if (!o)
			continue;
		json_object_set_new(o, "files", list[i].files >= 0 ?
		    json_integer(list[i].files) : json_null());
		json_object_set_new(o, "bytes", list[i].bytes >= 0 ?
		    json_integer(list[i].bytes) : json_null());
		meta = store_load_meta(&list[i], &ignored);
		if (meta) {
			json_t *node = json_object_get(meta, "node");
			json_object_set(o, "node", node ? node : json_null());
			json_object_set(o, "sha256", json_object_get(
			    json_object_get(meta, "archive"), "sha256"));
			json_object_set(o, "node_key", json_object_get(meta,
			    "node_key"));
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

	memset(&held, 0, sizeof held);
	held.mutation_fd = -1;
	held.store.lock_fd = -1;
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
