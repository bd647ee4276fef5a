/* The kaieval command: one function per subcommand. */
#ifndef KV_CLI_H
#define KV_CLI_H

#include <stdio.h>

int kv_cli_main(int argc, char **argv);
int kv_cmd_run(int argc, char **argv);
int kv_cmd_plugins(int argc, char **argv);
void kv_usage(FILE *f);

struct kv_run;
struct kv_error;
/* 0 unless output is the round's config, an input or a plugin (error set). */
int kv_output_not_read_by(const struct kv_run *run, const char *output, struct kv_error *err);

#endif
