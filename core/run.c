#include "run.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The slot holding key, or the empty slot where it would go. */
static size_t slot_of(const struct kv_evidence *ev, const char *key)
{
	size_t s = (size_t)kv_str_hash(key) & (ev->nslots - 1);
	while (ev->slots[s] && strcmp(ev->items[ev->slots[s] - 1].key, key) != 0)
		s = (s + 1) & (ev->nslots - 1);
	return s;
}

/* Room for one more item, and an index at most half full. */
static void reserve(struct kv_evidence *ev)
{
	if (ev->count == ev->cap) {
		ev->cap = ev->cap ? 2 * ev->cap : 8;
		ev->items = kv_xrealloc(ev->items, ev->cap * sizeof *ev->items);
	}
	if (ev->slots && 2 * (ev->count + 1) < ev->nslots)
		return;
	free(ev->slots);
	ev->nslots = 16;
	while (ev->nslots <= 2 * (ev->count + 1))
		ev->nslots *= 2;
	ev->slots = kv_xcalloc(ev->nslots, sizeof *ev->slots);
	for (size_t i = 0; i < ev->count; i++)
		ev->slots[slot_of(ev, ev->items[i].key)] = (uint32_t)(i + 1);
}

struct kv_evidence_item *kv_evidence_add(struct kv_evidence *ev, const char *key, int *added)
{
	reserve(ev);
	size_t s = slot_of(ev, key);
	*added = !ev->slots[s];
	if (!*added)
		return &ev->items[ev->slots[s] - 1];
	struct kv_evidence_item *it = &ev->items[ev->count];
	*it = (struct kv_evidence_item){.key = kv_xstrdup(key), .num = NAN};
	ev->slots[s] = (uint32_t)++ev->count;
	return it;
}

void kv_evidence_set(struct kv_evidence *ev, const char *key, int is_num, double num, const char *str)
{
	int added;
	struct kv_evidence_item *it = kv_evidence_add(ev, key, &added);
	free(it->str);
	it->is_num = is_num;
	it->num = num;
	it->str = is_num || !str ? NULL : kv_xstrdup(str);
}

void kv_evidence_free(struct kv_evidence *ev)
{
	for (size_t i = 0; i < ev->count; i++) {
		free(ev->items[i].key);
		free(ev->items[i].str);
	}
	free(ev->items);
	free(ev->slots);
	*ev = (struct kv_evidence){0};
}

const struct kv_evidence_item *kv_evidence_get(const struct kv_evidence *ev, const char *key)
{
	if (ev && ev->slots) {
		size_t s = slot_of(ev, key);
		return ev->slots[s] ? &ev->items[ev->slots[s] - 1] : NULL;
	}
	for (size_t i = 0; ev && i < ev->count; i++)
		if (strcmp(ev->items[i].key, key) == 0)
			return &ev->items[i];
	return NULL;
}

size_t kv_evidence_run_end(const struct kv_evidence *ev, size_t i, const char *prefix)
{
	size_t n = strlen(prefix);
	while (i < ev->count && strncmp(ev->items[i].key, prefix, n) == 0)
		i++;
	return i;
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
