/**
 * The kernels of the matrix. Adding a kernel is one line: a name and the Debian package whose
 * newest version provides it (the regex's group 1 is the kernel release, `uname -r`).
 * "host" is the running kernel: its tests run natively, without QEMU.
 */
export interface KernelEntry {
  /** Short name used on the command line, in results/ and in the table ("6.1"). */
  readonly name: string;
  /** Debian image package (unsigned flavour: same kernel, no shim dependency); undefined for the host. */
  readonly pkg?: RegExp;
}

export const KERNELS: readonly KernelEntry[] = [
  { name: "6.1", pkg: /^linux-image-(6\.1\.0-\d+-amd64)-unsigned$/ },
  { name: "6.12", pkg: /^linux-image-(6\.12\.\d+\+deb12-amd64)-unsigned$/ },
  { name: "host" },
];

/** The entry named `name`, or undefined. */
export const kernelByName = (name: string): KernelEntry | undefined => KERNELS.find((k) => k.name === name);
