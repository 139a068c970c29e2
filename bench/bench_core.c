/* bench_core.c — placeholder until the core lands. */
#include "bench.h"
#include <stdio.h>
int bench_core(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not implemented\n"); return 2; }
