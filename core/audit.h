/* Audit and replay commands: archive, verify, explain, diff, whatif. */
#ifndef KV_AUDIT_H
#define KV_AUDIT_H

#include <stdio.h>
#include "util.h"

/* Each returns the command's exit status and prints its report to out. */
int kv_archive(const char *config, const char *dir, FILE *out);
int kv_verify(const char *dir, FILE *out);
/* verify, checking the archive's attestation against the keys first. */
struct kv_attest_check;
int kv_verify_signed(const char *dir, const struct kv_attest_check *check, FILE *out);
int kv_explain(const char *record, const char *team, FILE *out);
/* scoring_only: the decisions, then only the members that score. */
int kv_diff(const char *old_record, const char *new_record, int scoring_only, FILE *out);
/* whatif; output, when not NULL, gets the what-if run's record. */
int kv_whatif(const char *config, const char *const *sets, size_t count, const char *output, FILE *out);

/* A round named on the command line: a config file, or an archive folder,
 * whose config reads the archive's data/ and finds its plugins/ first. */
struct kv_round_arg {
	char *config;
	const char *overrides[1];
	size_t override_count;
	char *saved_search_path;
	int archive;
};
int kv_round_arg_open(const char *arg, struct kv_round_arg *ra, struct kv_error *err);
/* Restores the plugin search path. */
void kv_round_arg_close(struct kv_round_arg *ra);
/* A record named on the command line: a result.json, or an archive folder
 * standing for its record.  Caller frees. */
char *kv_record_arg(const char *arg);

/* Put DIR/plugins (an archive's plugins) first on the plugin search path;
 * returns what to give kv_archive_plugins_restore afterwards. */
char *kv_archive_plugins_first(const char *dir);
void kv_archive_plugins_restore(char *saved);

#endif
