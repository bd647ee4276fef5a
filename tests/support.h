/* Helpers shared by the Criterion tests. */
#ifndef KVT_SUPPORT_H
#define KVT_SUPPORT_H

#include "run.h"

/* The source tree (KAIEVAL_SRCDIR, set by make check) and a path inside it. */
const char *kvt_srcdir(void);
char *kvt_src(const char *rel);

/* A fresh temporary directory (removed by kvt_rmtree). */
char *kvt_tempdir(void);
void kvt_rmtree(const char *dir);
/* Write text to dir/rel, creating parent folders. */
void kvt_write(const char *dir, const char *rel, const char *text);
char *kvt_read(const char *path);
/* Copy the file src to dst byte for byte (any content), creating dst's folders. */
void kvt_copy(const char *src, const char *dst);

/* Run argv[0] (looked up in PATH) with no shell: with the settings of env
 * ("NAME=VALUE", NULL-terminated; NULL for none) added to the environment,
 * in folder cwd (NULL: this one), standard output and error to the file out
 * (NULL: /dev/null).  Returns the exit status, or 128 + the signal. */
int kvt_spawn(const char *const *argv, const char *const *env, const char *cwd, const char *out);
int kvt_exists(const char *path);

/* Run a round in-process.  Plugins linked into the test program must be
 * registered first with kv_register_builtin(&kaieval_plugin_NAME). */
int kvt_run(const char *config, struct kv_run **run, struct kv_error *err);

/* Run the archived round conf/rounds/NAME.cfg with `kaieval run`, the
 * record written to dir/NAME.json; returns that path (caller frees), or
 * NULL when the run failed. */
char *kvt_round_record(const char *name, const char *dir);

/* Run the kaieval binary (KAIEVAL_BIN) with args; capture stdout and stderr. */
int kvt_exec(const char *const *args, char **out, char **err);
/* The same, killed by SIGALRM after `seconds` (the alarm outlives exec):
 * a run that blocks returns 128 + SIGALRM instead of hanging the test. */
int kvt_exec_within(unsigned seconds, const char *const *args, char **out, char **err);

/* Outcome lookups (NaN / NULL when absent). */
double kvt_normalized(const struct kv_run *run, const char *criterion, const char *team);
double kvt_evidence_num(const struct kv_run *run, const char *criterion, const char *team, const char *key);
const char *kvt_evidence_str(const struct kv_run *run, const char *criterion, const char *team, const char *key);
/* The id of the gate that eliminated the team, or "" when no gate did. */
const char *kvt_gate_failed(const struct kv_run *run, const char *team);
double kvt_round_evidence_num(const struct kv_run *run, const char *criterion, const char *key);



/* A fresh temporary directory holding data/x.csv, the file of kvt_config's
 * default criterion (a 0.1, b 0.2, c 0.3, d 0.4). */
char *kvt_tempdir_x(void);

/* The record at path, parsed (free with cJSON_Delete), or NULL when it is
 * absent or does not parse; a team's object in it, or NULL. */
struct cJSON *kvt_record(const char *path);
const struct cJSON *kvt_record_team(const struct cJSON *record, const char *id);

/* A round config: teams a, b, c, d and the given criteria and selection
 * bodies (NULL: one table score criterion "x" over x.csv; eliminate_lowest 1). */
char *kvt_config(const char *criteria, const char *selection);

/* A round of n teams t1..tn under dir/sub (r.cfg, data/x.csv, data/y.csv):
 * two criteria recorded by hand, x rising with the team's number and y
 * falling, t1 lowest on both; four advance.  So each of t2..t(n-4) is
 * ahead of each advancing team on y (a reweighting can level them) and t1
 * behind on both.  Returns the config's path. */
char *kvt_two_criteria_round(const char *dir, const char *sub, int n);

/* A fresh temporary directory holding data/x.csv, the table kvt_config's
 * default criterion reads (removed by kvt_rmtree). */
char *kvt_table_dir(void);

/* Write cfg_text to dir/r.cfg, run `kaieval run dir/r.cfg -o dir/out.json`,
 * return the exit status; *err gets stderr (caller frees) when err is not NULL. */
int kvt_cli_run(const char *dir, const char *cfg_text, char **err);

/* A round in a temporary folder: data files go under d/, the config is r.cfg,
 * and the plugin under test is linked in and registered. */
struct kvt_round {
	char *dir;
	struct kv_run *run;
	struct kv_error err;
	int rc;
};

void kvt_round_init(struct kvt_round *r, const struct kv_plugin *plugin);
/* Write a data file of the round (relative to its data folder d/). */
void kvt_round_put(struct kvt_round *r, const char *rel, const char *text);
/* Write config_text as r.cfg and run it; returns (and keeps) the status. */
int kvt_round_run(struct kvt_round *r, const char *config_text);
void kvt_round_done(struct kvt_round *r);

#endif
