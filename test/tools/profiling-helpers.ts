/**
 * Test helpers of the profiling and introspection tools: run a tool as a child process
 * (`node bin/tsbpf.js tool NAME ...`), build small C workloads with cc, screenshot an SVG in
 * headless Chromium and check the picture is not blank.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { tsbpfBin } from "../helpers/shared.js";

export interface ToolRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running tool: stop() sends SIGINT and waits for the final output. */
export interface RunningTool {
  readonly child: ChildProcess;
  /** Resolves once the tool printed `text` on stdout or stderr (rejects after `ms`). */
  waitFor(text: string | RegExp, ms?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<ToolRun>;
  /** What it printed so far. */
  output(): { stdout: string; stderr: string };
  done: Promise<ToolRun>;
}

/** Starts `tsbpf tool NAME args...` (needs `npm run build`). */
export function startTool(name: string, args: readonly string[], timeoutMs = 60_000): RunningTool {
  const child = spawn(process.execPath, [tsbpfBin, "tool", name, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const waiters: (() => void)[] = [];
  child.stdout!.on("data", (d: Buffer) => {
    stdout += d.toString();
    for (const w of waiters) w();
  });
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
    for (const w of waiters) w();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const done = new Promise<ToolRun>((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      for (const w of waiters) w();
      resolve({ code, stdout, stderr });
    }),
  );
  return {
    child,
    done,
    output: () => ({ stdout, stderr }),
    waitFor(text, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const matches = (): boolean =>
          typeof text === "string" ? (stdout + stderr).includes(text) : text.test(stdout + stderr);
        const t = setTimeout(
          () =>
            reject(new Error(`no '${String(text)}' within ${ms} ms; stdout: ${stdout}\nstderr: ${stderr}`)),
          ms,
        );
        const check = (): void => {
          if (matches()) {
            clearTimeout(t);
            resolve();
          } else if (child.exitCode !== null) {
            clearTimeout(t);
            reject(new Error(`tool exited (${child.exitCode}) before '${String(text)}'; stderr: ${stderr}`));
          }
        };
        waiters.push(check);
        check();
      });
    },
    async stop(signal = "SIGINT") {
      if (child.exitCode === null) child.kill(signal);
      return done;
    },
  };
}

/** Runs a tool to completion (it must end by itself: duration or count arguments). */
export function runTool(name: string, args: readonly string[], timeoutMs = 60_000): Promise<ToolRun> {
  return startTool(name, args, timeoutMs).done;
}

/** A temporary directory removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `tsbpf-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Compiles a C program with cc (frame pointers kept, so user stacks unwind); returns its path. */
export function buildC(dir: string, name: string, source: string, flags: readonly string[] = []): string {
  const src = join(dir, `${name}.c`);
  const exe = join(dir, name);
  writeFileSync(src, source);
  const r = spawnSync("cc", ["-O0", "-g", "-fno-omit-frame-pointer", "-o", exe, src, ...flags], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`cc failed: ${r.stderr || r.error?.message}`);
  return exe;
}

/** Starts a program and waits for its first line ("ready") on stdout. */
export async function startProgram(path: string, args: readonly string[] = []): Promise<ChildProcess> {
  const child = spawn(path, args, { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve();
    });
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`${path} exited (${code}) before saying ready`)));
  });
  return child;
}

/** The Chromium binary, if installed. */
export function chromiumPath(): string | undefined {
  return ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find((p) =>
    existsSync(p),
  );
}

/** Renders a file in headless Chromium and returns the PNG screenshot. */
export function screenshot(chromium: string, file: string, width = 1200, height = 800): Buffer {
  const profile = tempDir("chromium");
  const png = join(profile.dir, "shot.png");
  try {
    const r = spawnSync(
      chromium,
      [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${join(profile.dir, "profile")}`,
        `--screenshot=${png}`,
        `--window-size=${width},${height}`,
        `file://${file}`,
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    if (!existsSync(png)) throw new Error(`chromium wrote no screenshot (status ${r.status}): ${r.stderr}`);
    return readFileSync(png);
  } finally {
    profile.remove();
  }
}

/** Decodes an 8-bit RGB/RGBA non-interlaced PNG into its pixels (enough for screenshots). */
export function decodePng(png: Buffer): {
  width: number;
  height: number;
  channels: number;
  pixels: Uint8Array;
} {
  if (png.readUInt32BE(0) !== 0x89504e47) throw new Error("not a PNG");
  let at = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (at < png.length) {
    const len = png.readUInt32BE(at);
    const type = png.toString("latin1", at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + len);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const depth = data[8];
      const colour = data[9];
      if (depth !== 8 || data[12] !== 0) throw new Error(`unsupported PNG depth ${depth} / interlace`);
      channels = colour === 6 ? 4 : colour === 2 ? 3 : 0;
      if (!channels) throw new Error(`unsupported PNG colour type ${colour}`);
    } else if (type === "IDAT") idat.push(data);
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels]! : 0;
      let v = line[x]!;
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[y * stride + x] = v & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

/** Distinct RGB colours of a decoded PNG. */
export function distinctColours(img: ReturnType<typeof decodePng>): number {
  const seen = new Set<number>();
  for (let i = 0; i < img.pixels.length; i += img.channels)
    seen.add((img.pixels[i]! << 16) | (img.pixels[i + 1]! << 8) | img.pixels[i + 2]!);
  return seen.size;
}
