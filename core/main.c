#include "cli.h"

int main(int argc, char **argv)
{
	return kv_cli_main(argc, argv);
}
