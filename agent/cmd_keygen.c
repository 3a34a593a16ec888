/* keygen: a new age identity (X25519), written as age-keygen writes it,
 * and its recipient, for operators who lack the age tool. The identity
 * goes to -o FILE (created 0600, never over an existing file or through a
 * link) or to stdout; "Public key: age1..." to stderr. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "age.h"
#include "cmd_table.h"
#include "fsutil.h"
#include "json.h"

/* text into a new file at path: 0, or -1 with e (nothing left behind). */
static int
write_identity(const char *path, const char *text, struct err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);

	if (fd < 0) {
		if (errno == EEXIST)
			return err_set(e, ERR_CONFIG, "%s exists: keygen never "
			    "overwrites a key file", path);
		return err_sys(e, ERR_CONFIG, "create %s", path);
	}
	if (fs_write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		err_sys(e, ERR_FAILED, "write %s", path);
		close(fd);
		unlink(path);
		return -1;
	}
	if (close(fd) < 0) {
		err_sys(e, ERR_FAILED, "close %s", path);
		unlink(path);
		return -1;
	}
	return fs_fsync_parent(path, e);
}

static int
cmd_keygen_exec(const struct cmd_args *a)
{
	struct age_identity id;
	struct age_recipient r;
	char recipient[AGE_RECIPIENT_STR_LEN + 1];
	char fp[AGE_FINGERPRINT_LEN + 1], text[256];
	struct err e;
	int rc;

	err_clear(&e);
	if (a->json && !a->output) {
		fprintf(stderr, "quorum-backup-agent: keygen --json needs -o FILE "
		    "(the identity is a secret: it never goes into JSON)\n");
		return 2;
	}
	if (age_keygen(&id, recipient, &e) < 0)
		return cmd_fail("keygen", &e);
	rc = age_identity_file_text(&id, time(NULL), text, sizeof text, &e);
	age_recipient_of(&id, &r);
	age_identity_wipe(&id);
	if (rc == 0 && a->output)
		rc = write_identity(a->output, text, &e);
	else if (rc == 0 && (fputs(text, stdout) < 0 || fflush(stdout) != 0))
		rc = err_sys(&e, ERR_FAILED, "write the identity to stdout");
	sodium_memzero(text, sizeof text);
	if (rc < 0)
		return cmd_fail("keygen", &e);
	age_recipient_fingerprint(&r, fp);
	if (a->json) {
		json_t *j = json_pack("{s:s, s:s, s:s}", "recipient", recipient,
		    "fingerprint", fp, "identity_file", a->output);
		json_print(j);
		json_decref(j);
	}
	fprintf(stderr, "Public key: %s\n", recipient);
	return 0;
}

const struct cmd_entry cmd_keygen_entry = {
	.name = "keygen",
	.usage = "keygen [-o FILE]",
	.help = "a new age identity (to FILE, 0600, or stdout) and its\n"
	    "recipient (on stderr), as age-keygen makes them",
	.options = {
		{ "-o, --output FILE", "where the identity goes (default: stdout)" },
	},
	.opts = CMDOPT_OUTPUT,
	.exec = cmd_keygen_exec,
};
