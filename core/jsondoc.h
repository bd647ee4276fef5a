/* JSON documents read back (records, manifests) and compared. */
#ifndef KV_JSONDOC_H
#define KV_JSONDOC_H

#include <cjson/cJSON.h>
#include "util.h"

/* Read and parse a JSON file given on the command line (not confined). */
cJSON *kv_json_load(const char *path, struct kv_error *err);
cJSON *kv_json_parse(const char *text, size_t len, const char *path, struct kv_error *err);

/* One line per difference between a and b ("path: old -> new"), matching
 * array elements by their "id", "criterion" or "path" member when they have
 * one.  Returns the number of differences. */
size_t kv_json_diff(const cJSON *a, const cJSON *b, const char *path, struct kv_buf *out);

/* Short text of a JSON scalar ("null", a number rounded for people, a
 * quoted string, "{...}"). */
void kv_json_brief(const cJSON *v, struct kv_buf *out);

/* Member helpers that tolerate missing or mistyped members. */
const char *kv_json_str(const cJSON *o, const char *key);

#endif
