import * as fs from 'node:fs';
import * as path from 'node:path';

export const FIXTURES = path.join(__dirname, '..', 'fixtures');
export const BUILDKIT = path.join(FIXTURES, 'buildkit');

export interface ParserFixture {
  name: string;
  dockerfile: string;
  /** BuildKit's dump of the parse; undefined for the negative cases. */
  result: string | undefined;
}

function readCases(dir: string, withResult: boolean): ParserFixture[] {
  return fs.readdirSync(dir).sort().map((name) => ({
    name,
    dockerfile: fs.readFileSync(path.join(dir, name, 'Dockerfile'), 'utf8'),
    result: withResult ? fs.readFileSync(path.join(dir, name, 'result'), 'utf8') : undefined,
  }));
}

export const positiveCases = (): ParserFixture[] => readCases(path.join(BUILDKIT, 'parser', 'testfiles'), true);
export const negativeCases = (): ParserFixture[] => readCases(path.join(BUILDKIT, 'parser', 'testfiles-negative'), false);
