/** Capture files: pcap and pcapng readers and writers. */
import { FormatError } from "../../errors.js";
import type { Capture } from "./capture.js";
import { isPcap, readPcap } from "./pcap.js";
import { isPcapng, readPcapng } from "./pcapng.js";

export { LINKTYPE_ETHERNET, type Capture, type CapturedPacket } from "./capture.js";
export { readPcap, writePcap, isPcap, type WritePcapOptions } from "./pcap.js";
export { readPcapng, writePcapng, isPcapng } from "./pcapng.js";

/** Read a pcap or pcapng file (detected from its first bytes). */
export function readCapture(bytes: Uint8Array, file?: string): Capture {
  if (isPcapng(bytes)) return readPcapng(bytes, file);
  if (isPcap(bytes)) return readPcap(bytes, file);
  throw new FormatError("neither a pcap nor a pcapng file", file, 0);
}
