#include <criterion/criterion.h>
#include <math.h>
#include "support.h"

extern const struct kv_plugin kaieval_plugin_table;

Test(core, smoke)
{
	char *dir = kvt_tempdir();
	kvt_write(dir, "r.cfg",
		  "round: { id = \"t\"; title = \"T\"; date = \"2026-01-15\"; data = \"d\"; seed = 1L;\n"
		  " teams = ( { id = \"a\"; name = \"A\"; model = \"ma\"; }, { id = \"b\"; name = \"B\"; model = \"mb\"; } );\n"
		  " criteria = ( { id = \"x\"; plugin = \"table\"; kind = \"score\"; points = 10.0; params = { file = \"x.csv\"; }; } );\n"
		  " selection = { eliminate_lowest = 1; }; };\n");
	kvt_write(dir, "d/x.csv", "team,value,normalized\na,1,0.5\nb,2,1\n");
	kv_register_builtin(&kaieval_plugin_table);
	char *cfg = kv_xasprintf("%s/r.cfg", dir);
	struct kv_run *run;
	struct kv_error err;
	int rc = kvt_run(cfg, &run, &err);
	cr_assert_eq(rc, 0, "%s", err.msg);
	cr_assert_float_eq(kv_run_standing(run, "a")->total, 5.0, 1e-12);
	cr_assert_eq(kv_run_standing(run, "b")->rank, 1);
	cr_assert_eq(kv_run_standing(run, "a")->status, KV_ELIMINATED);
	kv_run_free(run);
	free(cfg);
	kvt_rmtree(dir);
	free(dir);
}
