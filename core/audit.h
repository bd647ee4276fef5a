/* Audit and replay commands: archive, verify, explain, diff, whatif. */
#ifndef KV_AUDIT_H
#define KV_AUDIT_H

#include <stdio.h>

/* Each returns the command's exit status and prints its report to out. */
int kv_archive(const char *config, const char *dir, FILE *out);
int kv_verify(const char *dir, FILE *out);
int kv_explain(const char *record, const char *team, FILE *out);
int kv_diff(const char *old_record, const char *new_record, FILE *out);
int kv_whatif(const char *config, const char *const *sets, size_t count, FILE *out);

#endif
