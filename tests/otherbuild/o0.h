/* Included first into every source of the second plugin build
 * (tests/local.am, OTHER_BUILD_CFLAGS): under GCC every function that
 * follows is compiled at -O0, whatever -O the command line gives last, so
 * the record test compares an unoptimized build with the default one.
 * The other flags there change code generation under any compiler. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O0")
#endif
