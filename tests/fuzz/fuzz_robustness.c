/* libFuzzer harness for the robustness file reader behind `kaieval report
 * --robustness` (core/report.c, kv_robustness_read).
 *
 * The input is the robustness file; the record it must match is a small
 * one written here (the repechage round, two teams).  A refusal must have
 * exit status 2 and start with the file's path; a file that reads gives
 * each team NaN or a probability in [0, 1], and the report is rendered
 * with it.  The sanitizers catch bad memory access.  Built with clang
 * -fsanitize=fuzzer, or with replay.c as a plain program
 * (tests/fuzz/README-robustness.md). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "jsondoc.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char record_text[] =
	"{\"kaieval\":\"0.1.0\",\"round\":{\"id\":\"2026-02-repechage\",\"title\":\"Additional call: one more "
	"team (repechage)\",\"date\":\"2026-02-20\",\"seed\":20260220},\"config\":{\"path\":\"2026-02-repecha"
	"ge.cfg\",\"sha256\":\"440baf2129c2712445a3ce87acf6bab10448adf0b056e6a20a34119c0cedc041\"},\"in"
	"puts\":[],\"plugins\":[{\"criterion\":\"majority\",\"plugin\":\"expert\",\"version\":\"1.1.0\",\"abi\":\"1"
	".1\",\"evidence\":{}},{\"criterion\":\"review\",\"plugin\":\"expert\",\"version\":\"1.1.0\",\"abi\":\"1.1\""
	",\"evidence\":{}}],\"criteria\":[{\"id\":\"majority\",\"plugin\":\"expert\",\"kind\":\"gate\",\"points\":n"
	"ull,\"group\":null},{\"id\":\"review\",\"plugin\":\"expert\",\"kind\":\"score\",\"points\":100,\"group\":n"
	"ull}],\"selection\":{\"gate_failure\":\"eliminate\",\"advance\":1,\"min_total\":null,\"tie_break\":["
	"\"review\"],\"tie_precision\":1e-09,\"unresolved_tie\":\"error\"},\"teams\":[{\"id\":\"motif\",\"name\":"
	"\"Motif Technologies\",\"model\":\"application\",\"rank\":1,\"total\":84.39999999999999,\"status\":\""
	"advance\",\"reason\":null,\"failed_gates\":[],\"tied_with\":[],\"tie_break_by\":null,\"groups\":{},"
	"\"criteria\":{\"majority\":{\"kind\":\"gate\",\"pass\":true,\"value\":7,\"unit\":\"approvals\",\"evidence"
	"\":{}},\"review\":{\"kind\":\"score\",\"value\":84.39999999999999,\"unit\":\"points\",\"normalized\":0."
	"8439999999999999,\"points\":84.39999999999999,\"evidence\":{}}}},{\"id\":\"trillion\",\"name\":\"Tr"
	"illion Labs\",\"model\":\"application\",\"rank\":2,\"total\":83.60000000000001,\"status\":\"eliminat"
	"ed\",\"reason\":\"lowest_total\",\"failed_gates\":[],\"tied_with\":[],\"tie_break_by\":null,\"groups"
	"\":{},\"criteria\":{\"majority\":{\"kind\":\"gate\",\"pass\":true,\"value\":6,\"unit\":\"approvals\",\"evi"
	"dence\":{}},\"review\":{\"kind\":\"score\",\"value\":83.60000000000001,\"unit\":\"points\",\"normalize"
	"d\":0.8360000000000001,\"points\":83.60000000000001,\"evidence\":{}}}}],\"eliminated\":[\"trilli"
	"on\"]}";

static struct kv_record *the_record(void)
{
	static struct kv_record *rec;
	if (!rec) {
		struct kv_error err = {0};
		cJSON *doc = kv_json_parse(record_text, sizeof record_text - 1, "record", &err);
		rec = doc ? kv_record_from_json(doc, "record", &err) : NULL;
		cJSON_Delete(doc);
		if (!rec)
			abort();
	}
	return rec;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct kv_record *rec = the_record();
	const char *path = fuzz_file("robustness.json", data, size);
	struct kv_robustness rob = {0};
	struct kv_error err = {0};
	if (kv_robustness_read(path, rec, &rob, &err) != 0) {
		if (err.status != KV_EXIT_INPUT || strncmp(err.msg, path, strlen(path)) != 0 || rob.p_eliminated)
			abort();
		return 0;
	}
	for (size_t i = 0; i < rec->team_count; i++) {
		double p = rob.p_eliminated[i];
		if (!isnan(p) && !(p >= 0 && p <= 1))
			abort();
	}
	struct kv_buf html = {0};
	kv_report_html(rec, &rob, &html);
	kv_buf_free(&html);
	kv_robustness_free(&rob);
	return 0;
}
