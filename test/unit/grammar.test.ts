/**
 * The TextMate grammar (syntaxes/dockerfile.tmLanguage.json): runs vscode-tmgrammar-test on the
 * assertion fixtures in test/grammar/ (the same run as `npm run test:grammar`), so `npm test`
 * covers the grammar. test/grammar/shell-standin.tmLanguage.json stands in for VS Code's shell
 * grammar (source.shell), which RUN heredoc bodies include.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const GRAMMAR = 'syntaxes/dockerfile.tmLanguage.json';
const SHELL_STANDIN = 'test/grammar/shell-standin.tmLanguage.json';
const TOOL = require.resolve('vscode-tmgrammar-test/dist/unit.js');

function runTool(glob: string): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [TOOL, '-g', GRAMMAR, '-g', SHELL_STANDIN, glob], {
    cwd: ROOT,
    encoding: 'utf8',
    // The tool's assertion-line parser can backtrack for minutes on a malformed line
    // (e.g. two ` - ` exclusion groups): fail instead of hanging.
    timeout: 120_000,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

test('grammar: every test/grammar fixture passes vscode-tmgrammar-test', () => {
  const fixtures = fs.readdirSync(path.join(ROOT, 'test', 'grammar')).filter((f) => f.endsWith('.Dockerfile'));
  assert.ok(fixtures.length >= 9, `expected the grammar fixtures, found ${fixtures.length}`);
  const { status, output } = runTool('test/grammar/*.Dockerfile');
  assert.equal(status, 0, output);
  for (const f of fixtures) {
    assert.match(output, new RegExp(`✓ test/grammar/${f.replace(/\./g, '\\.')} `), `${f} not reported as passing:\n${output}`);
  }
});

test('grammar: a wrong scope assertion makes the tool fail', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grammar-neg-'));
  try {
    const file = path.join(dir, 'wrong.Dockerfile');
    fs.writeFileSync(file, [
      '# SYNTAX TEST "source.dockerfile" "must fail"',
      'RUN <<EOF',
      'echo hi',
      '# <---- meta.embedded.block.python',
      'EOF',
      '',
    ].join('\n'));
    const { status, output } = runTool(file.split(path.sep).join('/'));
    assert.notEqual(status, 0, output);
    assert.match(output, /meta\.embedded\.block\.python/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('grammar: scopeName and the embedded shell include', () => {
  const g = JSON.parse(fs.readFileSync(path.join(ROOT, GRAMMAR), 'utf8')) as { scopeName: string };
  assert.equal(g.scopeName, 'source.dockerfile');
  const text = fs.readFileSync(path.join(ROOT, GRAMMAR), 'utf8');
  assert.ok(text.includes('"include": "source.shell"'));
  assert.ok(text.includes('"contentName": "meta.embedded.block.shellscript"'));
});
