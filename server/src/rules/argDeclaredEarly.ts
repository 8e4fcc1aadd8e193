/**
 * cache/arg-declared-early: BuildKit puts every ARG declared in a stage into the environment of
 * every later RUN, so changing its value reruns RUN steps that never read it. Fix: declare it just
 * before its first use.
 */

import type { Instruction } from '../parser';
import { analyzeStages, argPairs, envPairs, kw, stepText } from './model';
import { mentionsVar } from './shell';
import { DocText, headRange, instructionBlock, lineNo } from './text';
import type { Rule, RuleContext, RuleDiagnostic, RuleFix } from './types';

export const ID = 'cache/arg-declared-early';

/**
 * Variables that tools read from the environment without the Dockerfile naming them (npm reads
 * NODE_ENV, pip PIP_*, go GOFLAGS…): a RUN in between may use them, so the rule keeps quiet. Of the
 * TARGET and BUILD names only BuildKit's platform arguments: BUILD_DATE or BUILD_VERSION are the user's own.
 */
const IMPLICIT = /^(NODE_ENV|NODE_OPTIONS|NPM_.*|npm_config_.*|YARN_.*|PNPM_.*|PIP_.*|PYTHON.*|UV_.*|POETRY_.*|PIPENV_.*|GO.*|CGO_.*|CARGO_.*|RUST.*|JAVA_.*|MAVEN_.*|GRADLE_.*|BUNDLE_.*|GEM_.*|RAILS_ENV|RACK_ENV|COMPOSER_.*|DOTNET_.*|NUGET_.*|ASPNETCORE_.*|DEBIAN_FRONTEND|PATH|HOME|LANG|LC_.*|TZ|CC|CXX|CFLAGS|CXXFLAGS|LDFLAGS|CPPFLAGS|MAKEFLAGS|SOURCE_DATE_EPOCH|CI|(TARGET|BUILD)(PLATFORM|OS|ARCH|VARIANT)|[A-Za-z_]*_PROXY|[a-z_]*_proxy|SSL_.*|REQUESTS_CA_BUNDLE|CURL_.*)$/;

export const argDeclaredEarly: Rule = {
  id: ID,
  title: 'An ARG is declared long before its first use: changing its value reruns every RUN in between.',
  defaultSeverity: 'info',
  check(ctx) {
    const out: Array<Omit<RuleDiagnostic, 'rule' | 'severity'>> = [];
    for (const info of analyzeStages(ctx.stages)) {
      const cmds = info.stage.commands;
      cmds.forEach((inst, i) => {
        if (kw(inst) !== 'ARG') return;
        const names = argPairs(inst).map(([k]) => k);
        if (names.length === 0 || names.some((n) => IMPLICIT.test(n) || n === '')) return;
        let use = -1;
        const runsBetween: Instruction[] = [];
        for (let j = i + 1; j < cmds.length; j++) {
          const next = cmds[j];
          if (next === undefined) continue;
          const text = kw(next) === 'ARG' ? argPairs(next).map(([, v]) => v ?? '').join(' ') : stepText(next);
          if (names.some((n) => mentionsVar(text, n))) { use = j; break; }
          if (kw(next) === 'RUN') runsBetween.push(next);
        }
        if (use < 0 || runsBetween.length === 0) return;
        const useInst = cmds[use];
        if (useInst === undefined) return;
        const first = runsBetween[0];
        const list = names.map((n) => `\`${n}\``).join(', ');
        const steps = runsBetween.length === 1 ? `the RUN at line ${lineNo(first ?? useInst)}` : `${runsBetween.length} RUN steps (lines ${runsBetween.map(lineNo).join(', ')})`;
        const message = `${list} ${names.length === 1 ? 'is' : 'are'} in the environment of ${steps}, which never ${runsBetween.length === 1 ? 'reads' : 'read'} ${names.length === 1 ? 'it' : 'them'}: changing the value reruns ${runsBetween.length === 1 ? 'it' : 'them'} and everything after. First use: line ${lineNo(useInst)}.`;
        const fix = moveDown(ctx, cmds, i, use, names);
        out.push({ range: headRange(inst), message: typeof fix === 'string' ? `${message} (No automatic fix: ${fix}.)` : message, fixes: typeof fix === 'string' ? [] : [fix] });
      });
    }
    return out;
  },
};

function moveDown(ctx: RuleContext, cmds: Instruction[], from: number, to: number, names: string[]): RuleFix | string {
  const arg = cmds[from];
  const use = cmds[to];
  if (arg === undefined || use === undefined) return 'internal';
  // Its default may name variables: they must mean the same at the new place.
  const defaults = argPairs(arg).map(([, v]) => v ?? '').join(' ');
  for (let k = from + 1; k < to; k++) {
    const inst = cmds[k];
    if (inst === undefined) continue;
    const defined = kw(inst) === 'ENV' ? envPairs(inst).map(([n]) => n) : kw(inst) === 'ARG' ? argPairs(inst).map(([n]) => n) : [];
    const clash = defined.find((n) => names.includes(n) || mentionsVar(defaults, n));
    if (clash !== undefined) return `line ${lineNo(inst)} also sets \`${clash}\``;
    if (kw(inst) === 'ONBUILD') return `the ONBUILD at line ${lineNo(inst)} would see it`;
  }
  const doc = new DocText(ctx.text);
  const block = instructionBlock(ctx.ast, arg);
  const target = instructionBlock(ctx.ast, use);
  return {
    title: `Declare ${names.join(', ')} just before line ${lineNo(use)}`,
    edits: [doc.deleteLines(block.from, block.to), doc.insertBefore(target.from, doc.blockText(block.from, block.to))],
    isPreferred: true,
  };
}
