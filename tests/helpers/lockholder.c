/* lockholder: hold a lock on a file the way a node does, for tests.
 *
 *   lockholder --flock PATH    flock(LOCK_EX), as geth and goleveldb do
 *   lockholder --fcntl PATH    classic POSIX fcntl(F_SETLK) write lock, as
 *                              Java (H2, Tessera) and C LevelDB do
 *
 * Creates PATH if missing, takes the lock, prints "locked <pid>" on stdout
 * and sleeps until a signal ends it. Exits 1 if the lock is taken. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct flock fl;
	int fd;

	if (argc != 3 || (strcmp(argv[1], "--flock") != 0 &&
	    strcmp(argv[1], "--fcntl") != 0)) {
		fprintf(stderr, "usage: lockholder --flock|--fcntl PATH\n");
		return 2;
	}
	fd = open(argv[2], O_RDWR | O_CREAT, 0644);
	if (fd < 0) {
		perror(argv[2]);
		return 1;
	}
	if (strcmp(argv[1], "--flock") == 0) {
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			perror("flock");
			return 1;
		}
	} else {
		memset(&fl, 0, sizeof fl);
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_SETLK, &fl) < 0) {
			perror("fcntl");
			return 1;
		}
	}
	printf("locked %d\n", (int)getpid());
	fflush(stdout);
	for (;;)
		pause();
}
