/* Open-coded numeric iterator (kernel 6.4+): the kfuncs and libbpf's bpf_for / bpf_repeat
 * macros, which libbpf-dev 1.1's bpf_helpers.h does not have yet. */
#ifndef TSBPF_ITER_H
#define TSBPF_ITER_H

#ifndef __ksym
#define __ksym __attribute__((section(".ksyms")))
#endif

#ifndef __VMLINUX_H__ /* vmlinux.h already declares it */
struct bpf_iter_num {
	__u64 __opaque[1];
} __attribute__((aligned(8)));
#endif

extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;

#ifndef bpf_for
/* for (i = start; i < end; i++) with a verifier-friendly iterator, as in libbpf >= 1.2 */
#define bpf_for(i, start, end) for (							\
	/* initialize and define destructor */						\
	struct bpf_iter_num ___it __attribute__((aligned(8), /* enforce, just in case */	\
						 cleanup(bpf_iter_num_destroy))),	\
	/* ___p pointer is necessary to call bpf_iter_num_new() *once* to init ___it */	\
			    *___p __attribute__((unused)) = (				\
				bpf_iter_num_new(&___it, (start), (end)),		\
	/* this is a workaround for Clang bug: it currently doesn't emit BTF */		\
	/* for bpf_iter_num_destroy() when used from cleanup() attribute */		\
				(void)bpf_iter_num_destroy, (void *)0);			\
	({										\
		/* iteration step */							\
		int *___t = bpf_iter_num_next(&___it);					\
		/* termination and bounds check */					\
		(___t && ((i) = *___t, (i) >= (start) && (i) < (end)));		\
	});										\
)
#endif

#ifndef bpf_repeat
/* repeat the body N times, as in libbpf >= 1.2 */
#define bpf_repeat(N) for (								\
	struct bpf_iter_num ___it __attribute__((aligned(8),				\
						 cleanup(bpf_iter_num_destroy))),	\
			    *___p __attribute__((unused)) = (				\
				bpf_iter_num_new(&___it, 0, (N)),			\
				(void)bpf_iter_num_destroy, (void *)0);			\
	bpf_iter_num_next(&___it);							\
)
#endif

#endif
