import { readFileSync } from "node:fs";

/**
 * The fields the kernel shows for a BPF fd in /proc/self/fdinfo (memlock, frozen, run_cnt…),
 * some of which BPF_OBJ_GET_INFO_BY_FD does not give.
 */
export function readFdInfo(fd: number): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  let text: string;
  try {
    text = readFileSync(`/proc/self/fdinfo/${fd}`, "utf8");
  } catch {
    return out;
  }
  for (const line of text.split("\n")) {
    const m = /^([\w]+):\s*(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}
