/* Placement of code and data for the cost of process start.
 *
 * The library is loaded into every process of a container, and most of
 * them never print.  In this VM every page a process touches for the first
 * time is a page fault of ~10-20 us (bench/, issue 5), more than the work
 * of the constructor itself.  So what start-up touches is packed together:
 *
 * RD_STARTUP  code run by the constructor (and the destructor of a process
 *             that printed nothing): placed in .text.startup, which GNU ld
 *             puts at the start of .text next to the constructors, so it
 *             is read through one or two page faults instead of one per
 *             64 KiB of code that it is scattered over.
 * RD_LARGE_BSS  large zero-initialised tables (sinks, FILE states, Jupyter
 *             buffers): placed in .lbss (the x86-64 large-data bss, which
 *             GNU ld puts after .bss), so that the small variables written
 *             at start-up share a few pages instead of having one page
 *             each between the tables. */
#ifndef RD_STARTUP_H
#define RD_STARTUP_H

#if defined(__ELF__) && defined(__GNUC__)
#define RD_STARTUP __attribute__((section(".text.startup")))
#else
#define RD_STARTUP
#endif

#if defined(__x86_64__) && defined(__ELF__)
#define RD_LARGE_BSS __attribute__((section(".lbss")))
#else
#define RD_LARGE_BSS
#endif

#endif
