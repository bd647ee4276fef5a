#include "run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void kv_evidence_set(struct kv_evidence *ev, const char *key, int is_num, double num, const char *str)
{
	struct kv_evidence_item *it = NULL;
	for (size_t i = 0; i < ev->count && !it; i++)
		if (strcmp(ev->items[i].key, key) == 0)
			it = &ev->items[i];
	if (!it) {
		ev->items = kv_xrealloc(ev->items, (ev->count + 1) * sizeof *ev->items);
		it = &ev->items[ev->count++];
		it->key = kv_xstrdup(key);
	} else {
		free(it->str);
	}
	it->is_num = is_num;
	it->num = num;
	it->str = is_num ? NULL : kv_xstrdup(str);
}

void kv_evidence_free(struct kv_evidence *ev)
{
	for (size_t i = 0; i < ev->count; i++) {
		free(ev->items[i].key);
		free(ev->items[i].str);
	}
	free(ev->items);
	ev->items = NULL;
	ev->count = 0;
}

const struct kv_evidence_item *kv_evidence_get(const struct kv_evidence *ev, const char *key)
{
	for (size_t i = 0; ev && i < ev->count; i++)
		if (strcmp(ev->items[i].key, key) == 0)
			return &ev->items[i];
	return NULL;
}

void kv_run_free(struct kv_run *run)
{
	if (!run)
		return;
	size_t teams = run->round ? run->round->team_count : 0;
	for (size_t i = 0; i < run->evaluated; i++) {
		struct kv_criterion_result *r = &run->results[i];
		for (size_t t = 0; r->teams && t < teams; t++) {
			free(r->teams[t].unit);
			kv_evidence_free(&r->teams[t].evidence);
		}
		free(r->teams);
		kv_evidence_free(&r->evidence);
		kv_warnings_free(&r->warnings);
		kv_value_free(r->params);
	}
	free(run->results);
	kv_plugin_set_free(&run->plugins);
	for (size_t t = 0; run->standings && t < teams; t++)
		kv_standing_free(&run->standings[t]);
	free(run->standings);
	free(run->order);
	kv_inputs_free(&run->inputs);
	kv_round_free(run->round);
	free(run);
}

const struct kv_team_outcome *kv_run_outcome(const struct kv_run *run, const char *criterion,
					     const char *team)
{
	long c = kv_round_criterion_index(run->round, criterion);
	long t = kv_round_team_index(run->round, team);
	if (c < 0 || t < 0 || (size_t)c >= run->evaluated)
		return NULL;
	return &run->results[c].teams[t];
}

const struct kv_standing *kv_run_standing(const struct kv_run *run, const char *team)
{
	long t = kv_round_team_index(run->round, team);
	return t < 0 || !run->standings ? NULL : &run->standings[t];
}

/* Points of a criterion or of a group, summed in config order. */
double kv_run_group_points(const struct kv_run *run, size_t team, const char *id)
{
	double sum = 0;
	int found = 0;
	for (size_t c = 0; c < run->round->criterion_count; c++) {
		const struct kv_criterion *cr = &run->round->criteria[c];
		if (cr->kind != KV_KIND_SCORE)
			continue;
		if (strcmp(cr->id, id) == 0 || (cr->group && strcmp(cr->group, id) == 0)) {
			sum += run->results[c].teams[team].points;
			found = 1;
		}
	}
	return found ? sum : NAN;
}
