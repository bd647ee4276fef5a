/* `kaieval fingerprint` (see fpexec.h): the scanner is found beside the
 * running binary (the build tree, or a folder holding both programs), else
 * where `make install` puts it, and run with execv (no shell). */
#include "fpexec.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "paths.h"
#include "util.h"

#define FP_PROGRAM "kaieval-fingerprint"

/* path: FP_PROGRAM in the folder of /proc/self/exe; 0 when it can be run. */
static int beside_self(char *path, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	if ((size_t)snprintf(path, len, "%s/%s", self, FP_PROGRAM) >= len)
		return -1;
	return access(path, X_OK);
}

int kv_cmd_fingerprint(int argc, char **argv)
{
	char path[PATH_MAX + sizeof FP_PROGRAM + 1];
	if (beside_self(path, sizeof path) != 0)
		snprintf(path, sizeof path, "%s/%s", KV_PKGLIBEXECDIR, FP_PROGRAM);
	char **args = kv_xcalloc((size_t)argc + 1, sizeof *args);
	args[0] = (char *)FP_PROGRAM;
	for (int i = 1; i < argc; i++)
		args[i] = argv[i];
	fflush(NULL);
	execv(path, args);
	fprintf(stderr, "kaieval: cannot run %s: %s\n", path, strerror(errno));
	free(args);
	return KV_EXIT_INTERNAL;
}
