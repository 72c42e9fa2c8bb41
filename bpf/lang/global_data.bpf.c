// Global variables and the sections libbpf turns into array maps: .data (initialised), .bss
// (zeroed), .rodata (const, frozen; `const volatile` knobs are set by the loader before load),
// and custom .data.<name> / .rodata.<name> sections, each its own map.
// Returns scale * (base + sum(lookup)) + counter = 3 * (10 + 1+2+3+4) + 100 = 160.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 scale = 3;				/* .rodata, a load-time knob */
static const __u32 base = 10;				/* .rodata */
__u32 counter = 100;					/* .data */
__u64 runs;						/* .bss */
__u32 hits SEC(".data.stats") = 7;			/* custom writable section */
const __u32 lookup[4] SEC(".rodata.table") = { 1, 2, 3, 4 }; /* custom read-only section */
char last_result[8];					/* .bss */

SEC("syscall")
int global_data(void *ctx)
{
	__u32 sum = 0, i;
	int result;

	for (i = 0; i < 4; i++)
		sum += lookup[i];
	result = scale * (base + sum) + counter;
	runs++;
	hits++;
	counter++;
	__builtin_memcpy(last_result, "result!", 8);
	return result;
}

char LICENSE[] SEC("license") = "GPL";
