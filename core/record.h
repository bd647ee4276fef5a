/* The result record (result.json) as typed data, and its only reader and
 * writer: every member name of the record is spelled in record.c alone.
 * `run` builds a record from a run and writes it; explain, diff, publish
 * and verify read it back into the same model. */
#ifndef KV_RECORD_H
#define KV_RECORD_H

#include <cjson/cJSON.h>
#include "run.h"

struct kv_rec_input {
	char *path;
	long long bytes;
	char *sha256;
};

/* The plugin that served one criterion, and what it said of the round. */
struct kv_rec_plugin {
	char *criterion, *plugin, *version, *abi;
	struct kv_evidence evidence;
	struct kv_warnings warnings;  /* what the plugin warned of; none: not written */
};

/* A criterion's rule as applied. */
struct kv_rec_criterion {
	char *id, *plugin;
	enum kv_kind kind;
	double points;            /* score criteria only */
	char *group;              /* NULL when none */
};

struct kv_rec_team {
	struct kv_team team;      /* id, name, model */
	struct kv_standing standing;  /* tied_with: indices into kv_record.teams */
	double *groups;           /* per kv_record.groups */
	struct kv_team_outcome *outcomes;  /* per criterion */
};

struct kv_record {
	char *version;            /* of kaieval; NULL once blanked */
	char *round_id, *title, *date;
	long long seed;
	char *config_path, *config_sha256;
	struct kv_rec_input *inputs;
	size_t input_count;
	struct kv_rec_plugin *plugins;   /* one per criterion */
	struct kv_rec_criterion *criteria;
	size_t criterion_count;
	struct kv_selection selection;
	char **groups;            /* each group once, at its first criterion */
	size_t group_count;
	struct kv_rec_team *teams;       /* in record order */
	size_t team_count;
	size_t *eliminated;       /* team indices, in record order */
	size_t eliminated_count;
	/* Read from a record written before the plugins' file digests moved to
	 * the archive manifest: they are read past, never written. */
	int had_plugin_digests;
};

/* The record of a finished run. */
struct kv_record *kv_record_from_run(const struct kv_run *run);
/* The record's bytes: the same record gives the same bytes. */
void kv_record_write(const struct kv_record *rec, struct kv_buf *out);
/* Read a parsed record; NULL with err naming the file and the member when
 * the document is not a kaieval record.  Integers beyond 2^53 (a seed) read
 * back as the nearest double, as cJSON parses them. */
struct kv_record *kv_record_from_json(const cJSON *doc, const char *path, struct kv_error *err);
/* Load, parse and read a record file given on the command line. */
struct kv_record *kv_record_read(const char *path, struct kv_error *err);
void kv_record_free(struct kv_record *rec);

/* Forget kaieval's and each plugin's version, which may differ between
 * installations but not the scoring. */
void kv_record_blank_build(struct kv_record *rec);

/* The record's words for a reason: NULL, "gate:<id>", "below_min_total" or
 * "lowest_total"; gate_id names the gate of KV_REASON_GATE.  Caller frees. */
char *kv_reason_text(enum kv_reason reason, const char *gate_id);
/* The same for a standing of a run, and for a team of a record. */
char *kv_run_reason(const struct kv_run *run, size_t team);
char *kv_rec_reason(const struct kv_record *rec, const struct kv_rec_team *t);

/* The record's words for a kind ("score", "gate", "info") and a status
 * ("advance", "eliminated"). */
const char *kv_kind_name(enum kv_kind kind);
const char *kv_status_name(enum kv_status_code status);

/* Index of the team or criterion with that id, or -1. */
long kv_rec_team_index(const struct kv_record *rec, const char *id);
long kv_rec_criterion_index(const struct kv_record *rec, const char *id);

/* The decisions that changed between two records, one line per team:
 * "team nc: advance (rank 3) -> eliminated (rank 5, lowest_total)". */
size_t kv_decision_diff(const struct kv_record *old_rec, const struct kv_record *new_rec,
			struct kv_buf *out);

#endif
