/* `kaieval fingerprint plan|run|merge`: a job array simulated on this
 * machine (each unit a separate process, with the index a Slurm array task
 * or a Kubernetes Indexed Job pod gets), one unit killed and rerun, one run
 * twice, the merge equal byte for byte to the one-machine fingerprint; a
 * missing or foreign part refused; the shipped Slurm and Kubernetes files
 * checked and run here with the environment their scheduler sets. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"
#include "test_forensics_util.h"

#define UNITS 7

/* BF16 data of n elements, from a seed. */
static uint8_t *weights(size_t n, uint64_t seed)
{
	struct syn_rng r = {.s = seed};
	float *v = kv_xcalloc(n, sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = (float)syn_gauss(&r);
	uint8_t *b = syn_bf16_bytes(v, n);
	free(v);
	return b;
}

/* Shard s of a model: `count` tensors "layers.S.I" of varied sizes. */
static void write_shard(const char *path, int s, size_t count, char names[][64])
{
	struct syn_tensor t[16];
	uint8_t *data[16];
	for (size_t i = 0; i < count; i++) {
		size_t rows = 3 + (size_t)(i * 7 + (size_t)s * 5) % 29, cols = 16 + (size_t)(i % 4) * 40;
		snprintf(names[i], 64, "layers.%d.%zu", s, i);
		data[i] = weights(rows * cols, (uint64_t)(s * 100 + (int)i + 1));
		t[i] = (struct syn_tensor){names[i], "BF16", 2, {rows, cols}, data[i], rows * cols * 2};
	}
	syn_write(path, t, count);
	for (size_t i = 0; i < count; i++)
		free(data[i]);
}

/* Three shards (5, 9 and 4 tensors), with model.safetensors.index.json
 * when with_index. */
static void write_model(const char *dir, int with_index)
{
	static const size_t counts[] = {5, 9, 4};
	char names[16][64];
	struct kv_buf idx = {0};
	kv_buf_puts(&idx, "{\"metadata\": {}, \"weight_map\": {");
	for (int s = 0; s < 3; s++) {
		char *path = kv_xasprintf("%s/model-%05d-of-00003.safetensors", dir, s + 1);
		write_shard(path, s, counts[s], names);
		for (size_t i = 0; i < counts[s]; i++)
			kv_buf_printf(&idx, "%s\"%s\": \"model-%05d-of-00003.safetensors\"", s || i ? ", " : "",
				      names[i], s + 1);
		free(path);
	}
	kv_buf_puts(&idx, "}}\n");
	if (with_index)
		kvt_write(dir, "model.safetensors.index.json", idx.data);
	kv_buf_free(&idx);
}

/* `kaieval fingerprint run PLAN` with the unit in the variable var. */
static int run_as(const char *var, int unit, const char *plan, char **out)
{
	char value[16];
	snprintf(value, sizeof value, "%d", unit);
	setenv(var, value, 1);
	const char *args[] = {"fingerprint", "run", plan, NULL};
	int rc = kvt_exec(args, out, NULL);
	unsetenv(var);
	return rc;
}

static int same_file(const char *a, const char *b)
{
	char *x = kvt_read(a), *y = kvt_read(b);
	int same = x && y && strcmp(x, y) == 0;
	free(x);
	free(y);
	return same;
}

/* Plan, run every unit as its own process (unit 4 killed once between its
 * part and its marker, then rerun; unit 2 run twice), merge, compare. */
static void job_array(const char *var, int with_index)
{
	char *dir = kvt_tempdir(), *m = kv_xasprintf("%s/model", dir), *whole = kv_xasprintf("%s/whole.json", dir);
	char *plan = kv_xasprintf("%s/m.plan", dir), *merged = kv_xasprintf("%s/merged.json", dir);
	char *marker4 = kv_xasprintf("%s/m.plan.parts/unit-4.done", dir), *out = NULL;
	kvt_write(dir, "model/.keep", "");
	write_model(m, with_index);
	cr_assert_eq(syn_kaieval(NULL, m, "-o", whole, NULL), 0);
	cr_assert_eq(syn_kaieval(NULL, "plan", m, "-o", plan, "--units", "7", NULL), 0);
	setenv("KAIEVAL_FINGERPRINT_TEST_DIE", "before-marker", 1);
	cr_assert_eq(run_as(var, 4, plan, NULL), 128 + 9, "the unit was to die by SIGKILL");
	unsetenv("KAIEVAL_FINGERPRINT_TEST_DIE");
	cr_assert(!kvt_exists(marker4), "a killed unit left its completion marker");
	for (int u = UNITS - 1; u >= 0; u--)
		cr_assert_eq(run_as(var, u, plan, NULL), 0, "unit %d", u);
	cr_assert_eq(run_as(var, 2, plan, &out), 0);
	cr_assert(strstr(out, "already done"), "a finished unit ran again: %s", out);
	free(out);
	cr_assert_eq(syn_kaieval(NULL, "merge", plan, "-o", merged, NULL), 0);
	cr_assert(same_file(whole, merged), "the merge differs from the one-machine fingerprint");
	kvt_rmtree(dir);
	char *list[] = {dir, m, whole, plan, merged, marker4};
	for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
		free(list[i]);
}

Test(fpcluster, slurm_array_with_a_killed_unit_merges_to_the_whole)
{
	job_array("SLURM_ARRAY_TASK_ID", 1);
}

Test(fpcluster, indexed_job_without_an_index_merges_to_the_whole)
{
	job_array("JOB_COMPLETION_INDEX", 0);
}

/* Units are balanced by bytes: the plan's ranges, weighed with the
 * shapes written above, give each unit at most its share plus one tensor. */
Test(fpcluster, units_are_balanced_by_bytes_and_cross_shards)
{
	char *dir = kvt_tempdir(), *m = kv_xasprintf("%s/model", dir), *plan = kv_xasprintf("%s/p.json", dir);
	kvt_write(dir, "model/.keep", "");
	write_model(m, 1);
	cr_assert_eq(syn_kaieval(NULL, "plan", m, "-o", plan, "--units", "7", NULL), 0);
	char *text = kvt_read(plan);
	cJSON *j = cJSON_Parse(text);
	const cJSON *u, *g;
	double total = 0, most = 0, biggest = 0, per[UNITS] = {0};
	int k = 0, crosses = 0;
	cJSON_ArrayForEach(u, cJSON_GetObjectItem(j, "units")) {
		crosses |= cJSON_GetArraySize(u) > 1;
		cJSON_ArrayForEach(g, u) {
			int s = cJSON_GetObjectItem(g, "shard")->valuestring[10] - '1';
			int first = cJSON_GetObjectItem(g, "first")->valueint;
			for (int i = first; i < first + cJSON_GetObjectItem(g, "count")->valueint; i++) {
				/* Tensors are written in offset order: index i is tensor i. */
				double b = (double)((3 + (size_t)(i * 7 + s * 5) % 29) * (16 + (size_t)(i % 4) * 40) * 2);
				per[k] += b;
				total += b;
				biggest = b > biggest ? b : biggest;
			}
		}
		most = per[k] > most ? per[k] : most;
		k++;
	}
	cr_assert_eq(k, UNITS);
	cr_assert(crosses, "no unit spans two shards");
	cr_assert(most <= total / UNITS + biggest, "a unit has %g of %g bytes", most, total);
	cJSON_Delete(j);
	free(text);
	kvt_rmtree(dir);
	free(dir);
	free(m);
	free(plan);
}

Test(fpcluster, missing_or_foreign_parts_are_named)
{
	char *dir = kvt_tempdir(), *m = kv_xasprintf("%s/model", dir), *plan = kv_xasprintf("%s/a.plan", dir);
	char *other = kv_xasprintf("%s/b.plan", dir), *out = kv_xasprintf("%s/o.json", dir), *err = NULL;
	kvt_write(dir, "model/.keep", "");
	write_model(m, 1);
	cr_assert_eq(syn_kaieval(NULL, "plan", m, "-o", plan, "--units", "7", NULL), 0);
	cr_assert_eq(syn_kaieval(NULL, "plan", m, "-o", other, "--units", "3", NULL), 0);
	for (int u = 0; u < UNITS; u++)
		cr_assert_eq(run_as("SLURM_ARRAY_TASK_ID", u, plan, NULL), 0);
	cr_assert_eq(run_as("SLURM_ARRAY_TASK_ID", 1, other, NULL), 0);
	/* A missing unit. */
	char *done5 = kv_xasprintf("%s/a.plan.parts/unit-5.done", dir);
	cr_assert_eq(unlink(done5), 0);
	cr_assert_eq(syn_kaieval(&err, "merge", plan, "-o", out, NULL), 2);
	cr_assert(strstr(err, "unit-5.done: missing"), "%s", err);
	cr_assert(!kvt_exists(out));
	free(err);
	/* Another plan's part and marker. */
	char *foreign = kv_xasprintf("%s/b.plan.parts/unit-1.done", dir);
	kvt_copy(foreign, done5);
	free(foreign);
	free(done5);
	cr_assert_eq(syn_kaieval(&err, "merge", plan, "-o", out, NULL), 2);
	cr_assert(strstr(err, "unit-5.done: foreign"), "%s", err);
	free(err);
	/* A part that is not the one its marker vouches for. */
	cr_assert_eq(run_as("SLURM_ARRAY_TASK_ID", 5, plan, NULL), 0);
	char *part6 = kv_xasprintf("%s/a.plan.parts/unit-6.json", dir), *part3 = kv_xasprintf("%s/a.plan.parts/unit-3.json", dir);
	kvt_copy(part6, part3);
	free(part6);
	free(part3);
	cr_assert_eq(syn_kaieval(&err, "merge", plan, "-o", out, NULL), 2);
	cr_assert(strstr(err, "unit-3.json: foreign"), "%s", err);
	cr_assert(!kvt_exists(out));
	free(err);
	/* A unit number the plan does not have. */
	cr_assert_eq(run_as("JOB_COMPLETION_INDEX", 7, plan, NULL), 2);
	kvt_rmtree(dir);
	free(dir);
	free(m);
	free(plan);
	free(other);
	free(out);
}

/* A file of the source tree as an absolute path, for scripts run elsewhere. */
static char *src_path(const char *rel)
{
	char *p = kvt_src(rel), *abs = realpath(p, NULL);
	cr_assert_not_null(abs, "no %s", p);
	free(p);
	return abs;
}

/* The kaieval binary as an absolute path, for scripts run elsewhere. */
static char *kaieval_path(void)
{
	const char *bin = getenv("KAIEVAL_BIN");
	char *cwd = getcwd(NULL, 0), *p = bin && bin[0] == '/' ? kv_xstrdup(bin)
		: kv_xasprintf("%s/%s", cwd, bin ? bin : "kaieval");
	free(cwd);
	return p;
}

Test(fpcluster, a_folder_named_like_a_subcommand_is_written_with_a_slash)
{
	char *dir = kvt_tempdir(), *out = kv_xasprintf("%s/o.json", dir), *err = NULL;
	char *model = kv_xasprintf("%s/plan", dir), *cwd = getcwd(NULL, 0), *bin = kaieval_path();
	kvt_write(dir, "plan/.keep", "");
	write_model(model, 0);
	cr_assert_eq(chdir(dir), 0);
	setenv("KAIEVAL_BIN", bin, 1);
	int as_word = syn_kaieval(&err, "plan", "-o", out, NULL);
	int as_path = syn_kaieval(NULL, "./plan", "-o", out, NULL);
	cr_assert_eq(chdir(cwd), 0);
	cr_assert_eq(as_word, 2);
	cr_assert(strstr(err, "write ./plan"), "%s", err);
	cr_assert_eq(as_path, 0);
	free(err);
	kvt_rmtree(dir);
	free(dir);
	free(out);
	free(cwd);
	free(bin);
	free(model);
}

Test(fpcluster, slurm_scripts_run_as_slurm_would_run_them)
{
	char *dir = kvt_tempdir(), *m = kv_xasprintf("%s/model", dir), *whole = kv_xasprintf("%s/whole.json", dir);
	char *kaieval = kaieval_path(), *src = src_path("fingerprint/cluster/slurm"), *fake = src_path("tests/fpcluster");
	kvt_write(dir, "model/.keep", "");
	kvt_write(dir, "state/.keep", "");
	write_model(m, 1);
	cr_assert_eq(syn_kaieval(NULL, m, "-o", whole, NULL), 0);
	/* The directives Slurm reads: an array, per-task output names, a time. */
	char *units = kv_xasprintf("%s/fingerprint-units.sbatch", src), *text = kvt_read(units);
	cr_assert(strstr(text, "\n#SBATCH --array=0-") && strstr(text, "\n#SBATCH --output=") &&
		  strstr(text, "%A_%a") && strstr(text, "\n#SBATCH --time="), "%s", text);
	char *path = kv_xasprintf("PATH=%s:%s", fake, getenv("PATH")), *state = kv_xasprintf("FAKE_SLURM_STATE=%s/state", dir);
	char *kvar = kv_xasprintf("KAIEVAL=%s", kaieval), *submit = kv_xasprintf("%s/submit.sh", src);
	char *plan = kv_xasprintf("%s/m.plan", dir), *out = kv_xasprintf("%s/merged.json", dir);
	char *log_path = kv_xasprintf("%s/log", dir);
	const char *env[] = {path, state, kvar, NULL};
	const char *sh[] = {"sh", submit, m, plan, out, "7", NULL};
	cr_assert_eq(kvt_spawn(sh, env, dir, log_path), 0);
	char *list[] = {path, state, kvar, submit, plan, out, log_path};
	for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
		free(list[i]);
	char *merged = kv_xasprintf("%s/merged.json", dir);
	cr_assert(same_file(whole, merged), "the Slurm run differs from the one-machine fingerprint");
	/* The array job was 1000, the merge 1001 after it. */
	char *log = kv_xasprintf("%s/log", dir), *said = kvt_read(log);
	cr_assert(strstr(said, "units: job 1000 (array 0-6); merge: job 1001"), "%s", said);
	/* Without PLAN the unit script stops before running anything. */
	const char *task[] = {"SLURM_ARRAY_TASK_ID=0", NULL}, *alone[] = {"sh", units, NULL};
	cr_assert_neq(kvt_spawn(alone, task, NULL, NULL), 0);
	free(said);
	free(log);
	free(text);
	free(units);
	free(merged);
	kvt_rmtree(dir);
	free(dir);
	free(m);
	free(whole);
	free(kaieval);
	free(src);
	free(fake);
}

Test(fpcluster, kubernetes_indexed_job_runs_as_kubernetes_would_run_it)
{
	char *dir = kvt_tempdir(), *m = kv_xasprintf("%s/model", dir), *whole = kv_xasprintf("%s/whole.json", dir);
	char *plan = kv_xasprintf("%s/m.plan", dir), *merged = kv_xasprintf("%s/merged.json", dir);
	char *kaieval = kaieval_path(), *k8s = src_path("fingerprint/cluster/kubernetes");
	char *py = src_path("tests/fpcluster/kube_indexed_job.py");
	kvt_write(dir, "model/.keep", "");
	write_model(m, 0);
	cr_assert_eq(syn_kaieval(NULL, m, "-o", whole, NULL), 0);
	cr_assert_eq(syn_kaieval(NULL, "plan", m, "-o", plan, "--units", "7", NULL), 0);
	char *units = kv_xasprintf("%s/fingerprint-units.yaml", k8s), *merge = kv_xasprintf("%s/fingerprint-merge.yaml", k8s);
	const char *job[] = {"python3", py, units, merge, kaieval, plan, merged, NULL};
	cr_assert_eq(kvt_spawn(job, NULL, NULL, NULL), 0);
	free(units);
	free(merge);
	cr_assert(same_file(whole, merged), "the Kubernetes run differs from the one-machine fingerprint");
	kvt_rmtree(dir);
	char *list[] = {dir, m, whole, plan, merged, kaieval, k8s, py};
	for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
		free(list[i]);
}

/* Rewrite the plan at path with its JSON changed by edit. */
static void edit_plan(const char *path, void (*edit)(cJSON *))
{
	char *text = kvt_read(path);
	cJSON *j = cJSON_Parse(text);
	edit(j);
	char *out = cJSON_Print(j);
	FILE *f = fopen(path, "w");
	fputs(out, f);
	fclose(f);
	free(out);
	cJSON_Delete(j);
	free(text);
}

static void drop_last_unit(cJSON *j)
{
	cJSON *units = cJSON_GetObjectItem(j, "units");
	cJSON_DeleteItemFromArray(units, cJSON_GetArraySize(units) - 1);
}

static void shrink_a_shard(cJSON *j)
{
	cJSON *s = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "shards"), 0);
	cJSON_SetNumberValue(cJSON_GetObjectItem(s, "bytes"), 8);
}

Test(fpcluster, a_bad_or_stale_plan_is_named)
{
	char *dir = kvt_tempdir(), *m = kv_xasprintf("%s/model", dir), *plan = kv_xasprintf("%s/p.plan", dir);
	char *out = kv_xasprintf("%s/o.json", dir), *err = NULL;
	kvt_write(dir, "model/.keep", "");
	write_model(m, 1);
	cr_assert_eq(syn_kaieval(NULL, "plan", m, "-o", plan, "--units", "7", NULL), 0);
	edit_plan(plan, drop_last_unit);
	cr_assert_eq(syn_kaieval(&err, "merge", plan, "-o", out, NULL), 2);
	cr_assert(strstr(err, "'units' for shard 'model-00003-of-00003.safetensors' do not cover"), "%s", err);
	free(err);
	cr_assert_eq(syn_kaieval(NULL, "plan", m, "-o", plan, "--units", "7", NULL), 0);
	edit_plan(plan, shrink_a_shard);
	cr_assert_eq(syn_kaieval(&err, "run", plan, "--unit", "0", NULL), 2);
	cr_assert(strstr(err, "model-00001-of-00003.safetensors: changed since the plan"), "%s", err);
	free(err);
	cr_assert_eq(syn_kaieval(&err, "plan", m, "-o", plan, "--units", "0", NULL), 2);
	cr_assert(strstr(err, "--units wants a count"), "%s", err);
	free(err);
	kvt_rmtree(dir);
	free(dir);
	free(m);
	free(plan);
	free(out);
}

/* --- a FIFO, a folder or a device where a model file should be ------------- */

/* `kaieval` with args, killed by an alarm after 20 s: a blocked open
 * shows as 128 + SIGALRM.  Its stdout and stderr go to *out. */
static int exec_with_alarm(const char *const *args, char **out)
{
	char *o = NULL, *e = NULL;
	int rc = kvt_exec_within(20, args, &o, &e);
	*out = kv_xasprintf("%s%s", o ? o : "", e ? e : "");
	free(o);
	free(e);
	return rc;
}

static void expect_refused_file(const char *const *args, const char *file, const char *kind)
{
	char *out = NULL;
	int rc = exec_with_alarm(args, &out);
	char *needle = kv_xasprintf("%s: is %s, not a regular file", file, kind);
	cr_expect_eq(rc, 2, "exit %d (%d: blocked until the alarm): %s", rc, 128 + SIGALRM, out);
	cr_expect(strstr(out, needle), "'%s' not in: %s", needle, out);
	free(needle);
	free(out);
}

/* A fresh folder; *file is its model.safetensors, *out its fp.json. */
static char *model_dir(char **file, char **out)
{
	char *dir = kvt_tempdir();
	*file = kv_xasprintf("%s/model.safetensors", dir);
	*out = kv_xasprintf("%s/fp.json", dir);
	return dir;
}

Test(fpcluster, a_fifo_named_like_the_model_file_is_refused_not_waited_on, .timeout = 60)
{
	char *file, *out, *dir = model_dir(&file, &out), *plan = kv_xasprintf("%s/plan.json", dir);
	cr_assert_eq(mkfifo(file, 0600), 0);
	const char *whole[] = {"fingerprint", dir, "-o", out, NULL};
	expect_refused_file(whole, file, "a FIFO");
	const char *shard[] = {"fingerprint", "--shard", file, "-o", out, NULL};
	expect_refused_file(shard, file, "a FIFO");
	const char *planned[] = {"fingerprint", "plan", dir, "-o", plan, "--units", "2", NULL};
	expect_refused_file(planned, file, "a FIFO");
	/* a plan or a part that is a FIFO */
	const char *run[] = {"fingerprint", "run", file, "--unit", "0", NULL};
	expect_refused_file(run, file, "a FIFO");
	const char *merge[] = {"fingerprint", "merge", file, "-o", out, NULL};
	expect_refused_file(merge, file, "a FIFO");
	const char *parts[] = {"fingerprint", "--merge", file, "-o", out, NULL};
	expect_refused_file(parts, file, "a FIFO");
	cr_expect(!kvt_exists(out) && !kvt_exists(plan), "a refused fingerprint wrote a file");
	kvt_rmtree(dir);
	free(dir); free(file); free(out); free(plan);
}

Test(fpcluster, a_folder_or_device_named_like_a_model_file_is_refused, .timeout = 60)
{
	char *file, *out, *dir = model_dir(&file, &out);
	char *index = kv_xasprintf("%s/model.safetensors.index.json", dir);
	cr_assert_eq(mkdir(file, 0700), 0);
	const char *args[] = {"fingerprint", dir, "-o", out, NULL};
	expect_refused_file(args, file, "a directory");
	cr_assert_eq(rmdir(file), 0);
	cr_assert_eq(symlink("/dev/zero", file), 0);
	expect_refused_file(args, file, "a character device");
	cr_assert_eq(mkfifo(index, 0600), 0);
	expect_refused_file(args, index, "a FIFO");
	kvt_rmtree(dir);
	free(dir); free(file); free(index); free(out);
}

/* A planned shard replaced by a FIFO before its unit runs. */
Test(fpcluster, a_shard_replaced_by_a_fifo_after_the_plan_is_refused, .timeout = 60)
{
	char *dir = kvt_tempdir(), *model = kv_xasprintf("%s/model", dir), *plan = kv_xasprintf("%s/plan.json", dir);
	cr_assert_eq(mkdir(model, 0700), 0);
	write_model(model, 1);
	const char *make_plan[] = {"fingerprint", "plan", model, "-o", plan, "--units", "1", NULL};
	char *out = NULL;
	cr_assert_eq(kvt_exec(make_plan, &out, NULL), 0, "%s", out);
	free(out);
	char *shard = kv_xasprintf("%s/model-00001-of-00003.safetensors", model);
	cr_assert_eq(unlink(shard), 0);
	cr_assert_eq(mkfifo(shard, 0600), 0);
	const char *run[] = {"fingerprint", "run", plan, "--unit", "0", NULL};
	expect_refused_file(run, shard, "a FIFO");
	kvt_rmtree(dir);
	free(dir); free(model); free(plan); free(shard);
}
