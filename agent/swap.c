#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "json.h"
#include "log.h"
#include "swap.h"

#define AGENT_DIR ".quorum-backup"
#define JOURNAL_MAX (64u << 20)

void
swap_crashpoint(const char *name)
{
	const char *at = getenv("QUORUM_BACKUP_CRASH_AT");

	if (at && strcmp(at, name) == 0) {
		log_warn("crashpoint", "name=%s", name);
		raise(SIGKILL);
	}
}

static int
agent_path(char *out, size_t size, const char *data_dir, const char *name)
{
	char dir[4096];

	if (fs_join(dir, sizeof dir, data_dir, AGENT_DIR) < 0)
		return -1;
	if (!name)
		return snprintf(out, size, "%s", dir) >= (int)size ? -1 : 0;
	return fs_join(out, size, dir, name);
}

/* Top-level names of dir, without "." "..", and without .quorum-backup. */
static json_t *
list_names(const char *dir, struct err *e)
{
	json_t *names = json_array();
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d) {
		json_decref(names);
		err_sys(e, ERR_FAILED, "open %s", dir);
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, AGENT_DIR) == 0)
			continue;
		/* Names that are not UTF-8, and names that would read as
		 * this encoding, are kept as "hex:" and their bytes in hex. */
		json_t *s = strncmp(de->d_name, "hex:", 4) == 0 ? NULL :
		    json_string(de->d_name);
		if (!s) {
			size_t n = strlen(de->d_name);
			char *hex = malloc(2 * n + 5);
			if (hex) {
				memcpy(hex, "hex:", 4);
				for (size_t i = 0; i < n; i++)
					snprintf(hex + 4 + 2 * i, 3, "%02x",
					    (unsigned char)de->d_name[i]);
				s = json_string(hex);
				free(hex);
			}
		}
		if (!s || json_array_append_new(names, s) < 0) {
			closedir(d);
			json_decref(names);
			err_set(e, ERR_FAILED, "out of memory listing %s", dir);
			return NULL;
		}
	}
	closedir(d);
	return names;
}

static const char *
decode_name(const char *s, char *buf, size_t size)
{
	if (strncmp(s, "hex:", 4) != 0)
		return s;
	size_t n = (strlen(s) - 4) / 2;
	if (n >= size)
		n = size - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;
		sscanf(s + 4 + 2 * i, "%2x", &v);
		buf[i] = (char)v;
	}
	buf[n] = '\0';
	return buf;
}

static int
journal_write(const char *data_dir, json_t *j, struct err *e)
{
	char path[4200];

	if (agent_path(path, sizeof path, data_dir, "journal") < 0)
		return err_set(e, ERR_FAILED, "path too long");
	return json_write_file(path, j, 0600, e);
}

int
swap_journal_clear(const char *data_dir, struct err *e)
{
	char path[4200];

	if (agent_path(path, sizeof path, data_dir, "journal") < 0)
		return err_set(e, ERR_FAILED, "path too long");
	if (unlink(path) < 0 && errno != ENOENT)
		return err_sys(e, ERR_FAILED, "remove %s", path);
	return fs_fsync_parent(path, e);
}

int
swap_pending(const char *data_dir)
{
	char path[4200];
	struct stat st;

	return agent_path(path, sizeof path, data_dir, "journal") == 0 &&
	    lstat(path, &st) == 0;
}

/* Move every name of the list from src into dst, skipping those already
 * moved (idempotent: recovery runs this again after a crash). */
static int
move_names(const char *src, const char *dst, const json_t *names,
    const char *crash_first, struct err *e)
{
	int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int dfd = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t i;
	json_t *v;
	int rc = -1, moved = 0;

	if (sfd < 0 || dfd < 0) {
		err_sys(e, ERR_FAILED, "open %s", sfd < 0 ? src : dst);
		goto out;
	}
	json_array_foreach(names, i, v) {
		char buf[256];
		const char *name = decode_name(json_string_value(v), buf,
		    sizeof buf);
		struct stat st;
		if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;   /* moved already */
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			err_set(e, ERR_FAILED, "cannot move %s: %s/%s exists", name,
			    dst, name);
			goto out;
		}
		if (renameat(sfd, name, dfd, name) < 0) {
			err_sys(e, ERR_FAILED, "move %s/%s to %s", src, name, dst);
			goto out;
		}
		if (!moved++ && crash_first)
			swap_crashpoint(crash_first);
	}
	if (fsync(sfd) < 0 || fsync(dfd) < 0) {
		err_sys(e, ERR_FAILED, "fsync %s or %s", src, dst);
		goto out;
	}
	rc = 0;
out:
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	return rc;
}

/* Finish a journaled swap from its current phase. */
static int
finish(const char *data_dir, json_t *j, struct err *e)
{
	const char *kind = json_get_str(j, "kind");
	const char *phase = json_get_str(j, "phase");
	const char *from_name = json_get_str(j, "from");
	const char *aside_name = json_get_str(j, "aside");
	char from[4200], aside[4200], agent[4200];

	if (!kind || !phase || !from_name || !aside_name ||
	    agent_path(from, sizeof from, data_dir, from_name) < 0 ||
	    agent_path(aside, sizeof aside, data_dir, aside_name) < 0 ||
	    agent_path(agent, sizeof agent, data_dir, NULL) < 0)
		return err_set(e, ERR_FAILED, "the restore journal in %s/%s is "
		    "damaged; inspect it before doing anything else", data_dir,
		    AGENT_DIR);
	if (strcmp(phase, "moving_old") == 0) {
		if (move_names(data_dir, aside, json_object_get(j, "old"),
		    "swap-old-first", e) < 0)
			return -1;
		json_object_set_new(j, "phase", json_string("moving_new"));
		if (journal_write(data_dir, j, e) < 0)
			return -1;
		swap_crashpoint("swap-old-done");
		phase = "moving_new";
	}
	if (strcmp(phase, "moving_new") == 0) {
		if (move_names(from, data_dir, json_object_get(j, "new"),
		    "swap-new-first", e) < 0)
			return -1;
		json_object_set_new(j, "phase", json_string("done"));
		if (journal_write(data_dir, j, e) < 0)
			return -1;
		swap_crashpoint("swap-new-done");
		phase = "done";
	}
	if (strcmp(phase, "done") != 0)
		return err_set(e, ERR_FAILED, "unknown phase '%s' in the restore "
		    "journal", phase);
	/* The new tree is live. Tidy up: the "from" directory is empty now;
	 * a rollback's aside tree is the one being thrown away. */
	if (rmdir(from) < 0 && errno != ENOENT)
		return err_sys(e, ERR_FAILED, "remove %s", from);
	if (strcmp(kind, "rollback") == 0 && fs_remove_tree(aside, e) < 0)
		return -1;
	if (fs_fsync_dir(agent, e) < 0)
		return -1;
	swap_crashpoint("swap-cleanup");
	return swap_journal_clear(data_dir, e);
}

int
swap_run(const char *data_dir, const char *kind, const char *backup,
    struct err *e)
{
	const int unpack = strcmp(kind, "unpack") == 0;
	const char *from_name = unpack ? SWAP_STAGING : SWAP_PREVIOUS;
	const char *aside_name = unpack ? SWAP_PREVIOUS : SWAP_DISCARD;
	char from[4200], aside[4200], agent[4200];
	json_t *old = NULL, *new = NULL, *j = NULL;
	int rc = -1;

	if (agent_path(from, sizeof from, data_dir, from_name) < 0 ||
	    agent_path(aside, sizeof aside, data_dir, aside_name) < 0 ||
	    agent_path(agent, sizeof agent, data_dir, NULL) < 0)
		return err_set(e, ERR_FAILED, "path too long");
	if (!(old = list_names(data_dir, e)) || !(new = list_names(from, e)))
		goto out;
	if (mkdir(aside, 0700) < 0) {
		err_sys(e, ERR_FAILED, "mkdir %s", aside);
		goto out;
	}
	if (fs_fsync_dir(agent, e) < 0)
		goto out;
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:O}", "kind", kind,
	    "backup", backup ? backup : "", "phase", "moving_old",
	    "from", from_name, "aside", aside_name, "old", old, "new", new);
	if (!j) {
		err_set(e, ERR_FAILED, "cannot build the journal");
		goto out;
	}
	if (journal_write(data_dir, j, e) < 0)
		goto out;
	swap_crashpoint("swap-journal");
	log_info("swap_start", "kind=%s backup=%s old=%zu new=%zu", kind,
	    logq(backup ? backup : ""), json_array_size(old),
	    json_array_size(new));
	rc = finish(data_dir, j, e);
	if (rc == 0)
		log_info("swap_done", "kind=%s backup=%s", kind,
		    logq(backup ? backup : ""));
out:
	json_decref(old);
	json_decref(new);
	json_decref(j);
	return rc;
}

int
swap_journal_in_place(const char *data_dir, const char *backup,
    const char *phase, struct err *e)
{
	json_t *j = json_pack("{s:s, s:s, s:s}", "kind", "in_place", "backup",
	    backup, "phase", phase);
	int rc;

	if (!j)
		return err_set(e, ERR_FAILED, "cannot build the journal");
	rc = journal_write(data_dir, j, e);
	json_decref(j);
	return rc;
}

int
swap_delete_live(const char *data_dir, struct err *e)
{
	json_t *names = list_names(data_dir, e);
	size_t i;
	json_t *v;

	if (!names)
		return -1;
	json_array_foreach(names, i, v) {
		char buf[256], path[4400];
		const char *name = decode_name(json_string_value(v), buf,
		    sizeof buf);
		if (fs_join(path, sizeof path, data_dir, name) < 0 ||
		    fs_remove_tree(path, e) < 0) {
			json_decref(names);
			return -1;
		}
	}
	json_decref(names);
	return fs_fsync_dir(data_dir, e);
}

int
swap_recover(const char *data_dir, enum swap_state *state, char *backup,
    size_t size, struct err *e)
{
	char path[4200];
	json_t *j;
	const char *kind;
	int rc;

	*state = SWAP_CLEAN;
	if (backup && size)
		backup[0] = '\0';
	if (!swap_pending(data_dir)) {
		/* Without a journal, staging/ and discard/ are never part of a
		 * live state: debris of an operation that died before its swap. */
		char dir[4200];
		for (int i = 0; i < 2; i++) {
			struct stat st;
			if (agent_path(dir, sizeof dir, data_dir, i ? SWAP_DISCARD :
			    SWAP_STAGING) < 0)
				return err_set(e, ERR_FAILED, "path too long");
			if (lstat(dir, &st) < 0)
				continue;
			log_info("leftover_removed", "path=%s", logq(dir));
			if (fs_remove_tree(dir, e) < 0)
				return -1;
		}
		return 0;
	}
	if (agent_path(path, sizeof path, data_dir, "journal") < 0)
		return err_set(e, ERR_FAILED, "path too long");
	if (!(j = json_load_path(path, JOURNAL_MAX, e))) {
		err_prefix(e, "the restore journal is unreadable");
		e->code = ERR_FAILED;
		return -1;
	}
	kind = json_get_str(j, "kind");
	if (backup && size && json_get_str(j, "backup"))
		snprintf(backup, size, "%s", json_get_str(j, "backup"));
	if (kind && strcmp(kind, "in_place") == 0) {
		*state = SWAP_IN_PLACE_INCOMPLETE;
		log_warn("recovery", "state=in_place_incomplete backup=%s "
		    "reason=%s", logq(json_get_str(j, "backup") ?
		    json_get_str(j, "backup") : ""),
		    logq("an in-place restore did not finish; unpack must run "
		    "again"));
		json_decref(j);
		return 0;
	}
	char kindbuf[32];
	snprintf(kindbuf, sizeof kindbuf, "%s", kind ? kind : "?");
	log_warn("recovery", "kind=%s phase=%s reason=%s", logq(kindbuf),
	    logq(json_get_str(j, "phase") ? json_get_str(j, "phase") : "?"),
	    logq("an interrupted swap is being completed"));
	rc = finish(data_dir, j, e);
	json_decref(j);
	if (rc == 0) {
		*state = SWAP_RECOVERED;
		log_info("recovery_done", "kind=%s", logq(kindbuf));
	}
	return rc;
}
