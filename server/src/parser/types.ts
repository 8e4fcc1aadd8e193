/**
 * The syntax tree of a Dockerfile, as BuildKit's `frontend/dockerfile/parser` sees it,
 * with the source range of every piece so that editor features land on the right characters.
 *
 * Positions are LSP positions: 0-based lines and UTF-16 code units.
 */

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** A piece of text and where it stands in the document. */
export interface Token {
  value: string;
  range: Range;
}

export type EscapeChar = '\\' | '`';

export interface Directive {
  /** Lower-cased name: `syntax`, `escape` or `check`. */
  name: string;
  value: string;
  range: Range;
}

export interface Heredoc {
  /** The delimiter word with quotes removed (`EOF`). */
  name: string;
  fileDescriptor: number;
  /** False when any part of the delimiter was quoted: the body is then not expanded. */
  expand: boolean;
  /** `<<-`: leading tabs are stripped from the body and the terminator. */
  chomp: boolean;
  /** The body as BuildKit stores it: every line with its line ending, tabs not yet chomped. */
  content: string;
  /** The `<<EOF` word on the instruction line. */
  markerRange: Range;
  /** From the first body line to the end of the last one (empty range when the body is empty). */
  bodyRange: Range;
  /** The terminator line. */
  terminatorRange: Range;
}

/** A `--name=value` word before the arguments of an instruction. */
export interface FlagToken extends Token {
  /** The name without the leading dashes (`mount`). */
  name: string;
  /** The part after the first `=`; undefined when there is no `=`. */
  flagValue: string | undefined;
  valueRange: Range | undefined;
}

export interface Instruction {
  /** The instruction word as written (`run`, `RUN`, `Run`). */
  keyword: string;
  keywordRange: Range;
  flags: FlagToken[];
  /**
   * The arguments as BuildKit's parse node holds them (its `Next` chain): for shell form the
   * joined command as one value, for JSON form each array element, for ENV/LABEL key,value,sep
   * triples. Empty for ONBUILD, whose trigger is in `child`.
   */
  args: Token[];
  /** Written in JSON (exec) form. */
  json: boolean;
  /** The trigger instruction of an ONBUILD. */
  child: Instruction | undefined;
  heredocs: Heredoc[];
  /** The logical line: continuation lines joined, comments left out, as BuildKit's `Original`. */
  original: string;
  /** The text after the instruction word and its flags, trimmed. */
  argsText: string;
  argsRange: Range;
  /** From the instruction word to the end of its last line (heredoc terminators included). */
  range: Range;
  /** Comment lines directly above the instruction (BuildKit's `PrevComment`). */
  comments: string[];
}

export type Severity = 'error' | 'warning';

export interface ParseProblem {
  message: string;
  range: Range;
  severity: Severity;
  /** Stable id for the kind of problem, e.g. `syntax/unterminated-heredoc`. */
  code: string;
}

export interface DockerfileAST {
  directives: Directive[];
  escapeToken: EscapeChar;
  instructions: Instruction[];
  /** Errors BuildKit's parser would fail on, plus its warnings; parsing goes on after each. */
  problems: ParseProblem[];
  /** Lines that are comments (outside continuation lines and heredocs), for folding. */
  commentLines: number[];
  /** Number of LSP lines in the document. */
  lineCount: number;
}
