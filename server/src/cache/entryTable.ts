/**
 * The entries of a context snapshot. A snapshot patched at a few paths shares one flat map with
 * the snapshot it came from and keeps only its differences, so that a file change costs the
 * change, not a copy of 100,000 entries. The differences are folded into a new flat map once they
 * grow large.
 */

import type { ContextEntry } from './types';

/** Differences past this many are folded into a new flat map. */
const MAX_DIFF = 4096;

export class EntryTable implements ReadonlyMap<string, ContextEntry> {
  private constructor(
    private readonly base: ReadonlyMap<string, ContextEntry>,
    /** Path -> its entry here, or null when removed here. */
    private readonly diff: ReadonlyMap<string, ContextEntry | null>,
    readonly size: number,
  ) {}

  /** Takes the map over: the caller must not change it afterwards. */
  static of(map: Map<string, ContextEntry>): EntryTable {
    return new EntryTable(map, new Map(), map.size);
  }

  /** A new table with these paths set (an entry) or removed (null); this one is unchanged. */
  with(changes: ReadonlyMap<string, ContextEntry | null>): EntryTable {
    if (changes.size === 0) return this;
    const diff = new Map(this.diff);
    let size = this.size;
    for (const [k, v] of changes) {
      const had = this.get(k) !== undefined;
      if (had && v === null) size--;
      else if (!had && v !== null) size++;
      if (v === null && !this.base.has(k)) diff.delete(k);
      else diff.set(k, v);
    }
    if (diff.size <= MAX_DIFF) return new EntryTable(this.base, diff, size);
    const flat = new Map<string, ContextEntry>();
    for (const [k, v] of new EntryTable(this.base, diff, size)) flat.set(k, v);
    return EntryTable.of(flat);
  }

  get(key: string): ContextEntry | undefined {
    const d = this.diff.get(key);
    if (d !== undefined) return d ?? undefined;
    return this.base.get(key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  *entries(): MapIterator<[string, ContextEntry]> {
    if (this.diff.size === 0) {
      yield* this.base.entries();
      return;
    }
    for (const [k, v] of this.base) {
      const d = this.diff.get(k);
      if (d === undefined) yield [k, v];
      else if (d !== null) yield [k, d];
    }
    for (const [k, v] of this.diff) if (v !== null && !this.base.has(k)) yield [k, v];
  }

  *keys(): MapIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<ContextEntry> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[string, ContextEntry]> {
    return this.entries();
  }

  forEach(fn: (value: ContextEntry, key: string, map: ReadonlyMap<string, ContextEntry>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }
}

/** The paths of a table as a set, without copying them (rules ask `has` and scan once per table). */
class PathSet implements ReadonlySet<string> {
  constructor(private readonly table: ReadonlyMap<string, ContextEntry>) {}

  get size(): number {
    return this.table.size;
  }

  has(p: string): boolean {
    return this.table.has(p);
  }

  *keys(): SetIterator<string> {
    yield* this.table.keys();
  }

  values(): SetIterator<string> {
    return this.keys();
  }

  *entries(): SetIterator<[string, string]> {
    for (const k of this.table.keys()) yield [k, k];
  }

  [Symbol.iterator](): SetIterator<string> {
    return this.keys();
  }

  forEach(fn: (value: string, key: string, set: ReadonlySet<string>) => void, thisArg?: unknown): void {
    for (const k of this.table.keys()) fn.call(thisArg, k, k, this);
  }
}

const pathSets = new WeakMap<ReadonlyMap<string, ContextEntry>, ReadonlySet<string>>();

/** The same set for the same entries: what rules work out from it is then worked out once. */
export function pathsOf(entries: ReadonlyMap<string, ContextEntry>): ReadonlySet<string> {
  let s = pathSets.get(entries);
  if (s === undefined) {
    s = new PathSet(entries);
    pathSets.set(entries, s);
  }
  return s;
}
