/* A plain driver for a libFuzzer harness (fuzz_spdx.c, fuzz_safetensors.c)
 * when libFuzzer is not used: it feeds each file named on the command line,
 * or each file of a named folder, to LLVMFuzzerTestOneInput.  With no
 * argument it replays $KAIEVAL_SRCDIR/REPLAY_CORPUS, as `make check` does.
 * Exit 0 when every input went through (a failed check aborts). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The seed corpus, relative to the source tree (set per harness). */
#ifndef REPLAY_CORPUS
#define REPLAY_CORPUS "tests/fuzz/corpus"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return 1;
	}
	size_t cap = 1 << 16, n = 0, got;
	uint8_t *buf = malloc(cap);
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			uint8_t *grown = realloc(buf, cap *= 2);
			if (!grown)
				free(buf);
			buf = grown;
		}
	}
	fclose(f);
	if (!buf)
		return 1;
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A folder's files in name order, so that runs repeat. */
static int replay_dir(const char *dir, int *count)
{
	DIR *d = opendir(dir);
	if (!d) {
		perror(dir);
		return 1;
	}
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d)) && !rc) {
		if (e->d_name[0] == '.')
			continue;
		char **grown = realloc(names, (n + 1) * sizeof *names);
		rc = !grown;
		if (grown) {
			names = grown;
			rc = !(names[n++] = strdup(e->d_name));
		}
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		rc |= names[i] ? replay_file(path) : 1;
		free(names[i]);
		(*count)++;
	}
	free(names);
	return rc;
}

static int replay(const char *path, int *count)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return replay_dir(path, count);
	(*count)++;
	return replay_file(path);
}

int main(int argc, char **argv)
{
	int rc = 0, count = 0;
	if (argc < 2) {
		const char *src = getenv("KAIEVAL_SRCDIR");
		char dir[4096];
		snprintf(dir, sizeof dir, "%s/" REPLAY_CORPUS, src ? src : ".");
		rc = replay(dir, &count);
	}
	for (int i = 1; i < argc; i++)
		rc |= replay(argv[i], &count);
	printf("replayed %d input%s\n", count, count == 1 ? "" : "s");
	return rc || count == 0;
}
