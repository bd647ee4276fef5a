/* fpexec.h -- `kaieval fingerprint`, run as the program kaieval-fingerprint
 * (fingerprint/), so that evaluation never links the weight scanner. */
#ifndef KV_FPEXEC_H
#define KV_FPEXEC_H

/* Replaces this process with kaieval-fingerprint, given argv[1] on; returns
 * only when it cannot be run (exit status 3, with a message). */
int kv_cmd_fingerprint(int argc, char **argv);

#endif
