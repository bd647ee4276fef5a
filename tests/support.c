#include "support.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *kvt_srcdir(void)
{
	const char *s = getenv("KAIEVAL_SRCDIR");
	return s ? s : ".";
}

char *kvt_src(const char *rel) { return kv_xasprintf("%s/%s", kvt_srcdir(), rel); }

char *kvt_tempdir(void)
{
	const char *base = getenv("TMPDIR");
	char *t = kv_xasprintf("%s/kaieval-test-XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(t)) {
		perror("mkdtemp");
		abort();
	}
	return t;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

void kvt_rmtree(const char *dir)
{
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void make_parents(char *path)
{
	for (char *p = path + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
}

void kvt_write(const char *dir, const char *rel, const char *text)
{
	char *path = kv_xasprintf("%s/%s", dir, rel);
	make_parents(path);
	FILE *f = fopen(path, "wb");
	if (!f) {
		perror(path);
		abort();
	}
	fwrite(text, 1, strlen(text), f);
	fclose(f);
	free(path);
}

void kvt_copy(const char *src, const char *dst)
{
	struct kv_buf b = {0};
	char *parents = kv_xstrdup(dst);
	make_parents(parents);
	free(parents);
	FILE *f = fopen(dst, "wb");
	if (kv_read_file(src, &b) != 0 || !f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0) {
		perror(src);
		abort();
	}
	kv_buf_free(&b);
}

char *kvt_read(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct kv_buf b = {0};
	char chunk[4096];
	size_t n;
	kv_buf_puts(&b, "");
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		kv_buf_add(&b, chunk, n);
	fclose(f);
	return b.data;
}

int kvt_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

int kvt_run(const char *config, struct kv_run **run, struct kv_error *err)
{
	memset(err, 0, sizeof *err);
	return kv_run_round(config, NULL, 0, run, err);
}

int kvt_exec(const char *const *args, char **out, char **err)
{
	return kvt_exec_within(0, args, out, err);
}

int kvt_exec_within(unsigned seconds, const char *const *args, char **out, char **err)
{
	const char *bin = getenv("KAIEVAL_BIN");
	if (!bin)
		bin = "./kaieval";
	size_t n = 0;
	while (args[n])
		n++;
	char **argv = kv_xcalloc(n + 2, sizeof *argv);
	argv[0] = (char *)bin;
	for (size_t i = 0; i < n; i++)
		argv[i + 1] = (char *)args[i];
	char *tmpdir = kvt_tempdir();
	char *out_path = kv_xasprintf("%s/out", tmpdir), *err_path = kv_xasprintf("%s/err", tmpdir);
	pid_t pid = fork();
	if (pid == 0) {
		int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(o, 1);
		dup2(e, 2);
		alarm(seconds);
		execv(bin, argv);
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	char *o = kvt_read(out_path), *e = kvt_read(err_path);
	if (out) *out = o; else free(o);
	if (err) *err = e; else free(e);
	kvt_rmtree(tmpdir);
	free(tmpdir);
	free(out_path);
	free(err_path);
	free(argv);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

const char *kvt_gate_failed(const struct kv_run *run, const char *team)
{
	const struct kv_standing *s = kv_run_standing(run, team);
	return s && s->reason == KV_REASON_GATE ? run->round->criteria[s->reason_gate].id : "";
}

double kvt_normalized(const struct kv_run *run, const char *criterion, const char *team)
{
	const struct kv_team_outcome *o = kv_run_outcome(run, criterion, team);
	return o && o->has_normalized ? o->normalized : NAN;
}

double kvt_evidence_num(const struct kv_run *run, const char *criterion, const char *team, const char *key)
{
	const struct kv_team_outcome *o = kv_run_outcome(run, criterion, team);
	const struct kv_evidence_item *it = o ? kv_evidence_get(&o->evidence, key) : NULL;
	return it && it->is_num ? it->num : NAN;
}

const char *kvt_evidence_str(const struct kv_run *run, const char *criterion, const char *team, const char *key)
{
	const struct kv_team_outcome *o = kv_run_outcome(run, criterion, team);
	const struct kv_evidence_item *it = o ? kv_evidence_get(&o->evidence, key) : NULL;
	return it && !it->is_num ? it->str : NULL;
}

double kvt_round_evidence_num(const struct kv_run *run, const char *criterion, const char *key)
{
	long c = kv_round_criterion_index(run->round, criterion);
	if (c < 0 || (size_t)c >= run->evaluated)
		return NAN;
	const struct kv_evidence_item *it = kv_evidence_get(&run->results[c].evidence, key);
	return it && it->is_num ? it->num : NAN;
}

char *kvt_config(const char *criteria, const char *selection)
{
	return kv_xasprintf(
		"round:\n{\n"
		"  id = \"test\";\n  title = \"Test round\";\n  date = \"2026-01-15\";\n"
		"  data = \"data\";\n  seed = 7L;\n"
		"  teams = (\n"
		"    { id = \"a\"; name = \"A\"; model = \"ma\"; },\n"
		"    { id = \"b\"; name = \"B\"; model = \"mb\"; },\n"
		"    { id = \"c\"; name = \"C\"; model = \"mc\"; },\n"
		"    { id = \"d\"; name = \"D\"; model = \"md\"; }\n"
		"  );\n"
		"  criteria = (\n%s\n  );\n"
		"  selection = {\n%s\n  };\n};\n",
		criteria ? criteria
			 : "    { id = \"x\"; plugin = \"table\"; kind = \"score\"; points = 10.0;\n"
			   "      params = { file = \"x.csv\"; }; }",
		selection ? selection : "    eliminate_lowest = 1;");
}

char *kvt_two_criteria_round(const char *dir, const char *sub, int n)
{
	struct kv_buf teams = {0}, x = {0}, y = {0};
	kv_buf_puts(&x, "team,value,normalized\n");
	kv_buf_puts(&y, "team,value,normalized\n");
	for (int i = 1; i <= n; i++) {
		kv_buf_printf(&teams, "%s{ id = \"t%d\"; name = \"T%d\"; model = \"m%d\"; }", i > 1 ? ", " : "", i, i, i);
		kv_buf_printf(&x, "t%d,%d,%.3f\n", i, i, 0.05 * i);
		kv_buf_printf(&y, "t%d,%d,%.3f\n", i, i, i == 1 ? 0.01 : 0.045 * (n + 1 - i));
	}
	char *xs = kv_xasprintf("%s/data/x.csv", sub), *ys = kv_xasprintf("%s/data/y.csv", sub);
	char *rel = kv_xasprintf("%s/r.cfg", sub), *path = kv_xasprintf("%s/%s", dir, rel);
	char *cfg = kv_xasprintf("round: { id = \"big\"; title = \"%d teams\"; date = \"2026-01-15\"; data = \"data\";"
				 " seed = 7L; teams = ( %s );\n criteria = ("
				 " { id = \"x\"; plugin = \"table\"; kind = \"score\"; points = 10.0; params = { file = \"x.csv\"; }; },"
				 " { id = \"y\"; plugin = \"table\"; kind = \"score\"; points = 10.0; params = { file = \"y.csv\"; }; } );\n"
				 " selection = { advance = 4; }; };\n", n, teams.data);
	kvt_write(dir, xs, x.data);
	kvt_write(dir, ys, y.data);
	kvt_write(dir, rel, cfg);
	free(cfg), free(rel), free(ys), free(xs);
	kv_buf_free(&teams), kv_buf_free(&x), kv_buf_free(&y);
	return path;
}

char *kvt_table_dir(void)
{
	char *dir = kvt_tempdir();
	kvt_write(dir, "data/x.csv", "team,value,normalized\na,1,0.1\nb,2,0.2\nc,3,0.3\nd,4,0.4\n");
	return dir;
}

int kvt_cli_run(const char *dir, const char *cfg_text, char **err)
{
	kvt_write(dir, "r.cfg", cfg_text);
	char *cfg = kv_xasprintf("%s/r.cfg", dir);
	char *out = kv_xasprintf("%s/out.json", dir);
	const char *args[] = {"run", cfg, "-o", out, NULL};
	int rc = kvt_exec(args, NULL, err);
	free(cfg);
	free(out);
	return rc;
}

void kvt_round_init(struct kvt_round *r, const struct kv_plugin *plugin)
{
	memset(r, 0, sizeof *r);
	r->dir = kvt_tempdir();
	kv_register_builtin(plugin);
}

void kvt_round_put(struct kvt_round *r, const char *rel, const char *text)
{
	char *path = kv_xasprintf("d/%s", rel);
	kvt_write(r->dir, path, text);
	free(path);
}

int kvt_round_run(struct kvt_round *r, const char *config_text)
{
	kvt_write(r->dir, "r.cfg", config_text);
	kv_run_free(r->run);
	r->run = NULL;
	char *path = kv_xasprintf("%s/r.cfg", r->dir);
	r->rc = kvt_run(path, &r->run, &r->err);
	free(path);
	return r->rc;
}

void kvt_round_done(struct kvt_round *r)
{
	kv_run_free(r->run);
	kvt_rmtree(r->dir);
	free(r->dir);
}

char *kvt_tempdir_x(void)
{
	char *dir = kvt_tempdir();
	kvt_write(dir, "data/x.csv", "team,value,normalized\na,1,0.1\nb,2,0.2\nc,3,0.3\nd,4,0.4\n");
	return dir;
}

cJSON *kvt_record(const char *path)
{
	char *text = kvt_read(path);
	cJSON *record = text ? cJSON_Parse(text) : NULL;
	free(text);
	return record;
}

const cJSON *kvt_record_team(const cJSON *record, const char *id)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(record, "teams")) {
		const cJSON *tid = cJSON_GetObjectItem(t, "id");
		if (cJSON_IsString(tid) && strcmp(tid->valuestring, id) == 0)
			return t;
	}
	return NULL;
}

char *kvt_round_record(const char *name, const char *dir)
{
	char *cfg = kv_xasprintf("%s/conf/rounds/%s.cfg", kvt_srcdir(), name);
	char *record = kv_xasprintf("%s/%s.json", dir, name);
	const char *args[] = {"run", cfg, "-o", record, NULL};
	if (kvt_exec(args, NULL, NULL) != 0) {
		free(record);
		record = NULL;
	}
	free(cfg);
	return record;
}

int kvt_spawn(const char *const *argv, const char *const *env, const char *cwd, const char *out)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || (cwd && chdir(cwd) != 0))
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		for (size_t i = 0; env && env[i]; i++)
			putenv(kv_xstrdup(env[i]));
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
