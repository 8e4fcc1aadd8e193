/** Bad input never throws out of the parser or the features, and every range stays inside the document. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { parse, type DockerfileAST, type Range } from '../../server/src/parser';
import { documentSymbols } from '../../server/src/features/symbols';
import { foldingRanges } from '../../server/src/features/folding';
import { syntaxDiagnostics } from '../../server/src/features/diagnostics';
import { DEFAULT_SETTINGS } from '../../shared/src/protocol';

const PIECES = [
  'FROM ', 'RUN ', 'COPY ', 'ADD ', 'ENV ', 'ARG ', 'LABEL ', 'ONBUILD ', 'HEALTHCHECK ', 'SHELL ', 'WORKDIR ', 'AS ',
  'alpine', 'a=b', ' ', '\t', '\n', '\r\n', '\r', '\\\n', '\\', '`', '# escape=`\n', '# syntax=x\n', '#', '"', "'",
  '[', ']', '["a", "b"]', ',', '<<EOF', '<<-EOF', "<<'EOF'", '\nEOF\n', '\n\tEOF\n', '${', '}', '$A', ':-', '--mount=type=cache,target=/x',
  '--from=', '--', '--link', '\ufeff', '\u00a0', '\u0085', 'é', '😀', '\u0000',
];

const dockerfileLike = fc.array(
  fc.oneof(fc.constantFrom(...PIECES), fc.string({ unit: 'binary', maxLength: 8 })),
  { maxLength: 60 },
).map((parts) => parts.join(''));

function rangesOf(ast: DockerfileAST): Range[] {
  const out: Range[] = [];
  for (const i of ast.instructions) {
    out.push(i.range, i.keywordRange, i.argsRange, ...i.args.map((a) => a.range), ...i.flags.map((f) => f.range));
    for (const h of i.heredocs) out.push(h.markerRange, h.bodyRange, h.terminatorRange);
  }
  for (const p of ast.problems) out.push(p.range);
  for (const d of ast.directives) out.push(d.range);
  return out;
}

function lineLengths(text: string): number[] {
  return text.split(/\r\n|\r|\n/).map((l) => l.length);
}

function assertInside(text: string, r: Range): void {
  const lens = lineLengths(text);
  for (const p of [r.start, r.end]) {
    assert.ok(p.line >= 0 && p.line < lens.length, `line ${p.line} outside 0..${lens.length - 1}`);
    assert.ok(p.character >= 0 && p.character <= (lens[p.line] ?? 0), `character ${p.character} past line ${p.line}`);
  }
  assert.ok(r.start.line < r.end.line || (r.start.line === r.end.line && r.start.character <= r.end.character), 'range ends before it starts');
}

test('random Dockerfile-like input: no throw, ranges inside the document', () => {
  fc.assert(
    fc.property(dockerfileLike, (text) => {
      const ast = parse(text);
      for (const r of rangesOf(ast)) assertInside(text, r);
      documentSymbols(ast);
      foldingRanges(ast);
      syntaxDiagnostics(ast, DEFAULT_SETTINGS);
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 3000), seed: Number(process.env.FUZZ_SEED ?? 20261128) },
  );
});

test('random byte soup decoded as UTF-8: no throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      const text = Buffer.from(bytes).toString('utf8');
      const ast = parse(text);
      for (const r of rangesOf(ast)) assertInside(text, r);
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 2000), seed: Number(process.env.FUZZ_SEED ?? 7) },
  );
});
