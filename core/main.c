#include "cli.h"
#include "output.h"

int main(int argc, char **argv)
{
	kv_output_guard_std_fds();
	int rc = kv_cli_main(argc, argv);
	int out = kv_output_finish_stdout();
	return rc ? rc : out;
}
