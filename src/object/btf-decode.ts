/**
 * Decoding map keys and values through BTF for both backends: decodeBtfValue, except for global
 * data. clang leaves the
 * offsets (and size) of a DATASEC's variables at 0 in objects (libbpf fixes them at load), so a
 * global data value decoded through the raw DATASEC would read every variable at offset 0; with
 * the object loader's layouts (ObjectSpec.datasecs) each variable is read at its real offset.
 */
import type { Btf } from "../btf/index.js";
import { decodeBtfValue } from "../btf/value.js";
import { TsbpfError } from "../errors.js";
import type { DatasecLayout } from "./btf-fixup.js";

/** Decodes the bytes of a value of BTF type `typeId` into a plain JS value. */
export type BtfDecoder = (btf: Btf, typeId: number, bytes: Uint8Array) => unknown;

/** A decoder that reads DATASECs with `layouts` (by BTF id) and anything else with decodeBtfValue. */
export function btfDecoderFor(layouts: readonly DatasecLayout[] = []): BtfDecoder {
  const byId = new Map(layouts.map((l) => [l.btfId, l]));
  return (btf, typeId, bytes) => {
    const layout = byId.get(typeId);
    if (!layout) return decodeBtfValue(btf, typeId, bytes);
    const out: Record<string, unknown> = {};
    for (const v of [...layout.vars].sort((a, b) => a.offset - b.offset)) {
      const t = btf.typeById(v.typeId);
      if (t.kind !== "var") continue; // .ksyms functions take no room
      if (v.offset + v.size > bytes.length)
        throw new TsbpfError(
          `${layout.name}: variable '${t.name}' at ${v.offset}+${v.size} is past the ${bytes.length}-byte value (too few bytes)`,
        );
      out[t.name] = decodeBtfValue(btf, v.typeId, bytes.subarray(v.offset, v.offset + v.size));
    }
    return out;
  };
}
