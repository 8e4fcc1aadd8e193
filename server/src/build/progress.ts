/**
 * Readers of a build's progress output, turned into `VertexResult`s:
 *  - `RawJsonProgressParser`: BuildKit's `--progress=rawjson` (stderr of `docker buildx build`): a
 *    stream of pretty-printed JSON objects written back to back (Go's json.Encoder with indent),
 *    with the CLI's own plain text (`ERROR: ...`, the Dockerfile excerpt) mixed in.
 *  - `LegacyProgressParser`: the classic builder's `Step 3/7 : RUN npm ci` / ` ---> Using cache`.
 *
 * Both are incremental (`feed` any chunking, `end` once), never throw on bad input, and collect
 * whatever is not progress as `unparsed` lines. Pure: no processes, no files.
 */

import { StringDecoder } from 'node:string_decoder';
import type { VertexResult } from '../cache/types';

/** How many log lines of a vertex `logTail` keeps. */
export const LOG_TAIL_LINES = 20;
/** An object larger than this is garbage that happened to start with `{` (BuildKit's are small). */
const MAX_OBJECT_CHARS = 32 * 1024 * 1024;

export interface Disposable {
  dispose(): void;
}

/** A minimal event emitter: `onX(listener)` returns a handle that unsubscribes. */
export class Emitter<T extends unknown[]> {
  private readonly listeners = new Set<(...args: T) => void>();

  readonly event = (listener: (...args: T) => void): Disposable => {
    this.listeners.add(listener);
    return { dispose: () => { this.listeners.delete(listener); } };
  };

  fire(...args: T): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(...args);
      } catch (err) {
        // A listener's bug must not stop the parsing of a build that is still running.
        console.error('dockerfile-cache-lens: progress listener failed:', err);
      }
    }
  }
}

export interface LogInfo {
  digest: string;
  /** 1 stdout, 2 stderr. */
  stream: number;
}

// ------------------------------------------------------------------------------------------------
// Timestamps
// ------------------------------------------------------------------------------------------------

/** An RFC 3339 time with nanosecond precision (a JS Date only keeps milliseconds). */
export interface NanoTime {
  /** Whole seconds since the epoch, UTC. */
  seconds: number;
  nanos: number;
}

const RFC3339 = /^(\d{4}-\d\d-\d\d)[Tt ](\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)$/;

/** Parses `2024-05-01T10:00:00.123456789Z` (any number of fraction digits, any offset). */
export function parseNanoTime(text: string): NanoTime | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const [, date, time, fraction, zone] = m;
  const ms = Date.parse(`${date}T${time}${zone === 'z' ? 'Z' : zone}`);
  if (Number.isNaN(ms)) return undefined;
  // Digits beyond the 9th are below a nanosecond: dropped.
  const nanos = fraction === undefined ? 0 : Number((fraction + '000000000').slice(0, 9));
  return { seconds: Math.floor(ms / 1000), nanos };
}

/** Milliseconds from `a` to `b`, microsecond-rounded (the difference of two huge nanosecond counts would lose precision as one number). */
export function diffMs(a: NanoTime, b: NanoTime): number {
  const ms = (b.seconds - a.seconds) * 1000 + (b.nanos - a.nanos) / 1e6;
  return Math.round(ms * 1000) / 1000;
}

function compareNano(a: NanoTime, b: NanoTime): number {
  return a.seconds !== b.seconds ? a.seconds - b.seconds : a.nanos - b.nanos;
}

// ------------------------------------------------------------------------------------------------
// Log lines
// ------------------------------------------------------------------------------------------------

const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]/g;

/** Keeps the last lines of a text stream; a `\r` overwrites the line as a terminal would. */
class LineTail {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(private readonly max: number) {}

  push(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const part of parts) this.add(part);
  }

  /** The kept lines, plus the unfinished last one. */
  snapshot(): string[] {
    const tail = [...this.lines];
    const last = clean(this.partial);
    if (last !== '') {
      tail.push(last);
      if (tail.length > this.max) tail.shift();
    }
    return tail;
  }

  private add(line: string): void {
    this.lines.push(clean(line));
    if (this.lines.length > this.max) this.lines.shift();
  }
}

function clean(line: string): string {
  const noCr = line.endsWith('\r') ? line.slice(0, -1) : line;
  const overwritten = noCr.lastIndexOf('\r');
  return (overwritten >= 0 ? noCr.slice(overwritten + 1) : noCr).replace(ANSI, '');
}

// ------------------------------------------------------------------------------------------------
// rawjson
// ------------------------------------------------------------------------------------------------

interface VertexState {
  digest: string;
  name: string;
  inputs: string[];
  /** First time seen, to order vertices that never started. */
  seen: number;
  /** Order of the first `started` report: ties of equal start times (cached steps) follow it. */
  startSeq: number;
  firstStarted: NanoTime | undefined;
  started: NanoTime | undefined;
  completed: NanoTime | undefined;
  cached: boolean;
  error: string | undefined;
  /** Every run of the vertex (BuildKit may start one twice): raw `started` -> completion. */
  intervals: Map<string, { start: NanoTime; end: NanoTime | undefined }>;
  logs: LineTail;
  /** The last state emitted, to report changes only. */
  emitted: string;
}

export interface ProgressParserOptions {
  /** Lines kept per vertex in `logTail` (default 20). */
  logTailLines?: number;
  /** Also report `[internal] ...` vertices (default false). */
  includeInternal?: boolean;
}

export function isInternalVertex(name: string): boolean {
  return name.startsWith('[internal]');
}

type SplitState = 'text' | 'object';

/** The events both progress readers give: the build runner listens the same way to either. */
abstract class ProgressEvents {
  protected readonly vertexEmitter = new Emitter<[VertexResult]>();
  protected readonly logEmitter = new Emitter<[string, string, LogInfo]>();
  protected readonly textEmitter = new Emitter<[string]>();
  protected readonly warningEmitter = new Emitter<[string]>();

  /** A vertex's state changed (started, completed, cached, failed). */
  readonly onVertex = this.vertexEmitter.event;
  /** Log output of a vertex: (vertex name, decoded text, where it came from). */
  readonly onLog = this.logEmitter.event;
  /** A line that is not progress (e.g. the CLI's `ERROR: ...`). */
  readonly onText = this.textEmitter.event;
  /** A build warning (decoded short message). */
  readonly onWarning = this.warningEmitter.event;
}

/**
 * Incremental reader of `--progress=rawjson`. Splits the stream into JSON objects by brace depth
 * outside strings; a `{` starts an object only at the beginning of a line (or right after another
 * object), and a line of an unfinished object that starts in column 0 with anything but `}` means
 * the `{` was text after all (BuildKit indents every inner line), so garbage never swallows the
 * objects after it.
 */
export class RawJsonProgressParser extends ProgressEvents {

  /** Lines that were not progress JSON, in order. */
  readonly unparsed: string[] = [];
  readonly warnings: string[] = [];
  /** How many JSON objects were read. */
  objects = 0;
  private starts = 0;

  private readonly vertices = new Map<string, VertexState>();
  private readonly decoders = new Map<string, StringDecoder>();
  private readonly tailLines: number;
  private readonly includeInternal: boolean;

  private state: SplitState = 'text';
  private lineText = '';
  /** Only whitespace so far on this text line (so a `{` here starts an object). */
  private lineBlank = true;
  private objParts: string[] = [];
  private objLength = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** The last character of the object was a newline (next one is in column 0). */
  private objAtLineStart = false;
  private ended = false;

  constructor(options: ProgressParserOptions = {}) {
    super();
    this.tailLines = options.logTailLines ?? LOG_TAIL_LINES;
    this.includeInternal = options.includeInternal ?? false;
  }

  feed(chunk: string): void {
    if (this.ended) return;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.state === 'text') {
        i = this.scanText(chunk, i);
      } else {
        i = this.scanObject(chunk, i);
      }
    }
  }

  /** The stream is over: an unfinished object or line becomes unparsed text. */
  end(): void {
    if (this.ended) return;
    if (this.state === 'object') this.abandonObject();
    this.flushTextLine();
    this.ended = true;
  }

  /** Every reported vertex, ordered by when it (first) started; never-started ones last. */
  results(): VertexResult[] {
    return [...this.vertices.values()]
      .filter((v) => this.includeInternal || !isInternalVertex(v.name))
      .sort((a, b) => {
        if (a.firstStarted !== undefined && b.firstStarted !== undefined) {
          return compareNano(a.firstStarted, b.firstStarted) || a.startSeq - b.startSeq;
        }
        if (a.firstStarted !== undefined) return -1;
        if (b.firstStarted !== undefined) return 1;
        return a.seen - b.seen;
      })
      .map((v) => this.toResult(v));
  }

  /** The current state of one vertex, internal ones included. */
  vertex(digest: string): VertexResult | undefined {
    const v = this.vertices.get(digest);
    return v === undefined ? undefined : this.toResult(v);
  }

  // -- splitting ----------------------------------------------------------------------------------

  private scanText(chunk: string, start: number): number {
    let i = start;
    while (i < chunk.length) {
      const c = chunk.charCodeAt(i);
      if (c === 0x0a /* \n */) {
        this.lineText += chunk.slice(start, i);
        this.flushTextLine();
        return i + 1;
      }
      if (c === 0x7b /* { */ && this.lineBlank) {
        this.lineText += chunk.slice(start, i);
        // Leading whitespace of the object's line is not text.
        this.lineText = this.lineText.trim() === '' ? '' : this.lineText;
        this.state = 'object';
        this.objParts = [];
        this.objLength = 0;
        this.depth = 0;
        this.inString = false;
        this.escaped = false;
        this.objAtLineStart = false;
        return i;
      }
      if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0xfeff) this.lineBlank = false;
      i++;
    }
    this.lineText += chunk.slice(start);
    return i;
  }

  private scanObject(chunk: string, start: number): number {
    let i = start;
    const append = (end: number): void => {
      if (end > start) {
        this.objParts.push(chunk.slice(start, end));
        this.objLength += end - start;
      }
    };
    while (i < chunk.length) {
      const c = chunk.charCodeAt(i);
      if (this.objAtLineStart) {
        this.objAtLineStart = false;
        if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a && c !== 0x7d /* } */) {
          // Column 0 inside an object: what we took for an object was text.
          append(i);
          this.abandonObject();
          return i;
        }
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c /* \ */) this.escaped = true;
        else if (c === 0x22 /* " */) this.inString = false;
        else if (c === 0x0a) {
          // JSON strings cannot hold a raw newline.
          append(i);
          this.abandonObject();
          return i;
        }
      } else if (c === 0x22) {
        this.inString = true;
      } else if (c === 0x7b || c === 0x5b /* [ */) {
        this.depth++;
      } else if (c === 0x7d || c === 0x5d /* ] */) {
        this.depth--;
        if (this.depth <= 0) {
          append(i + 1);
          this.finishObject();
          return i + 1;
        }
      } else if (c === 0x0a) {
        this.objAtLineStart = true;
      }
      i++;
    }
    append(i);
    if (this.objLength > MAX_OBJECT_CHARS) this.abandonObject();
    return i;
  }

  private finishObject(): void {
    const text = this.objParts.join('');
    this.objParts = [];
    this.objLength = 0;
    this.state = 'text';
    this.lineText = '';
    this.lineBlank = true; // `}{` back to back: the next object may start right here
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.addUnparsed(text);
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.addUnparsed(text);
      return;
    }
    this.objects++;
    this.handle(value as Record<string, unknown>);
  }

  private abandonObject(): void {
    const text = this.objParts.join('');
    this.objParts = [];
    this.objLength = 0;
    this.state = 'text';
    // The object's last (unfinished) line continues as a text line.
    const nl = text.lastIndexOf('\n');
    this.addUnparsed(nl >= 0 ? text.slice(0, nl) : '');
    this.lineText = nl >= 0 ? text.slice(nl + 1) : text;
    this.lineBlank = this.lineText.trim() === '';
  }

  private flushTextLine(): void {
    const line = this.lineText;
    this.lineText = '';
    this.lineBlank = true;
    this.addUnparsed(line);
  }

  private addUnparsed(text: string): void {
    for (const raw of text.split('\n')) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.trim() === '') continue;
      this.unparsed.push(line);
      this.textEmitter.fire(line);
    }
  }

  // -- progress objects ---------------------------------------------------------------------------

  private handle(obj: Record<string, unknown>): void {
    for (const v of asArray(obj.vertexes)) this.handleVertex(v);
    for (const l of asArray(obj.logs)) this.handleLog(l);
    for (const w of asArray(obj.warnings)) this.handleWarning(w);
  }

  private handleVertex(raw: unknown): void {
    if (!isRecord(raw) || typeof raw.digest !== 'string') return;
    const digest = raw.digest;
    let v = this.vertices.get(digest);
    if (v === undefined) {
      v = {
        digest,
        name: digest,
        inputs: [],
        seen: this.vertices.size,
        startSeq: 0,
        firstStarted: undefined,
        started: undefined,
        completed: undefined,
        cached: false,
        error: undefined,
        intervals: new Map(),
        logs: new LineTail(this.tailLines),
        emitted: '',
      };
      this.vertices.set(digest, v);
    }
    if (typeof raw.name === 'string') v.name = raw.name;
    if (Array.isArray(raw.inputs)) v.inputs = raw.inputs.filter((x): x is string => typeof x === 'string');
    // The last update of a digest is its state.
    const startedRaw = typeof raw.started === 'string' ? raw.started : undefined;
    v.started = startedRaw === undefined ? undefined : parseNanoTime(startedRaw);
    v.completed = typeof raw.completed === 'string' ? parseNanoTime(raw.completed) : undefined;
    v.cached = raw.cached === true;
    if (typeof raw.error === 'string' && raw.error !== '') v.error = raw.error;
    if (startedRaw !== undefined && v.started !== undefined) {
      if (v.firstStarted === undefined) v.startSeq = ++this.starts;
      if (v.firstStarted === undefined || compareNano(v.started, v.firstStarted) < 0) v.firstStarted = v.started;
      const prev = v.intervals.get(startedRaw);
      v.intervals.set(startedRaw, { start: v.started, end: v.completed ?? prev?.end });
    }
    if (!this.includeInternal && isInternalVertex(v.name)) return;
    const result = this.toResult(v);
    const key = JSON.stringify([result.name, result.started, result.completed, result.cached, result.error, result.durationMs]);
    if (key !== v.emitted) {
      v.emitted = key;
      this.vertexEmitter.fire(result);
    }
  }

  private handleLog(raw: unknown): void {
    if (!isRecord(raw) || typeof raw.vertex !== 'string' || typeof raw.data !== 'string') return;
    const stream = typeof raw.stream === 'number' ? raw.stream : 1;
    const decoderKey = `${raw.vertex}\0${stream}`;
    let decoder = this.decoders.get(decoderKey);
    if (decoder === undefined) {
      decoder = new StringDecoder('utf8');
      this.decoders.set(decoderKey, decoder);
    }
    // A multi-byte character may be split between two log records: the decoder keeps the rest.
    const text = decoder.write(Buffer.from(raw.data, 'base64'));
    if (text === '') return;
    const v = this.vertices.get(raw.vertex);
    v?.logs.push(text);
    this.logEmitter.fire(v?.name ?? raw.vertex, text, { digest: raw.vertex, stream });
  }

  private handleWarning(raw: unknown): void {
    if (!isRecord(raw)) return;
    const short = typeof raw.short === 'string' ? Buffer.from(raw.short, 'base64').toString('utf8').trim() : '';
    if (short === '') return;
    this.warnings.push(short);
    this.warningEmitter.fire(short);
  }

  private toResult(v: VertexState): VertexResult {
    const completed = v.started !== undefined && v.completed !== undefined;
    return {
      name: v.name,
      digest: v.digest,
      cached: v.cached,
      durationMs: completed ? totalMs(v.intervals) : undefined,
      started: v.started !== undefined,
      completed,
      error: v.error,
      logTail: v.logs.snapshot(),
    };
  }
}

/** The union of a vertex's runs (BuildKit may report overlapping restarts), in ms. */
function totalMs(intervals: VertexState['intervals']): number {
  const spans = [...intervals.values()]
    .filter((s): s is { start: NanoTime; end: NanoTime } => s.end !== undefined && compareNano(s.start, s.end) <= 0)
    .sort((a, b) => compareNano(a.start, b.start));
  let total = 0;
  let current: { start: NanoTime; end: NanoTime } | undefined;
  for (const s of spans) {
    if (current !== undefined && compareNano(s.start, current.end) <= 0) {
      if (compareNano(s.end, current.end) > 0) current.end = s.end;
      continue;
    }
    if (current !== undefined) total += diffMs(current.start, current.end);
    current = { ...s };
  }
  if (current !== undefined) total += diffMs(current.start, current.end);
  return Math.round(total * 1000) / 1000;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function asArray(x: unknown): unknown[] {
  return Array.isArray(x) ? (x as unknown[]) : [];
}

// ------------------------------------------------------------------------------------------------
// Legacy builder
// ------------------------------------------------------------------------------------------------

const STEP_LINE = /^Step (\d+)\/(\d+) : (.*)$/;
const IMAGE_ID_LINE = /^ ---> ([0-9a-f]{12,64})$/;

interface LegacyStep {
  index: number;
  name: string;
  digest: string;
  cached: boolean;
  running: boolean;
  startedAt: number;
  completedAt: number | undefined;
  error: string | undefined;
  logs: LineTail;
}

export interface LegacyParserOptions {
  logTailLines?: number;
  /** Milliseconds clock (the legacy output has no timestamps: durations are measured on arrival). */
  now?: () => number;
}

/**
 * Reader of the classic builder's output (`DOCKER_BUILDKIT=0 docker build`, stdout): one
 * VertexResult per `Step i/N : INSTRUCTION` (name as printed), cached when ` ---> Using cache`
 * follows, completed at the ` ---> <image id>` line. A RUN's output lines are its logs.
 */
export class LegacyProgressParser extends ProgressEvents {

  /** Lines that are not step progress nor a step's output. */
  readonly unparsed: string[] = [];
  readonly warnings: string[] = [];
  /** The image built (`Successfully built <id>`). */
  imageId: string | undefined;

  private readonly steps: LegacyStep[] = [];
  private readonly tailLines: number;
  private readonly now: () => number;
  private partial = '';
  private ended = false;

  constructor(options: LegacyParserOptions = {}) {
    super();
    this.tailLines = options.logTailLines ?? LOG_TAIL_LINES;
    this.now = options.now ?? (() => performance.now());
  }

  feed(chunk: string): void {
    if (this.ended) return;
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.line(line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  end(): void {
    if (this.ended) return;
    if (this.partial !== '') this.line(this.partial);
    this.partial = '';
    this.ended = true;
  }

  /** The build failed: the step that was running (if any) gets the error. */
  fail(message: string): void {
    const current = this.steps[this.steps.length - 1];
    if (current === undefined || current.completedAt !== undefined) return;
    current.error = message;
    current.completedAt = this.now();
    this.emit(current);
  }

  results(): VertexResult[] {
    return this.steps.map((s) => this.toResult(s));
  }

  private line(raw: string): void {
    const line = raw.replace(ANSI, '');
    const step = STEP_LINE.exec(line);
    if (step !== null) {
      this.completeCurrent();
      const index = Number(step[1]);
      const s: LegacyStep = {
        index,
        name: line,
        digest: `legacy-step-${index}`,
        cached: false,
        running: false,
        startedAt: this.now(),
        completedAt: undefined,
        error: undefined,
        logs: new LineTail(this.tailLines),
      };
      this.steps.push(s);
      this.emit(s);
      return;
    }
    const current = this.steps[this.steps.length - 1];
    const open = current !== undefined && current.completedAt === undefined ? current : undefined;
    if (open !== undefined && line.startsWith(' ---> ')) {
      const rest = line.slice(6);
      if (rest === 'Using cache') {
        open.cached = true;
        this.emit(open);
        return;
      }
      if (rest.startsWith('Running in ')) {
        open.running = true;
        return;
      }
      if (rest.startsWith('Removed intermediate container') || rest.startsWith('Removing intermediate container')) return;
      if (rest.startsWith('[Warning] ')) {
        const w = rest.slice('[Warning] '.length);
        this.warnings.push(w);
        this.warningEmitter.fire(w);
        return;
      }
      const id = IMAGE_ID_LINE.exec(line);
      if (id !== null) {
        open.digest = `sha256:${id[1] ?? ''}`;
        open.completedAt = this.now();
        this.emit(open);
        return;
      }
    }
    if (line.startsWith('Removing intermediate container ')) return;
    const built = /^Successfully built ([0-9a-f]+)$/.exec(line);
    if (built !== null) this.imageId = built[1];
    if (open !== undefined && open.running) {
      // A RUN's own output (stderr arrives colored in the same stream).
      open.logs.push(raw + '\n');
      this.logEmitter.fire(open.name, raw + '\n', { digest: open.digest, stream: 1 });
      return;
    }
    if (line.trim() === '') return;
    this.unparsed.push(line);
    this.textEmitter.fire(line);
  }

  /** A new step began, so the previous one is over even without an image id line (e.g. ONBUILD). */
  private completeCurrent(): void {
    const current = this.steps[this.steps.length - 1];
    if (current !== undefined && current.completedAt === undefined) {
      current.completedAt = this.now();
      this.emit(current);
    }
  }

  private emit(s: LegacyStep): void {
    this.vertexEmitter.fire(this.toResult(s));
  }

  private toResult(s: LegacyStep): VertexResult {
    const completed = s.completedAt !== undefined;
    return {
      name: s.name,
      digest: s.digest,
      cached: s.cached,
      durationMs: s.completedAt === undefined ? undefined : Math.round((s.completedAt - s.startedAt) * 1000) / 1000,
      started: true,
      completed,
      error: s.error,
      logTail: s.logs.snapshot(),
    };
  }
}
