/* The kaieval command: one function per subcommand. */
#ifndef KV_CLI_H
#define KV_CLI_H

#include <stdio.h>

int kv_cli_main(int argc, char **argv);
int kv_cmd_run(int argc, char **argv);
int kv_cmd_plugins(int argc, char **argv);
void kv_usage(FILE *f);

#endif
