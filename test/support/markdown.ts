/**
 * What the documentation tests read of a Markdown file: its headings with the anchors GitHub gives
 * them, its tables under their headings, its links, and its fenced code blocks. Fenced code is never
 * read as headings, tables or links.
 */

export interface Heading {
  level: number;
  /** The heading as written (inline code and emphasis marks included). */
  text: string;
  /** The anchor GitHub gives it: `#` + this. */
  slug: string;
  line: number;
}

export interface Table {
  /** The headings the table sits under, outermost first. */
  headings: Heading[];
  /** The header's cells. */
  header: string[];
  /** Each row's cells (the header and its rule left out). */
  rows: string[][];
  line: number;
}

export interface Link {
  target: string;
  line: number;
}

export interface CodeBlock {
  /** The info string after the opening fence (`yaml`, `sh`…). */
  info: string;
  text: string;
  line: number;
}

/** The lines outside fenced code blocks (fenced lines become empty, keeping line numbers). */
function prose(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const open = /^\s*(```+|~~~+)/.exec(line);
    if (fence === undefined && open) {
      fence = open[1]!;
      return '';
    }
    if (fence !== undefined) {
      if (line.trim().startsWith(fence)) fence = undefined;
      return '';
    }
    return line;
  });
}

/**
 * GitHub's anchor of a heading: the rendered text (inline code kept, link targets dropped),
 * lowercased, with everything but letters, digits, spaces, `-` and `_` removed and spaces made `-`.
 */
export function slugOf(text: string): string {
  const rendered = text.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`([^`]*)`/g, '$1');
  return rendered
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

export function headingsOf(markdown: string): Heading[] {
  const seen = new Map<string, number>();
  const headings: Heading[] = [];
  prose(markdown).forEach((line, i) => {
    const m = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) return;
    const base = slugOf(m[2]!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    headings.push({ level: m[1]!.length, text: m[2]!, slug: count ? `${base}-${count}` : base, line: i + 1 });
  });
  return headings;
}

/** The anchors a link may point at: every heading's, and every `<a id="…">` / `<a name="…">`. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set(headingsOf(markdown).map((h) => h.slug));
  for (const m of markdown.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
  return anchors;
}

/** A table row's cells, split on `|` outside inline code and not escaped, trimmed. */
export function cellsOf(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let code = false;
  const body = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '\\' && body[i + 1] === '|') {
      cell += '|';
      i++;
    } else if (ch === '`') {
      code = !code;
      cell += ch;
    } else if (ch === '|' && !code) {
      cells.push(cell.trim());
      cell = '';
    } else cell += ch;
  }
  cells.push(cell.trim());
  return cells;
}

export function tablesOf(markdown: string): Table[] {
  const lines = prose(markdown);
  const headings = headingsOf(markdown);
  const tables: Table[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('|') || !/^\|[\s:|-]+\|$/.test(lines[i + 1] ?? '')) continue;
    const start = i;
    const header = cellsOf(lines[i]!);
    const rows: string[][] = [];
    for (i += 2; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(cellsOf(lines[i]!));
    const above = headings.filter((h) => h.line < start + 1);
    const chain: Heading[] = [];
    for (const h of above) {
      while (chain.length && chain[chain.length - 1]!.level >= h.level) chain.pop();
      chain.push(h);
    }
    tables.push({ headings: chain, header, rows, line: start + 1 });
  }
  return tables;
}

/** Inline links `[text](target)` and images outside fenced and inline code. */
export function linksOf(markdown: string): Link[] {
  const links: Link[] = [];
  prose(markdown).forEach((line, i) => {
    const text = line.replace(/`[^`]*`/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) links.push({ target: m[1]!, line: i + 1 });
  });
  return links;
}

export function codeBlocksOf(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*(```+|~~~+)\s*(\S*)/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.trim().startsWith(open[1]!); i++) body.push(lines[i]!);
    blocks.push({ info: open[2]!, text: body.join('\n'), line: start + 1 });
  }
  return blocks;
}

/** The names a cell writes in inline code (`` `A`, `B` `` → A, B). */
export const codeNamesOf = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
