/**
 * CO-RE "essential" names: everything before the last `___flavor` suffix, so that
 * `task_struct___pre514` in a BPF program looks for `task_struct` in the kernel
 * (libbpf's bpf_core_essential_name_len).
 */

/** True when `name` has an `X___Y` separator at `i` (X and Y not underscores). */
function isFlavorSeparator(name: string, i: number): boolean {
  return (
    name[i] !== "_" &&
    name[i + 1] === "_" &&
    name[i + 2] === "_" &&
    name[i + 3] === "_" &&
    name[i + 4] !== undefined &&
    name[i + 4] !== "_"
  );
}

/** The name without its last `___flavor` suffix: `task_struct___pre514` -> `task_struct`. */
export function essentialName(name: string): string {
  for (let i = name.length - 5; i >= 0; i--) {
    if (isFlavorSeparator(name, i)) return name.slice(0, i + 1);
  }
  return name;
}

/** True when two names are equal once their flavor suffixes are dropped. */
export function essentialNamesEqual(a: string, b: string): boolean {
  return essentialName(a) === essentialName(b);
}
