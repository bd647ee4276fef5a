/* kaieval-fingerprint: the program `kaieval fingerprint` runs (fpcli.c). */
#include "fingerprint.h"
#include "output.h"

int main(int argc, char **argv)
{
	kv_output_guard_std_fds();
	int rc = kv_fingerprint_main(argc, argv);
	int out = kv_output_finish_stdout();
	return rc ? rc : out;
}
