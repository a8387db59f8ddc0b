import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PLUGINS } from '../scripts/plugins.mjs';

/**
 * The README front page lists every plugin in a table under "## Plugins" and every tool under
 * "## Operator tools", one row each whose first cell is "[`name`](docs/name.md)". This keeps that
 * list equal to what the suite builds (scripts/plugins.mjs, bin/) and every relative link in
 * README.md and docs/*.md pointing at a file (and heading) that exists.
 */
const root = join(__dirname, '..');
const readme = join(root, 'README.md');
const docsDir = join(root, 'docs');

/** What scripts/plugins.mjs says each executable is: a plugin or a tool. */
const builtPlugins = PLUGINS.filter((p) => p.kind === 'plugin').map((p) => p.name);
const builtTools = PLUGINS.filter((p) => p.kind === 'tool').map((p) => p.name);

function binExecutables(): string[] {
  return readdirSync(join(root, 'bin')).filter((name) => {
    const st = statSync(join(root, 'bin', name));
    return st.isFile() && (st.mode & 0o111) !== 0;
  });
}

/** The text with fenced code blocks blanked (line count kept), so "# comment" lines are no headings and code is no link. */
function withoutCodeBlocks(text: string): string {
  let fenced = false;
  return text
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        fenced = !fenced;
        return '';
      }
      return fenced ? '' : line;
    })
    .join('\n');
}

/** The lines of the `## title` section, up to the next heading of level 1 or 2. */
function section(text: string, title: string): string[] {
  const lines = withoutCodeBlocks(text).split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${title}`);
  if (start < 0) throw new Error(`README has no "## ${title}" section`);
  const end = lines.findIndex((l, i) => i > start && /^#{1,2} /.test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

interface Row {
  name: string;
  link: string;
}

/** Table rows of a section whose first cell is [`name`](link); any other table row is an error. */
function listed(lines: string[]): Row[] {
  const rows = lines.filter((l) => l.startsWith('|')).slice(2); // header and separator
  return rows.map((row) => {
    const first = row.split('|')[1].trim();
    const m = /^\[`([^`]+)`\]\(([^)\s]+)\)$/.exec(first);
    if (!m) throw new Error(`table row does not start with [\`name\`](docs/name.md): ${row}`);
    return { name: m[1], link: m[2] };
  });
}

const readmeText = readFileSync(readme, 'utf8');
const pluginRows = listed(section(readmeText, 'Plugins'));
const toolSection = section(readmeText, 'Operator tools');
const toolRows = listed(toolSection);
/** Every `name` in backticks in the tools section (table rows, and subsections such as cni-ts's). */
const toolMentions = new Set([...toolSection.join('\n').matchAll(/`([^`\s]+)`/g)].map((m) => m[1]));

describe('README plugin list', () => {
  it('names exactly the plugins the suite builds (scripts/plugins.mjs)', () => {
    expect(pluginRows.map((r) => r.name).sort()).toEqual([...builtPlugins].sort());
  });

  it('names every plugin executable in bin/, and every executable in bin/ is a listed plugin or a tool named in "Operator tools"', () => {
    const bin = binExecutables();
    const names = new Set(pluginRows.map((r) => r.name));
    for (const name of names) expect(bin, `README lists ${name}, but bin/${name} is not an executable`).toContain(name);
    for (const exe of bin) {
      expect(names.has(exe) || toolMentions.has(exe), `bin/${exe} is neither in the README's plugin table nor named under "Operator tools"`).toBe(true);
    }
  });

  it('links each plugin to its own page in docs/, which exists', () => {
    for (const { name, link } of pluginRows) {
      expect(link, name).toBe(`docs/${name}.md`);
      expect(statSync(join(root, link)).isFile(), link).toBe(true);
    }
  });

  it('names every tool the suite builds under "Operator tools", and each tool row has an executable and a page', () => {
    for (const tool of builtTools) expect(toolMentions.has(tool), `tool ${tool} is not named under "Operator tools"`).toBe(true);
    const bin = binExecutables();
    for (const { name, link } of toolRows) {
      expect(builtTools, `"Operator tools" lists ${name}, which scripts/plugins.mjs does not build as a tool`).toContain(name);
      expect(bin, `bin/${name}`).toContain(name);
      expect(statSync(join(root, link)).isFile(), link).toBe(true);
    }
  });
});

/** GitHub's heading anchors: lower case, punctuation dropped (but "-" and "_"), spaces to "-", repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of withoutCodeBlocks(markdown).split('\n')) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** Relative link targets outside code: [text](target) and ![alt](target), titles dropped. */
function relativeLinks(markdown: string): string[] {
  const text = withoutCodeBlocks(markdown).replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]).filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

const markdownFiles = [
  readme,
  ...readdirSync(docsDir)
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(docsDir, f)),
];

describe.each(markdownFiles.map((file) => [relative(root, file), file]))('links in %s', (_name, file) => {
  const text = readFileSync(file, 'utf8');

  it('every relative link points at a file that exists, and at a heading of it when it names one', () => {
    const broken: string[] = [];
    for (const link of relativeLinks(text)) {
      const [path, anchor] = link.split('#');
      const target = path ? resolve(dirname(file), decodeURIComponent(path)) : file;
      let exists = false;
      try {
        exists = statSync(target).isFile() || statSync(target).isDirectory();
      } catch {
        exists = false;
      }
      if (!exists) {
        broken.push(`${link}: no such file`);
        continue;
      }
      if (anchor && target.endsWith('.md') && !anchors(readFileSync(target, 'utf8')).has(anchor)) broken.push(`${link}: no such heading`);
    }
    expect(broken).toEqual([]);
  });
});

describe('the link checker itself', () => {
  it('finds links outside code only, and derives GitHub anchors', () => {
    const md = 'See [a](docs/a.md#x-y) and `[b](no.md)`.\n```\n[c](no.md)\n```\n[d](https://e.org) ![i](img.png)\n## X: `y` z!\n## X: `y` z!\n';
    expect(relativeLinks(md)).toEqual(['docs/a.md#x-y', 'img.png']);
    expect([...anchors(md)]).toEqual(['x-y-z', 'x-y-z-1']);
  });

  it('parses the tables by their first cell', () => {
    expect(listed(['| plugin | what |', '|---|---|', '| [`bridge`](docs/bridge.md) | a bridge |'])).toEqual([{ name: 'bridge', link: 'docs/bridge.md' }]);
    expect(() => listed(['| a | b |', '|---|---|', '| bridge | x |'])).toThrow(/does not start with/);
  });
});
