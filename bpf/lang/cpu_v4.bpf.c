// tsbpf: -mcpu=v4
// Instructions only -mcpu=v4 emits (kernel 6.6+): sign-extending loads (LDX MEMSX), sign-extending
// register moves (MOVSX), signed division and modulo (SDIV/SMOD with off=1) and unconditional
// byte swaps (BSWAP16/32/64). Inputs come from the syscall context; results go to .bss.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct v4_input {
	__s8 s8;	/* -3 */
	__s16 s16;	/* -300 */
	__s32 s32;	/* -70001 */
	__s64 divisor;	/* 7 */
	__u64 wide;	/* 0x0102030405060708 */
};

__s64 loaded_s8, loaded_s16, loaded_s32;
__s64 moved_s8;
__s64 sdiv64_result, smod64_result;
__s32 sdiv32_result, smod32_result;
__u64 swapped16, swapped32, swapped64;

SEC("syscall")
int cpu_v4(struct v4_input *in)
{
	struct v4_input v;
	volatile __s64 wide_reg;

	__builtin_memcpy(&v, in, sizeof(v));
	loaded_s8 = *(volatile __s8 *)&v.s8;		/* ldxsb */
	loaded_s16 = *(volatile __s16 *)&v.s16;	/* ldxsh */
	loaded_s32 = *(volatile __s32 *)&v.s32;	/* ldxsw */
	wide_reg = loaded_s16;
	moved_s8 = (__s8)wide_reg;			/* movsx r, r (8 -> 64) */
	sdiv64_result = loaded_s32 / v.divisor;		/* sdiv64 */
	smod64_result = loaded_s16 % v.divisor;		/* smod64: -300 % 7 = -6 */
	sdiv32_result = (__s32)loaded_s32 / (__s32)v.divisor;	/* sdiv32 */
	smod32_result = (__s32)loaded_s8 % (__s32)v.divisor;	/* smod32: -3 % 7 = -3 */
	swapped16 = __builtin_bswap16((__u16)v.wide);
	swapped32 = __builtin_bswap32((__u32)v.wide);
	swapped64 = __builtin_bswap64(v.wide);
	return -(sdiv64_result + smod64_result); /* -(-10000 + -6) = 10006 */
}

char LICENSE[] SEC("license") = "GPL";
