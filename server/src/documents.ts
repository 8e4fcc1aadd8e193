/** One parse per document version: every feature asks here instead of parsing again. */

import { parse, type DockerfileAST } from './parser';

interface Entry { version: number; ast: DockerfileAST }

export class ParseCache {
  private readonly entries = new Map<string, Entry>();

  get(uri: string, version: number, text: () => string): DockerfileAST {
    const e = this.entries.get(uri);
    if (e !== undefined && e.version === version) return e.ast;
    const ast = parse(text());
    this.entries.set(uri, { version, ast });
    return ast;
  }

  delete(uri: string): void {
    this.entries.delete(uri);
  }
}
