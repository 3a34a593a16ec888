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

int
datadir_open(struct datadir *d, const char *data_dir, int create,
    struct err *e)
{
	char shown[4200];
	struct stat st;

	d->data = d->agent = -1;
	snprintf(d->path, sizeof d->path, "%s", data_dir);
	d->data = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->data < 0) {
		if (errno == ENOTDIR)
			return err_set(e, ERR_FAILED, "data directory %s is not a "
			    "directory", data_dir);
		return err_sys(e, errno == ENOENT ? ERR_NOT_FOUND : ERR_FAILED,
		    "data directory %s", data_dir);
	}
	snprintf(shown, sizeof shown, "%s/%s", data_dir, DATADIR_AGENT);
	if (!create && fstatat(d->data, DATADIR_AGENT, &st, AT_SYMLINK_NOFOLLOW) <
	    0 && errno == ENOENT)
		return 0;   /* nothing of the agent's is here yet */
	d->agent = fs_opendirat(d->data, DATADIR_AGENT, shown, create, e);
	if (d->agent < 0) {
		err_prefix(e, "the agent's directory");
		close(d->data);
		d->data = -1;
		return -1;
	}
	return 0;
}

void
datadir_close(struct datadir *d)
{
	if (d->agent >= 0)
		close(d->agent);
	if (d->data >= 0)
		close(d->data);
	d->agent = d->data = -1;
}

int
datadir_sub(const struct datadir *d, const char *name, int create,
    struct err *e)
{
	char shown[4300];

	snprintf(shown, sizeof shown, "%s/%s/%s", d->path, DATADIR_AGENT, name);
	if (d->agent < 0)
		return err_set(e, ERR_NOT_FOUND, "%s does not exist", shown);
	return fs_opendirat(d->agent, name, shown, create, e);
}

/* "<data_dir>/.quorum-backup/name", for messages. */
static const char *
shown_name(const struct datadir *d, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s/%s", d->path, DATADIR_AGENT, name);
	return buf;
}

/* Top-level names of the directory dirfd, without "." "..", and without
 * .quorum-backup. */
static json_t *
list_names(int dirfd, const char *dir, struct err *e)
{
	json_t *names = json_array();
	struct dirent *de;
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		if (fd >= 0)
			close(fd);
		json_decref(names);
		err_sys(e, ERR_FAILED, "open %s", dir);
		return NULL;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, DATADIR_AGENT) == 0)
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
journal_write(const struct datadir *d, json_t *j, struct err *e)
{
	char shown[4300];

	return json_write_fileat(d->agent, "journal", shown_name(d, "journal",
	    shown, sizeof shown), j, 0600, e);
}

int
swap_journal_clear(const struct datadir *d, struct err *e)
{
	char shown[4300];

	shown_name(d, "journal", shown, sizeof shown);
	if (unlinkat(d->agent, "journal", 0) < 0 && errno != ENOENT)
		return err_sys(e, ERR_FAILED, "remove %s", shown);
	if (fsync(d->agent) < 0)
		return err_sys(e, ERR_FAILED, "fsync %s/%s", d->path, DATADIR_AGENT);
	return 0;
}

int
swap_pending(const struct datadir *d)
{
	struct stat st;

	return d->agent >= 0 && fstatat(d->agent, "journal", &st,
	    AT_SYMLINK_NOFOLLOW) == 0;
}

/* Move every name of the list from the directory sfd into dfd, skipping
 * those already moved (idempotent: recovery runs this again after a
 * crash). src and dst name them in messages. */
static int
move_names(int sfd, const char *src, int dfd, const char *dst,
    const json_t *names, const char *crash_first, struct err *e)
{
	size_t i;
	json_t *v;
	int moved = 0;

	json_array_foreach(names, i, v) {
		char buf[256];
		const char *name = decode_name(json_string_value(v), buf,
		    sizeof buf);
		struct stat st;
		if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;   /* moved already */
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			return err_set(e, ERR_FAILED, "cannot move %s: %s/%s exists",
			    name, dst, name);
		if (renameat(sfd, name, dfd, name) < 0)
			return err_sys(e, ERR_FAILED, "move %s/%s to %s", src, name,
			    dst);
		if (!moved++ && crash_first)
			swap_crashpoint(crash_first);
	}
	if (fsync(sfd) < 0 || fsync(dfd) < 0)
		return err_sys(e, ERR_FAILED, "fsync %s or %s", src, dst);
	return 0;
}

/* Finish a journaled swap from its current phase. */
static int
finish(const struct datadir *d, json_t *j, struct err *e)
{
	const char *kind = json_get_str(j, "kind");
	const char *phase = json_get_str(j, "phase");
	const char *from_name = json_get_str(j, "from");
	const char *aside_name = json_get_str(j, "aside");
	char from[4300], aside[4300];
	int ffd = -1, afd = -1, rc = -1;

	if (!kind || !phase || !from_name || !aside_name ||
	    (strcmp(from_name, SWAP_STAGING) != 0 &&
	    strcmp(from_name, SWAP_PREVIOUS) != 0) ||
	    (strcmp(aside_name, SWAP_PREVIOUS) != 0 &&
	    strcmp(aside_name, SWAP_DISCARD) != 0))
		return err_set(e, ERR_FAILED, "the restore journal in %s/%s is "
		    "damaged; inspect it before doing anything else", d->path,
		    DATADIR_AGENT);
	shown_name(d, from_name, from, sizeof from);
	shown_name(d, aside_name, aside, sizeof aside);
	if (strcmp(phase, "moving_old") == 0) {
		if ((afd = datadir_sub(d, aside_name, 0, e)) < 0 ||
		    move_names(d->data, d->path, afd, aside,
		    json_object_get(j, "old"), "swap-old-first", e) < 0)
			goto out;
		json_object_set_new(j, "phase", json_string("moving_new"));
		if (journal_write(d, j, e) < 0)
			goto out;
		swap_crashpoint("swap-old-done");
		phase = "moving_new";
	}
	if (strcmp(phase, "moving_new") == 0) {
		if ((ffd = datadir_sub(d, from_name, 0, e)) < 0 ||
		    move_names(ffd, from, d->data, d->path,
		    json_object_get(j, "new"), "swap-new-first", e) < 0)
			goto out;
		json_object_set_new(j, "phase", json_string("done"));
		if (journal_write(d, j, e) < 0)
			goto out;
		swap_crashpoint("swap-new-done");
		phase = "done";
	}
	if (strcmp(phase, "done") != 0) {
		err_set(e, ERR_FAILED, "unknown phase '%s' in the restore journal",
		    phase);
		goto out;
	}
	/* The new tree is live. Tidy up: the "from" directory is empty now;
	 * a rollback's aside tree is the one being thrown away. */
	if (unlinkat(d->agent, from_name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
		err_sys(e, ERR_FAILED, "remove %s", from);
		goto out;
	}
	if (strcmp(kind, "rollback") == 0 &&
	    fs_remove_treeat(d->agent, aside_name, aside, e) < 0)
		goto out;
	if (fsync(d->agent) < 0) {
		err_sys(e, ERR_FAILED, "fsync %s/%s", d->path, DATADIR_AGENT);
		goto out;
	}
	swap_crashpoint("swap-cleanup");
	rc = swap_journal_clear(d, e);
out:
	if (ffd >= 0)
		close(ffd);
	if (afd >= 0)
		close(afd);
	return rc;
}

int
swap_run(const struct datadir *d, const char *kind, const char *backup,
    struct err *e)
{
	const int unpack = strcmp(kind, "unpack") == 0;
	const char *from_name = unpack ? SWAP_STAGING : SWAP_PREVIOUS;
	const char *aside_name = unpack ? SWAP_PREVIOUS : SWAP_DISCARD;
	char from[4300], aside[4300];
	json_t *old = NULL, *new = NULL, *j = NULL;
	int ffd = -1, rc = -1;

	shown_name(d, from_name, from, sizeof from);
	shown_name(d, aside_name, aside, sizeof aside);
	if ((ffd = datadir_sub(d, from_name, 0, e)) < 0 ||
	    !(old = list_names(d->data, d->path, e)) ||
	    !(new = list_names(ffd, from, e)))
		goto out;
	if (mkdirat(d->agent, aside_name, 0700) < 0) {
		err_sys(e, ERR_FAILED, "mkdir %s", aside);
		goto out;
	}
	if (fsync(d->agent) < 0) {
		err_sys(e, ERR_FAILED, "fsync %s/%s", d->path, DATADIR_AGENT);
		goto out;
	}
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:O}", "kind", kind,
	    "backup", backup ? backup : "", "phase", "moving_old",
	    "from", from_name, "aside", aside_name, "old", old, "new", new);
	if (!j) {
		err_set(e, ERR_FAILED, "cannot build the journal");
		goto out;
	}
	if (journal_write(d, j, e) < 0)
		goto out;
	swap_crashpoint("swap-journal");
	log_info("swap_start", "kind=%s backup=%s old=%zu new=%zu", kind,
	    logq(backup ? backup : ""), json_array_size(old),
	    json_array_size(new));
	rc = finish(d, j, e);
	if (rc == 0)
		log_info("swap_done", "kind=%s backup=%s", kind,
		    logq(backup ? backup : ""));
out:
	if (ffd >= 0)
		close(ffd);
	json_decref(old);
	json_decref(new);
	json_decref(j);
	return rc;
}

int
swap_journal_in_place(const struct datadir *d, const char *backup,
    const char *phase, struct err *e)
{
	json_t *j = json_pack("{s:s, s:s, s:s}", "kind", "in_place", "backup",
	    backup, "phase", phase);
	int rc;

	if (!j)
		return err_set(e, ERR_FAILED, "cannot build the journal");
	rc = journal_write(d, j, e);
	json_decref(j);
	return rc;
}

int
swap_delete_live(const struct datadir *d, struct err *e)
{
	json_t *names = list_names(d->data, d->path, e);
	size_t i;
	json_t *v;

	if (!names)
		return -1;
	json_array_foreach(names, i, v) {
		char buf[256], shown[4400];
		const char *name = decode_name(json_string_value(v), buf,
		    sizeof buf);

		snprintf(shown, sizeof shown, "%s/%s", d->path, name);
		if (fs_remove_treeat(d->data, name, shown, e) < 0) {
			json_decref(names);
			return -1;
		}
	}
	json_decref(names);
	if (fsync(d->data) < 0)
		return err_sys(e, ERR_FAILED, "fsync %s", d->path);
	return 0;
}

int
swap_recover(const struct datadir *d, enum swap_state *state, char *backup,
    size_t size, struct err *e)
{
	char shown[4300];
	json_t *j;
	const char *kind;
	int rc;

	*state = SWAP_CLEAN;
	if (backup && size)
		backup[0] = '\0';
	if (!swap_pending(d)) {
		/* Without a journal, staging/ and discard/ are never part of a
		 * live state: debris of an operation that died before its swap. */
		for (int i = 0; d->agent >= 0 && i < 2; i++) {
			const char *name = i ? SWAP_DISCARD : SWAP_STAGING;
			struct stat st;

			if (fstatat(d->agent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			shown_name(d, name, shown, sizeof shown);
			log_info("leftover_removed", "path=%s", logq(shown));
			if (fs_remove_treeat(d->agent, name, shown, e) < 0)
				return -1;
		}
		return 0;
	}
	shown_name(d, "journal", shown, sizeof shown);
	if (!(j = json_load_at(d->agent, "journal", shown, JOURNAL_MAX, e))) {
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
	rc = finish(d, j, e);
	json_decref(j);
	if (rc == 0) {
		*state = SWAP_RECOVERED;
		log_info("recovery_done", "kind=%s", logq(kindbuf));
	}
	return rc;
}
