/* kaieval-fingerprint: the program `kaieval fingerprint` runs (fpcli.c). */
#include "fingerprint.h"

int main(int argc, char **argv)
{
	return kv_fingerprint_main(argc, argv);
}
