/**
 * A self-contained interactive SVG flame graph, drawn as Brendan Gregg's flamegraph.pl draws it
 * (same geometry, fonts and "hot" palette with name-hashed colours, frames merged and sorted
 * alphabetically, the root "all" at the bottom): hover a frame for its name, count and share;
 * click to zoom into it ("Reset Zoom" or Escape to come back); "Search" (or Ctrl-F) highlights
 * the frames matching a regular expression in magenta and shows the matched share. The SVG
 * needs no network access: styles and script are inline, frames are real SVG elements so the
 * picture renders without script too.
 */

/** How to draw. Defaults are flamegraph.pl's. */
export interface FlameGraphOptions {
  readonly title?: string;
  /** Second line under the title (e.g. the command line). */
  readonly subtitle?: string;
  /** Unit of the values: "samples" (profile), "us" (offcputime), "bytes"… */
  readonly countName?: string;
  /** Image width in pixels (1200). */
  readonly width?: number;
  /** Frame height in pixels (16). */
  readonly frameHeight?: number;
  readonly fontSize?: number;
  readonly fontType?: string;
  /** Frames narrower than this many pixels are left out (0.1). */
  readonly minWidth?: number;
  /** Palette: "hot" (default, on-CPU), "blue" (off-CPU / io), "mem" (green), "java" (kernel frames orange). */
  readonly colors?: "hot" | "blue" | "mem" | "java";
  /** Icicle graph: root at the top. */
  readonly inverted?: boolean;
  /** Background gradient (#eeeeee → #eeeeb0; the blue palette uses #eeeeee → #e0e0ff). */
  readonly bgColors?: readonly [string, string];
}

/** One stack: frames outermost first and how much it weighs. */
export interface FoldedStack {
  readonly frames: readonly string[];
  readonly value: number;
}

interface Node {
  readonly name: string;
  value: number;
  readonly children: Map<string, Node>;
}

/** Parses flamegraph.pl input: "a;b;c 12" lines (the count after the last space). */
export function parseFolded(text: string): FoldedStack[] {
  const out: FoldedStack[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    const m = /^(.*)\s+(\d+(?:\.\d+)?)$/.exec(line);
    if (!m || m[1] === "") continue;
    out.push({ frames: m[1]!.split(";"), value: Number(m[2]) });
  }
  return out;
}

/** Turns a folded map (BCC "frame;frame" → value) into stacks. */
export function foldedStacks(folded: ReadonlyMap<string, number>): FoldedStack[] {
  return [...folded].map(([k, value]) => ({ frames: k.split(";"), value }));
}

/** flamegraph.pl's namehash: the same name always gets the same colour, weighting early characters. */
export function nameHash(name: string): number {
  let vector = 0;
  let weight = 1;
  let max = 1;
  let mod = 10;
  const stripped = name.replace(/^.(.*?)`/, ""); // module`func: hash the function
  for (const c of stripped) {
    const i = c.charCodeAt(0) % mod;
    vector += (i / (mod++ - 1)) * weight;
    max += weight;
    weight *= 0.7;
    if (mod > 12) break;
  }
  return 1 - vector / max;
}

/** flamegraph.pl's color(): palettes fed by name hashes (its --hash mode, so graphs are reproducible). */
export function frameColor(name: string, palette: FlameGraphOptions["colors"] = "hot"): string {
  if (name === "--") return "rgb(160,160,160)";
  if (name === "-") return "rgb(200,200,200)";
  const v1 = nameHash(name);
  const v2 = nameHash([...name].reverse().join(""));
  const v3 = v2;
  let type = palette;
  if (palette === "java") {
    // flamegraph.pl --color=java: kernel frames (_[k]) orange, inlined aqua, jit green, else red.
    if (name.endsWith("_[k]")) type = "orange" as never;
    else if (name.endsWith("_[i]")) type = "aqua" as never;
    else if (name.endsWith("_[j]")) type = "green" as never;
    else type = "hot";
  }
  const rgb = (r: number, g: number, b: number): string => `rgb(${r},${g},${b})`;
  switch (type as string) {
    case "blue":
      return rgb(Math.trunc(80 * v1), Math.trunc(80 * v1), 190 + Math.trunc(55 * v2));
    case "mem":
      return rgb(0, 190 + Math.trunc(50 * v2), Math.trunc(210 * v1));
    case "orange":
      return rgb(190 + Math.trunc(65 * v1), 90 + Math.trunc(65 * v1), 0);
    case "aqua":
      return rgb(50 + Math.trunc(60 * v1), 165 + Math.trunc(55 * v1), 165 + Math.trunc(55 * v1));
    case "green":
      return rgb(0, 155 + Math.trunc(100 * v1), Math.trunc(50 * v1));
    default:
      return rgb(205 + Math.trunc(50 * v3), Math.trunc(230 * v1), Math.trunc(55 * v2));
  }
}

const escapeXml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Thousands separators, as flamegraph.pl prints counts. */
const commas = (n: number): string => Math.round(n).toLocaleString("en-US");

function buildTree(stacks: readonly FoldedStack[]): { root: Node; depth: number } {
  const root: Node = { name: "all", value: 0, children: new Map() };
  let depth = 0;
  for (const s of stacks) {
    if (!(s.value > 0)) continue;
    root.value += s.value;
    let node = root;
    for (const f of s.frames) {
      let child = node.children.get(f);
      if (!child) {
        child = { name: f, value: 0, children: new Map() };
        node.children.set(f, child);
      }
      child.value += s.value;
      node = child;
    }
    depth = Math.max(depth, s.frames.length);
  }
  return { root, depth };
}

/** Renders the flame graph of `stacks` as a complete SVG document. */
export function renderFlameGraph(stacks: readonly FoldedStack[], options: FlameGraphOptions = {}): string {
  const width = options.width ?? 1200;
  const frameHeight = options.frameHeight ?? 16;
  const fontSize = options.fontSize ?? 12;
  const fontType = options.fontType ?? "Verdana";
  const fontWidth = 0.59;
  const minWidth = options.minWidth ?? 0.1;
  const countName = options.countName ?? "samples";
  const palette = options.colors ?? "hot";
  const inverted = options.inverted ?? false;
  const title = options.title ?? (inverted ? "Icicle Graph" : "Flame Graph");
  const bg =
    options.bgColors ??
    (palette === "blue" ? (["#eeeeee", "#e0e0ff"] as const) : (["#eeeeee", "#eeeeb0"] as const));
  const xpad = 10;
  const framePad = 1;
  const ypad1 = fontSize * 3 + (options.subtitle ? fontSize * 2 : 0);
  const ypad2 = fontSize * 2 + 10;

  const { root, depth: maxDepth } = buildTree(stacks);
  const total = root.value;
  const widthPerUnit = total > 0 ? (width - 2 * xpad) / total : 0;

  // Lay frames out depth-first; children sorted by name (flamegraph.pl sorts the folded input).
  interface Frame {
    readonly node: Node;
    readonly x: number; // in units from the left
    readonly depth: number;
  }
  const frames: Frame[] = [];
  let shownDepth = 0;
  const walk = (node: Node, x: number, depth: number): void => {
    if (node.value * widthPerUnit < minWidth) return;
    frames.push({ node, x, depth });
    shownDepth = Math.max(shownDepth, depth);
    let cx = x;
    for (const name of [...node.children.keys()].sort()) {
      const child = node.children.get(name)!;
      walk(child, cx, depth + 1);
      cx += child.value;
    }
  };
  if (total > 0) walk(root, 0, 0);
  void maxDepth;
  const height = (shownDepth + 1) * frameHeight + ypad1 + ypad2;
  const yOf = (depth: number): number =>
    inverted ? ypad1 + depth * frameHeight : height - ypad2 - (depth + 1) * frameHeight + framePad;

  const out: string[] = [];
  out.push(`<?xml version="1.0" standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg version="1.1" width="${width}" height="${height}" onload="init(evt)" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:fg="http://github.com/jonhoo/inferno">
<!-- Flame graph stack visualization. See https://github.com/brendangregg/FlameGraph for the original. Written by tsbpf. -->
<defs>
	<linearGradient id="background" y1="0" y2="1" x1="0" x2="0" >
		<stop stop-color="${bg[0]}" offset="5%" />
		<stop stop-color="${bg[1]}" offset="95%" />
	</linearGradient>
</defs>
<style type="text/css">
	text { font-family:${fontType}; font-size:${fontSize}px; fill:rgb(0,0,0); }
	#search, #ignorecase { opacity:0.1; cursor:pointer; }
	#search:hover, #search.show, #ignorecase:hover, #ignorecase.show { opacity:1; }
	#subtitle { text-anchor:middle; font-color:rgb(160,160,160); }
	#title { text-anchor:middle; font-size:${fontSize + 5}px}
	#unzoom { cursor:pointer; }
	#frames > *:hover { stroke:black; stroke-width:0.5; cursor:pointer; }
	.hide { display:none; }
	.parent { opacity:0.5; }
</style>
<script type="text/ecmascript">
<![CDATA[
${SCRIPT.replace("__XPAD__", String(xpad)).replace("__FONTSIZE__", String(fontSize)).replace("__FONTWIDTH__", String(fontWidth)).replace("__COUNTNAME__", JSON.stringify(countName)).replace("__TOTAL__", String(total))}
]]>
</script>
<rect x="0.0" y="0" width="${width}.0" height="${height}.0" fill="url(#background)"  />
<text id="title" x="${(width / 2).toFixed(2)}" y="${fontSize * 2}" >${escapeXml(title)}</text>
`);
  if (options.subtitle)
    out.push(
      `<text id="subtitle" x="${(width / 2).toFixed(2)}" y="${fontSize * 4}" >${escapeXml(options.subtitle)}</text>\n`,
    );
  out.push(`<text id="details" x="${xpad}" y="${height - ypad2 / 2}" > </text>
<text id="unzoom" x="${xpad}" y="${fontSize * 2}" class="hide">Reset Zoom</text>
<text id="search" x="${width - xpad - 100}" y="${fontSize * 2}" >Search</text>
<text id="ignorecase" x="${width - xpad - 16}" y="${fontSize * 2}" >ic</text>
<text id="matched" x="${width - xpad - 100}" y="${height - ypad2 / 2}" > </text>
<g id="frames">
`);
  for (const f of frames) {
    const x1 = xpad + f.x * widthPerUnit;
    const w = f.node.value * widthPerUnit;
    const y = yOf(f.depth);
    const pct = total > 0 ? ((100 * f.node.value) / total).toFixed(2) : "0.00";
    const info =
      f.depth === 0
        ? `all (${commas(total)} ${countName}, 100%)`
        : `${f.node.name} (${commas(f.node.value)} ${countName}, ${pct}%)`;
    const color = f.depth === 0 ? "rgb(250,250,250)" : frameColor(f.node.name, palette);
    const chars = Math.floor(w / (fontSize * fontWidth));
    const label = f.depth === 0 ? "" : f.node.name;
    const text = chars < 3 ? "" : label.length <= chars ? label : `${label.slice(0, chars - 2)}..`;
    out.push(
      `<g><title>${escapeXml(info)}</title><rect x="${x1.toFixed(1)}" y="${y.toFixed(1)}" width="${w.toFixed(1)}" height="${(frameHeight - framePad).toFixed(1)}" fill="${color}" rx="2" ry="2" fg:x="${f.x}" fg:w="${f.node.value}" fg:d="${f.depth}" />` +
        `<text x="${(x1 + 3).toFixed(2)}" y="${(y + frameHeight / 2 + fontSize / 2 - 2).toFixed(1)}" >${escapeXml(text)}</text></g>\n`,
    );
  }
  out.push("</g>\n</svg>\n");
  return out.join("");
}

/**
 * The interactive part (plain ES5 in the SVG): details on hover, zoom on click, search. Frames
 * carry their position in units (fg:x, fg:w) and depth (fg:d), so zooming rescales exactly.
 */
const SCRIPT = `"use strict";
var details, searchbtn, unzoombtn, matchedtxt, svg, searching, currentSearch, ignorecase = false;
var xpad = __XPAD__, fontsize = __FONTSIZE__, fontwidth = __FONTWIDTH__, countname = __COUNTNAME__, total = __TOTAL__;
var FG = "http://github.com/jonhoo/inferno";
function init(evt) {
	details = document.getElementById("details").firstChild;
	searchbtn = document.getElementById("search");
	unzoombtn = document.getElementById("unzoom");
	matchedtxt = document.getElementById("matched");
	svg = document.getElementsByTagName("svg")[0];
	searching = 0;
	var frames = document.getElementById("frames");
	frames.addEventListener("mouseover", function (e) {
		var g = find_group(e.target);
		if (g) details.nodeValue = "Function: " + g_to_text(g);
	});
	frames.addEventListener("mouseout", function (e) {
		if (find_group(e.target)) details.nodeValue = " ";
	});
	frames.addEventListener("click", function (e) {
		var g = find_group(e.target);
		if (g) zoom(g);
	});
	unzoombtn.addEventListener("click", unzoom);
	searchbtn.addEventListener("click", search_prompt);
	document.getElementById("ignorecase").addEventListener("click", toggle_ignorecase);
	window.addEventListener("keydown", function (e) {
		if (e.keyCode === 114 || (e.ctrlKey && e.keyCode === 70)) { e.preventDefault(); search_prompt(); }
		else if (e.keyCode === 27) unzoom();
	});
}
function find_group(node) {
	while (node && node.parentNode) {
		if (node.parentNode.id === "frames") return node;
		node = node.parentNode;
	}
	return null;
}
function g_to_text(g) { return g.getElementsByTagName("title")[0].firstChild.nodeValue; }
function g_name(g) { var t = g_to_text(g); return t.replace(/ \\([^(]*\\)$/, ""); }
function rect_of(g) { return g.getElementsByTagName("rect")[0]; }
function num(g, a) { return parseFloat(rect_of(g).getAttributeNS(FG, a)); }
function width_px() { return parseFloat(svg.getAttribute("width")) - 2 * xpad; }
function place(g, x, w) {
	var r = rect_of(g), t = g.getElementsByTagName("text")[0];
	r.setAttribute("x", x.toFixed(1));
	r.setAttribute("width", Math.max(w, 0).toFixed(1));
	t.setAttribute("x", (x + 3).toFixed(2));
	var name = num(g, "d") === 0 ? "" : g_name(g);
	var chars = Math.floor(w / (fontsize * fontwidth));
	t.textContent = chars < 3 ? "" : (name.length <= chars ? name : name.substring(0, chars - 2) + "..");
}
function zoom(node) {
	var x0 = num(node, "x"), w0 = num(node, "w"), d0 = num(node, "d");
	var scale = width_px() / w0;
	var all = document.getElementById("frames").children;
	unzoombtn.classList.remove("hide");
	for (var i = 0; i < all.length; i++) {
		var g = all[i], x = num(g, "x"), w = num(g, "w"), d = num(g, "d");
		g.classList.remove("parent");
		g.classList.remove("hide");
		if (d < d0 && x <= x0 && x + w >= x0 + w0) {
			g.classList.add("parent");
			place(g, xpad, width_px());
		} else if (d >= d0 && x >= x0 && x + w <= x0 + w0 + 1e-9) {
			place(g, xpad + (x - x0) * scale, w * scale);
		} else {
			g.classList.add("hide");
		}
	}
	if (currentSearch) search(currentSearch);
}
function unzoom() {
	var all = document.getElementById("frames").children;
	var scale = total > 0 ? width_px() / total : 0;
	unzoombtn.classList.add("hide");
	for (var i = 0; i < all.length; i++) {
		var g = all[i];
		g.classList.remove("parent");
		g.classList.remove("hide");
		place(g, xpad + num(g, "x") * scale, num(g, "w") * scale);
	}
	if (currentSearch) search(currentSearch);
}
function toggle_ignorecase() {
	ignorecase = !ignorecase;
	document.getElementById("ignorecase").classList.toggle("show", ignorecase);
	if (currentSearch) search(currentSearch);
}
function search_prompt() {
	if (searching) { reset_search(); return; }
	var term = prompt("Enter a search term (regexp allowed, eg: ^ext4_)" + (ignorecase ? ", ignoring case" : "") + "\\nPress Ctrl-i to toggle case sensitivity", "");
	if (term != null && term !== "") search(term);
}
function reset_search() {
	var all = document.getElementById("frames").children;
	for (var i = 0; i < all.length; i++) {
		var r = rect_of(all[i]);
		if (r.hasAttribute("fg:orig_fill")) { r.setAttribute("fill", r.getAttribute("fg:orig_fill")); r.removeAttribute("fg:orig_fill"); }
	}
	searching = 0; currentSearch = null;
	searchbtn.classList.remove("show");
	searchbtn.firstChild.nodeValue = "Search";
	matchedtxt.classList.add("hide");
	matchedtxt.firstChild.nodeValue = " ";
}
function search(term) {
	var re = new RegExp(term, ignorecase ? "i" : "");
	var all = document.getElementById("frames").children;
	var spans = [];
	reset_search();
	for (var i = 0; i < all.length; i++) {
		var g = all[i];
		if (num(g, "d") === 0 || !re.test(g_name(g))) continue;
		var r = rect_of(g);
		r.setAttribute("fg:orig_fill", r.getAttribute("fill"));
		r.setAttribute("fill", "rgb(230,0,230)");
		spans.push([num(g, "x"), num(g, "x") + num(g, "w")]);
	}
	currentSearch = term;
	searching = 1;
	searchbtn.classList.add("show");
	searchbtn.firstChild.nodeValue = "Reset Search";
	spans.sort(function (a, b) { return a[0] - b[0]; });
	var count = 0, end = -1;
	for (var j = 0; j < spans.length; j++) {
		var s = Math.max(spans[j][0], end), e = spans[j][1];
		if (e > s) count += e - s;
		end = Math.max(end, e);
	}
	var pct = total > 0 ? 100 * count / total : 0;
	matchedtxt.classList.remove("hide");
	matchedtxt.firstChild.nodeValue = "Matched: " + (pct === 100 ? "100" : pct.toFixed(1)) + "%";
}
`;
